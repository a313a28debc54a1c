"""The workflow-action contract (docs/actions.md): for every CRM, every action it declares in
`Capabilities.actions`, against its emulator over HTTP. One object per stamp whatever is retried (a create
whose answer is lost included), found again by `find_action`, read back; a deal never moved backwards unless
the rule allows it; no second task while one of the same rule is still open."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import pytest

from callsync.crm.errors import CRMError
from callsync.crm.protocol import (
    ActionAdapter,
    ActionKind,
    ActionOutcome,
    ActionRequest,
    CallFacts,
    CRMAdapter,
    RecordRef,
    WriteRequest,
)
from callsync.crm.registry import spec_for
from tests.crm.contract import test_contract as contract
from tests.crm.contract.test_contract import EMAIL, Crm, Kit, create

# The contract suite's fixtures: one emulator per registered CRM, adapters as write attempts get them.
kit = contract.kit
crm = contract.crm

DUE = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)


@dataclass(frozen=True)
class ActionKit:
    """One CRM's side of the action contract: where each action's object lands, how to make a deal."""

    objects: dict[ActionKind, str]  # action -> the emulator's record list holding what it creates
    create_path: str  # regex: the request that creates an action's object
    create_method: str  # ... and its method
    owner: str
    stages: tuple[str, ...]  # a pipeline's stages in order
    make_deal: Callable[[Crm, CRMAdapter, RecordRef, str], Any]  # -> the deal's RecordRef (awaitable)
    stage_of: Callable[[Crm, str], str]
    close: Callable[[Crm, RecordRef], None]  # a rep closes a task (once_open)


async def _hubspot_deal(c: Crm, adapter: CRMAdapter, person: RecordRef, stage: str) -> RecordRef:
    fields = {"dealname": "Northwind", "pipeline": "default", "dealstage": stage}
    return (await adapter.write(WriteRequest("deals", fields, None, "deal", (person,)))).ref


async def _salesforce_deal(c: Crm, adapter: CRMAdapter, person: RecordRef, stage: str) -> RecordRef:
    fields = {"Name": "Northwind", "StageName": stage, "CloseDate": "2026-12-31"}
    return RecordRef("Opportunity", c.sandbox.insert("Opportunity", fields))


async def _zoho_deal(c: Crm, adapter: CRMAdapter, person: RecordRef, stage: str) -> RecordRef:
    return RecordRef("Deals", c.sandbox.insert("Deals", {"Deal_Name": "Northwind", "Stage": stage}))


async def _pipedrive_deal(c: Crm, adapter: CRMAdapter, person: RecordRef, stage: str) -> RecordRef:
    deal = c.sandbox.insert(
        "deals", {"title": "Northwind", "person_id": int(person.record_id), "stage_id": int(stage)}
    )
    return RecordRef("deals", str(deal))


def _pipedrive_stage(c: Crm, deal_id: str) -> str:
    (deal,) = [d for d in c.sandbox.records("deals") if str(d["id"]) == deal_id]
    return str(deal["stage_id"])


def _pipedrive_close(c: Crm, task: RecordRef) -> None:
    c.sandbox.company.update("activities", int(task.record_id), {"done": True})  # a rep marks it done


def _ghl_stages(c: Crm) -> dict[str, str]:
    return {str(s["name"]): str(s["id"]) for s in c.sandbox.location().pipelines[0]["stages"]}


async def _ghl_deal(c: Crm, adapter: CRMAdapter, person: RecordRef, stage: str) -> RecordRef:
    fields = {"contactId": person.record_id, "name": "Northwind", "pipelineStageId": _ghl_stages(c)[stage]}
    return RecordRef("opportunities", c.sandbox.insert("opportunities", fields))


def _ghl_stage(c: Crm, deal_id: str) -> str:
    (deal,) = [d for d in c.sandbox.records("opportunities") if d["id"] == deal_id]
    return {v: k for k, v in _ghl_stages(c).items()}[deal["pipelineStageId"]]


def _ghl_close(c: Crm, task: RecordRef) -> None:
    c.sandbox.location().tasks[task.record_id.split("/")[1]]["completed"] = True  # a rep ticks it off


def _hubspot_stage(c: Crm, deal_id: str) -> str:
    (deal,) = [d for d in c.sandbox.records("deals") if d["id"] == deal_id]
    return str(deal["properties"]["dealstage"])


def _salesforce_stage(c: Crm, deal_id: str) -> str:
    (deal,) = [d for d in c.sandbox.records("Opportunity") if d["Id"] == deal_id]
    return str(deal["StageName"])


def _zoho_stage(c: Crm, deal_id: str) -> str:
    (deal,) = [d for d in c.sandbox.records("Deals") if d["id"] == deal_id]
    return str(deal["Stage"])


def _zoho_close(c: Crm, task: RecordRef) -> None:
    c.sandbox.org.records["Tasks"][task.record_id]["Status"] = "Completed"  # a rep ticks it off


def _hubspot_close(c: Crm, task: RecordRef) -> None:
    c.sandbox._portal.update("tasks", task.record_id, None, {"properties": {"hs_task_status": "COMPLETED"}})


def _salesforce_close(c: Crm, task: RecordRef) -> None:
    c.sandbox.org.update("Task", task.record_id, {"Status": "Completed"})


ACTION_KITS: dict[str, ActionKit] = {
    "gohighlevel": ActionKit(
        objects={
            ActionKind.BOOK_MEETING: "appointments",
            ActionKind.CREATE_TASK: "tasks",
            ActionKind.HANDOFF: "tasks",
            ActionKind.LOG_CALL: "notes",
        },
        create_path="/(calendars/events/appointments|contacts/[^/]+/(tasks|notes))",
        create_method="POST",
        owner="user-sales-1",
        stages=("New Lead", "Contacted", "Proposal", "Won"),
        make_deal=_ghl_deal,
        stage_of=_ghl_stage,
        close=_ghl_close,
    ),
    "pipedrive": ActionKit(
        objects={
            ActionKind.BOOK_MEETING: "activities",
            ActionKind.CREATE_TASK: "activities",
            ActionKind.HANDOFF: "activities",
            ActionKind.LOG_CALL: "activities",
        },
        create_path="/api/v2/activities",
        create_method="POST",
        owner="12",
        stages=("1", "2", "3", "4"),
        make_deal=_pipedrive_deal,
        stage_of=_pipedrive_stage,
        close=_pipedrive_close,
    ),
    "zoho": ActionKit(
        objects={
            ActionKind.BOOK_MEETING: "Events",
            ActionKind.CREATE_TASK: "Tasks",
            ActionKind.HANDOFF: "Tasks",
            ActionKind.OPEN_TICKET: "Cases",
            ActionKind.LOG_CALL: "Calls",
        },
        create_path=".*/(Events|Tasks|Cases|Calls)/upsert",
        create_method="POST",
        owner="5725767000000411002",
        stages=("Qualification", "Needs Analysis", "Proposal/Price Quote", "Closed Won"),
        make_deal=_zoho_deal,
        stage_of=_zoho_stage,
        close=_zoho_close,
    ),
    "hubspot": ActionKit(
        objects={
            ActionKind.BOOK_MEETING: "meetings",
            ActionKind.CREATE_TASK: "tasks",
            ActionKind.HANDOFF: "tasks",
            ActionKind.OPEN_TICKET: "tickets",
            ActionKind.LOG_CALL: "calls",
        },
        create_path="/crm/v3/objects/(meetings|tasks|tickets|calls)",
        create_method="POST",
        owner="1001",
        stages=("appointmentscheduled", "qualifiedtobuy", "presentationscheduled", "closedwon"),
        make_deal=_hubspot_deal,
        stage_of=_hubspot_stage,
        close=_hubspot_close,
    ),
    "salesforce": ActionKit(
        objects={
            ActionKind.BOOK_MEETING: "Event",
            ActionKind.CREATE_TASK: "Task",
            ActionKind.HANDOFF: "Task",
            ActionKind.OPEN_TICKET: "Case",
            ActionKind.LOG_CALL: "Task",
        },
        create_path=".*/sobjects/(Event|Task|Case)/callsync_action_key__c/.*",
        create_method="PATCH",
        owner="005Hs00000A1b2cIAB",
        stages=("Prospecting", "Qualification", "Needs Analysis", "Closed Won"),
        make_deal=_salesforce_deal,
        stage_of=_salesforce_stage,
        close=_salesforce_close,
    ),
}


def declared(kit: Kit) -> frozenset[str]:
    capabilities = spec_for(kit.kind).capabilities
    if not capabilities.actions:
        pytest.skip(f"{kit.kind} declares no workflow actions")
    if not capabilities.read_back:
        pytest.skip(f"{kit.kind} cannot be read back: its receiver carries the actions out, not callsync")
    actions = capabilities.actions
    assert kit.kind in ACTION_KITS, "a CRM declaring actions adds its ActionKit here"
    return actions


def request(kind: ActionKind, stamp: str, person: RecordRef, ak: ActionKit, **kw: Any) -> ActionRequest:
    facts = CallFacts("c-1", "inbound", DUE, 240, "appointment_booked", "+16175550148", "+14155559876",
                      "callsync trace --call c-1")  # fmt: skip
    values: dict[str, Any] = {"kind": kind, "stamp": stamp, "person": person, "title": f"{kind.value} for Dana",
                              "body": "Intent: sales\nTrace: callsync trace --call c-1", "due_at": DUE,
                              "owner_id": ak.owner, "priority": "high", "call": facts}  # fmt: skip
    return ActionRequest(**(values | kw))


def acting(adapter: CRMAdapter) -> ActionAdapter:
    assert isinstance(adapter, ActionAdapter)
    return adapter


async def person_of(c: Crm, adapter: CRMAdapter) -> RecordRef:
    return (await create(adapter, c.kit, 1, "c-person", **{c.kit.email: EMAIL})).ref


async def test_each_declared_action_makes_one_object_that_its_stamp_finds_again(
    kit: Kit, crm: Callable[..., Crm]
) -> None:
    actions = declared(kit)
    ak = ACTION_KITS[kit.kind]
    c = crm()
    async with c.attempt() as adapter:
        person = await person_of(c, adapter)
        for name in sorted(actions - {ActionKind.ADVANCE_STAGE.value}):
            kind = ActionKind(name)
            req = request(kind, f"callsync:t:c-1:{name}", person, ak)
            first = await acting(adapter).act(req)
            assert first.outcome is ActionOutcome.CREATED and first.ref is not None, name
            again = await acting(adapter).act(req)
            assert (again.outcome, again.ref) == (ActionOutcome.FOUND, first.ref), name
            assert await acting(adapter).find_action(req) == first.ref
        for kind, obj in ak.objects.items():
            if kind.value in actions:
                made = [r for r in c.sandbox.records(obj)]
                assert made, f"{kind.value} made nothing in {obj}"
    await c.close()


async def test_an_action_whose_create_answer_is_lost_exists_once(kit: Kit, crm: Callable[..., Crm]) -> None:
    actions = declared(kit)
    ak = ACTION_KITS[kit.kind]
    for name in sorted(actions - {ActionKind.ADVANCE_STAGE.value}):
        kind = ActionKind(name)
        c = crm(
            [
                {
                    "method": ak.create_method,
                    "path": ak.create_path,
                    "fault": "drop_response_after_commit",
                    "times": 1,
                }
            ]
        )
        async with c.attempt() as adapter:
            person = await person_of(c, adapter)
            before = len(c.sandbox.records(ak.objects[kind]))
            req = request(kind, f"callsync:t:c-lost:{name}", person, ak)
            with pytest.raises(CRMError):
                await acting(adapter).act(req)
            result = await acting(adapter).act(req)
            assert result.outcome is ActionOutcome.FOUND, name
            assert len(c.sandbox.records(ak.objects[kind])) == before + 1, name
        await c.close()


async def test_a_deal_moves_forward_never_backwards_unless_allowed(kit: Kit, crm: Callable[..., Crm]) -> None:
    if ActionKind.ADVANCE_STAGE.value not in declared(kit):
        pytest.skip(f"{kit.kind} cannot move a deal")
    ak = ACTION_KITS[kit.kind]
    c = crm()
    async with c.attempt() as adapter:
        person = await person_of(c, adapter)
        deal = await ak.make_deal(c, adapter, person, ak.stages[2])
        base = request(
            ActionKind.ADVANCE_STAGE, "callsync:t:c-1:stage", person, ak, deal=deal, stages=ak.stages
        )
        back = await acting(adapter).act(replace(base, stage=ak.stages[1]))
        assert back.outcome is ActionOutcome.HELD_BACK and ak.stage_of(c, deal.record_id) == ak.stages[2]
        same = await acting(adapter).act(replace(base, stage=ak.stages[2]))
        assert same.outcome is ActionOutcome.UNCHANGED
        forward = await acting(adapter).act(replace(base, stage=ak.stages[3]))
        assert forward.outcome is ActionOutcome.MOVED and ak.stage_of(c, deal.record_id) == ak.stages[3]
        allowed = await acting(adapter).act(replace(base, stage=ak.stages[0], allow_backwards=True))
        assert allowed.outcome is ActionOutcome.MOVED and ak.stage_of(c, deal.record_id) == ak.stages[0]
    await c.close()


async def test_no_second_task_while_one_of_the_rule_is_open(kit: Kit, crm: Callable[..., Crm]) -> None:
    if ActionKind.CREATE_TASK.value not in declared(kit):
        pytest.skip(f"{kit.kind} cannot create a task")
    ak = ACTION_KITS[kit.kind]
    c = crm()
    async with c.attempt() as adapter:
        person = await person_of(c, adapter)
        first = await acting(adapter).act(request(ActionKind.CREATE_TASK, "callsync:t:c-1:cs", person, ak))
        assert first.ref is not None
        later = request(ActionKind.CREATE_TASK, "callsync:t:c-2:cs", person, ak, open_candidates=(first.ref,))
        second = await acting(adapter).act(later)
        assert (second.outcome, second.ref) == (ActionOutcome.ALREADY_OPEN, first.ref)
        ak.close(c, first.ref)
        third = await acting(adapter).act(later)
        assert third.outcome is ActionOutcome.CREATED and third.ref != first.ref
    await c.close()
