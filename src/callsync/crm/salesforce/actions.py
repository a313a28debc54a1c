"""Workflow actions on Salesforce's own objects: Event (meetings), Task (to-dos, handoffs, logged calls),
Case (tickets) and Opportunity `StageName`.

Each object callsync creates carries the action's stamp in `callsync_action_key__c`, a unique External ID
an admin creates on Task, Event and Case (the REST API cannot create fields; `ensure_schema` says how).
The object is looked up by its stamp first, and created through the upsert on that External ID, so a
create retried after a lost answer updates the one it made instead of making a second. With batching, the
lookups and upserts of the actions of concurrent calls share one SOQL query and one sObject Collection.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote as url_quote

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
    WriteResult,
    stage_move,
)

if TYPE_CHECKING:
    from callsync.crm.salesforce.batches import SalesforceBatches

STAMP = "callsync_action_key__c"
ACTIONS = frozenset(k.value for k in ActionKind)
OBJECT_OF = {
    ActionKind.BOOK_MEETING: "Event",
    ActionKind.CREATE_TASK: "Task",
    ActionKind.HANDOFF: "Task",
    ActionKind.OPEN_TICKET: "Case",
    ActionKind.LOG_CALL: "Task",
}
_TASK_PRIORITY = {"high": "High", "medium": "Normal", "low": "Low"}
_CASE_PRIORITY = {"high": "High", "medium": "Medium", "low": "Low"}


class SalesforceAdapter(Protocol):
    """What the actions use of crm/salesforce/adapter.py (which imports this module, not the other way)."""

    batches: SalesforceBatches | None

    async def ensure_schema(self, object_type: str, custom_fields: Sequence[str]) -> None: ...

    async def read(self, ref: RecordRef, fields: Sequence[str]) -> CRMRecord | None: ...

    async def query(self, soql: str) -> list[dict[str, Any]]: ...

    async def _send(
        self, method: str, path: str, *, json: Any = None, params: dict[str, str] | None = None
    ) -> httpx.Response: ...


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def fields_for(request: ActionRequest, sobject: str) -> dict[str, Any]:
    """The fields of the object an action creates (a structured summary, never the transcript)."""
    due = request.due_at or datetime.now(UTC)
    who: dict[str, Any] = {"WhoId": request.person.record_id} if sobject != "Case" else {}
    # Salesforce refuses a WhatId beside a Lead's WhoId: a lead's activity names no business record.
    if request.deal is not None and request.person.object_type == "Contact" and sobject != "Case":
        who["WhatId"] = request.deal.record_id
    owner = {"OwnerId": request.owner_id} if request.owner_id else {}
    if sobject == "Event":
        end = due + timedelta(minutes=request.duration_min)
        return {"Subject": request.title, "StartDateTime": _iso(due), "EndDateTime": _iso(end),
                "Description": request.body, **who, **owner}  # fmt: skip
    if sobject == "Case":
        contact = {"ContactId": request.person.record_id} if request.person.object_type == "Contact" else {}
        return {"Subject": request.title, "Description": request.body, "Status": "New", "Origin": "Phone",
                "Priority": _CASE_PRIORITY.get(request.priority or "medium", "Medium"), **contact, **owner}  # fmt: skip
    if request.kind is ActionKind.LOG_CALL:
        call = request.call
        out: dict[str, Any] = {"Subject": request.title, "Description": request.body, "Status": "Completed",
               "TaskSubtype": "Call", "ActivityDate": due.date().isoformat(), "Priority": "Normal", **who, **owner}  # fmt: skip
        if call is not None:
            out |= {"CallType": call.direction.capitalize(), "CallDisposition": call.outcome[:255],
                    "CallObject": call.call_id[:255]}  # fmt: skip
            if call.duration_s is not None:
                out["CallDurationInSeconds"] = call.duration_s
        return out
    return {"Subject": request.title, "Description": request.body, "Status": "Not Started",
            "Priority": _TASK_PRIORITY.get(request.priority or "medium", "Normal"),
            "ActivityDate": due.date().isoformat(), "ReminderDateTime": _iso(due), "IsReminderSet": True,
            **who, **owner}  # fmt: skip


async def find_action(adapter: SalesforceAdapter, kind: ActionKind, stamp: str) -> RecordRef | None:
    sobject = OBJECT_OF.get(kind)
    if sobject is None:
        return None  # a stage move creates nothing: it is idempotent by itself
    await adapter.ensure_schema(sobject, [STAMP])
    if adapter.batches is not None:
        rows = await adapter.batches.rows(sobject, ["Id", STAMP], ((STAMP, (stamp,)),), kind="actions")
    else:
        quoted = "'" + stamp.replace("\\", "\\\\").replace("'", "\\'") + "'"
        rows = await adapter.query(f"SELECT Id FROM {sobject} WHERE {STAMP} = {quoted}")
    return RecordRef(sobject, str(rows[0]["Id"])) if rows else None


async def _read_back(adapter: SalesforceAdapter, ref: RecordRef, stamp: str) -> None:
    back = await adapter.read(ref, (STAMP,))
    if back is None or back.fields.get(STAMP) != stamp:
        raise NotYetConsistent(f"{ref.object_type} {ref.record_id} does not read back with its stamp yet")


async def _still_open(adapter: SalesforceAdapter, candidates: Sequence[RecordRef]) -> RecordRef | None:
    for ref in candidates:
        if ref.object_type not in ("Task", "Case"):
            continue
        current = await adapter.read(ref, ("IsClosed",))
        if current is not None and current.fields.get("IsClosed") is False:
            return ref
    return None


async def act(adapter: SalesforceAdapter, request: ActionRequest) -> ActionResult:
    if request.kind is ActionKind.ADVANCE_STAGE:
        return await advance_stage(adapter, request)
    sobject = OBJECT_OF[request.kind]
    if request.kind is ActionKind.HANDOFF:
        await _assign_owner(adapter, request)
    mine = await find_action(adapter, request.kind, request.stamp)
    if mine is not None:
        await _read_back(adapter, mine, request.stamp)
        return ActionResult(ActionOutcome.FOUND, mine, "made by an earlier attempt of this action")
    if (open_one := await _still_open(adapter, request.open_candidates)) is not None:
        return ActionResult(
            ActionOutcome.ALREADY_OPEN, open_one, f"{sobject} {open_one.record_id} is still open"
        )
    body = fields_for(request, sobject)

    async def alone() -> WriteResult:
        # The upsert on the stamp: a retry whose first attempt landed updates that object, never a second.
        response = await adapter._send(
            "PATCH", f"/sobjects/{sobject}/{STAMP}/{url_quote(request.stamp, safe='')}", json=body
        )
        data = response.json() if response.content else {}
        created = bool(data.get("created", response.status_code == 201))
        return WriteResult(RecordRef(sobject, str(data.get("id") or "")), created)

    if adapter.batches is not None:
        written = await adapter.batches.upsert(sobject, STAMP, {**body, STAMP: request.stamp}, alone)
    else:
        written = await alone()
    found = (
        written.ref
        if written.ref.record_id
        else await find_action(adapter, request.kind, request.stamp)  # API < 46 answers 204
    )
    if found is None:
        raise NotYetConsistent(f"the {sobject} stamped {request.stamp} was written but cannot be found yet")
    await _read_back(adapter, found, request.stamp)
    return ActionResult(ActionOutcome.CREATED if written.created else ActionOutcome.FOUND, found)


async def _assign_owner(adapter: SalesforceAdapter, request: ActionRequest) -> None:
    if not request.owner_id:
        raise PermanentError("a handoff needs an owner id")
    ref = request.person
    current = await adapter.read(ref, ("OwnerId",))
    if current is None:
        raise PermanentError(f"{ref.object_type} {ref.record_id} no longer exists")
    if current.fields.get("OwnerId") != request.owner_id:
        await adapter._send("PATCH", f"/sobjects/{current.ref.object_type}/{current.ref.record_id}",
                            json={"OwnerId": request.owner_id})  # fmt: skip
        back = await adapter.read(current.ref, ("OwnerId",))
        if back is None or back.fields.get("OwnerId") != request.owner_id:
            raise NotYetConsistent("the person's owner does not read back yet")


async def advance_stage(adapter: SalesforceAdapter, request: ActionRequest) -> ActionResult:
    """Move the call's Opportunity to the rule's StageName, never backwards unless allowed; read back."""
    if request.deal is None or request.stage is None:
        return ActionResult(ActionOutcome.HELD_BACK, None, "the call has no opportunity to move")
    current = await adapter.read(request.deal, ("StageName",))
    if current is None:
        raise PermanentError(f"opportunity {request.deal.record_id} no longer exists")
    verdict = stage_move(current.fields.get("StageName"), request)
    if verdict is not None:
        return ActionResult(verdict[0], request.deal, verdict[1])
    await adapter._send(
        "PATCH", f"/sobjects/Opportunity/{request.deal.record_id}", json={"StageName": request.stage}
    )
    back = await adapter.read(request.deal, ("StageName",))
    if back is None or back.fields.get("StageName") != request.stage:
        raise NotYetConsistent("the opportunity's stage does not read back yet")
    return ActionResult(
        ActionOutcome.MOVED, request.deal, f"{current.fields.get('StageName')} → {request.stage}"
    )
