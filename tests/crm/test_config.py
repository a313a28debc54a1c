"""Tenant connections for Salesforce and Zoho, the mapping's `match_objects`, and the adapter factory."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from callsync.config import EXAMPLES_DIR, CRMConnection, TenantConfig, load_tenant
from callsync.crm.hubspot.settings import HubSpotSettings
from callsync.crm.pool import AdapterPool
from callsync.crm.registry import DEFAULT_KIND, SPECS, capabilities_for, spec_for
from callsync.crm.salesforce.adapter import SalesforceAdapter
from callsync.crm.salesforce.settings import SalesforceSettings
from callsync.crm.zoho.adapter import ZohoAdapter
from callsync.crm.zoho.settings import ZohoSettings
from callsync.errors import ConfigError
from callsync.structure.mapping import load_mapping, parse_mapping


def test_each_crm_has_its_own_settings_and_defaults() -> None:
    hubspot = CRMConnection()
    assert isinstance(hubspot, HubSpotSettings)
    assert (hubspot.kind, hubspot.token_env, hubspot.base_url) == (
        "hubspot",
        "CALLSYNC_HUBSPOT_TOKEN",
        "https://api.hubapi.com",
    )
    sf = CRMConnection(kind="salesforce", instance_url="https://acme.my.salesforce.com")
    assert isinstance(sf, SalesforceSettings)
    assert (sf.token_env, sf.api_version) == ("CALLSYNC_SALESFORCE_TOKEN", "62.0")
    zoho = CRMConnection(
        kind="zoho", api_domain="https://www.zohoapis.eu", daily_credits=50_000, credit_reserve=500
    )
    assert isinstance(zoho, ZohoSettings)
    assert (zoho.token_env, zoho.api_version, zoho.daily_credits) == ("CALLSYNC_ZOHO_TOKEN", "v8", 50_000)
    with pytest.raises(ValidationError, match="needs instance_url"):
        CRMConnection(kind="salesforce")
    with pytest.raises(ValidationError, match="instance_url applies to salesforce only"):
        CRMConnection(kind="zoho", instance_url="https://x")
    with pytest.raises(ValidationError, match="daily_credits applies to zoho only"):
        CRMConnection(kind="salesforce", instance_url="https://x", daily_credits=10)
    with pytest.raises(ValidationError, match="base_url applies to hubspot only"):
        CRMConnection(kind="zoho", base_url="https://x")
    with pytest.raises(
        ValidationError, match="credit_reserve applies to pipedrive and salesforce and zoho only"
    ):
        CRMConnection(credit_reserve=3)
    with pytest.raises(ValidationError, match="unknown CRM kind 'nosuchcrm'"):
        CRMConnection(kind="nosuchcrm")
    with pytest.raises(ValidationError, match="colour is not a zoho setting"):
        CRMConnection(kind="zoho", colour="red")


def test_each_kind_validates_only_its_own_settings() -> None:
    # The CRM's own model refuses another CRM's field (extra="forbid"), whoever builds it.
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        ZohoSettings.model_validate({"instance_url": "https://x"})
    assert HubSpotSettings(token_env="MY_TOKEN").token_env == "MY_TOKEN"


def test_a_tenant_file_without_kind_is_the_default_crm(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("name: a\ncrm:\n  base_url: http://127.0.0.1:1\n")
    assert isinstance(load_tenant(tmp_path / "a.yaml").crm, SPECS[DEFAULT_KIND].settings)
    (tmp_path / "b.yaml").write_text("name: b\n")
    assert load_tenant(tmp_path / "b.yaml").crm.kind == DEFAULT_KIND


def test_another_crms_setting_in_a_tenant_file_names_the_file_and_the_field(tmp_path: Path) -> None:
    (tmp_path / "acme.yaml").write_text("name: acme\ncrm:\n  kind: zoho\n  instance_url: https://x\n")
    with pytest.raises(ConfigError) as error:
        load_tenant(tmp_path / "acme.yaml")
    assert error.value.source == str(tmp_path / "acme.yaml") and error.value.field == "crm"
    assert "instance_url applies to salesforce only, not to zoho" in str(error.value)


def test_the_token_is_read_from_the_named_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    conn = CRMConnection(kind="zoho", token_env="ACME_ZOHO")
    monkeypatch.delenv("ACME_ZOHO", raising=False)
    with pytest.raises(ConfigError, match="ACME_ZOHO"):
        conn.token()
    monkeypatch.setenv("ACME_ZOHO", "secret")
    assert conn.token() == "secret"


def test_the_registry_declares_what_each_crm_does() -> None:
    assert set(SPECS) == {"hubspot", "salesforce", "zoho", "pipedrive", "gohighlevel", "webhook"}
    for kind, spec in SPECS.items():
        assert spec.kind == kind and spec.settings.model_fields["kind"].default == kind
        assert spec.capabilities.max_batch_size > 0
    # Every CRM confirms by reading back and searches; the webhook target does neither (delivered only).
    assert {k for k, s in SPECS.items() if not s.capabilities.read_back} == {"webhook"}
    assert {k for k, s in SPECS.items() if not s.capabilities.search} == {"webhook"}
    # Only the CRMs with a lead model convert leads; HubSpot, Salesforce and Zoho share batches between
    # attempts (the others write one record a request).
    assert {k for k, s in SPECS.items() if s.capabilities.lead_conversion} == {"salesforce", "zoho"}
    assert {k for k, s in SPECS.items() if s.capabilities.group_commit} == {"hubspot", "salesforce", "zoho"}
    assert capabilities_for("zoho").daily_credit_budget
    with pytest.raises(ValueError, match="unknown CRM kind"):
        spec_for("nosuchcrm")


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


def test_a_hubspot_portal_with_another_search_limit_is_paced_by_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """HubSpot answers searches without limit headers: the published 5 per second stands unless the
    tenant says its portal has another."""
    monkeypatch.setenv("CALLSYNC_HUBSPOT_TOKEN", "t")
    published = AdapterPool()(TenantConfig(name="a", crm=CRMConnection(base_url="https://one.test")))
    raised = AdapterPool()(
        TenantConfig(name="b", crm=CRMConnection(base_url="https://two.test", search_per_second=20))
    )
    searches = [a.http.limiters["search"].max_requests for a in (published, raised)]  # type: ignore[attr-defined]
    assert searches == [5, 20]
    with pytest.raises(ValidationError, match="greater than or equal to 1"):
        CRMConnection(search_per_second=0)


async def test_write_attempts_share_one_transport_per_tenant_and_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for kind in SPECS:
        monkeypatch.setenv(f"CALLSYNC_{kind.upper()}_TOKEN", "t")
    pool = AdapterPool()
    tenants = {
        "hubspot": TenantConfig(name="h", crm=CRMConnection()),
        "salesforce": TenantConfig(
            name="s", crm=CRMConnection(kind="salesforce", instance_url="https://a.test")
        ),
        "zoho": TenantConfig(name="z", crm=CRMConnection(kind="zoho")),
    }
    for kind, tenant in tenants.items():
        first, owned = pool.for_attempt(tenant)
        second, _ = pool.for_attempt(tenant)
        assert not owned
        # One client, breaker and budget for every attempt of the tenant on this loop ...
        assert first.http is second.http and first.http.breaker is second.http.breaker  # type: ignore[attr-defined]
        # ... batching where the CRM shares batches between attempts ...
        assert (getattr(first, "batches", None) is not None) == SPECS[kind].capabilities.group_commit
        # ... and each attempt its own standing with the budget where it keeps one.
        if kind != "hubspot":
            assert first is not second and first._attempt is not second._attempt  # type: ignore[attr-defined]
        fresh = pool(tenant)
        assert fresh.http is not first.http  # type: ignore[attr-defined]
        await fresh.aclose()
    for adapter, _loop in list(pool._shared.values()):
        await adapter.aclose()
    pool._shared.clear()


def test_a_tenant_refuses_a_mapping_for_a_crm_without_an_adapter_or_for_another_crm(tmp_path: Path) -> None:
    from callsync.config import TenantConfig
    from callsync.errors import ConfigError

    mapping = tmp_path / "m.yaml"
    body = "objects:\n  contact:\n    crm_object: contacts\n    fields:\n      email: {from: email, policy: call_wins}\n"
    mapping.write_text("crm: nosuchcrm\n" + body)
    with pytest.raises(ConfigError, match="no adapter for crm 'nosuchcrm'") as info:
        TenantConfig(name="t", mapping=str(mapping)).load_mapping()
    assert info.value.field == "crm"
    mapping.write_text("crm: zoho\n" + body)
    with pytest.raises(ConfigError, match=r"written for zoho, but the tenant's crm\.kind is hubspot"):
        TenantConfig(name="t", mapping=str(mapping)).load_mapping()


def test_a_webhook_url_that_is_not_https_is_refused_at_load_with_the_file_line_and_reason(
    tmp_path: Path,
) -> None:
    path = tmp_path / "acme.yaml"
    path.write_text("name: acme\ncrm:\n  kind: webhook\n  url: http://hooks.example.com/catch/1\n")
    with pytest.raises(ConfigError) as error:
        load_tenant(path)
    assert (error.value.source, error.value.line, error.value.field) == (str(path), 4, "crm.url")
    assert "is not https" in error.value.message
    for local in ("http://127.0.0.1:8080/hook", "http://localhost/hook", "https://hooks.example.com/catch/1"):
        path.write_text(f"name: acme\ncrm:\n  kind: webhook\n  url: {local}\n")
        assert load_tenant(path).crm.url == local  # type: ignore[union-attr]


def test_a_gohighlevel_tenant_without_a_location_is_refused_with_the_file_and_the_line(
    tmp_path: Path,
) -> None:
    path = tmp_path / "acme.yaml"
    path.write_text("name: acme\ntimezone: UTC\ncrm:\n  kind: gohighlevel\n  api_url: https://x\n")
    with pytest.raises(ConfigError) as error:
        load_tenant(path)
    assert (error.value.source, error.value.line) == (str(path), 3)
    assert str(error.value).startswith(f"{path}:3: crm: a GoHighLevel connection needs location_id")
