"""Workflow actions on Pipedrive's own objects: activities (a meeting, a task, a handoff's task, the logged
call) and a deal's `stage_id`. Pipedrive has no tickets: `open_ticket` is not declared, and a rule naming
it is refused when the mapping loads.

Activities take no custom fields and have no search, so the action's stamp is kept as a marker line in the
activity's note (`[callsync action <stamp>]`), and an action first lists the person's activities
(`GET /api/v2/activities?person_id=`) for its marker before creating one. Pipedrive has no upsert: a create
whose answer is lost is found this way by the retry, never created twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape
from typing import Any, Protocol

from callsync.crm.protocol import (
    ActionKind,
    ActionOutcome,
    ActionRequest,
    ActionResult,
    CRMRecord,
    NotYetConsistent,
    PermanentError,
    RecordRef,
    stage_move,
)

V2 = "/api/v2"
ACTIONS = frozenset({"book_meeting", "create_task", "advance_stage", "handoff", "log_call"})
_TYPE = {
    ActionKind.BOOK_MEETING: "meeting",
    ActionKind.CREATE_TASK: "task",
    ActionKind.HANDOFF: "task",
    ActionKind.LOG_CALL: "call",
}
_PAGES = 5  # a person's activities read at most 5 x 500 when looking for a stamp


class PipedriveAdapter(Protocol):
    """What the actions use of crm/pipedrive/adapter.py (which imports this module, not the other way)."""

    async def read(self, ref: RecordRef, fields: Sequence[str]) -> CRMRecord | None: ...

    async def _send(
        self, method: str, path: str, *, json: Any = None, params: dict[str, str] | None = None
    ) -> Any: ...


def marker(stamp: str) -> str:
    return f"[callsync action {stamp}]"


def body_for(request: ActionRequest) -> dict[str, Any]:
    """The activity an action creates: its type, when, who, and a note (summary + the stamp's marker)."""
    due = (request.due_at or datetime.now(UTC)).astimezone(UTC)
    note = "<br>".join(escape(line) for line in [*request.body.splitlines(), marker(request.stamp)])
    body: dict[str, Any] = {
        "subject": request.title,
        "type": _TYPE[request.kind],
        "due_date": due.date().isoformat(),
        "due_time": due.strftime("%H:%M"),
        "person_id": int(request.person.record_id),
        "note": note,
        "done": request.kind is ActionKind.LOG_CALL,  # the call happened; the rest is still to do
    }
    minutes = request.duration_min if request.kind is ActionKind.BOOK_MEETING else None
    if (
        request.kind is ActionKind.LOG_CALL
        and request.call is not None
        and request.call.duration_s is not None
    ):
        minutes = max(1, round(request.call.duration_s / 60))
    if minutes:
        body["duration"] = f"{minutes // 60:02d}:{minutes % 60:02d}"
    if request.deal is not None:
        body["deal_id"] = int(request.deal.record_id)
    if request.owner_id:
        body["owner_id"] = int(request.owner_id)
    return body


async def find_action(adapter: PipedriveAdapter, request: ActionRequest) -> RecordRef | None:
    if request.kind not in _TYPE:
        return None  # a stage move creates nothing: it is idempotent by itself
    mark = marker(request.stamp)
    cursor: str | None = "0"
    for _ in range(_PAGES):
        params = {"person_id": request.person.record_id, "limit": "500", "cursor": cursor or "0"}
        answer = await adapter._send("GET", f"{V2}/activities", params=params)
        for row in (answer or {}).get("data") or []:
            if mark in str(row.get("note") or ""):
                return RecordRef("activities", str(row["id"]))
        cursor = ((answer or {}).get("additional_data") or {}).get("next_cursor")
        if not cursor:
            return None
    raise PermanentError(f"person {request.person.record_id} has too many activities to look for a stamp in")


async def _activity(adapter: PipedriveAdapter, ref: RecordRef) -> dict[str, Any] | None:
    try:
        answer = await adapter._send("GET", f"{V2}/activities/{ref.record_id}")
    except PermanentError as exc:
        if exc.status in (404, 410):
            return None
        raise
    row = (answer or {}).get("data")
    return row if isinstance(row, dict) and not row.get("is_deleted") else None


async def _still_open(adapter: PipedriveAdapter, candidates: Sequence[RecordRef]) -> RecordRef | None:
    for ref in candidates:
        row = await _activity(adapter, ref)
        if row is not None and not row.get("done"):
            return ref
    return None


async def act(adapter: PipedriveAdapter, request: ActionRequest) -> ActionResult:
    if request.kind is ActionKind.ADVANCE_STAGE:
        return await advance_stage(adapter, request)
    if request.kind not in _TYPE:
        raise PermanentError(f"Pipedrive cannot {request.kind.value}")
    if request.kind is ActionKind.HANDOFF:
        await _assign_owner(adapter, request)
    mine = await find_action(adapter, request)
    if mine is not None:
        return ActionResult(ActionOutcome.FOUND, mine, "made by an earlier attempt of this action")
    if (open_one := await _still_open(adapter, request.open_candidates)) is not None:
        return ActionResult(
            ActionOutcome.ALREADY_OPEN, open_one, f"activity {open_one.record_id} is still open"
        )
    answer = await adapter._send("POST", f"{V2}/activities", json=body_for(request))
    ref = RecordRef("activities", str(((answer or {}).get("data") or {})["id"]))
    back = await _activity(adapter, ref)
    if back is None or marker(request.stamp) not in str(back.get("note") or ""):
        raise NotYetConsistent(f"activity {ref.record_id} does not read back with its stamp yet")
    return ActionResult(ActionOutcome.CREATED, ref)


async def _assign_owner(adapter: PipedriveAdapter, request: ActionRequest) -> None:
    if not request.owner_id:
        raise PermanentError("a handoff needs an owner id")
    person = f"{V2}/persons/{request.person.record_id}"
    row = ((await adapter._send("GET", person)) or {}).get("data") or {}
    if str(row.get("owner_id")) != request.owner_id:
        await adapter._send("PATCH", person, json={"owner_id": int(request.owner_id)})
        back = ((await adapter._send("GET", person)) or {}).get("data") or {}
        if str(back.get("owner_id")) != request.owner_id:
            raise NotYetConsistent("the person's owner does not read back yet")


async def advance_stage(adapter: PipedriveAdapter, request: ActionRequest) -> ActionResult:
    """Move the call's deal to the rule's stage (a stage id), never backwards unless allowed; read back."""
    if request.deal is None or request.stage is None:
        return ActionResult(ActionOutcome.HELD_BACK, None, "the call has no deal to move")
    if not request.stage.isdigit():
        raise PermanentError(f"Pipedrive names a stage by its id (stage_id): {request.stage!r} is not one")
    path = f"{V2}/deals/{request.deal.record_id}"
    row = ((await adapter._send("GET", path)) or {}).get("data") or {}
    current = str(row["stage_id"]) if row.get("stage_id") is not None else None
    verdict = stage_move(current, request)
    if verdict is not None:
        return ActionResult(verdict[0], request.deal, verdict[1])
    await adapter._send("PATCH", path, json={"stage_id": int(request.stage)})
    back = ((await adapter._send("GET", path)) or {}).get("data") or {}
    if str(back.get("stage_id")) != request.stage:
        raise NotYetConsistent("the deal's stage does not read back yet")
    return ActionResult(ActionOutcome.MOVED, request.deal, f"stage {current} → {request.stage}")
