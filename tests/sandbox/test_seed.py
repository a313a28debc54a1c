"""Emulators seeded with an exported schema serve it back through the vendor's own schema API (export →
seed → read gives the same schema), and refuse what that schema refuses."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from callsync.cli import app
from callsync.config import load_tenant
from callsync.crm.schema import CRMSchema, PicklistOption, SchemaField, SchemaObject
from callsync.services.schema import check_tenant_schema, create_stamps, read_tenant_schema
from callsync_sandbox.rehearse import pointed_at
from callsync_sandbox.seed import build_sandbox
from callsync_sandbox.server import SandboxServer

EXAMPLES = Path(__file__).parents[2] / "examples" / "tenants"
TOKEN = "sandbox-token"
ENV = "SEED_TEST_TOKEN"


def _shape(schema: CRMSchema) -> dict[str, set[tuple[object, ...]]]:
    return {
        o.name: {
            (f.name, f.label, f.kind, f.options, f.max_length, f.required_on_create, f.custom)
            for f in o.fields
        }
        for o in schema.objects
    }


@pytest.mark.parametrize("crm", ["hubspot", "salesforce", "zoho", "pipedrive", "gohighlevel"])
def test_an_exported_schema_seeds_an_emulator_that_serves_it_back(
    crm: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV, TOKEN)
    example = load_tenant(EXAMPLES / f"{crm}.yaml")
    location = getattr(example.crm, "location_id", None)
    with SandboxServer(build_sandbox(crm, TOKEN, None, location=location).app()) as server:
        tenant = pointed_at(example, server.base_url, ENV)
        check, _ = check_tenant_schema(tenant)
        create_stamps(tenant, check)  # the customer's CRM has callsync's stamps by go-live
        exported = read_tenant_schema(tenant)
    with SandboxServer(build_sandbox(crm, TOKEN, None, exported, location=location).app()) as server:
        tenant = pointed_at(example, server.base_url, ENV)
        served = read_tenant_schema(tenant)
        assert check_tenant_schema(tenant)[0].ok
    assert _shape(served) == _shape(exported)


def test_a_seeded_hubspot_refuses_a_value_outside_the_customers_picklist() -> None:
    stage = SchemaField("dealstage", kind="picklist", vendor_type="enumeration/select",
                        options=(PicklistOption("qualified", "Qualified"),))  # fmt: skip
    schema = CRMSchema("hubspot", (SchemaObject("deals", fields=(SchemaField("dealname"), stage)),))
    hub = build_sandbox("hubspot", TOKEN, None, schema)
    with SandboxServer(hub.app()) as server, httpx.Client(base_url=server.base_url) as http:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        bad = http.post("/crm/v3/objects/deals", headers=headers,
                        json={"properties": {"dealname": "x", "dealstage": "appointmentscheduled"}})  # fmt: skip
        gone = http.post("/crm/v3/objects/deals", headers=headers, json={"properties": {"amount": "5"}})
        good = http.post("/crm/v3/objects/deals", headers=headers,
                         json={"properties": {"dealname": "x", "dealstage": "qualified"}})  # fmt: skip
    assert bad.status_code == 400 and "INVALID_OPTION" in bad.text
    assert gone.status_code == 400 and "PROPERTY_DOESNT_EXIST" in gone.text  # not in the customer's schema
    assert good.status_code == 201


def test_sandbox_schema_goes_with_a_served_sandbox_and_must_be_a_schema_export(tmp_path: Path) -> None:
    listing = CliRunner().invoke(app, ["sandbox", "hubspot", "--list", "--schema", str(tmp_path / "s.json")])
    assert listing.exit_code == 2 and "--schema applies to a sandbox being served" in listing.output
    bad = tmp_path / "bad.json"
    bad.write_text('{"objects": []}')
    served = CliRunner().invoke(app, ["sandbox", "hubspot", "--port", "1", "--schema", str(bad)])
    assert served.exit_code == 1 and "not a callsync schema export" in served.output
