"""`callsync schema check`, `callsync rehearse` and `callsync contract check` on the shipped example tenants,
each against its CRM's emulator; a mapping field without a policy fails the contract's line 2."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from callsync.cli import app
from callsync.crm.schema import CRMSchema, PicklistOption, SchemaField, SchemaObject
from callsync_sandbox.demo import DEMO_CALLS
from callsync_sandbox.listing import EMULATORS, TOKEN_ENVS
from callsync_sandbox.server import SandboxServer

EXAMPLES = Path(__file__).parents[2] / "examples"
TOKEN = "sandbox-token"


def invoke(*args: str) -> object:
    return CliRunner().invoke(app, list(args))


def _tenant_file(tmp_path: Path, crm: str, base_url: str) -> Path:
    """The shipped example tenant as it is, but for the port its emulator was given in this test."""
    text = (EXAMPLES / "tenants" / f"{crm}.yaml").read_text(encoding="utf-8")
    text = re.sub(r"http://127\.0\.0\.1:\d+", base_url, text)
    text = text.replace(f"mapping: ../{crm}.yaml", f"mapping: {(EXAMPLES / f'{crm}.yaml').resolve()}")
    path = tmp_path / f"{crm}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def evidence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CALLSYNC_EVIDENCE_DIR", str(tmp_path / "evidence"))
    for env in TOKEN_ENVS.values():
        monkeypatch.setenv(env, TOKEN)
    return tmp_path / "evidence"


@pytest.mark.parametrize("crm", ["hubspot", "salesforce", "zoho", "pipedrive", "gohighlevel", "webhook"])
def test_the_shipped_example_passes_the_contract_against_its_emulator(
    crm: str, tmp_path: Path, evidence: Path
) -> None:
    calls = tmp_path / "calls.jsonl"
    calls.write_text(
        "\n".join(DEMO_CALLS.read_text(encoding="utf-8").splitlines()[:2]) + "\n", encoding="utf-8"
    )
    with SandboxServer(EMULATORS[crm].build(TOKEN, None)) as server:
        tenant = str(_tenant_file(tmp_path, crm, server.base_url))
        stamps = invoke("schema", "check", "--tenant", tenant, "--create-stamps")
        assert stamps.exit_code == 0, stamps.output  # type: ignore[attr-defined]
        rehearsal = invoke("rehearse", "--tenant", tenant, "--calls", str(calls))
        assert rehearsal.exit_code == 0, rehearsal.output  # type: ignore[attr-defined]
        assert "nothing lost, nothing doubled" in rehearsal.output  # type: ignore[attr-defined]
        result = invoke("contract", "check", "--tenant", tenant, "--json")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    report = json.loads(result.stdout)  # type: ignore[attr-defined]
    assert [line["passed"] for line in report["lines"]] == [True] * 8
    assert (evidence / f"example-{crm}" / "mapping.md").is_file()


def test_a_mapping_field_without_a_policy_fails_line_2_naming_it(tmp_path: Path, evidence: Path) -> None:
    mapping = (EXAMPLES / "hubspot.yaml").read_text(encoding="utf-8")
    mapping = mapping.replace(
        "jobtitle:  {from: job_title,  policy: newest_wins}", "jobtitle:  {from: job_title}"
    )
    (tmp_path / "m.yaml").write_text(mapping, encoding="utf-8")
    tenant = tmp_path / "t.yaml"
    tenant.write_text(
        "name: nopolicy\ncrm: {kind: hubspot, base_url: 'http://127.0.0.1:9'}\nmapping: m.yaml\n"
    )
    result = invoke("contract", "check", "--tenant", str(tenant), "--json")
    assert result.exit_code == 1  # type: ignore[attr-defined]
    lines = {line["number"]: line for line in json.loads(result.stdout)["lines"]}  # type: ignore[attr-defined]
    assert not lines[2]["passed"]
    line_no = next(i for i, text in enumerate(mapping.splitlines(), 1) if "jobtitle:" in text)
    assert lines[2]["details"] == [f"objects.contact.fields.jobtitle (m.yaml:{line_no}): no declared policy"]
    assert not lines[7]["passed"]  # no source of truth of its own either
    assert lines[5]["passed"]  # the runbook is there whatever the mapping says


def test_schema_check_names_a_renamed_property_a_bad_picklist_value_and_an_uncovered_required_field(
    tmp_path: Path,
) -> None:
    fields = {
        "contacts": ("email", "phone", "firstname", "lastname", "company", "job_title",
                     "callsync_origin_call_id", "callsync_last_call_id"),
        "companies": ("name", "callsync_origin_call_id"),
        "deals": ("dealname", "amount", "callsync_origin_call_id"),
    }  # fmt: skip
    objects = [
        SchemaObject(name, fields=tuple(SchemaField(f) for f in names)) for name, names in fields.items()
    ]
    deals = objects[2]
    objects[2] = SchemaObject(
        "deals",
        fields=(
            SchemaField("dealname"),
            SchemaField("amount", kind="number"),
            SchemaField("callsync_origin_call_id"),
            SchemaField("pipeline", kind="picklist", options=(PicklistOption("default"),)),
            SchemaField("dealstage", kind="picklist", options=(PicklistOption("qualified"),)),
            SchemaField("hs_priority", kind="picklist", required_on_create=True),
        ),
    )
    assert deals.name == "deals"
    schema_file = tmp_path / "schema.json"
    schema_file.write_text(json.dumps(CRMSchema(crm="hubspot", objects=tuple(objects)).to_json()))
    tenant = tmp_path / "t.yaml"
    tenant.write_text(f"name: t\ncrm: {{kind: hubspot}}\nmapping: {EXAMPLES / 'hubspot.yaml'}\n")
    result = invoke("schema", "check", "--tenant", str(tenant), "--schema", str(schema_file), "--json")
    assert result.exit_code == 1  # type: ignore[attr-defined]
    problems = {(p["kind"], p["crm_object"], p["field"]) for p in json.loads(result.stdout)["problems"]}  # type: ignore[attr-defined]
    assert problems == {
        ("missing_field", "contacts", "jobtitle"),  # renamed to job_title in the CRM
        ("not_in_picklist", "deals", "dealstage"),  # "appointmentscheduled" is not a stage there
        ("required_not_covered", "deals", "hs_priority"),
    }
    table = invoke("schema", "check", "--tenant", str(tenant), "--schema", str(schema_file))
    assert table.exit_code == 1 and "hubspot.yaml:22" in table.output  # type: ignore[attr-defined]


def test_use_db_takes_the_trail_and_a_reconcile_run_from_the_tenants_own_database(
    tmp_path: Path, evidence: Path
) -> None:
    db = f"sqlite:///{tmp_path}/empty.db"
    assert invoke("migrate", "--db", db).exit_code == 0  # type: ignore[attr-defined]
    with SandboxServer(EMULATORS["hubspot"].build(TOKEN, None)) as server:
        tenant = str(_tenant_file(tmp_path, "hubspot", server.base_url))
        result = invoke("contract", "check", "--tenant", tenant, "--use-db", "--db", db, "--json")
    lines = {line["number"]: line for line in json.loads(result.stdout)["lines"]}  # type: ignore[attr-defined]
    assert result.exit_code == 1  # type: ignore[attr-defined]
    assert not lines[4]["passed"] and "tenant's ledger" in lines[4]["evidence"]  # nothing synced yet
    assert lines[6]["passed"] and "run now" in lines[6]["evidence"] and "0 call(s)" in lines[6]["evidence"]
