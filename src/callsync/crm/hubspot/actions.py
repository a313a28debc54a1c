"""Workflow actions on HubSpot's own objects: meetings, tasks, tickets, calls, and a deal's `dealstage`.

Each object callsync creates carries the action's stamp in `callsync_action_key`, a custom property made
unique on first use: the stamp is read exactly (`idProperty`, no search lag) before anything is created, and
a create retried after a lost answer meets a 409 on it instead of making a second object.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import httpx

from callsync.crm.protocol import (
    ActionKind,
    ActionOutcome,
    ActionRequest,
    ActionResult,
    ConflictError,
    CRMRecord,
    NotYetConsistent,
    PermanentError,
    RecordRef,
    stage_move,
)


class HubSpotAdapter(Protocol):
    """What the actions use of crm/hubspot/adapter.py (which imports this module, not the other way)."""

    async def ensure_schema(self, object_type: str, custom_fields: Sequence[str]) -> None: ...

    async def read(
        self, ref: RecordRef, fields: Sequence[str], *, id_property: str | None = None
    ) -> CRMRecord | None: ...

    async def _send(self, method: str, path: str, *, json: Any = None) -> httpx.Response: ...

    def _request_id(self, response: httpx.Response, body: dict[str, Any]) -> str | None: ...


STAMP = "callsync_action_key"
ACTIONS = frozenset(k.value for k in ActionKind)
OBJECT_OF = {
    ActionKind.BOOK_MEETING: "meetings",
    ActionKind.CREATE_TASK: "tasks",
    ActionKind.HANDOFF: "tasks",  # the owner is set on the contact; the task tells them why
    ActionKind.OPEN_TICKET: "tickets",
    ActionKind.LOG_CALL: "calls",
}
# HUBSPOT_DEFINED association types, engagement/ticket → contact and → deal.
_TO_CONTACT = {"meetings": 200, "tasks": 204, "tickets": 16, "calls": 194}
_TO_DEAL = {"meetings": 212, "tasks": 216, "tickets": 28, "calls": 206}
# What "still open" means per object (once_open).
_DONE = {"tasks": ("hs_task_status", "COMPLETED"), "tickets": ("hs_pipeline_stage", "4")}
_TICKET_PIPELINE, _TICKET_NEW = "0", "1"  # the default support pipeline and its "New" stage


def _ms(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def properties(request: ActionRequest, object_type: str) -> dict[str, Any]:
    """The HubSpot properties of the object an action creates (no transcript: a structured summary)."""
    due = request.due_at or datetime.now(UTC)
    owner = {"hubspot_owner_id": request.owner_id} if request.owner_id else {}
    priority = (request.priority or "medium").upper()
    if object_type == "meetings":
        end = due + timedelta(minutes=request.duration_min)
        return {"hs_timestamp": _ms(due), "hs_meeting_start_time": _ms(due), "hs_meeting_end_time": _ms(end),
                "hs_meeting_title": request.title, "hs_meeting_body": request.body, **owner}  # fmt: skip
    if object_type == "tasks":
        return {"hs_timestamp": _ms(due), "hs_task_subject": request.title, "hs_task_body": request.body,
                "hs_task_status": "NOT_STARTED", "hs_task_priority": priority, "hs_task_type": "CALL",
                **owner}  # fmt: skip
    if object_type == "tickets":
        return {"subject": request.title, "content": request.body, "hs_pipeline": request.queue or _TICKET_PIPELINE,
                "hs_pipeline_stage": _TICKET_NEW, "hs_ticket_priority": priority, **owner}  # fmt: skip
    call = request.call
    out: dict[str, Any] = {"hs_timestamp": _ms(due), "hs_call_title": request.title, "hs_call_body": request.body,
                           "hs_call_status": "COMPLETED"}  # fmt: skip
    if call is not None:
        out["hs_call_direction"] = call.direction.upper()
        if call.duration_s is not None:
            out["hs_call_duration"] = call.duration_s * 1000  # HubSpot counts milliseconds
        out |= {
            k: v
            for k, v in (("hs_call_from_number", call.from_number), ("hs_call_to_number", call.to_number))
            if v
        }
    return out | owner


async def find_action(adapter: HubSpotAdapter, kind: ActionKind, stamp: str) -> RecordRef | None:
    object_type = OBJECT_OF.get(kind)
    if object_type is None:
        return None  # a stage move creates nothing to find: it is idempotent by itself
    await adapter.ensure_schema(object_type, [STAMP])
    found = await adapter.read(RecordRef(object_type, stamp), (STAMP,), id_property=STAMP)
    return found.ref if found else None


async def _read_back(adapter: HubSpotAdapter, ref: RecordRef, stamp: str, fields: Sequence[str]) -> CRMRecord:
    back = await adapter.read(ref, tuple(dict.fromkeys([STAMP, *fields])))
    if back is None or back.fields.get(STAMP) != stamp:
        raise NotYetConsistent(f"{ref.object_type} {ref.record_id} does not read back with its stamp yet")
    return back


async def _still_open(adapter: HubSpotAdapter, candidates: Sequence[RecordRef]) -> RecordRef | None:
    for ref in candidates:
        field, done = _DONE.get(ref.object_type, ("", ""))
        if not field:
            continue
        current = await adapter.read(ref, (field,))
        if current is not None and current.fields.get(field) != done:
            return ref
    return None


async def act(adapter: HubSpotAdapter, request: ActionRequest) -> ActionResult:
    if request.kind is ActionKind.ADVANCE_STAGE:
        return await advance_stage(adapter, request)
    object_type = OBJECT_OF[request.kind]
    mine = await find_action(adapter, request.kind, request.stamp)
    if request.kind is ActionKind.HANDOFF:
        await _assign_owner(adapter, request)
    if mine is not None:
        await _read_back(adapter, mine, request.stamp, ())
        return ActionResult(ActionOutcome.FOUND, mine, "made by an earlier attempt of this action")
    if (open_one := await _still_open(adapter, request.open_candidates)) is not None:
        return ActionResult(
            ActionOutcome.ALREADY_OPEN, open_one, f"{object_type} {open_one.record_id} is still open"
        )
    props = properties(request, object_type) | {STAMP: request.stamp}
    links = [(request.person, _TO_CONTACT[object_type])]
    if request.deal is not None:
        links.append((request.deal, _TO_DEAL[object_type]))
    body = {
        "properties": {k: str(v) for k, v in props.items()},
        "associations": [
            {"to": {"id": ref.record_id},
             "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}]}
            for ref, type_id in links
        ],
    }  # fmt: skip
    try:
        response = await adapter._send("POST", f"/crm/v3/objects/{object_type}", json=body)
    except ConflictError:
        # The unique stamp is taken: an earlier attempt's create landed after all.
        found = await find_action(adapter, request.kind, request.stamp)
        if found is None:
            raise NotYetConsistent(
                f"the {object_type} stamped {request.stamp} conflicts but cannot be read"
            ) from None
        return ActionResult(ActionOutcome.FOUND, found, "its create had landed before")
    data = response.json()
    ref = RecordRef(object_type, str(data["id"]))
    await _read_back(adapter, ref, request.stamp, ())
    return ActionResult(ActionOutcome.CREATED, ref, request_id=adapter._request_id(response, data))


async def _assign_owner(adapter: HubSpotAdapter, request: ActionRequest) -> None:
    if not request.owner_id:
        raise PermanentError("a handoff needs an owner id")
    current = await adapter.read(request.person, ("hubspot_owner_id",))
    if current is None:
        raise PermanentError(f"contact {request.person.record_id} no longer exists")
    if current.fields.get("hubspot_owner_id") != request.owner_id:
        await adapter._send(
            "PATCH", f"/crm/v3/objects/{request.person.object_type}/{request.person.record_id}",
            json={"properties": {"hubspot_owner_id": request.owner_id}},
        )  # fmt: skip
        back = await adapter.read(request.person, ("hubspot_owner_id",))
        if back is None or back.fields.get("hubspot_owner_id") != request.owner_id:
            raise NotYetConsistent("the contact's owner does not read back yet")


async def advance_stage(adapter: HubSpotAdapter, request: ActionRequest) -> ActionResult:
    """Move the call's deal to the rule's stage, never backwards unless allowed; read back."""
    if request.deal is None or request.stage is None:
        return ActionResult(ActionOutcome.HELD_BACK, None, "the call has no deal to move")
    current = await adapter.read(request.deal, ("dealstage", "pipeline"))
    if current is None:
        raise PermanentError(f"deal {request.deal.record_id} no longer exists")
    verdict = stage_move(current.fields.get("dealstage"), request)
    if verdict is not None:
        return ActionResult(verdict[0], request.deal, verdict[1])
    response = await adapter._send(
        "PATCH",
        f"/crm/v3/objects/deals/{request.deal.record_id}",
        json={"properties": {"dealstage": request.stage}},
    )
    back = await adapter.read(request.deal, ("dealstage",))
    if back is None or back.fields.get("dealstage") != request.stage:
        raise NotYetConsistent("the deal's stage does not read back yet")
    data = response.json()
    return ActionResult(ActionOutcome.MOVED, request.deal, f"{current.fields.get('dealstage')} → {request.stage}",
                        adapter._request_id(response, data))  # fmt: skip
