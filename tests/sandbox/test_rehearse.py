"""`callsync rehearse`: the real pipeline against the tenant's emulator under a fault plan. A create whose
answer was lost after the CRM committed it must leave one record, and the result says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from callsync.config import TenantConfig, load_tenant
from callsync.crm.schema import CRMSchema
from callsync.services.schema import read_tenant_schema
from callsync_sandbox.demo import DEMO_CALLS
from callsync_sandbox.rehearse import pointed_at, rehearse
from callsync_sandbox.seed import build_sandbox
from callsync_sandbox.server import SandboxServer

EXAMPLES = Path(__file__).parents[2] / "examples" / "tenants"


def _first_calls(tmp_path: Path, n: int) -> Path:
    lines = DEMO_CALLS.read_text(encoding="utf-8").splitlines()[:n]
    path = tmp_path / "calls.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_create_whose_answer_was_dropped_after_commit_leaves_one_record(tmp_path: Path) -> None:
    tenant = load_tenant(EXAMPLES / "hubspot.yaml")
    result = rehearse(tenant, calls=_first_calls(tmp_path, 1))
    assert result.dropped_after_commit == 1  # the fault really fired on the contact's create
    assert result.created["contacts"] == 1
    assert result.doubled == 0 and result.lost == 0 and result.reconcile_clean
    assert result.ok and result.confirmed == 1
    assert result.trace is not None and result.trace.sentence  # a field traced to what was said


def _schema_of(tenant: TenantConfig) -> CRMSchema:
    with SandboxServer(build_sandbox("hubspot", "sandbox-token", None).app()) as server:
        return read_tenant_schema(pointed_at(tenant, server.base_url, token_env="REHEARSE_TEST_TOKEN"))


def test_a_rehearsal_seeded_with_a_schema_missing_a_mapped_property_is_not_ok(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The seeded emulator refuses what the customer's CRM would: a renamed property fails the write."""
    monkeypatch.setenv("REHEARSE_TEST_TOKEN", "sandbox-token")
    tenant = load_tenant(EXAMPLES / "hubspot.yaml")
    schema = _schema_of(tenant)
    contacts = schema.object("contacts")
    assert contacts is not None
    renamed = [f for f in contacts.fields if f.name != "company"]  # renamed in the CRM
    seeded = CRMSchema(
        crm="hubspot",
        objects=tuple(
            o if o.name != "contacts" else type(o)(o.name, o.label, tuple(renamed)) for o in schema.objects
        ),
    )
    result = rehearse(tenant, calls=_first_calls(tmp_path, 1), schema=seeded, schema_source="test")
    # The write naming the renamed property is refused: the call is dead-lettered, and the rehearsal
    # reports it lost instead of passing.
    assert not result.ok and result.dead_letter == 1 and result.lost == 1


def test_the_tenants_recent_calls_can_be_rehearsed_from_its_database_which_is_only_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from sqlalchemy import select
    from typer.testing import CliRunner

    from callsync.capture.platforms.generic import parse_generic_call
    from callsync.capture.reader import read_calls
    from callsync.cli import app
    from callsync.pipeline.intake import receive_call
    from callsync.store.db import Database
    from callsync.store.tables import CallRow

    monkeypatch.setenv("CALLSYNC_EVIDENCE_DIR", str(tmp_path / "evidence"))
    db = Database(f"sqlite:///{tmp_path}/tenant.db")
    db.migrate()
    raw = next(iter(read_calls(_first_calls(tmp_path, 1))))
    receive_call(
        db, parse_generic_call(raw.payload, tenant="example-hubspot", source=raw.source), raw.text, "x"
    )
    tenant = str(EXAMPLES / "hubspot.yaml")
    both = CliRunner().invoke(app, ["rehearse", "--tenant", tenant, "--since", "7d", "--calls", "x.jsonl"])
    assert both.exit_code == 2
    result = CliRunner().invoke(
        app,
        [
            "rehearse",
            "--tenant",
            tenant,
            "--since",
            "7d",
            "--db",
            f"sqlite:///{tmp_path}/tenant.db",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    recorded = json.loads(result.stdout)
    assert recorded["calls"] == 1 and recorded["confirmed"] == 1 and recorded["created"]["contacts"] == 1
    with db.session() as session:  # the tenant's own call was not synced by the rehearsal
        assert session.scalars(select(CallRow.sync_state)).all() == ["queued"]
    db.dispose()
