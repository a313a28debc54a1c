"""Tenant connections for Salesforce and Zoho, the mapping's `match_objects`, and the adapter factory."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from callsync.config import EXAMPLES_DIR, CRMConnection, TenantConfig, load_tenant
from callsync.crm.pool import AdapterPool
from callsync.crm.salesforce.adapter import SalesforceAdapter
from callsync.crm.zoho.adapter import ZohoAdapter
from callsync.errors import ConfigError
from callsync.structure.mapping import load_mapping, parse_mapping


def test_each_crm_has_its_own_settings_and_defaults() -> None:
    hubspot = CRMConnection()
    assert (hubspot.kind, hubspot.token_env, hubspot.api_version) == (
        "hubspot",
        "CALLSYNC_HUBSPOT_TOKEN",
        None,
    )
    sf = CRMConnection(kind="salesforce", instance_url="https://acme.my.salesforce.com")
    assert (sf.token_env, sf.api_version) == ("CALLSYNC_SALESFORCE_TOKEN", "62.0")
    zoho = CRMConnection(
        kind="zoho", api_domain="https://www.zohoapis.eu", daily_credits=50_000, credit_reserve=500
    )
    assert (zoho.token_env, zoho.api_version, zoho.daily_credits) == ("CALLSYNC_ZOHO_TOKEN", "v8", 50_000)
    with pytest.raises(ValidationError, match="needs instance_url"):
        CRMConnection(kind="salesforce")
    with pytest.raises(ValidationError, match="instance_url applies to salesforce only"):
        CRMConnection(kind="zoho", instance_url="https://x")
    with pytest.raises(ValidationError, match="daily_credits applies to zoho only"):
        CRMConnection(kind="salesforce", instance_url="https://x", daily_credits=10)
    with pytest.raises(ValidationError, match="base_url applies to hubspot only"):
        CRMConnection(kind="zoho", base_url="https://x")


def test_a_tenant_file_names_the_crm_and_its_mapping(tmp_path: Path) -> None:
    (tmp_path / "acme.yaml").write_text(
        "name: acme\ncrm:\n  kind: zoho\n  api_domain: https://www.zohoapis.eu\n  daily_credits: 60000\n"
        f"  credit_reserve: 200\nmapping: {EXAMPLES_DIR / 'zoho.yaml'}\n"
    )
    tenant = load_tenant(tmp_path / "acme.yaml")
    assert tenant.crm.kind == "zoho" and tenant.load_mapping().crm == "zoho"


def test_examples_look_for_callers_among_leads_and_contacts() -> None:
    sf = load_mapping(EXAMPLES_DIR / "salesforce.yaml").object("contact")
    assert (sf.crm_object, sf.match_objects, sf.stamp_field) == (
        "Lead",
        ["Lead", "Contact"],
        "callsync_origin_call_id__c",
    )
    zoho = load_mapping(EXAMPLES_DIR / "zoho.yaml").object("contact")
    assert (zoho.crm_object, zoho.match_objects) == ("Leads", ["Leads", "Contacts"])


def test_match_objects_must_include_the_object_new_callers_become() -> None:
    text = (
        "crm: salesforce\nobjects:\n  contact:\n    crm_object: Lead\n    match_objects: [Contact]\n"
        "    fields:\n      Email: {from: email, policy: fill_if_empty}\n"
    )
    with pytest.raises(ConfigError) as error:
        parse_mapping(text, "m.yaml")
    assert "match_objects must include crm_object 'Lead'" in str(error.value) and error.value.line == 5


def test_the_factory_builds_the_adapter_of_the_tenants_crm(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLSYNC_SALESFORCE_TOKEN", "t")
    monkeypatch.setenv("CALLSYNC_ZOHO_TOKEN", "t")
    factory = AdapterPool()
    sf = factory(
        TenantConfig(name="a", crm=CRMConnection(kind="salesforce", instance_url="https://acme.test"))
    )
    zoho = factory(TenantConfig(name="b", crm=CRMConnection(kind="zoho", daily_credits=100)))
    assert isinstance(sf, SalesforceAdapter) and sf.instance_url == "https://acme.test"
    assert isinstance(zoho, ZohoAdapter) and zoho.budget is not None and zoho.budget.settings.limit == 100
