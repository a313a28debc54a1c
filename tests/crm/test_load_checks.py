"""Bad input refused when a tenant loads for work, with the file, the line and the reason: a Pipedrive
mapping naming a field the company does not have, a GoHighLevel tenant without a location, a webhook URL
that is not https."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from callsync.cli import app
from callsync.config import EXAMPLES_DIR, load_tenant
from callsync.errors import ConfigError
from callsync_sandbox.pipedrive import PipedriveSandbox
from callsync_sandbox.server import SandboxServer

TOKEN = "pd-token"


def _pipedrive_tenant(tmp_path: Path, url: str, extra_field: str | None) -> tuple[Path, Path, int | None]:
    text = (EXAMPLES_DIR / "pipedrive.yaml").read_text(encoding="utf-8")
    anchor = "      last_name:  {from: last_name,  policy: fill_if_empty}\n"
    assert anchor in text
    if extra_field:
        text = text.replace(anchor, anchor + f"      {extra_field}: {{from: intent, policy: call_wins}}\n")
    mapping = tmp_path / "pipedrive.yaml"
    mapping.write_text(text, encoding="utf-8")
    line = next((i for i, row in enumerate(text.splitlines(), 1) if extra_field and extra_field in row), None)
    tenant = tmp_path / "acme.yaml"
    tenant.write_text(
        f"name: acme\nmapping: {mapping}\n"
        f"crm: {{kind: pipedrive, api_domain: '{url}', token_env: CALLSYNC_TEST_PD_TOKEN}}\n",
        encoding="utf-8",
    )
    return tenant, mapping, line


def test_a_pipedrive_mapping_naming_a_field_the_company_lacks_is_refused_at_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CALLSYNC_TEST_PD_TOKEN", TOKEN)
    with SandboxServer(PipedriveSandbox(token=TOKEN).app()) as server:
        tenant_file, mapping, line = _pipedrive_tenant(tmp_path, server.base_url, "Lead sorce")
        with pytest.raises(ConfigError) as refused:
            load_tenant(tenant_file).check_against_crm()
        assert (refused.value.source, refused.value.line) == (str(mapping), line)
        assert "no field 'Lead sorce'" in refused.value.message
        # The command that starts work says it in one line, file:line first, and starts nothing.
        result = CliRunner().invoke(
            app, ["sync", "--db", f"sqlite:///{tmp_path}/c.db", "--tenant-file", str(tenant_file)]
        )
        assert result.exit_code == 1
        assert (
            f"{mapping}:{line}: objects.contact.fields.Lead sorce: Pipedrive persons has no field"
            in result.output
        )
        assert "Traceback" not in result.output


def test_a_pipedrive_mapping_whose_fields_all_exist_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CALLSYNC_TEST_PD_TOKEN", TOKEN)
    with SandboxServer(PipedriveSandbox(token=TOKEN).app()) as server:
        tenant_file, _, _ = _pipedrive_tenant(tmp_path, server.base_url, None)
        load_tenant(tenant_file).check_against_crm()


def test_a_pipedrive_company_that_cannot_be_asked_now_is_no_configuration_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CALLSYNC_TEST_PD_TOKEN", TOKEN)
    tenant_file, _, _ = _pipedrive_tenant(tmp_path, "http://127.0.0.1:9", "Lead sorce")  # nothing listens
    load_tenant(tenant_file).check_against_crm()


@pytest.mark.parametrize(
    ("crm", "line", "reason"),
    [
        ("{kind: gohighlevel, api_url: 'https://x'}", 3, "needs location_id"),
        ("\n  kind: webhook\n  url: http://hooks.example.com/c", 5, "is not https"),
    ],
)
def test_a_tenant_the_worker_cannot_serve_is_refused_with_its_file_and_line(
    tmp_path: Path, crm: str, line: int, reason: str
) -> None:
    tenants = tmp_path / "tenants"
    tenants.mkdir()
    path = tenants / "acme.yaml"
    path.write_text(f"name: acme\ntimezone: UTC\ncrm: {crm}\n", encoding="utf-8")
    result = CliRunner().invoke(
        app, ["worker", "--db", f"sqlite:///{tmp_path}/c.db", "--tenants", str(tenants)]
    )
    assert result.exit_code != 0
    assert f"{path}:{line}: crm" in result.output and reason in result.output
    assert "Traceback" not in result.output
