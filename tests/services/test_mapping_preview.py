"""A mapping change previewed over calls already synced: field by field, what the new mapping would write
differently; nothing is written."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import update
from typer.testing import CliRunner

from callsync.capture.platforms.generic import parse_generic_call
from callsync.capture.reader import read_calls
from callsync.cli import app
from callsync.config import EXAMPLES_DIR, CRMConnection, TenantConfig
from callsync.pipeline.intake import receive_call
from callsync.services.mapping_preview import preview_mapping
from callsync.store.db import Database
from callsync.store.tables import CallRow
from callsync.structure.mapping import parse_mapping
from callsync_sandbox.demo import DEMO_CALLS

CURRENT = (EXAMPLES_DIR / "hubspot.yaml").read_text(encoding="utf-8")
# The new mapping stops writing the first name and lets the CRM win on the contact's company.
NEW = CURRENT.replace("      firstname: {from: first_name, policy: fill_if_empty}\n", "").replace(
    "company:   {from: company,    policy: call_wins}", "company:   {from: company,    policy: crm_wins}"
)


def _synced(db: Database, tenant: TenantConfig) -> list[str]:
    ids = []
    for raw in read_calls(DEMO_CALLS):
        call = parse_generic_call(raw.payload, tenant=tenant.name, source=raw.source, line=raw.line)
        receive_call(db, call, raw.text, f"{raw.source}:{raw.line}")
        ids.append(call.call_id)
    with db.session() as session:
        session.execute(update(CallRow).values(sync_state="confirmed"))
    return ids


def test_a_mapping_change_is_previewed_field_by_field_over_synced_calls(sqlite_db: Database) -> None:
    from datetime import UTC, datetime, timedelta

    tenant = TenantConfig(name="demo", crm=CRMConnection(kind="hubspot"))
    ids = _synced(sqlite_db, tenant)
    result = preview_mapping(
        sqlite_db, tenant, parse_mapping(NEW, "new.yaml"), datetime.now(UTC) - timedelta(days=7)
    )
    assert result.calls == len(ids)
    kinds = {(c.crm_object, c.field, c.kind) for c in result.changes}
    assert ("contacts", "firstname", "removed") in kinds
    assert ("contacts", "company", "policy") in kinds
    assert all(c.field in ("firstname", "company") for c in result.changes)
    company = next(c for c in result.changes if c.field == "company")
    assert (company.before, company.after) == ("call_wins", "crm_wins")
    assert result.current_version != result.new_version
    # Nothing older than the window: none of these calls.
    assert (
        preview_mapping(sqlite_db, tenant, parse_mapping(NEW), datetime.now(UTC) + timedelta(days=1)).calls
        == 0
    )


def test_plan_since_prints_the_preview(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path}/c.db")
    db.migrate()
    tenant_file = tmp_path / "t.yaml"
    tenant_file.write_text(f"name: demo\ncrm: {{kind: hubspot}}\nmapping: {EXAMPLES_DIR / 'hubspot.yaml'}\n")
    _synced(db, TenantConfig(name="demo", crm=CRMConnection(kind="hubspot")))
    db.dispose()
    (tmp_path / "new.yaml").write_text(NEW, encoding="utf-8")
    args = ["plan", "--mapping", str(tmp_path / "new.yaml"), "--since", "7d", "--db", f"sqlite:///{tmp_path}/c.db",
            "--tenant-file", str(tenant_file)]  # fmt: skip
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    assert {c["field"] for c in json.loads(result.stdout)["changes"]} == {"firstname", "company"}
    text = CliRunner().invoke(app, args)
    assert "no longer written" in text.stdout and "different policy" in text.stdout
    assert CliRunner().invoke(app, ["plan"]).exit_code == 2  # neither a FILE nor --since


def test_a_workflow_rule_dropped_by_the_new_mapping_is_shown_for_every_call_it_fired_on(
    sqlite_db: Database,
) -> None:
    from datetime import UTC, datetime, timedelta

    rule = next(line for line in CURRENT.splitlines() if "- name: call_log" in line)
    without = CURRENT.replace(rule + "\n      do: log_call\n", "")
    assert without != CURRENT
    tenant = TenantConfig(name="demo", crm=CRMConnection(kind="hubspot"))
    ids = _synced(sqlite_db, tenant)
    result = preview_mapping(sqlite_db, tenant, parse_mapping(without), datetime.now(UTC) - timedelta(days=7))
    dropped = [c for c in result.changes if c.kind == "action"]
    assert sorted(c.call_id for c in dropped) == sorted(ids)  # the rule logged every call
    assert all(
        c.field == "call_log" and str(c.before).startswith("log_call") and c.after is None for c in dropped
    )
