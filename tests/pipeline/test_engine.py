"""The whole slice against the HubSpot sandbox over real HTTP: call in → contact confirmed → ledger.

Each test names the failure it guards against: duplicates on retry, a lost response after commit, 429s,
permanent errors, exhausted retries, a human-set value, a call with nothing to match on.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from dbos import DBOS
from sqlalchemy import select

from callsync.capture.platforms.generic import parse_generic_call
from callsync.config import EXAMPLES_DIR, CRMConnection, DeliverySettings, TenantConfig
from callsync.delivery import Outcome, PreparedCall, ReviewRequest, Status
from callsync.pipeline import engine
from callsync.pipeline.intake import receive_call
from callsync.pipeline.queue import queue_client, workflow_id_for
from callsync.pipeline.worker import Backlog, drain, running_worker
from callsync.store.db import Database
from callsync.store.tables import DeadLetterRow, IdentityLinkRow, LedgerRow, ReviewItemRow
from callsync_sandbox.faults import FaultPlan
from callsync_sandbox.hubspot import HubSpotSandbox
from callsync_sandbox.server import SandboxServer

TOKEN_ENV = "CALLSYNC_TEST_HUBSPOT_TOKEN"
TOKEN = "sandbox-token"
CREATE = "/crm/v3/objects/contacts(/batch/create)?"  # a contact create, alone or in a batch


def call_payload(call_id: str, caller_lines: list[str], **extra: Any) -> dict[str, Any]:
    turns: list[dict[str, Any]] = []
    for line in caller_lines:
        turns.append({"speaker": "agent", "text": "Thanks for calling Brightline. How can I help?"})
        turns.append({"speaker": "caller", "text": line})
    return {
        "call_id": call_id,
        "direction": "inbound",
        "from": extra.pop("from_", "+14155550123"),
        "to": "+14155559876",
        "started_at": extra.pop("started_at", "2026-11-20T21:03:00Z"),
        "ended_at": extra.pop("ended_at", "2026-11-20T21:07:00Z"),
        "turns": turns,
        **extra,
    }


DANA = ["hi my name is dana whitfield from northwind", "my email is dana dot whitfield at northwind dot com"]


@dataclass
class Harness:
    db: Database
    sandbox: HubSpotSandbox
    tenant: TenantConfig
    base_url: str

    def ingest(self, *payloads: dict[str, Any]) -> None:
        for p in payloads:
            call = parse_generic_call(p, tenant=self.tenant.name)
            receive_call(self.db, call, json.dumps(p))

    def sync(self, timeout_s: float = 60) -> Backlog:
        with running_worker(engine.Runtime(self.db, {self.tenant.name: self.tenant}), poll_s=0.05):
            return drain(self.db, timeout_s=timeout_s)

    def rerun(self, call_id: str) -> str:
        with running_worker(engine.Runtime(self.db, {self.tenant.name: self.tenant}), poll_s=0.05):
            handle = DBOS.fork_workflow(workflow_id_for(self.tenant.name, call_id), 1)
            return str(handle.get_result())

    def edit_in_crm(self, record_id: str, properties: dict[str, str]) -> None:
        """A rep edits the record through the API, as a person in the CRM would."""
        response = httpx.patch(
            f"{self.base_url}/crm/v3/objects/contacts/{record_id}",
            json={"properties": properties},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        response.raise_for_status()

    def associated(self, from_type: str, record_id: str, to_type: str) -> list[str]:
        response = httpx.get(
            f"{self.base_url}/crm/v4/objects/{from_type}/{record_id}/associations/{to_type}",
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        response.raise_for_status()
        return [str(r["toObjectId"]) for r in response.json()["results"]]

    def contacts(self) -> list[dict[str, Any]]:
        return self.sandbox.records("contacts")

    def rows(self, model: Any) -> list[Any]:
        with self.db.session() as s:
            return list(s.scalars(select(model)).all())


@pytest.fixture
def make_harness(sqlite_db: Database) -> Iterator[Any]:
    servers: list[SandboxServer] = []
    os.environ[TOKEN_ENV] = TOKEN

    def make(
        faults: dict[str, Any] | None = None,
        db: Database | None = None,
        mapping: str | None = None,
        **sandbox_kw: Any,
    ) -> Harness:
        sandbox = HubSpotSandbox(
            token=TOKEN, faults=FaultPlan.model_validate(faults) if faults else None, **sandbox_kw
        )
        server = SandboxServer(sandbox.app())
        server.start()
        servers.append(server)
        tenant = TenantConfig(
            name="t1",
            crm=CRMConnection(base_url=server.base_url, token_env=TOKEN_ENV, timeout_s=2.0),
            delivery=DeliverySettings(
                max_attempts=3, base_delay_s=0.05, max_delay_s=0.2, outage_horizon_s=1.0
            ),
            **({"mapping": mapping} if mapping else {}),
        )
        return Harness(db or sqlite_db, sandbox, tenant, server.base_url)

    yield make
    for server in servers:
        server.stop()


def test_call_lands_once_with_fields_confirmed_and_ledgered(make_harness: Any) -> None:
    h = make_harness()
    h.ingest(call_payload("c-1", DANA))
    state = h.sync()
    assert (state.confirmed, state.queued, state.dead_letter) == (1, 0, 0)
    (contact,) = h.contacts()
    props = contact["properties"]
    assert props["email"] == "dana.whitfield@northwind.com"
    assert props["firstname"].lower() == "dana" and props["lastname"].lower() == "whitfield"
    assert props["callsync_origin_call_id"] == "c-1"
    ledger = {r.field: r for r in h.rows(LedgerRow) if r.object_type == "contacts"}
    assert {"email", "firstname", "lastname"} <= set(ledger)
    for row in ledger.values():
        assert row.record_id == contact["id"] and row.call_id == "c-1"
        assert row.confirmed_at is not None and row.crm_request_id
        assert row.integration_version.startswith("callsync ") and "+map." in row.integration_version
    assert ledger["email"].evidence, "a transcript value must carry its evidence"


def test_create_committed_but_response_lost_leaves_exactly_one_contact_even_when_rerun(
    make_harness: Any,
) -> None:
    rule = {"method": "POST", "path": CREATE, "fault": "drop_response_after_commit"}
    h = make_harness({"rules": [rule]})
    h.ingest(call_payload("c-lost", DANA))
    state = h.sync()
    assert state.confirmed == 1
    assert len(h.contacts()) == 1
    assert h.sandbox.count_requests("POST", CREATE) == 1, (
        "the retry must find the landed record instead of creating again"
    )

    # Rerun the whole sync from its first step under a fresh workflow id, as a replay would.
    assert h.rerun("c-lost") == "confirmed"
    assert len(h.contacts()) == 1
    assert len([r for r in h.rows(LedgerRow) if r.field == "email"]) == 1


def test_a_retry_that_finds_its_own_record_completes_it_but_keeps_a_later_edit(make_harness: Any) -> None:
    h = make_harness()
    h.ingest(
        call_payload(
            "c-0", ["my name is priya raman", "email priya dot raman at gmail dot com"], from_="+14155550188"
        )
    )
    h.sync()  # callsync's properties now exist
    # As left by an earlier attempt of c-1 whose answer was lost: its record, in which a rep has since
    # changed the first name, and whose last name (say) never landed.
    created = httpx.post(
        f"{h.base_url}/crm/v3/objects/contacts",
        json={"properties": {"email": "dana.whitfield@northwind.com", "firstname": "Danielle",
                             "callsync_origin_call_id": "c-1"}},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )  # fmt: skip
    created.raise_for_status()
    h.ingest(call_payload("c-1", DANA))
    assert h.sync().confirmed == 2
    (dana,) = [c for c in h.contacts() if c["properties"]["email"] == "dana.whitfield@northwind.com"]
    assert dana["id"] == created.json()["id"]
    assert dana["properties"]["firstname"] == "Danielle", "the rep's later edit stays"
    assert dana["properties"]["lastname"].lower() == "whitfield", "what did not land is written"
    ledger = {r.field: r for r in h.rows(LedgerRow) if r.call_id == "c-1"}
    assert ledger["firstname"].new_value.lower() == "dana", "the ledger says what the create wrote"


def test_lost_response_for_phone_only_caller_is_found_by_origin_stamp(make_harness: Any) -> None:
    rule = {"method": "POST", "path": CREATE, "fault": "drop_response_after_commit"}
    h = make_harness({"rules": [rule]})
    h.ingest(
        call_payload(
            "c-phone",
            ["my name is marcus lee", "call me at three one two five five five zero one seven eight"],
            from_="+13125550142",
        )
    )
    assert h.sync().confirmed == 1
    (contact,) = h.contacts()
    assert contact["properties"]["phone"] == "+13125550178"


def test_429_burst_is_waited_out_and_every_write_lands(make_harness: Any) -> None:
    burst = {"path": "/crm/v3/objects/contacts.*", "fault": "status", "status": 429, "times": 4}
    h = make_harness({"rules": [burst]})
    h.ingest(call_payload("c-a", DANA))
    h.ingest(
        call_payload(
            "c-b", ["my name is priya raman", "email priya dot raman at gmail dot com"], from_="+16175550148"
        )
    )
    state = h.sync()
    assert (state.confirmed, state.dead_letter) == (2, 0)
    assert sum(1 for r in h.sandbox.request_log if r[2] == 429) == 4
    assert len(h.contacts()) == 2


def test_unavailable_crm_exhausts_attempts_into_a_dead_letter_with_the_request(make_harness: Any) -> None:
    down = {"path": "/crm/v3/objects/contacts.*", "fault": "status", "status": 503, "times": None}
    h = make_harness({"rules": [down]})
    h.ingest(call_payload("c-down", DANA))
    state = h.sync()
    assert (state.dead_letter, state.queued) == (1, 0)
    (dead,) = h.rows(DeadLetterRow)
    assert dead.call_id == "c-down" and dead.attempts == 3
    assert "503" in dead.last_error
    assert dead.request["plan"]["fields"]["email"]["value"] == "dana.whitfield@northwind.com"
    assert h.contacts() == []


def test_an_unknown_property_is_dead_lettered_by_name_and_the_good_fields_are_written(
    make_harness: Any, tmp_path: Any
) -> None:
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "crm: hubspot\nobjects:\n  contact:\n    crm_object: contacts\n    fields:\n"
        "      email: {from: email, policy: fill_if_empty, type: email}\n"
        "      no_such_property: {from: first_name, policy: call_wins}\n"
    )
    h = make_harness(mapping=str(mapping))
    h.ingest(call_payload("c-bad", DANA))
    assert h.sync().dead_letter == 1
    (dead,) = h.rows(DeadLetterRow)
    assert dead.attempts == 1 and "no_such_property" in dead.last_error
    # The good field still landed, ledgered and confirmed: only the unknown property is dead-lettered.
    (contact,) = h.contacts()
    assert contact["properties"]["email"] == "dana.whitfield@northwind.com"
    assert [r.field for r in h.rows(LedgerRow) if r.call_id == "c-bad"] == ["email"]


def test_repeat_caller_updates_the_same_contact_by_policy(make_harness: Any) -> None:
    h = make_harness()
    h.ingest(call_payload("c-1", DANA))
    h.sync()
    later = [
        "my name is dana whitfield and i work at contoso now",
        "email dana dot whitfield at northwind dot com",
    ]
    h.ingest(call_payload("c-2", later, started_at="2026-11-22T17:30:00Z", ended_at="2026-11-22T17:33:00Z"))
    assert h.sync().confirmed == 2
    (contact,) = h.contacts()
    assert contact["properties"]["company"].lower() == "contoso"  # call_wins
    assert contact["properties"]["callsync_origin_call_id"] == "c-1"
    assert contact["properties"]["callsync_last_call_id"] == "c-2"
    company = [r for r in h.rows(LedgerRow) if r.field == "company"]
    assert [(r.call_id, r.new_value.lower()) for r in company] == [("c-1", "northwind"), ("c-2", "contoso")]


def test_value_a_person_typed_is_never_overwritten_and_goes_to_review(make_harness: Any) -> None:
    h = make_harness()
    h.ingest(call_payload("c-1", DANA))
    h.sync()
    (contact,) = h.contacts()
    h.edit_in_crm(contact["id"], {"company": "Northwind Traders Ltd"})
    later = ["this is dana whitfield from contoso", "email dana dot whitfield at northwind dot com"]
    h.ingest(call_payload("c-2", later, ended_at="2026-11-22T17:33:00Z"))
    h.sync()
    (contact,) = h.contacts()
    assert contact["properties"]["company"] == "Northwind Traders Ltd"
    reviews = [r for r in h.rows(ReviewItemRow) if r.kind == "protected_field"]
    assert [(r.field, r.proposed_value.lower(), r.current_value) for r in reviews] == [
        ("company", "contoso", "Northwind Traders Ltd")
    ]


def test_call_with_no_email_or_phone_goes_to_review_not_to_the_crm(make_harness: Any) -> None:
    h = make_harness()
    # A withheld caller ID is never an identity: with nothing said either, nothing can be matched.
    h.ingest(call_payload("c-anon", ["oh sorry wrong number"], from_="anonymous"))
    state = h.sync()
    assert state.review == 1
    assert h.contacts() == []
    (item,) = h.rows(ReviewItemRow)
    assert item.kind == "no_identity"


def test_a_caller_who_says_no_contact_details_is_matched_and_written_by_the_caller_id(
    make_harness: Any,
) -> None:
    h = make_harness()
    h.ingest(call_payload("c-line", ["hi it's dana whitfield, just calling about my order"]))
    assert h.sync().confirmed == 1
    (contact,) = h.contacts()
    assert contact["properties"]["phone"] == "+14155550123"
    h.ingest(call_payload("c-line-2", ["me again, dana"]))
    assert h.sync().confirmed == 2
    assert len(h.contacts()) == 1, "the same line is the same person: no second record"
    phone_rows = [r for r in h.rows(LedgerRow) if r.field == "phone"]
    assert phone_rows and all(e.get("source") == "caller_id" for r in phone_rows for e in r.evidence)


def test_second_delivery_of_a_call_is_a_no_op(make_harness: Any) -> None:
    h = make_harness()
    p = call_payload("c-1", DANA)
    first = receive_call(h.db, parse_generic_call(p, tenant="t1"), json.dumps(p))
    again = receive_call(h.db, parse_generic_call(p, tenant="t1"), json.dumps(p))
    assert (first.status, again.status) == ("queued", "duplicate")
    assert h.sync().total == 1
    assert len(h.contacts()) == 1


def test_one_sync_on_postgres(make_harness: Any, pg_url: str) -> None:
    db = Database(pg_url)
    db.migrate()
    try:
        h = make_harness(db=db)
        h.ingest(call_payload("c-pg", DANA))
        state = h.sync()
        assert (state.confirmed, state.queued) == (1, 0)
        assert len(h.contacts()) == 1
        assert {r.field for r in h.rows(LedgerRow)} >= {"email", "firstname", "lastname"}
    finally:
        db.dispose()


def test_an_unexpected_error_dead_letters_the_call_instead_of_leaving_it_queued(
    make_harness: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_extractor(*_args: Any, **_kw: Any) -> Any:
        raise KeyError("boom")

    monkeypatch.setattr(engine, "extraction_for", broken_extractor)
    h = make_harness()
    h.ingest(call_payload("c-bug", DANA))
    state = h.sync(timeout_s=30)
    assert (state.queued, state.dead_letter) == (0, 1)
    (dead,) = h.rows(DeadLetterRow)
    assert "KeyError" in dead.last_error


def test_a_caller_who_says_a_new_number_from_their_known_line_is_the_same_person(make_harness: Any) -> None:
    h = make_harness()
    h.ingest(call_payload("c-line", ["hi it's dana whitfield, just calling about my order"]))
    assert h.sync().confirmed == 1
    h.ingest(
        call_payload(
            "c-new", ["dana again, my new number is four one five five five five zero one nine nine"]
        )
    )
    assert h.sync().confirmed == 2
    assert len(h.contacts()) == 1, "the line finds the record even though the spoken number is new"
    links = {r.key for r in h.rows(IdentityLinkRow)}
    assert {"phone:+14155550123", "phone:+14155550199"} <= links


def test_a_call_synced_at_its_first_try_checkpoints_no_step_its_workflow_output_is_its_state(
    make_harness: Any, tmp_path: Path
) -> None:
    # A DBOS step costs a read, a locked write and the queue's bookkeeping: a call finished at its first
    # try needs none, since the workflow's own output records its state.
    mapping = tmp_path / "hubspot.yaml"  # the example without its actions: nothing follows the person
    mapping.write_text((EXAMPLES_DIR / "hubspot.yaml").read_text().split("\nactions:")[0] + "\n")
    h = make_harness(mapping=str(mapping))
    h.ingest(call_payload("c-1", ["hi this is dana whitfield", "my email is dana at northwind dot com"]))
    assert h.sync().confirmed == 1
    client = queue_client(h.db)
    workflow_id = workflow_id_for("t1", "c-1")
    assert list(client.list_workflow_steps(workflow_id)) == []
    assert client.retrieve_workflow(workflow_id).get_result() == "confirmed"


def test_a_first_attempt_that_leaves_work_is_checkpointed_before_the_workflow_goes_on(
    make_harness: Any,
) -> None:
    # A recovery must go on from the attempt the first run made (its later sleeps and steps followed it),
    # not from a fresh one that might have gone another way.
    burst = {"path": "/crm/v3/objects/contacts.*", "fault": "status", "status": 429, "times": 1}
    h = make_harness({"rules": [burst]})
    h.ingest(call_payload("c-1", DANA))
    assert h.sync().confirmed == 1
    steps = list(queue_client(h.db).list_workflow_steps(workflow_id_for("t1", "c-1")))
    names = [s["function_name"] for s in steps]
    assert names[:2] == ["callsync.first_attempt", "DBOS.sleep"], names
    recorded = engine.FirstAttempt.model_validate(steps[0]["output"])
    assert recorded.state is None and recorded.outcome is not None
    assert recorded.outcome.status is Status.RATE_LIMITED
    assert names[-1] == "callsync.finish"


def test_a_database_blip_in_the_first_attempt_is_retried_in_place(monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    from sqlalchemy.exc import OperationalError

    tries: list[int] = []
    done = engine.FirstAttempt(state="confirmed")

    async def flaky() -> engine.FirstAttempt:
        tries.append(1)
        if len(tries) < 3:
            raise OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))
        return done

    monkeypatch.setattr(engine, "DB_RETRY_INTERVAL_S", 0.001)
    assert asyncio.run(engine.retry_database_blips(flaky, "t1", "c-1")) == done
    assert len(tries) == 3

    async def broken() -> engine.FirstAttempt:
        tries.append(1)
        raise ValueError("a bug, not a blip")

    tries.clear()
    with pytest.raises(ValueError, match="a bug"):
        asyncio.run(engine.retry_database_blips(broken, "t1", "c-1"))
    assert len(tries) == 1, "only a database blip is retried"

    async def down() -> engine.FirstAttempt:
        tries.append(1)
        raise OperationalError("SELECT 1", {}, Exception("the database system is starting up"))

    tries.clear()
    monkeypatch.setattr(engine, "DB_RETRY_ATTEMPTS", 4)
    with pytest.raises(OperationalError):
        asyncio.run(engine.retry_database_blips(down, "t1", "c-1"))
    assert len(tries) == 4, "a blip that outlasts the attempts is raised, not swallowed"


def test_only_a_confirmed_person_with_related_objects_links_or_actions_has_work_after_the_first_step() -> (
    None
):
    confirmed = Outcome(status=Status.CONFIRMED, object_type="contacts", record_id="1")
    bare = PreparedCall(status=Status.READY)
    assert not engine.work_follows(bare, confirmed, linking=False)
    assert engine.work_follows(bare, confirmed, linking=True)
    review = Outcome(status=Status.REVIEW)
    assert not engine.work_follows(bare, review, linking=True)
    no_record = confirmed.model_copy(update={"record_id": None})
    assert not engine.work_follows(bare, no_record, linking=True)


def test_a_reviewers_record_answers_a_plan_time_review_and_is_written_to() -> None:
    waiting = PreparedCall(
        status=Status.REVIEW,
        review=ReviewRequest(kind="no_identity", reason="nothing to match"),
    )
    answered = engine.with_reviewer_answer(waiting, "rec-9")
    assert (answered.status, answered.review, answered.forced_record) == (Status.READY, None, "rec-9")
    assert engine.with_reviewer_answer(waiting, None) == waiting
    failed = PreparedCall(status=Status.PERMANENT, error="bad payload")
    assert engine.with_reviewer_answer(failed, "rec-9") == failed  # a record answers no broken payload


def test_calls_prepared_and_finished_together_share_their_ledger_transactions(make_harness: Any) -> None:
    h = make_harness()
    names = ["avery", "blake", "casey", "devon", "emery", "finley", "harper", "jordan", "kendall", "logan"]
    h.ingest(*[
        call_payload(f"c-{n}", [f"hi my name is {name} stone", f"my email is {name} dot stone at example dot com"],
                     from_=f"+1415555{n:04d}")
        for n, name in enumerate(names)
    ])  # fmt: skip
    rt = engine.Runtime(h.db, {h.tenant.name: h.tenant})
    with running_worker(rt, poll_s=0.05):
        state = drain(h.db, timeout_s=60)
    assert (state.confirmed, state.queued, state.dead_letter) == (len(names), 0, 0)
    assert len(h.contacts()) == len(names)
    assert {r.call_id for r in h.rows(LedgerRow)} == {f"c-{n}" for n in range(len(names))}
    # A batch of calls is dequeued, prepared and written together: their values and outcomes are
    # committed in fewer transactions than calls.
    assert rt.field_values.transactions < len(names)
    assert rt.outcomes.transactions < len(names)
