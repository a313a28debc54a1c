"""Workflow actions on GoHighLevel's own objects: calendar appointments, a contact's tasks, a contact note as
the call's log, and an opportunity's stage. GoHighLevel has no tickets: `open_ticket` is not declared.

A call is logged as a contact note: the Call message type of conversations needs a registered conversation
provider and has no field for a summary (crm-apis.md §5). Tasks, notes and appointments take no custom
fields, so the action's stamp is a marker line in their text (`[callsync action <stamp>]`), and an action
first lists the contact's tasks / notes / appointments for its marker before creating one.

Stages are named in the rule as GoHighLevel shows them ("New Lead", "Contacted", ...): the pipeline's
stage ids are read from `GET /opportunities/pipelines`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from callsync.crm.protocol import (
    ActionKind,
    ActionOutcome,
    ActionRequest,
    ActionResult,
    NotYetConsistent,
    PermanentError,
    RecordRef,
    stage_move,
)

ACTIONS = frozenset({"book_meeting", "create_task", "advance_stage", "handoff", "log_call"})
# action -> (the contact's list of them, the answer's key of one, the text field the marker goes in)
_KINDS = {
    ActionKind.BOOK_MEETING: ("appointments", "events", "notes"),
    ActionKind.CREATE_TASK: ("tasks", "tasks", "body"),
    ActionKind.HANDOFF: ("tasks", "tasks", "body"),
    ActionKind.LOG_CALL: ("notes", "notes", "body"),
}


class GoHighLevelAdapter(Protocol):
    """What the actions use of crm/gohighlevel/adapter.py (which imports this module, not the other way)."""

    location_id: str

    async def _send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
        safe: bool = False,
    ) -> Any: ...


def marker(stamp: str) -> str:
    return f"[callsync action {stamp}]"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _text(request: ActionRequest) -> str:
    return "\n".join([*request.body.splitlines(), marker(request.stamp)])


async def _listed(adapter: GoHighLevelAdapter, contact: str, kind: ActionKind) -> list[dict[str, Any]]:
    collection, key, _ = _KINDS[kind]
    answer = await adapter._send("GET", f"/contacts/{contact}/{collection}", safe=True)
    rows = (answer or {}).get(key) or []
    return [r for r in rows if isinstance(r, dict)]


def _ref(kind: ActionKind, contact: str, row_id: str) -> RecordRef:
    collection = _KINDS[kind][0]
    # A contact's task or note is named `<contact>/<id>`, as the adapter names its child records.
    return RecordRef(collection, row_id if collection == "appointments" else f"{contact}/{row_id}")


async def find_action(adapter: GoHighLevelAdapter, request: ActionRequest) -> RecordRef | None:
    if request.kind not in _KINDS:
        return None  # a stage move creates nothing: it is idempotent by itself
    contact, mark, field = request.person.record_id, marker(request.stamp), _KINDS[request.kind][2]
    for row in await _listed(adapter, contact, request.kind):
        if mark in str(row.get(field) or ""):
            return _ref(request.kind, contact, str(row["id"]))
    return None


async def _calendar(adapter: GoHighLevelAdapter, request: ActionRequest) -> str:
    """The rule's calendar (`queue`), else the location's first."""
    if request.queue:
        return request.queue
    answer = await adapter._send("GET", "/calendars/", params={"locationId": adapter.location_id}, safe=True)
    found = (answer or {}).get("calendars") or []
    if not found:
        raise PermanentError(f"GoHighLevel location {adapter.location_id} has no calendar to book in")
    return str(found[0]["id"])


async def _create(adapter: GoHighLevelAdapter, request: ActionRequest) -> RecordRef:
    contact = request.person.record_id
    due = request.due_at or datetime.now(UTC)
    owner = {"assignedTo": request.owner_id} if request.owner_id else {}
    if request.kind is ActionKind.BOOK_MEETING:
        body: dict[str, Any] = {"calendarId": await _calendar(adapter, request), "locationId": adapter.location_id,
                "contactId": contact, "startTime": _iso(due),
                "endTime": _iso(due + timedelta(minutes=request.duration_min)), "title": request.title,
                "appointmentStatus": "confirmed", "description": _text(request),
                **({"assignedUserId": request.owner_id} if request.owner_id else {})}  # fmt: skip
        answer = await adapter._send("POST", "/calendars/events/appointments", json=body)
        row_id = (answer or {}).get("id")
    elif request.kind is ActionKind.LOG_CALL:
        answer = await adapter._send("POST", f"/contacts/{contact}/notes", json={"body": _text(request)})
        row_id = ((answer or {}).get("note") or {}).get("id")
    else:
        body = {  # a task (create_task, handoff)
            "title": request.title,
            "body": _text(request),
            "dueDate": _iso(due),
            "completed": False,
            **owner,
        }
        answer = await adapter._send("POST", f"/contacts/{contact}/tasks", json=body)
        row_id = ((answer or {}).get("task") or {}).get("id")
    if not row_id:
        raise PermanentError(f"GoHighLevel answered the {request.kind.value} without an id")
    return _ref(request.kind, contact, str(row_id))


async def _still_open(adapter: GoHighLevelAdapter, candidates: Sequence[RecordRef]) -> RecordRef | None:
    for ref in candidates:
        if ref.object_type != "tasks":
            continue
        try:
            answer = await adapter._send(
                "GET", f"/contacts/{ref.record_id.replace('/', '/tasks/', 1)}", safe=True
            )
        except PermanentError as exc:
            if exc.status in (400, 404):
                continue  # deleted since
            raise
        task = (answer or {}).get("task") or {}
        if task and not task.get("completed"):
            return ref
    return None


async def act(adapter: GoHighLevelAdapter, request: ActionRequest) -> ActionResult:
    if request.kind is ActionKind.ADVANCE_STAGE:
        return await advance_stage(adapter, request)
    if request.kind not in _KINDS:
        raise PermanentError(f"GoHighLevel cannot {request.kind.value}")
    if request.kind is ActionKind.HANDOFF:
        await _assign_owner(adapter, request)
    mine = await find_action(adapter, request)
    if mine is not None:
        return ActionResult(ActionOutcome.FOUND, mine, "made by an earlier attempt of this action")
    if (open_one := await _still_open(adapter, request.open_candidates)) is not None:
        return ActionResult(ActionOutcome.ALREADY_OPEN, open_one, f"task {open_one.record_id} is still open")
    ref = await _create(adapter, request)
    if await find_action(adapter, request) != ref:
        raise NotYetConsistent(f"{ref.object_type} {ref.record_id} does not read back with its stamp yet")
    return ActionResult(ActionOutcome.CREATED, ref)


async def _assign_owner(adapter: GoHighLevelAdapter, request: ActionRequest) -> None:
    if not request.owner_id:
        raise PermanentError("a handoff needs an owner id")
    path = f"/contacts/{request.person.record_id}"
    contact = ((await adapter._send("GET", path, safe=True)) or {}).get("contact") or {}
    if contact.get("assignedTo") != request.owner_id:
        await adapter._send("PUT", path, json={"assignedTo": request.owner_id})
        back = ((await adapter._send("GET", path, safe=True)) or {}).get("contact") or {}
        if back.get("assignedTo") != request.owner_id:
            raise NotYetConsistent("the contact's owner does not read back yet")


async def advance_stage(adapter: GoHighLevelAdapter, request: ActionRequest) -> ActionResult:
    """Move the call's opportunity to the rule's stage (by name), never backwards unless allowed."""
    if request.deal is None or request.stage is None:
        return ActionResult(ActionOutcome.HELD_BACK, None, "the call has no opportunity to move")
    path = f"/opportunities/{request.deal.record_id}"
    row = ((await adapter._send("GET", path, safe=True)) or {}).get("opportunity") or {}
    answer = await adapter._send(
        "GET", "/opportunities/pipelines", params={"locationId": adapter.location_id}, safe=True
    )
    pipeline = next(
        (p for p in (answer or {}).get("pipelines") or [] if p.get("id") == row.get("pipelineId")), None
    )
    if pipeline is None:
        raise PermanentError(f"opportunity {request.deal.record_id} is in no pipeline of this location")
    by_name = {str(s["name"]): str(s["id"]) for s in pipeline.get("stages") or []}
    names = {v: k for k, v in by_name.items()}
    if request.stage not in by_name:
        raise PermanentError(f"pipeline {pipeline.get('name')!r} has no stage {request.stage!r}")
    current = names.get(str(row.get("pipelineStageId")))
    verdict = stage_move(current, request)
    if verdict is not None:
        return ActionResult(verdict[0], request.deal, verdict[1])
    await adapter._send("PUT", path, json={"pipelineStageId": by_name[request.stage]})
    back = ((await adapter._send("GET", path, safe=True)) or {}).get("opportunity") or {}
    if back.get("pipelineStageId") != by_name[request.stage]:
        raise NotYetConsistent("the opportunity's stage does not read back yet")
    return ActionResult(ActionOutcome.MOVED, request.deal, f"{current} → {request.stage}")
