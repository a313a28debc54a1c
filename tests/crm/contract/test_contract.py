"""The adapter contract: what every CRM adapter does, checked against its emulator over HTTP.

Each test runs once per CRM in `KITS`. Adapters are built the way write attempts get them
(`AdapterPool.for_attempt`, through the registry), so a CRM's settings, factory, capabilities and shared
transport are under test too. A new CRM adds one `Kit` (its emulator, its object and field names, how
to make it throttle or run out of allowance), and must pass every test here; what depends on a
capability (converted leads, a shared budget) runs where the registry declares it. A target that keeps
nothing to search or read back (the webhook: `search` and `read_back` false) skips the cases that need them
and passes their counterparts: a write re-sent after a lost answer reaches it under the same id.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from callsync.config import CRMConnection, TenantConfig
from callsync.crm.errors import (
    AmbiguousWriteError,
    BudgetExhausted,
    ConflictError,
    CRMError,
    RateLimited,
    UnknownFieldError,
)
from callsync.crm.pool import AdapterPool
from callsync.crm.protocol import CRMAdapter, IdentityQuery, RecordRef, WriteRequest, WriteResult
from callsync.crm.registry import SPECS, spec_for
from callsync_sandbox.faults import FaultPlan
from callsync_sandbox.gohighlevel import GoHighLevelSandbox
from callsync_sandbox.hubspot import HubSpotSandbox
from callsync_sandbox.pipedrive import PipedriveSandbox
from callsync_sandbox.salesforce import SalesforceSandbox
from callsync_sandbox.server import SandboxServer
from callsync_sandbox.webhook import SANDBOX_SECRET, WebhookReceiver
from callsync_sandbox.zoho import ZohoSandbox

TOKEN = "contract-token"
EMAIL = "dana.whitfield@northwind.com"
PHONE = "+16175550148"
PHONE_AS_TYPED = "(617) 555-0148"  # as a rep types it: found by the E.164 number all the same
_tenants = itertools.count()


@dataclass(frozen=True)
class Kit:
    """One CRM as the contract sees it: its emulator and the names its records use."""

    kind: str
    sandbox: Callable[..., Any]  # (faults=FaultPlan | None, **emulator settings) -> emulator
    url_setting: str  # the connection setting that holds the emulator's URL
    person: str  # the object a new caller becomes
    persons: tuple[str, ...]  # where callers are looked for
    stamp: str
    last_call: str
    email: str
    phone: str
    first_name: str
    last_name: str
    required: dict[str, str]  # what a new person needs besides a name
    create_path: str  # regex: the request that creates one person (as a write attempt sends it)
    batch_path: str  # regex: the request that writes several people at once (write_batch)
    throttle: dict[str, Any]  # a fault rule that makes the CRM say "slow down"
    exhaust: dict[str, Any] | None  # emulator settings leaving an allowance of a few requests (None: none)
    convert: Callable[[Any, str], str] | None = None  # convert a lead as a rep would -> the contact's id
    settings: dict[str, Any] = field(default_factory=dict)
    token: str = TOKEN  # what the connection's token_env holds (a webhook: its signing secret)
    # The ids under which the target received each write, in order (targets without search: the webhook)
    received_ids: Callable[[Any], list[str]] | None = None

    def person_fields(self, n: int, **extra: Any) -> dict[str, Any]:
        return {self.first_name: "Dana", self.last_name: f"Whitfield{n}", **self.required, **extra}

    @property
    def fields(self) -> tuple[str, ...]:
        return (self.email, self.phone, self.first_name, self.last_name, self.stamp, self.last_call)


KITS = [
    Kit(
        kind="hubspot",
        sandbox=lambda faults=None, **kw: HubSpotSandbox(token=TOKEN, faults=faults, **kw),
        url_setting="base_url",
        person="contacts",
        persons=("contacts",),
        stamp="callsync_origin_call_id",
        last_call="callsync_last_call_id",
        email="email",
        phone="phone",
        first_name="firstname",
        last_name="lastname",
        required={},
        create_path="/crm/v3/objects/contacts(/batch/create)?",
        batch_path="/crm/v3/objects/contacts/batch/upsert",
        throttle={"fault": "status", "status": 429},
        exhaust={"daily_max": 4},
    ),
    Kit(
        kind="salesforce",
        sandbox=lambda faults=None, **kw: SalesforceSandbox(token=TOKEN, faults=faults, **kw),
        url_setting="instance_url",
        person="Lead",
        persons=("Lead", "Contact"),
        stamp="callsync_origin_call_id__c",
        last_call="callsync_last_call_id__c",
        email="Email",
        phone="Phone",
        first_name="FirstName",
        last_name="LastName",
        required={"Company": "Northwind"},
        create_path=".*/sobjects/Lead/callsync_origin_call_id__c/.*",
        batch_path=".*/composite/sobjects/Lead/callsync_origin_call_id__c",
        # Salesforce throttles with 403 REQUEST_LIMIT_EXCEEDED (the org's daily allowance).
        throttle={"fault": "status", "status": 403},
        exhaust={"daily_max": 4},
        convert=lambda sandbox, lead: str(sandbox.convert_lead(lead)["contactId"]),
        settings={"limit_retry_s": 0.5},
    ),
    Kit(
        kind="zoho",
        sandbox=lambda faults=None, **kw: ZohoSandbox(token=TOKEN, faults=faults, **kw),
        url_setting="api_domain",
        person="Leads",
        persons=("Leads", "Contacts"),
        stamp="callsync_origin_call_id",
        last_call="callsync_last_call_id",
        email="Email",
        phone="Phone",
        first_name="First_Name",
        last_name="Last_Name",
        required={"Company": "Northwind"},
        create_path=".*/Leads/upsert",
        batch_path=".*/Leads/upsert",
        throttle={"fault": "status", "status": 429},
        exhaust={"credits_per_day": 4},
        convert=lambda sandbox, lead: str(sandbox.convert_lead(lead)["Contacts"]["id"]),
        settings={"limit_retry_s": 0.5},
    ),
    Kit(
        kind="gohighlevel",
        sandbox=lambda faults=None, **kw: GoHighLevelSandbox(token=TOKEN, faults=faults, **kw),
        url_setting="api_url",
        person="contacts",
        persons=("contacts",),
        stamp="callsync_origin_call_id",
        last_call="callsync_last_call_id",
        email="email",
        phone="phone",
        first_name="firstName",
        last_name="lastName",
        required={},
        create_path="/contacts/upsert",
        batch_path="/contacts/upsert",  # no bulk endpoint: write_batch sends one upsert per record
        throttle={"fault": "status", "status": 429},
        exhaust={"daily_max": 4},
        settings={"location_id": "location-1"},
    ),
    Kit(
        kind="pipedrive",
        sandbox=lambda faults=None, **kw: PipedriveSandbox(token=TOKEN, faults=faults, **kw),
        url_setting="api_domain",
        person="persons",
        persons=("persons",),
        stamp="callsync_origin_call_id",  # a custom field's label: the adapter resolves its hash key
        last_call="callsync_last_call_id",
        email="email",
        phone="phone",
        first_name="first_name",
        last_name="last_name",
        required={},
        create_path="/api/v2/persons",
        batch_path="/api/v2/persons",  # no bulk endpoint: write_batch sends one POST per record
        throttle={"fault": "status", "status": 429},
        exhaust={"tokens_per_day": 60},  # three searches
        settings={"limit_retry_s": 0.5},
    ),
    Kit(
        kind="webhook",
        sandbox=lambda faults=None, **kw: WebhookReceiver(faults=faults, **kw),
        url_setting="url",
        person="events",
        persons=("events",),
        stamp="callsync_origin_call_id",  # a document's keys are whatever the mapping names
        last_call="callsync_last_call_id",
        email="email",
        phone="phone",
        first_name="first_name",
        last_name="last_name",
        required={},
        create_path="/",
        batch_path="/",
        throttle={"fault": "status", "status": 429},
        exhaust=None,  # a receiver counts no allowance
        token=SANDBOX_SECRET,
        received_ids=lambda receiver: receiver.event_ids(),
    ),
]


def test_every_registered_crm_has_a_kit() -> None:
    assert {kit.kind for kit in KITS} == set(SPECS), "a new CRM adds its Kit here"


@pytest.fixture(params=KITS, ids=[kit.kind for kit in KITS])
def kit(request: pytest.FixtureRequest) -> Kit:
    value: Kit = request.param
    return value


@dataclass
class Crm:
    """An emulator served over HTTP and the tenant that writes to it."""

    kit: Kit
    sandbox: Any
    tenant: TenantConfig
    pool: AdapterPool

    @asynccontextmanager
    async def attempt(self, *, schema: bool = True) -> AsyncIterator[CRMAdapter]:
        """An adapter as a write attempt gets it; `schema`: make sure of the stamp fields first."""
        adapter, owned = self.pool.for_attempt(self.tenant)
        try:
            if schema:
                await adapter.ensure_schema(self.kit.person, [self.kit.stamp, self.kit.last_call])
            yield adapter
        finally:
            if owned:
                await adapter.aclose()

    async def close(self) -> None:
        for adapter, _loop in list(self.pool._shared.values()):
            await adapter.aclose()
        self.pool._shared.clear()

    def people(self) -> list[dict[str, Any]]:
        """Every person record in the emulator, as flat field -> value dicts."""
        rows = [r for obj in self.kit.persons for r in self.sandbox.records(obj)]
        return [{**r, **(r.get("properties") or {})} for r in rows]

    def requests(self) -> int:
        log = self.sandbox.request_log  # a property on some emulators, a method on others
        return len(log() if callable(log) else log)

    def query(self, **keys: Any) -> IdentityQuery:
        return IdentityQuery(
            object_types=self.kit.persons, stamp_field=self.kit.stamp, fields=self.kit.fields, **keys
        )


@pytest.fixture
def crm(kit: Kit, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Crm]]:
    servers: list[SandboxServer] = []

    def make(faults: list[dict[str, Any]] | None = None, **emulator: Any) -> Crm:
        sandbox = kit.sandbox(FaultPlan.model_validate({"rules": faults}) if faults else None, **emulator)
        server = SandboxServer(sandbox.app())
        server.__enter__()
        servers.append(server)
        env = f"CALLSYNC_CONTRACT_{kit.kind.upper()}_TOKEN"
        monkeypatch.setenv(env, kit.token)
        connection = CRMConnection(
            kind=kit.kind, token_env=env, timeout_s=2.0, **{kit.url_setting: server.base_url}, **kit.settings
        )
        # A tenant of its own per emulator: schema caches are kept per account for the process.
        tenant = TenantConfig(name=f"contract-{next(_tenants)}", crm=connection)
        return Crm(kit, sandbox, tenant, AdapterPool())

    yield make
    for server in servers:
        server.__exit__(None, None, None)


async def create(adapter: CRMAdapter, kit: Kit, n: int, call: str, **fields: Any) -> WriteResult:
    values = kit.person_fields(n, **{kit.stamp: call, kit.last_call: call}, **fields)
    return await adapter.write(WriteRequest(kit.person, values, None, f"t:{kit.kind}:{call}:create"))


def needs(kit: Kit, capability: str) -> None:
    if not getattr(spec_for(kit.kind).capabilities, capability):
        pytest.skip(f"{kit.kind} declares no {capability}")


async def test_find_by_email_phone_and_stamp(kit: Kit, crm: Callable[..., Crm]) -> None:
    needs(kit, "search")
    c = crm()
    kit = c.kit
    async with c.attempt() as adapter:
        by_mail = await create(adapter, kit, 1, "c-1", **{kit.email: EMAIL})
        by_phone = await create(adapter, kit, 2, "c-2", **{kit.phone: PHONE_AS_TYPED})
        stamped = await create(adapter, kit, 3, "c-3")
        found = await adapter.find(c.query(email=EMAIL.upper()))
        assert [r.ref.record_id for r in found.by_email] == [by_mail.ref.record_id]
        found = await adapter.find(c.query(phone=PHONE))
        assert [r.ref.record_id for r in found.by_phone] == [by_phone.ref.record_id]
        found = await adapter.find(c.query(origin_call_id="c-3"))
        assert [r.ref.record_id for r in found.by_origin] == [stamped.ref.record_id]
        assert found.by_origin[0].fields[kit.last_name] == "Whitfield3"
        nobody = await adapter.find(
            c.query(email="nobody@example.com", phone="+12025550100", origin_call_id="c-9")
        )
        assert nobody.by_email == nobody.by_phone == nobody.by_origin == ()
    await c.close()


async def test_create_update_and_read_back(kit: Kit, crm: Callable[..., Crm]) -> None:
    needs(kit, "read_back")
    c = crm()
    kit = c.kit
    async with c.attempt() as adapter:
        created = await create(adapter, kit, 1, "c-1", **{kit.email: EMAIL})
        assert created.created and created.ref.record_id
        record = await adapter.read(created.ref, kit.fields)
        assert record is not None and record.ref.record_id == created.ref.record_id
        assert record.fields[kit.email] == EMAIL and record.fields[kit.stamp] == "c-1"
        updated = await adapter.write(
            WriteRequest(
                kit.person, {kit.first_name: "Danielle", kit.last_call: "c-2"}, created.ref.record_id
            )
        )
        assert not updated.created and updated.ref.record_id == created.ref.record_id
        record = await adapter.read(created.ref, kit.fields)
        assert record is not None
        assert (record.fields[kit.first_name], record.fields[kit.last_call]) == ("Danielle", "c-2")
        assert record.fields[kit.stamp] == "c-1", "an update leaves the origin stamp alone"
    assert len(c.people()) == 1
    await c.close()


async def test_a_create_whose_answer_was_lost_is_found_by_its_stamp_and_never_doubled(
    kit: Kit, crm: Callable[..., Crm]
) -> None:
    c = crm([{"path": kit.create_path, "fault": "drop_response_after_commit", "times": 1}])
    async with c.attempt() as adapter:
        with pytest.raises(AmbiguousWriteError):
            await create(adapter, kit, 1, "c-1", **{kit.email: EMAIL})
    assert len(c.people()) == 1, "the CRM did the work; only the answer was lost"
    if not spec_for(kit.kind).capabilities.search:
        # Nothing to look for: the write goes again, under the same id, which the receiver drops as seen.
        assert kit.received_ids is not None
        async with c.attempt() as retry:
            again = await create(retry, kit, 1, "c-1", **{kit.email: EMAIL})
        ids = kit.received_ids(c.sandbox)
        assert len(ids) == 2 and set(ids) == {again.ref.record_id}
        assert len(c.people()) == 1
        await c.close()
        return
    async with c.attempt() as retry:  # the next attempt looks for the call's stamp before creating
        found = await retry.find(c.query(origin_call_id="c-1"))
        (record,) = found.by_origin or found.by_email
        assert record.fields[kit.stamp] == "c-1"
        # Even a create sent again does not make a second record: it lands on (or names) the first.
        try:
            again = await create(retry, kit, 1, "c-1", **{kit.email: EMAIL})
        except ConflictError as conflict:
            assert conflict.existing_id in (None, record.ref.record_id)
        else:
            assert not again.created and again.ref.record_id == record.ref.record_id
    assert len(c.people()) == 1
    await c.close()


async def test_a_batch_answers_each_record_and_a_partial_failure_stays_with_its_records(
    kit: Kit, crm: Callable[..., Crm]
) -> None:
    needs(kit, "read_back")
    # Half of a batch's inputs fail; a CRM without batch endpoints sends one request per record: two fail.
    times = 1 if spec_for(kit.kind).capabilities.batch_write else 2
    c = crm([{"path": kit.batch_path, "fault": "partial_batch", "fail_ratio": 0.5, "times": times}])
    emails = [f"caller{i}@example.com" for i in range(4)]
    async with c.attempt() as adapter:
        requests = [
            WriteRequest(
                kit.person,
                kit.person_fields(i, **{kit.email: email, kit.stamp: f"c-{i}", kit.last_call: f"c-{i}"}),
                None,
                f"t:{kit.kind}:c-{i}:create",
            )
            for i, email in enumerate(emails)
        ]
        results = await adapter.write_batch(requests)
        assert len(results) == 4
        done = [(i, r) for i, r in enumerate(results) if isinstance(r, WriteResult)]
        failed = [r for r in results if isinstance(r, CRMError)]
        assert len(done) == 2 and len(failed) == 2, results
        for i, result in done:  # results are in input order: each names its own request's record
            record = await adapter.read(result.ref, kit.fields)
            assert record is not None and record.fields[kit.email] == emails[i]
    assert sorted(str(p.get(kit.email)) for p in c.people()) == sorted(emails[i] for i, _ in done)
    await c.close()


async def test_a_throttled_request_is_rate_limited_with_a_wait(kit: Kit, crm: Callable[..., Crm]) -> None:
    c = crm([{"path": ".*", **kit.throttle, "times": 1}])
    async with c.attempt(schema=False) as adapter:
        with pytest.raises(RateLimited) as limited:
            if spec_for(kit.kind).capabilities.search:
                await adapter.find(c.query(email=EMAIL))
            else:  # a target asked nothing but writes
                await create(adapter, kit, 1, "c-1", **{kit.email: EMAIL})
    assert limited.value.retry_after > 0 and limited.value.status == kit.throttle["status"]
    # Honoured, not retried in place: the CRM was asked once. (An emulator may log a request just after
    # answering it: wait for the log, bounded.)
    for _ in range(100):
        if c.sandbox.count_requests(status=kit.throttle["status"]):
            break
        await asyncio.sleep(0.02)
    assert c.sandbox.count_requests(status=kit.throttle["status"]) == 1
    await c.close()


async def test_an_exhausted_allowance_is_budget_exhausted_for_every_attempt(
    kit: Kit, crm: Callable[..., Crm]
) -> None:
    if kit.exhaust is None:
        pytest.skip(f"{kit.kind} counts no allowance")
    c = crm(**kit.exhaust)
    refused: BudgetExhausted | None = None
    async with c.attempt(schema=False) as adapter:
        for _ in range(20):
            try:
                await adapter.find(c.query(email=EMAIL))
            except BudgetExhausted as exc:
                refused = exc
                break
    assert refused is not None and refused.retry_after > 0
    asked = c.requests()
    if spec_for(kit.kind).capabilities.daily_credit_budget:
        # The account's budget remembers the refusal: the next attempt waits without asking the CRM.
        async with c.attempt(schema=False) as later:
            with pytest.raises(BudgetExhausted):
                await later.find(c.query(email=EMAIL))
        assert c.requests() == asked
    await c.close()


async def test_a_converted_lead_is_followed_to_its_contact(kit: Kit, crm: Callable[..., Crm]) -> None:
    if not spec_for(kit.kind).capabilities.lead_conversion or kit.convert is None:
        pytest.skip(f"{kit.kind} declares no lead conversion")
    c = crm()
    async with c.attempt() as adapter:
        lead = await create(adapter, kit, 1, "c-1", **{kit.email: EMAIL})
    contact = kit.convert(c.sandbox, lead.ref.record_id)
    async with c.attempt() as adapter:  # a later attempt, which has not seen the conversion
        found = await adapter.find(c.query(email=EMAIL))
        assert [r.ref.record_id for r in found.by_email] == [contact], "the contact, never the lead"
        record = await adapter.read(lead.ref, kit.fields)
        assert record is not None and record.ref.record_id == contact
        written = await adapter.write(WriteRequest(kit.person, {kit.last_call: "c-2"}, lead.ref.record_id))
        assert written.ref.record_id == contact
        record = await adapter.read(RecordRef(written.ref.object_type, contact), kit.fields)
        assert record is not None and record.fields[kit.last_call] == "c-2"
    await c.close()


async def test_an_unknown_field_is_an_unknown_field_error_naming_it(
    kit: Kit, crm: Callable[..., Crm]
) -> None:
    needs(kit, "read_back")  # a target that keeps no record has no fields to refuse
    c = crm()
    bogus = "callsync_no_such_field"
    async with c.attempt() as adapter:
        with pytest.raises(UnknownFieldError) as create_error:
            await create(adapter, kit, 1, "c-1", **{kit.email: EMAIL, bogus: "x"})
        assert bogus in create_error.value.fields and kit.email not in create_error.value.fields
        created = await create(adapter, kit, 2, "c-2", **{kit.email: EMAIL})
        with pytest.raises(UnknownFieldError) as update_error:
            await adapter.write(
                WriteRequest(kit.person, {bogus: "x", kit.last_call: "c-3"}, created.ref.record_id)
            )
        assert update_error.value.fields == (bogus,)
    await c.close()


async def test_write_attempts_share_one_transport(kit: Kit, crm: Callable[..., Crm]) -> None:
    c = crm()
    async with c.attempt() as first, c.attempt() as second:
        http = getattr(first, "http", None)
        assert http is not None and http is getattr(second, "http", None), "one client, breaker, limiter"
        await asyncio.gather(
            create(first, kit, 1, "c-1", **{kit.email: "a@example.com"}),
            create(second, kit, 2, "c-2", **{kit.email: "b@example.com"}),
        )
    assert len(c.people()) == 2
    await c.close()
