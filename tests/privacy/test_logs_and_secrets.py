"""No email, phone number or secret in log lines, errors or `status`; `callsync doctor` names a missing secret."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from sqlalchemy import select
from typer.testing import CliRunner

from callsync.cli import app
from callsync.config import TenantConfig, read_secret
from callsync.store.db import Database
from callsync.store.tables import CallRow, IdentityLinkRow
from tests.privacy.conftest import DANA_EMAIL, DANA_PHONE

runner = CliRunner()
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")


@pytest.fixture
def debug_logging() -> Iterator[io.StringIO]:
    """Standard logging at DEBUG into a buffer (the demo's structlog lines go to stderr with --verbose)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def test_a_debug_level_demo_run_logs_no_email_or_phone_of_its_callers(
    tmp_path: Path, debug_logging: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path}/demo.db"
    result = runner.invoke(app, ["demo", "--db", url, "--verbose"])
    assert result.exit_code == 0, result.output
    db = Database(url)
    try:
        with db.session() as s:
            keys = [k.split(":", 1)[1] for k in s.scalars(select(IdentityLinkRow.key))]
            lines = [n for n in s.scalars(select(CallRow.from_number)) if n and n.startswith("+")]
    finally:
        db.dispose()
    needles = {*keys, *lines}
    assert DANA_EMAIL in needles and DANA_PHONE in needles
    # The same configuration masks what a log call does carry: the scan below would see a leak.
    structlog.get_logger().debug("control", email=DANA_EMAIL)
    logging.getLogger("callsync.control").debug("control %s", DANA_PHONE)
    log_lines = (result.stderr + capsys.readouterr().err + debug_logging.getvalue()).splitlines()
    assert any("[email]" in line for line in log_lines) and any("[phone]" in line for line in log_lines)
    for line in log_lines:
        assert not any(n in line for n in needles), line
        assert not _EMAIL.search(line), line


def _tenant_file(directory: Path, body: str) -> Path:
    directory.mkdir(exist_ok=True)
    (directory / "acme.yaml").write_text(body)
    return directory


def test_doctor_names_each_missing_secret_without_printing_present_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret_file = tmp_path / "vapi_secret"
    secret_file.write_text("s3cr3t-from-file\n")
    monkeypatch.setenv("ACME_VAPI_SECRET_FILE", str(secret_file))
    monkeypatch.setenv("ACME_CRM_TOKEN", "tok-visible-nowhere")
    monkeypatch.delenv("ACME_RETELL_KEY", raising=False)
    monkeypatch.delenv("ACME_RETELL_KEY_FILE", raising=False)
    tenants = _tenant_file(tmp_path / "tenants", "name: acme\ncrm: {kind: hubspot, token_env: ACME_CRM_TOKEN}\n"
                           "secrets: {vapi: ACME_VAPI_SECRET_FILE}\napi_keys: {retell: ACME_RETELL_KEY}\n")  # fmt: skip
    result = runner.invoke(app, ["doctor", "--tenants", str(tenants)])
    assert result.exit_code == 1
    assert "1 secret(s) missing: $ACME_RETELL_KEY" in result.stderr
    assert "MISSING acme: retell API key ($ACME_RETELL_KEY)" in result.stdout
    assert "ok      acme: vapi webhook secret ($ACME_VAPI_SECRET_FILE)" in result.stdout
    assert "s3cr3t" not in result.output and "tok-visible-nowhere" not in result.output
    monkeypatch.setenv("ACME_RETELL_KEY", "rk")
    assert runner.invoke(app, ["doctor", "--tenants", str(tenants)]).exit_code == 0


def test_a_file_secret_is_read_from_the_file_the_variable_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "token").write_text("  value-in-file \n")
    monkeypatch.setenv("HOOK_SECRET_FILE", str(tmp_path / "token"))
    monkeypatch.delenv("HOOK_SECRET", raising=False)
    assert read_secret("HOOK_SECRET_FILE") == "value-in-file"
    assert read_secret("HOOK_SECRET") == "value-in-file"  # an unset name falls back to NAME_FILE
    tenant = TenantConfig.model_validate({"name": "acme", "secrets": {"vapi": "HOOK_SECRET"}})
    assert tenant.secret("vapi") == "value-in-file"
    monkeypatch.setenv("HOOK_SECRET_FILE", str(tmp_path / "absent"))
    assert read_secret("HOOK_SECRET_FILE") is None


def test_secrets_never_appear_in_status_or_in_logs(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch, debug_logging: io.StringIO
) -> None:
    monkeypatch.setenv("CALLSYNC_HUBSPOT_TOKEN", "pat-na1-SECRETVALUE")
    monkeypatch.setenv("CALLSYNC_DEMO_SECRET", "whsec-SECRETVALUE")
    status = runner.invoke(app, ["status", "--db", sqlite_db.url])
    doctor = runner.invoke(app, ["doctor"])
    assert status.exit_code == 0, status.output
    for text in (status.output, doctor.output, debug_logging.getvalue()):
        assert "SECRETVALUE" not in text
