"""The GoHighLevel adapter against its emulator over HTTP: one location per tenant, agency tokens
exchanged for the location's, the duplicate-contact setting on and off, opportunities never created
without their contact, notes, the X-RateLimit-* headers, and mis-routed records found by `stamped`."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from callsync.config import load_tenant
from callsync.crm.errors import (
    AuthenticationError,
    BudgetExhausted,
    ConflictError,
    PermanentError,
    RateLimited,
    TransientError,
    UnknownFieldError,
)
from callsync.crm.gohighlevel.adapter import GoHighLevelAdapter
from callsync.crm.protocol import IdentityQuery, RecordRef, WriteRequest
from callsync.errors import ConfigError
from callsync_sandbox.gohighlevel import GoHighLevelSandbox
from callsync_sandbox.server import SandboxServer

TOKEN = "ghl-token"
STAMP, LAST = "callsync_origin_call_id", "callsync_last_call_id"
EMAIL, PHONE = "dana.whitfield@northwind.com", "+16175550148"
FIELDS = ("email", "phone", "firstName", "lastName", STAMP, LAST)
_n = itertools.count()


@pytest.fixture
def serve() -> Iterator[Any]:
    # The adapter caches a location's custom-field ids per process, keyed by base URL: a later test's
    # emulator may get a closed one's port, and must not inherit its field ids.
    GoHighLevelAdapter._custom.clear()
    GoHighLevelAdapter._stages.clear()
    servers: list[SandboxServer] = []

    def start(**settings: Any) -> tuple[GoHighLevelSandbox, str]:
        sandbox = GoHighLevelSandbox(token=TOKEN, **settings)
        server = SandboxServer(sandbox.app())
        server.__enter__()
        servers.append(server)
        return sandbox, server.base_url

    yield start
    for server in servers:
        server.__exit__(None, None, None)


def adapter(base_url: str, location: str = "location-1", token: str = TOKEN, **kw: Any) -> GoHighLevelAdapter:
    # A distinct base URL per test keeps the per-location limiter and caches apart.
    return GoHighLevelAdapter(token, location, base_url=base_url, timeout_s=3.0, **kw)


def query(**keys: Any) -> IdentityQuery:
    return IdentityQuery(object_types=("contacts",), stamp_field=STAMP, fields=FIELDS, **keys)


async def create(ghl: GoHighLevelAdapter, call: str, **fields: Any) -> Any:
    values = {"firstName": "Dana", "lastName": "Whitfield", STAMP: call, LAST: call, **fields}
    return await ghl.write(WriteRequest("contacts", values, None, f"t:{call}:create"))


# -- configuration -------------------------------------------------------------------------------------


def test_a_tenant_without_a_location_is_refused_at_load_with_the_file_and_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "acme.yaml"
    path.write_text("name: acme\ncrm:\n  kind: gohighlevel\n  token_env: ACME_GHL\n")
    with pytest.raises(ConfigError) as error:
        load_tenant(path)
    assert error.value.source == str(path) and str(error.value.field).startswith("crm")
    assert "needs location_id" in str(error.value) and str(path) in str(error.value)
    path.write_text("name: acme\ncrm:\n  kind: gohighlevel\n  location_id: '  '\n")
    with pytest.raises(ConfigError, match="needs location_id"):
        load_tenant(path)
    path.write_text("name: acme\ncrm:\n  kind: gohighlevel\n  location_id: loc-9\n")
    assert load_tenant(path).crm.location_id == "loc-9"  # type: ignore[union-attr]


# -- one location, its token -----------------------------------------------------------------------------


async def test_every_request_names_the_location_and_carries_the_version_header(serve: Any) -> None:
    sandbox, url = serve()
    ghl = adapter(url)
    await ghl.ensure_schema("contacts", [STAMP, LAST])
    written = await create(ghl, "c-1", email=EMAIL, phone="(617) 555-0148")
    assert written.created
    (row,) = sandbox.records("contacts")
    assert row["locationId"] == "location-1" and row["phone"] == PHONE and row[STAMP] == "c-1"
    assert sandbox.count_requests(status=400) == 0  # a missing Version header is a 400
    await ghl.aclose()


async def test_an_agency_token_is_exchanged_once_for_the_location_token(serve: Any) -> None:
    sandbox, url = serve(locations=("location-1", "location-2"))
    ghl = adapter(url, "location-2", token=sandbox.agency_token, company_id="company-1")
    await ghl.ensure_schema("contacts", [STAMP, LAST])
    await create(ghl, "c-1", email=EMAIL)
    found = await ghl.find(query(email=EMAIL, origin_call_id="c-1"))
    assert [r.fields[STAMP] for r in found.by_email] == ["c-1"] and found.by_origin
    assert sandbox.minted == 1 and ghl.auth.exchanges == 1
    assert [r["locationId"] for r in sandbox.records("contacts")] == ["location-2"]
    await ghl.aclose()

    wrong = adapter(url, "location-2", token=sandbox.agency_token, company_id="another-company")
    with pytest.raises(PermanentError, match="locationToken"):
        await wrong.find(query(email=EMAIL))
    await wrong.aclose()
    revoked = adapter(url, "location-2", token="revoked", company_id="company-1")
    with pytest.raises(AuthenticationError):
        await revoked.find(query(email=EMAIL))
    await revoked.aclose()


async def test_a_record_of_another_location_is_never_read_matched_or_written(serve: Any) -> None:
    sandbox, url = serve(locations=("location-1", "location-2"))
    other = sandbox.insert("contacts", {"email": EMAIL, "firstName": "Dana"}, "location-2")
    ghl = adapter(url)
    await ghl.ensure_schema("contacts", [STAMP, LAST])
    assert await ghl.read(RecordRef("contacts", other), FIELDS) is None
    assert (await ghl.find(query(email=EMAIL))).by_email == ()
    with pytest.raises(PermanentError, match="not in location location-1"):
        await ghl.write(WriteRequest("contacts", {"firstName": "X"}, other))
    assert sandbox.records("contacts", "location-2")[0]["firstName"] == "Dana"
    await ghl.aclose()


# -- duplicate-contact setting -----------------------------------------------------------------------


@pytest.mark.parametrize("allow", [False, True], ids=["duplicates-off", "duplicates-on"])
async def test_a_caller_written_twice_is_one_contact_whatever_the_duplicate_setting(
    serve: Any, allow: bool
) -> None:
    sandbox, url = serve(allow_duplicates=allow)
    ghl = adapter(url)
    await ghl.ensure_schema("contacts", [STAMP, LAST])
    first = await create(ghl, "c-1", email=EMAIL, phone=PHONE)
    again = await create(ghl, "c-1", email=EMAIL, phone=PHONE)  # a retried create: upsert finds it
    assert first.created and not again.created and again.ref == first.ref
    assert len(sandbox.records("contacts")) == 1
    found = await ghl.find(query(email=EMAIL, phone=PHONE, origin_call_id="c-1"))
    assert {r.ref.record_id for r in (*found.by_email, *found.by_phone, *found.by_origin)} == {
        first.ref.record_id
    }
    await ghl.aclose()


async def test_with_duplicates_off_a_plain_create_of_a_known_email_is_a_conflict_naming_it(
    serve: Any,
) -> None:
    sandbox, url = serve(allow_duplicates=False)
    existing = sandbox.insert("contacts", {"email": EMAIL, "firstName": "Dana"})
    second = sandbox.insert("contacts", {"email": "other@example.com", "firstName": "Sam"})
    ghl = adapter(url)
    await ghl.ensure_schema("contacts", [STAMP, LAST])
    with pytest.raises(ConflictError) as conflict:  # an update to an email another contact holds
        await ghl.write(WriteRequest("contacts", {"email": EMAIL}, second))
    assert conflict.value.existing_id == existing
    await ghl.aclose()


async def test_with_duplicates_on_a_plain_create_makes_a_second_contact_and_lookups_pick_the_first(
    serve: Any,
) -> None:
    sandbox, url = serve(allow_duplicates=True)
    first = sandbox.insert("contacts", {"email": EMAIL, "firstName": "Dana"})
    sandbox.insert("contacts", {"email": EMAIL, "firstName": "Dana (2)"})
    assert len(sandbox.records("contacts")) == 2  # the location allows it
    ghl = adapter(url)
    await ghl.ensure_schema("contacts", [STAMP, LAST])
    found = await ghl.find(query(email=EMAIL))
    assert [r.ref.record_id for r in found.by_email] == [first]
    written = await create(ghl, "c-1", email=EMAIL)
    assert written.ref.record_id == first and not written.created
    await ghl.aclose()


# -- opportunities, notes ----------------------------------------------------------------------------


async def test_an_opportunity_is_created_with_its_contact_in_the_first_stage_or_not_at_all(
    serve: Any,
) -> None:
    sandbox, url = serve()
    ghl = adapter(url)
    await ghl.ensure_schema("contacts", [STAMP, LAST])
    await ghl.ensure_schema("opportunities", [STAMP])
    contact = await create(ghl, "c-1", email=EMAIL)
    with pytest.raises(PermanentError, match="orphan"):
        await ghl.write(WriteRequest("opportunities", {"name": "Northwind", STAMP: "c-1"}))
    assert sandbox.records("opportunities") == []
    deal = await ghl.write(
        WriteRequest(
            "opportunities",
            {"name": "Northwind", "monetaryValue": 50000, STAMP: "c-1"},
            associations=(contact.ref,),
        )
    )
    (row,) = sandbox.records("opportunities")
    pipeline = sandbox.location().pipelines[0]
    assert row["contactId"] == contact.ref.record_id and row["status"] == "open"
    assert (row["pipelineId"], row["pipelineStageId"]) == (pipeline["id"], pipeline["stages"][0]["id"])
    back = await ghl.read(deal.ref, ("name", "monetaryValue", STAMP))
    assert back is not None and back.fields == {"name": "Northwind", "monetaryValue": 50000, STAMP: "c-1"}
    found = await ghl.find(
        IdentityQuery(object_types=("opportunities",), origin_call_id="c-1", stamp_field=STAMP)
    )
    assert [r.ref for r in found.by_origin] == [deal.ref]
    named = await ghl.find(IdentityQuery(object_types=("opportunities",), name="northwind"))
    assert [r.ref for r in named.by_name] == [deal.ref]
    await ghl.associate(deal.ref, contact.ref)  # holds
    other = await create(ghl, "c-2", email="sam@example.com")
    with pytest.raises(PermanentError, match="cannot move it"):
        await ghl.associate(deal.ref, other.ref)
    await ghl.aclose()


async def test_notes_and_tasks_are_written_under_their_contact(serve: Any) -> None:
    sandbox, url = serve()
    ghl = adapter(url)
    await ghl.ensure_schema("contacts", [STAMP, LAST])
    contact = await create(ghl, "c-1", email=EMAIL)
    with pytest.raises(PermanentError, match="names none"):
        await ghl.write(WriteRequest("notes", {"body": "Call summary"}))
    note = await ghl.write(WriteRequest("notes", {"body": "Call summary", "title": "Call c-1"},
                                        associations=(contact.ref,)))  # fmt: skip
    back = await ghl.read(note.ref, ("body", "title"))
    assert back is not None and back.fields == {"body": "Call summary", "title": "Call c-1"}
    assert [n["contactId"] for n in sandbox.records("notes")] == [contact.ref.record_id]
    due = "2026-12-08T15:00:00Z"
    task = await ghl.write(
        WriteRequest("tasks", {"title": "Call Dana back", "dueDate": due}, associations=(contact.ref,))
    )
    back = await ghl.read(task.ref, ("title", "dueDate", "completed"))
    assert back is not None and back.fields == {"title": "Call Dana back", "dueDate": due, "completed": False}
    await ghl.write(WriteRequest("tasks", {"completed": True}, task.ref.record_id))
    assert [t["completed"] for t in sandbox.records("tasks")] == [True]
    await ghl.associate(task.ref, contact.ref)
    other = await create(ghl, "c-2", email="sam@example.com")
    with pytest.raises(PermanentError, match="another contact"):
        await ghl.associate(note.ref, other.ref)
    with pytest.raises(PermanentError, match="company"):
        await ghl.write(WriteRequest("companies", {"name": "Northwind"}))
    await ghl.aclose()


# -- limits ----------------------------------------------------------------------------------------------


async def test_the_rate_limit_headers_size_the_limiter_and_a_burst_429_waits_the_window(serve: Any) -> None:
    sandbox, url = serve(burst_max=3, interval_s=0.5)
    ghl = adapter(url)
    limiter = ghl.http.limiters["default"]
    await ghl.find(query(email=EMAIL))
    assert (limiter.max_requests, limiter.interval_s) == (3, 0.5), "read from X-RateLimit-Max/-Interval"
    for _ in range(6):  # paced by the limiter: the emulator never has to refuse
        await ghl.find(query(email=EMAIL))
    assert sandbox.count_requests(status=429) == 0
    await ghl.aclose()

    sandbox, url = serve(burst_max=2, interval_s=30.0)
    unpaced = adapter(url)
    unpaced.http.limiters.clear()  # another client of the same app spent the window
    limited: RateLimited | None = None
    for _ in range(3):
        try:
            await unpaced.find(query(email=EMAIL))
        except RateLimited as exc:
            limited = exc
    assert limited is not None and not isinstance(limited, BudgetExhausted)
    assert limited.retry_after == 30.0 and limited.status == 429
    await unpaced.aclose()


async def test_the_daily_allowance_spent_is_budget_exhausted(serve: Any) -> None:
    _sandbox, url = serve(daily_max=2)
    ghl = adapter(url)
    await ghl.find(query(email=EMAIL))
    await ghl.find(query(email=EMAIL))
    with pytest.raises(BudgetExhausted) as refused:
        await ghl.find(query(email=EMAIL))
    assert refused.value.retry_after > 0 and "daily" in refused.value.reason
    await ghl.aclose()


# -- mis-routing ---------------------------------------------------------------------------------------


async def test_a_misrouted_record_is_found_in_the_other_location_by_its_stamp(serve: Any) -> None:
    """Tenant A writes to location-1, tenant B to location-2. A record stamped by one of A's calls is
    planted in B's location (a write that went to the wrong sub-account); listing B's stamped records
    finds it, with the call id that tells whose it is."""
    sandbox, url = serve(locations=("location-1", "location-2"))
    a = adapter(url, "location-1")
    b = adapter(url, "location-2", token=sandbox.token_for("location-2"))
    for ghl in (a, b):
        await ghl.ensure_schema("contacts", [STAMP, LAST])
    await create(a, "a-call-1", email=EMAIL)
    await create(b, "b-call-1", email="sam@example.com")
    planted = sandbox.insert(
        "contacts", {"email": "lee@example.com", "firstName": "Lee", STAMP: "a-call-2"}, "location-2"
    )
    sandbox.insert(
        "contacts", {"email": "walk-in@example.com", "firstName": "Walk"}, "location-2"
    )  # no stamp
    a_calls, b_calls = {"a-call-1", "a-call-2"}, {"b-call-1"}

    in_b = await b.stamped("contacts", STAMP, ("email",))
    assert {r.fields[STAMP] for r in in_b} == {"b-call-1", "a-call-2"}
    misrouted = [r for r in in_b if r.fields[STAMP] not in b_calls]
    assert [(r.ref.record_id, r.fields[STAMP], r.fields["email"]) for r in misrouted] == [
        (planted, "a-call-2", "lee@example.com")
    ]
    assert misrouted[0].fields[STAMP] in a_calls
    in_a = await a.stamped("contacts", STAMP)
    assert [r.fields[STAMP] for r in in_a] == ["a-call-1"], "location-1 holds only its own"
    for ghl in (a, b):
        await ghl.aclose()


async def test_stamped_pages_through_every_record(serve: Any) -> None:
    sandbox, url = serve()
    ghl = adapter(url)
    await ghl.ensure_schema("contacts", [STAMP, LAST])
    for i in range(130):
        sandbox.insert("contacts", {"firstName": f"P{i}", STAMP: f"c-{i}"})
    stamped = await ghl.stamped("contacts", STAMP)
    assert sorted(r.fields[STAMP] for r in stamped) == sorted(f"c-{i}" for i in range(130))
    await ghl.aclose()


async def test_a_company_change_goes_through_the_upsert_which_the_update_endpoint_refuses(serve: Any) -> None:
    sandbox, url = serve()
    ghl = adapter(url)
    await ghl.ensure_schema("contacts", [STAMP, LAST])
    contact = await create(ghl, "c-1", email=EMAIL, companyName="Northwind")
    await ghl.write(WriteRequest("contacts", {"companyName": "Contoso", LAST: "c-2"}, contact.ref.record_id))
    back = await ghl.read(contact.ref, ("companyName", LAST))
    assert back is not None and back.fields == {"companyName": "Contoso", LAST: "c-2"}
    assert sandbox.count_requests("PUT", "/contacts/.*") == 1 and len(sandbox.records("contacts")) == 1
    nameless = await create(ghl, "c-3", firstName="Sam")  # no email, no phone: nothing to upsert by
    with pytest.raises(UnknownFieldError) as refused:
        await ghl.write(WriteRequest("contacts", {"companyName": "Contoso"}, nameless.ref.record_id))
    assert refused.value.fields == ("companyName",)
    await ghl.aclose()


async def test_a_custom_field_an_admin_deleted_is_a_transient_error_and_the_retry_recreates_it(
    serve: Any,
) -> None:
    sandbox, url = serve()
    ghl = adapter(url)
    await ghl.ensure_schema("contacts", [STAMP, LAST])
    await create(ghl, "c-1", email=EMAIL)
    place = sandbox.location("location-1")
    for field_id in [i for i, f in place.custom_fields.items() if f["fieldKey"].endswith(STAMP)]:
        del place.custom_fields[field_id]  # deleted in the location's settings; callsync's ids are stale
    with pytest.raises(TransientError, match="read again"):
        await create(ghl, "c-2", phone=PHONE)
    await ghl.ensure_schema("contacts", [STAMP, LAST])  # what the pipeline's retry does first
    again = await create(ghl, "c-2", phone=PHONE)
    back = await ghl.read(again.ref, (STAMP,))
    assert back is not None and back.fields == {STAMP: "c-2"}
    await ghl.aclose()


# -- the whole pipeline --------------------------------------------------------------------------------


def _run_engine(
    db: Any, base_url: str, payloads: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> Any:
    from callsync.capture.platforms.generic import parse_generic_call
    from callsync.config import EXAMPLES_DIR, CRMConnection, DeliverySettings, TenantConfig
    from callsync.pipeline import engine
    from callsync.pipeline.intake import receive_call
    from callsync.pipeline.worker import drain, running_worker

    monkeypatch.setenv("CALLSYNC_TEST_GHL_TOKEN", TOKEN)
    connection = CRMConnection(
        kind="gohighlevel", api_url=base_url, location_id="location-1", token_env="CALLSYNC_TEST_GHL_TOKEN",
        timeout_s=2.0,
    )  # fmt: skip
    tenant = TenantConfig(
        name="t1",
        crm=connection,
        mapping=str(EXAMPLES_DIR / "gohighlevel.yaml"),
        delivery=DeliverySettings(max_attempts=3, base_delay_s=0.05, max_delay_s=0.2, outage_horizon_s=1.0),
    )
    for payload in payloads:
        receive_call(db, parse_generic_call(payload, tenant=tenant.name), json.dumps(payload))
    with running_worker(engine.Runtime(db, {tenant.name: tenant}), poll_s=0.05):
        return drain(db, timeout_s=60)


@pytest.mark.parametrize("allow", [False, True], ids=["duplicates-off", "duplicates-on"])
def test_the_engine_writes_a_call_once_even_when_the_upsert_answer_is_lost(
    sqlite_db: Any, serve: Any, monkeypatch: pytest.MonkeyPatch, allow: bool
) -> None:
    from callsync.store.tables import LedgerRow
    from callsync_sandbox.faults import FaultPlan
    from tests.pipeline.test_engine import DANA, call_payload

    lost = {"method": "POST", "path": "/contacts/upsert", "fault": "drop_response_after_commit", "times": 1}
    sandbox, url = serve(allow_duplicates=allow, faults=FaultPlan.model_validate({"rules": [lost]}))
    repeat = [
        "hi it's dana whitfield again i work at contoso now",
        "my email is dana dot whitfield at northwind dot com",
    ]
    state = _run_engine(sqlite_db, url, [call_payload("c-1", DANA)], monkeypatch)
    assert (state.confirmed, state.dead_letter) == (1, 0)
    state = _run_engine(sqlite_db, url, [call_payload("c-2", repeat)], monkeypatch)
    assert (state.confirmed, state.dead_letter) == (2, 0)
    (contact,) = sandbox.records("contacts")
    assert contact["email"] == "dana.whitfield@northwind.com" and contact["locationId"] == "location-1"
    assert (contact[STAMP], contact[LAST], contact["companyName"]) == ("c-1", "c-2", "Contoso")
    assert sandbox.count_requests("POST", "/contacts/upsert") >= 2, "the lost answer, then the company change"
    with sqlite_db.session() as session:
        rows = session.query(LedgerRow).all()
    assert {r.record_id for r in rows} == {contact["id"]} and all(r.confirmed_at for r in rows)
    assert [r.new_value for r in rows if r.field == "companyName"] == ["Northwind", "Contoso"]


async def test_a_custom_field_an_admin_recreated_is_found_again(
    serve: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import callsync.crm.gohighlevel.adapter as ghl_adapter

    sandbox, url = serve()
    ghl = adapter(url)
    await ghl.ensure_schema("contacts", [STAMP, LAST])
    await create(ghl, "c-1", email=EMAIL)
    place = sandbox.location()
    with sandbox.lock:  # an admin deletes the stamp field and creates it again: a new id
        (old,) = [f for f in place.custom_fields.values() if f["name"] == STAMP]
        del place.custom_fields[old["id"]]
        place.add_custom_field({"name": STAMP, "dataType": "TEXT", "model": "contact"})
    monkeypatch.setattr(ghl_adapter, "CUSTOM_FIELDS_TTL_S", 0.0)
    await ghl.ensure_schema("contacts", [STAMP, LAST])
    written = await create(ghl, "c-2", email="sam@example.com")
    back = await ghl.read(written.ref, (STAMP,))
    assert back is not None and back.fields[STAMP] == "c-2"
    await ghl.aclose()
