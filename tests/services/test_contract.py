"""The contract's verdicts from recorded evidence: a rehearsal counts only for the mapping and the schema
it was made with; a global policy key is not a source of truth per field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from callsync.config import EXAMPLES_DIR, load_tenant
from callsync.crm.schema import CRMSchema, PicklistOption, SchemaField, SchemaObject
from callsync.services.contract import ContractInputs, contract_check
from callsync.structure.mapping import load_mapping
from callsync.structure.mapping_doc import integration_version
from callsync.trust.contract import RehearsalResult, SampleTrace, scan_policies

STAMP = SchemaField("callsync_origin_call_id")
SCHEMA = CRMSchema(
    "hubspot",
    (
        SchemaObject(
            "contacts",
            fields=(
                *(SchemaField(n) for n in ("email", "phone", "firstname", "lastname", "company", "jobtitle")),
                STAMP,
                SchemaField("callsync_last_call_id"),
            ),
        ),
        SchemaObject("companies", fields=(SchemaField("name"), STAMP)),
        SchemaObject(
            "deals",
            fields=(
                SchemaField("dealname"),
                SchemaField("amount", kind="number"),
                SchemaField("pipeline", kind="picklist", options=(PicklistOption("default"),)),
                SchemaField("dealstage", kind="picklist", options=(PicklistOption("appointmentscheduled"),)),
                STAMP,
            ),
        ),
    ),
)


def _rehearsal(version: str, digest: str) -> RehearsalResult:
    trace = SampleTrace(
        "contacts", "1001", "email", "a@b.co", "c1", "fill_if_empty", "it's a at b dot co", version
    )
    return RehearsalResult(
        tenant="t", crm="hubspot", mapping="m", integration_version=version, schema_source="file",
        started_at="2026-12-05T07:00:00+00:00", finished_at="2026-12-05T07:00:09+00:00", calls=2, confirmed=2,
        review=0, dead_letter=0, queued=0, created={"contacts": 2}, doubled=0, lost=0,
        faults={"drop_response_after_commit": 1}, reconcile_clean=True, reconcile_summary="clean", trace=trace,
        schema_digest=digest,
    )  # fmt: skip


@pytest.fixture
def setup(tmp_path: Path) -> tuple[ContractInputs, Path]:
    tenant_file = tmp_path / "t.yaml"
    tenant_file.write_text(f"name: t\ncrm: {{kind: hubspot}}\nmapping: {EXAMPLES_DIR / 'hubspot.yaml'}\n")
    schema_file = tmp_path / "schema.json"
    schema_file.write_text(json.dumps(SCHEMA.to_json()))
    record = tmp_path / "rehearsal.json"
    inputs = ContractInputs(
        tenant=load_tenant(tenant_file),
        schema_file=schema_file,
        rehearsal_file=record,
        out_dir=tmp_path / "ev",
    )
    return inputs, record


def _verdicts(inputs: ContractInputs) -> dict[int, bool]:
    return {line.number: line.passed for line in contract_check(inputs).lines}


def test_recorded_evidence_for_this_mapping_and_schema_passes_every_line(
    setup: tuple[ContractInputs, Path],
) -> None:
    inputs, record = setup
    version = integration_version(load_mapping(EXAMPLES_DIR / "hubspot.yaml"))
    record.write_text(json.dumps(_rehearsal(version, SCHEMA.digest()).to_json()))
    assert _verdicts(inputs) == dict.fromkeys(range(1, 9), True)
    assert (inputs.out_dir or Path()).joinpath("mapping.md").is_file()


def test_a_rehearsal_of_another_mapping_or_schema_does_not_count(setup: tuple[ContractInputs, Path]) -> None:
    inputs, record = setup
    version = integration_version(load_mapping(EXAMPLES_DIR / "hubspot.yaml"))
    record.write_text(json.dumps(_rehearsal("callsync 0.1.0+map.000000000000", SCHEMA.digest()).to_json()))
    report = contract_check(inputs)
    assert not report.lines[2].passed and "rehearse again" in report.lines[2].evidence
    record.write_text(json.dumps(_rehearsal(version, "another-schema").to_json()))
    verdicts = _verdicts(inputs)
    assert verdicts[3] and not verdicts[8]
    record.unlink()
    assert {n for n, ok in _verdicts(inputs).items() if not ok} == {3, 4, 6, 8}  # nothing rehearsed


def test_a_global_policy_key_is_not_a_source_of_truth_per_field() -> None:
    text = "crm: hubspot\npolicy: call_wins\nobjects:\n  contact:\n    crm_object: contacts\n    fields:\n" \
           "      email: {from: email}\n      phone: {from: phone, policy: fill_if_empty}\n"  # fmt: skip
    scan = scan_policies(text)
    assert scan.global_keys == (("policy", 2),)
    assert scan.undeclared == (("contact", "email", 7),)
    assert scan.declared == (("contact", "phone", "fill_if_empty", 8),)
