"""Workflow actions on Zoho CRM's own modules: Events (meetings), Tasks (to-dos, handoffs), Calls (the call
log), Cases (tickets) and a deal's `Stage`.

Each record callsync creates carries the action's stamp in `callsync_action_key`, a field an admin adds with
"Do not allow duplicate values": the record is searched by its stamp first, and created through
`POST /{module}/upsert` with that field as `duplicate_check_fields`, so a retry after a lost answer updates
what the first made instead of creating a second.
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
    CRMRecord,
    NotYetConsistent,
    PermanentError,
    RecordRef,
    WriteRequest,
    WriteResult,
    stage_move,
)

STAMP = "callsync_action_key"
ACTIONS = frozenset(k.value for k in ActionKind)
OBJECT_OF = {
    ActionKind.BOOK_MEETING: "Events",
    ActionKind.CREATE_TASK: "Tasks",
    ActionKind.HANDOFF: "Tasks",
    ActionKind.OPEN_TICKET: "Cases",
    ActionKind.LOG_CALL: "Calls",
}
_TASK_PRIORITY = {"high": "High", "medium": "Normal", "low": "Low"}
_CASE_PRIORITY = {"high": "High", "medium": "Medium", "low": "Low"}
_DONE = {"Tasks": "Completed", "Cases": "Closed"}


class ZohoAdapter(Protocol):
    """What the actions use of crm/zoho/adapter.py (which imports this module, not the other way)."""

    async def ensure_schema(self, object_type: str, custom_fields: Sequence[str]) -> None: ...

    async def read(self, ref: RecordRef, fields: Sequence[str]) -> CRMRecord | None: ...

    async def write(self, request: WriteRequest) -> WriteResult: ...

    async def _search(self, module: str, criteria: str, columns: Sequence[str]) -> list[dict[str, Any]]: ...

    async def _stamped(self, module: str, stamp_field: str, stamp: str) -> list[dict[str, Any]]: ...

    async def _send(
        self, method: str, path: str, *, json: Any = None, params: dict[str, str] | None = None, cost: int = 1
    ) -> httpx.Response: ...


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def fields_for(request: ActionRequest, module: str) -> dict[str, Any]:
    """The fields of the record an action creates (a structured summary, never the transcript)."""
    due = request.due_at or datetime.now(UTC)
    owner = {"Owner": {"id": request.owner_id}} if request.owner_id else {}
    if module == "Events":
        end = due + timedelta(minutes=request.duration_min)
        return {"Event_Title": request.title, "Start_DateTime": _iso(due), "End_DateTime": _iso(end),
                "Description": request.body, **owner}  # fmt: skip
    if module == "Cases":
        related = {"Related_To": request.person.record_id} if request.person.object_type == "Contacts" else {}
        deal = {"Deal_Name": request.deal.record_id} if request.deal else {}
        return {"Subject": request.title, "Description": request.body, "Status": "New", "Case_Origin": "Phone",
                "Priority": _CASE_PRIORITY.get(request.priority or "medium", "Medium"), **related, **deal, **owner}  # fmt: skip
    if module == "Calls":
        call = request.call
        out: dict[str, Any] = {"Subject": request.title, "Description": request.body, "Call_Start_Time": _iso(due),
                               "Call_Type": "Inbound", **owner}  # fmt: skip
        if call is not None:
            out["Call_Type"] = call.direction.capitalize()
            out["Call_Result"] = call.outcome
            if call.duration_s is not None:
                out["Call_Duration"] = f"{call.duration_s // 60:02d}:{call.duration_s % 60:02d}"
        return out
    return {"Subject": request.title, "Description": request.body, "Status": "Not Started",
            "Priority": _TASK_PRIORITY.get(request.priority or "medium", "Normal"),
            "Due_Date": due.date().isoformat(), **owner}  # fmt: skip


async def find_action(adapter: ZohoAdapter, kind: ActionKind, stamp: str) -> RecordRef | None:
    module = OBJECT_OF.get(kind)
    if module is None:
        return None  # a stage move creates nothing: it is idempotent by itself
    await adapter.ensure_schema(module, [STAMP])
    rows = await adapter._stamped(module, STAMP, stamp)
    return RecordRef(module, str(rows[0]["id"])) if rows else None


async def _read_back(adapter: ZohoAdapter, ref: RecordRef, stamp: str) -> None:
    back = await adapter.read(ref, (STAMP,))
    if back is None or back.fields.get(STAMP) != stamp:
        raise NotYetConsistent(f"{ref.object_type} {ref.record_id} does not read back with its stamp yet")


async def _still_open(adapter: ZohoAdapter, candidates: Sequence[RecordRef]) -> RecordRef | None:
    for ref in candidates:
        done = _DONE.get(ref.object_type)
        if done is None:
            continue
        current = await adapter.read(ref, ("Status",))
        if current is not None and current.fields.get("Status") != done:
            return ref
    return None


async def act(adapter: ZohoAdapter, request: ActionRequest) -> ActionResult:
    if request.kind is ActionKind.ADVANCE_STAGE:
        return await advance_stage(adapter, request)
    module = OBJECT_OF[request.kind]
    if request.kind is ActionKind.HANDOFF:
        await _assign_owner(adapter, request)
    mine = await find_action(adapter, request.kind, request.stamp)
    if mine is not None:
        await _read_back(adapter, mine, request.stamp)
        return ActionResult(ActionOutcome.FOUND, mine, "made by an earlier attempt of this action")
    if (open_one := await _still_open(adapter, request.open_candidates)) is not None:
        return ActionResult(
            ActionOutcome.ALREADY_OPEN, open_one, f"{module} {open_one.record_id} is still open"
        )
    # Activities link through Who_Id / What_Id (+ $se_module): the adapter sets them from the associations.
    links = (request.person, *((request.deal,) if request.deal else ())) if module != "Cases" else ()
    fields = fields_for(request, module) | {STAMP: request.stamp}
    result = await adapter.write(WriteRequest(module, fields, None, request.stamp, associations=links))
    await _read_back(adapter, result.ref, request.stamp)
    return ActionResult(ActionOutcome.CREATED if result.created else ActionOutcome.FOUND, result.ref)


async def _owner_of(adapter: ZohoAdapter, ref: RecordRef) -> str | None:
    """The record's owner's user id (`read` gives lookups by name: the id needs the record itself)."""
    response = await adapter._send("GET", f"/{ref.object_type}/{ref.record_id}", params={"fields": "Owner"})
    rows = (response.json() or {}).get("data") or [] if response.content else []
    owner = rows[0].get("Owner") if rows else None
    return str(owner.get("id")) if isinstance(owner, dict) else None


async def _assign_owner(adapter: ZohoAdapter, request: ActionRequest) -> None:
    if not request.owner_id:
        raise PermanentError("a handoff needs an owner id")
    current = await adapter.read(request.person, ("Owner",))
    if current is None:
        raise PermanentError(f"{request.person.object_type} {request.person.record_id} no longer exists")
    ref = current.ref
    if await _owner_of(adapter, ref) != request.owner_id:
        await adapter.write(WriteRequest(ref.object_type, {"Owner": {"id": request.owner_id}}, ref.record_id))
        if await _owner_of(adapter, ref) != request.owner_id:
            raise NotYetConsistent("the person's owner does not read back yet")


async def advance_stage(adapter: ZohoAdapter, request: ActionRequest) -> ActionResult:
    """Move the call's deal to the rule's Stage, never backwards unless allowed; read back."""
    if request.deal is None or request.stage is None:
        return ActionResult(ActionOutcome.HELD_BACK, None, "the call has no deal to move")
    current = await adapter.read(request.deal, ("Stage",))
    if current is None:
        raise PermanentError(f"deal {request.deal.record_id} no longer exists")
    verdict = stage_move(current.fields.get("Stage"), request)
    if verdict is not None:
        return ActionResult(verdict[0], request.deal, verdict[1])
    await adapter.write(WriteRequest("Deals", {"Stage": request.stage}, request.deal.record_id))
    back = await adapter.read(request.deal, ("Stage",))
    if back is None or back.fields.get("Stage") != request.stage:
        raise NotYetConsistent("the deal's stage does not read back yet")
    return ActionResult(ActionOutcome.MOVED, request.deal, f"{current.fields.get('Stage')} → {request.stage}")
