"""The HubSpot adapter in batching mode against the emulator over HTTP: concurrent attempts share batch
requests, and each still gets its own answer (a conflict, a lost input, a refused batch)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from callsync.crm.hubspot.adapter import HubSpotAdapter
from callsync.crm.hubspot.batches import FILTER_GROUPS_MAX, IN_VALUES_MAX, exact_name_groups
from callsync.crm.protocol import (
    AmbiguousWriteError,
    ConflictError,
    IdentityQuery,
    RecordRef,
    TransientError,
    WriteRequest,
)
from callsync_sandbox.faults import FaultPlan
from callsync_sandbox.hubspot import HubSpotSandbox
from callsync_sandbox.server import SandboxServer

TOKEN = "sandbox-token"
STAMP = "callsync_origin_call_id"
FIELDS = ("email", "phone", "firstname", "lastname", STAMP)


@pytest.fixture
def portal() -> Iterator[Callable[..., tuple[HubSpotSandbox, str]]]:
    servers: list[SandboxServer] = []

    def make(faults: dict[str, Any] | None = None, **kw: Any) -> tuple[HubSpotSandbox, str]:
        sandbox = HubSpotSandbox(
            token=TOKEN, faults=FaultPlan.model_validate(faults) if faults else None, **kw
        )
        server = SandboxServer(sandbox.app())
        server.__enter__()
        servers.append(server)
        return sandbox, server.base_url

    yield make
    for server in servers:
        server.__exit__(None, None, None)


def run(base_url: str, body: Callable[[HubSpotAdapter], Awaitable[Any]], *, batching: bool = True) -> Any:
    async def scenario() -> Any:
        adapter = HubSpotAdapter(TOKEN, base_url, timeout_s=2.0, batching=batching)
        try:
            await adapter.ensure_schema("contacts", [STAMP, "callsync_last_call_id"])
            return await body(adapter)
        finally:
            await adapter.aclose()

    return asyncio.run(scenario())


def logged(sandbox: HubSpotSandbox, at_least: int) -> list[tuple[str, str, int]]:
    """The request log once it holds `at_least` entries: the emulator logs a request as its answer
    leaves, so the client may see the answer first (bounded wait)."""
    for _ in range(100):
        if len(sandbox.request_log) >= at_least:
            break
        time.sleep(0.02)
    time.sleep(0.1)  # and nothing more arrives
    return sandbox.request_log


def person(i: int) -> dict[str, Any]:
    return {
        "email": f"caller{i}@example.com",
        "phone": f"+1415555{i:04d}",
        "firstname": f"First{i}",
        "lastname": f"Last{i}",
        STAMP: f"call-{i}",
    }


def create(i: int, **fields: Any) -> WriteRequest:
    return WriteRequest("contacts", person(i) | fields, None, f"t:hubspot:call-{i}:create")


def test_ten_concurrent_attempts_share_one_request_per_step(portal: Any) -> None:
    sandbox, url = portal()

    async def attempt(adapter: HubSpotAdapter, i: int) -> None:
        p = person(i)
        query = IdentityQuery(("contacts",), p["email"], p["phone"], p[STAMP], STAMP, FIELDS)
        found = await adapter.find(query)
        assert found.by_email == found.by_phone == ()
        result = await adapter.write(create(i))
        back = await adapter.read(result.ref, FIELDS)
        assert back is not None and back.fields["email"] == p["email"]

    async def body(adapter: HubSpotAdapter) -> int:
        before = len(logged(sandbox, 0))
        await asyncio.gather(*(attempt(adapter, i) for i in range(10)))
        return before

    before = run(url, body)
    paths = [path for _, path, _ in logged(sandbox, before + 4)[before:]]
    assert paths.count("/crm/v3/objects/contacts/batch/create") == 1
    assert paths.count("/crm/v3/objects/contacts/search") == 1
    assert paths.count("/crm/v3/objects/contacts/batch/read") == 2  # by email, then the read-back
    assert len(paths) == 4
    assert len(sandbox.records("contacts")) == 10


def test_lookups_in_one_batch_each_get_their_own_records(portal: Any) -> None:
    _sandbox, url = portal()

    async def body(adapter: HubSpotAdapter) -> None:
        # Stored in other shapes than the E.164 callers say: phone in national form, another as mobile.
        await adapter.write(create(1, phone="(415) 555-0001"))
        await adapter.write(create(2, phone="", mobilephone="+1 415-555-0002"))
        await adapter.write(create(3))
        queries = [
            IdentityQuery(("contacts",), None, "+14155550001", fields=FIELDS),
            IdentityQuery(("contacts",), None, "+14155550002", fields=FIELDS),
            IdentityQuery(("contacts",), "CALLER3@example.com", None, fields=FIELDS),
            IdentityQuery(("contacts",), "nobody@example.com", "+14155559999", fields=FIELDS),
            IdentityQuery(("contacts",), None, None, "call-3", STAMP, FIELDS),
        ]
        found = await asyncio.gather(*(adapter.find(q) for q in queries))
        assert [r.fields["lastname"] for r in found[0].by_phone] == ["Last1"]
        assert [r.fields["lastname"] for r in found[1].by_phone] == ["Last2"]
        assert [r.fields["lastname"] for r in found[2].by_email] == ["Last3"]
        assert found[3].by_email == found[3].by_phone == ()
        assert [r.fields["lastname"] for r in found[4].by_origin] == ["Last3"]

    run(url, body)


def test_a_conflicting_input_gets_its_conflict_and_the_rest_of_the_batch_lands(portal: Any) -> None:
    sandbox, url = portal()

    async def body(adapter: HubSpotAdapter) -> None:
        first = await adapter.write(create(1))
        results = await asyncio.gather(
            adapter.write(create(9, email="caller1@example.com")),  # email taken
            adapter.write(create(2)),
            adapter.write(create(3)),
            return_exceptions=True,
        )
        conflict, *landed = results
        assert isinstance(conflict, ConflictError) and conflict.existing_id == first.ref.record_id
        assert all(not isinstance(r, Exception) and r.created for r in landed)

    run(url, body)
    assert sorted(r["properties"]["email"] for r in sandbox.records("contacts")) == [
        "caller1@example.com", "caller2@example.com", "caller3@example.com"
    ]  # fmt: skip


def test_two_creates_with_one_email_never_share_a_request(portal: Any) -> None:
    _sandbox, url = portal()

    async def body(adapter: HubSpotAdapter) -> list[Any]:
        return await asyncio.gather(
            adapter.write(create(1)),
            adapter.write(create(2, email="caller1@example.com")),
            return_exceptions=True,
        )

    first, second = run(url, body)
    assert not isinstance(first, Exception)
    assert isinstance(second, ConflictError) and second.existing_id == first.ref.record_id


def test_a_failed_input_of_a_partial_batch_is_ambiguous_only_for_its_own_call(portal: Any) -> None:
    rule = {"method": "POST", "path": "/crm/v3/objects/contacts/batch/create", "fault": "partial_batch",
            "status": 500, "fail_ratio": 0.34, "times": 1}  # fmt: skip
    sandbox, url = portal({"seed": 3, "rules": [rule]})

    async def body(adapter: HubSpotAdapter) -> list[Any]:
        return await asyncio.gather(*(adapter.write(create(i)) for i in range(3)), return_exceptions=True)

    results = run(url, body)
    failed = [r for r in results if isinstance(r, Exception)]
    assert len(failed) == 1 and isinstance(failed[0], AmbiguousWriteError)
    assert len(sandbox.records("contacts")) == 2


def test_a_lost_batch_answer_is_ambiguous_for_every_input_in_it(portal: Any) -> None:
    rule = {"method": "POST", "path": "/crm/v3/objects/contacts/batch/create",
            "fault": "drop_response_after_commit", "times": 1}  # fmt: skip
    sandbox, url = portal({"rules": [rule]})

    async def body(adapter: HubSpotAdapter) -> list[Any]:
        return await asyncio.gather(*(adapter.write(create(i)) for i in range(3)), return_exceptions=True)

    results = run(url, body)
    assert all(isinstance(r, AmbiguousWriteError) for r in results)
    assert len(sandbox.records("contacts")) == 3, "committed: the engine finds each by its stamp"


def test_a_read_that_meets_a_5xx_is_repeated_in_place_and_a_write_never_is(portal: Any) -> None:
    flaky = {"method": "POST", "path": "/crm/v3/objects/contacts/batch/read", "fault": "status", "status": 502,
             "times": 1}  # fmt: skip
    broken_write = {"method": "POST", "path": "/crm/v3/objects/contacts/batch/create", "fault": "status",
                    "status": 503, "times": 1}  # fmt: skip
    sandbox, url = portal({"rules": [flaky, broken_write]})

    async def body(adapter: HubSpotAdapter) -> None:
        assert await adapter.read(RecordRef("contacts", "x@example.com"), FIELDS, id_property="email") is None
        with pytest.raises(AmbiguousWriteError):
            await adapter.write(create(1))

    run(url, body)
    logged(sandbox, 3)
    assert sandbox.count_requests("POST", "/crm/v3/objects/contacts/batch/read") == 2
    assert sandbox.count_requests("POST", "/crm/v3/objects/contacts/batch/create") == 1


def test_a_read_that_keeps_failing_is_retryable_not_a_missing_record(portal: Any) -> None:
    down = {"method": "POST", "path": "/crm/v3/objects/contacts/batch/read", "fault": "status", "status": 502,
            "times": None}  # fmt: skip
    sandbox, url = portal({"rules": [down]})

    async def body(adapter: HubSpotAdapter) -> None:
        with pytest.raises(TransientError):
            await adapter.read(RecordRef("contacts", "x@example.com"), FIELDS, id_property="email")

    run(url, body)
    logged(sandbox, 3)
    assert sandbox.count_requests("POST", "/crm/v3/objects/contacts/batch/read") == 3


def test_a_crm_that_keeps_failing_opens_the_circuit_and_is_not_sent_more(portal: Any) -> None:
    down = {"path": "/crm/v3/objects/.*", "fault": "status", "status": 503, "times": None}
    sandbox, url = portal({"rules": [down]})

    async def body(adapter: HubSpotAdapter) -> list[str]:
        errors = []
        for i in range(6):
            with pytest.raises(TransientError) as failed:
                await adapter.read(RecordRef("contacts", f"x{i}@example.com"), FIELDS, id_property="email")
            errors.append(str(failed.value))
        return errors

    errors = run(url, body)
    logged(sandbox, 6)
    assert sandbox.count_requests(path="/crm/v3/objects/.*") == 6, "two reads of three tries, then refused"
    assert all("not sent" in e and "HTTP 503" in e for e in errors[2:])


def test_updates_of_one_record_go_in_separate_requests_and_both_land(portal: Any) -> None:
    sandbox, url = portal()

    async def body(adapter: HubSpotAdapter) -> None:
        ref = (await adapter.write(create(1))).ref
        before = len(logged(sandbox, 0))
        await asyncio.gather(
            adapter.write(WriteRequest("contacts", {"firstname": "Ann"}, ref.record_id, "u1")),
            adapter.write(WriteRequest("contacts", {"lastname": "Lee"}, ref.record_id, "u2")),
            adapter.write(
                WriteRequest(
                    "contacts", {"lastname": "Other"}, (await adapter.write(create(2))).ref.record_id, "u3"
                )
            ),
        )
        updates = [p for _, p, _ in logged(sandbox, before + 2)[before:] if p.endswith("/batch/update")]
        assert len(updates) == 2, "HubSpot refuses a batch naming one id twice"

    run(url, body)
    names = {r["properties"]["email"]: r["properties"] for r in sandbox.records("contacts")}
    assert (names["caller1@example.com"]["firstname"], names["caller1@example.com"]["lastname"]) == (
        "Ann",
        "Lee",
    )


def test_look_alike_names_of_several_callers_come_from_one_search(portal: Any) -> None:
    sandbox, url = portal()

    async def body(adapter: HubSpotAdapter) -> None:
        await adapter.write(create(1, firstname="Dana", lastname="Whitfield"))
        await adapter.write(create(2, firstname="Priya", lastname="Raman"))
        before = len(logged(sandbox, 0))
        dana, priya, nobody = await asyncio.gather(
            adapter.find(IdentityQuery(("contacts",), name="dana whitfeld")),
            adapter.find(IdentityQuery(("contacts",), name="Prya Raman")),
            adapter.find(IdentityQuery(("contacts",), name="Zed Quinn")),
        )
        assert [r.fields["lastname"] for r in dana.by_name] == ["Whitfield"]
        assert [r.fields["firstname"] for r in priya.by_name] == ["Priya"]
        assert nobody.by_name == ()
        assert len(logged(sandbox, before + 1)) - before == 1

    run(url, body)


def test_a_refused_batch_is_split_so_one_bad_input_fails_alone(portal: Any) -> None:
    sandbox, url = portal()

    async def body(adapter: HubSpotAdapter) -> list[Any]:
        a = (await adapter.write(create(1))).ref.record_id
        b = (await adapter.write(create(2))).ref.record_id
        return await asyncio.gather(
            adapter.write(WriteRequest("contacts", {"firstname": "Ok"}, a, "u1")),
            adapter.write(WriteRequest("contacts", {"no_such_property": "x"}, b, "u2")),
            return_exceptions=True,
        )

    ok, bad = run(url, body)
    assert not isinstance(ok, Exception) and isinstance(bad, Exception)
    assert "no_such_property" in str(bad)
    assert {r["properties"]["firstname"] for r in sandbox.records("contacts")} == {"Ok", "First2"}


def test_a_look_alike_search_in_a_large_crm_reads_one_page_and_the_exact_names_not_every_page(
    portal: Any,
) -> None:
    """Every "Dana" shares a word with a new Dana Whitfield, and each page is a search against the
    portal's search limit: one page of the most recently modified, then the exact name, never the rest."""
    sandbox, url = portal()

    async def body(adapter: HubSpotAdapter) -> None:
        await adapter.write(create(1, firstname="Dana", lastname="Whitfield"))  # the oldest
        await asyncio.sleep(0.01)
        await asyncio.gather(
            *(adapter.write(create(100 + i, firstname="Dana", lastname=f"Other{i}")) for i in range(450))
        )
        await asyncio.sleep(0.01)
        await adapter.write(create(2, firstname="Dana", lastname="Whitfeldt"))  # the newest, misspelt
        before = len(logged(sandbox, 0))
        found = await adapter.find(IdentityQuery(("contacts",), name="Dana Whitfield"))
        names = {r.fields["lastname"] for r in found.by_name}
        assert {"Whitfield", "Whitfeldt"} <= names, "the exact name and the recent misspelling"
        searches = [p for m, p, _ in logged(sandbox, before + 2)[before:] if p.endswith("/search")]
        assert len(searches) == 2, searches  # paging through 452 Danas would take three

    run(url, body)


_WORDS = st.sampled_from(["ann", "bo", "cy", "dee", "eve", "flo", "gus", "hal"])


@given(
    pairs=st.sets(st.tuples(_WORDS, _WORDS), max_size=16),
    singles=st.sets(_WORDS, max_size=4),
)
def test_exact_name_groups_cover_every_name_within_hubspots_search_limits(
    pairs: set[tuple[str, str]], singles: set[str]
) -> None:
    groups = exact_name_groups(pairs, singles)
    assert len(groups) <= FILTER_GROUPS_MAX
    assert sum(len(g["filters"]) for g in groups) <= 18
    values = [{f["propertyName"]: set(f["values"]) for f in g["filters"]} for g in groups]
    assert all(len(v) <= IN_VALUES_MAX for g in values for v in g.values())
    for first, last in pairs:  # both words in one group, in the case it is asked in
        assert any(first in g.get("firstname", ()) and last in g.get("lastname", ()) for g in values)
    for last in singles:
        assert any(set(g) == {"lastname"} and last in g["lastname"] for g in values)


def test_the_exact_names_of_a_batch_in_a_crm_of_common_names_take_one_page_not_their_cross_product(
    portal: Any,
) -> None:
    """A CRM where every first name meets every last name (20 x 20): sixteen callers' exact names asked as
    one group would cross into 256 records, two pages; spread over filter groups they are one."""
    sandbox, url = portal()
    firsts, lasts = [f"Fn{i:02d}" for i in range(20)], [f"Ln{i:02d}" for i in range(20)]

    async def body(adapter: HubSpotAdapter) -> None:
        await asyncio.gather(*(
            adapter.write(create(100 + 20 * i + j, firstname=f, lastname=la))
            for i, f in enumerate(firsts) for j, la in enumerate(lasts)
        ))  # fmt: skip
        before = len(logged(sandbox, 0))
        asked = [f"{firsts[i]} {lasts[(i * 7) % 20]}" for i in range(16)]
        found = await asyncio.gather(*(adapter.find(IdentityQuery(("contacts",), name=n)) for n in asked))
        for name, answer in zip(asked, found, strict=True):
            exact = [r for r in answer.by_name if f"{r.fields['firstname']} {r.fields['lastname']}" == name]
            assert len(exact) == 1, name
        searches = [p for m, p, _ in logged(sandbox, before + 2)[before:] if p.endswith("/search")]
        assert len(searches) == 2, searches  # the recent page, then the exact names in one page

    run(url, body)


@pytest.mark.parametrize("batching", [True, False])
def test_a_callsync_property_an_admin_deleted_is_a_retry_that_recreates_it(
    portal: Any, batching: bool
) -> None:
    """The adapter remembers the properties it made sure of; one deleted since is refused by name
    (PROPERTY_DOESNT_EXIST): the attempt is transient, not a dead letter, and the next one re-creates it
    (through the batch endpoints or one record at a time)."""
    sandbox, url = portal()

    async def body(adapter: HubSpotAdapter) -> None:
        await adapter.write(create(1))
        async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}) as admin:
            deleted = await admin.delete(f"/crm/v3/properties/contacts/{STAMP}")
            assert deleted.status_code == 204
            refused = await admin.delete("/crm/v3/properties/contacts/email")
            assert refused.status_code == 400, "HubSpot's own properties cannot be deleted"
        with pytest.raises(TransientError, match=f"callsync property {STAMP} will be re-created"):
            await adapter.write(create(2))
        await adapter.ensure_schema("contacts", [STAMP, "callsync_last_call_id"])
        written = await adapter.write(create(2))
        back = await adapter.read(written.ref, (STAMP,))
        assert back is not None and back.fields[STAMP] == create(2).fields[STAMP]

    run(url, body, batching=batching)
    assert sandbox.count_requests("POST", "/crm/v3/properties/contacts") >= 3  # the stamp made twice
