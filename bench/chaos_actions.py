"""Workflow-action counters for bench/chaos.py (issue 15): what the calls should have done in the CRM, and
what they did.

    counters(db, sandbox, crm) -> {actions_planned, actions_confirmed, actions_duplicated, actions_lost,
                                   actions_on_doubtful_values, actions_in_review, actions_dead_letter}

- planned: every action the calls' plans trigger (each call re-planned from its stored payload, as the engine
  plans it), counted for the calls whose person was confirmed (a call in review or dead-lettered plans none);
- confirmed: action ledger rows `confirmed` (created, found, moved, unchanged, held back, already open);
- duplicated: objects in the emulator beyond the first that carry the same action stamp;
- lost: planned, ready actions of a confirmed call with no ledger row, or confirmed as created/found while the
  emulator holds no object with their stamp;
- on_doubtful_values: objects in the emulator whose action was planned in review (a doubtful label, field or
  booking time) and that no reviewer approved.

`with_actions(mapping, crm)` adds the CRM's example action rules to a mapping that has none (the HubSpot
bench keeps its own objects), so every run has actions to count; `decide(calls, seed)` ends some calls with
what triggers them: a firm booking, a booking whose time nobody said AM or PM for (doubtful: it must wait
for review), a callback, a transfer, a frustrated caller.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from typing import Any

from sqlalchemy import select

from callsync.actions.plan import ActionState, action_stamp, plan_actions
from callsync.capture.extract import extract_call
from callsync.config import EXAMPLES_DIR
from callsync.pipeline.engine import load_call
from callsync.store.db import Database
from callsync.store.tables import ActionRunRow, CallRow
from callsync.structure.mapping import parse_mapping

TENANT = "chaos"
_MARKER = re.compile(r"\[callsync action ([^\]]+)\]")


def with_actions(mapping: str, crm: str) -> str:
    """The mapping with the CRM's example `actions:` block when it declares none."""
    if re.search(r"^actions:", mapping, re.MULTILINE):
        return mapping
    example = (EXAMPLES_DIR / f"{crm}.yaml").read_text(encoding="utf-8")
    found = re.search(r"^actions:.*", example, re.MULTILINE | re.DOTALL)
    return mapping if found is None else mapping.rstrip("\n") + "\n" + found.group(0)


# What the end of a call decides (turns appended after what the caller said), and how often.
ENDINGS: tuple[tuple[float, tuple[tuple[str, str], ...]], ...] = (
    (0.12, (("caller", "I'd like to book a consultation"),
            ("agent", "Great, you're booked for Tuesday, November 24 at 3 PM."))),
    (0.08, (("caller", "I'd like to book a consultation"),
            ("agent", "Great, you're booked for Tuesday, November 24 at four."))),  # the half day is a guess
    (0.08, (("caller", "can someone call me back tomorrow at 2 pm"),
            ("agent", "Sure, we'll call you back tomorrow at 2 PM."))),
    (0.05, (("caller", "I need to talk to someone about my account"),
            ("agent", "Let me transfer you to a specialist now."))),
    (0.10, (("caller", "this is ridiculous, my order is late again and nobody calls me back. I'm really frustrated"),
            ("agent", "I'm sorry, I'll have someone from our team follow up."))),
)  # fmt: skip


def decide(calls: list[Any], seed: int) -> None:
    """End some calls (chaos.Call: `.payload["turns"]`) with a decision that triggers an action."""
    rng = random.Random(f"{seed}:actions")
    for call in calls:
        roll, edge = rng.random(), 0.0
        for share, turns in ENDINGS:
            edge += share
            if roll < edge:
                call.payload["turns"] = [
                    *call.payload["turns"],
                    *({"speaker": s, "text": t} for s, t in turns),
                ]
                break


def _stamps(sandbox: Any, crm: str) -> list[str]:
    """Every action stamp the emulator's objects carry (one entry per object)."""

    def rows(name: str) -> list[dict[str, Any]]:
        try:
            return list(sandbox.records(name))
        except (KeyError, AttributeError, ValueError):
            return []

    found: list[str] = []
    if crm == "hubspot":
        for name in ("meetings", "tasks", "tickets", "calls"):
            found += [
                str(p) for r in rows(name) if (p := (r.get("properties") or {}).get("callsync_action_key"))
            ]
    elif crm == "salesforce":
        for name in ("Event", "Task", "Case"):
            found += [str(r["callsync_action_key__c"]) for r in rows(name) if r.get("callsync_action_key__c")]
    elif crm == "zoho":
        for name in ("Events", "Tasks", "Cases", "Calls"):
            found += [str(r["callsync_action_key"]) for r in rows(name) if r.get("callsync_action_key")]
    elif crm == "pipedrive":
        found += [m for r in rows("activities") for m in _MARKER.findall(str(r.get("note") or ""))]
    elif crm == "gohighlevel":
        for name, text in (("tasks", "body"), ("notes", "body"), ("appointments", "notes")):
            found += [m for r in rows(name) for m in _MARKER.findall(str(r.get(text) or ""))]
    return found


def counters(db: Database, sandbox: Any, crm: str) -> dict[str, int]:
    with db.session() as session:
        calls = session.scalars(select(CallRow).where(CallRow.tenant == TENANT)).all()
        confirmed_calls = {c.call_id for c in calls if c.sync_state == "confirmed"}
        runs = {
            r.stamp: r for r in session.scalars(select(ActionRunRow).where(ActionRunRow.tenant == TENANT))
        }
    planned: dict[str, ActionState] = {}
    mapping = None
    for call_id in sorted(confirmed_calls):
        record = load_call(db, TENANT, call_id)
        if mapping is None:
            mapping = _mapping_of(db)
        if mapping is None:
            break
        extraction = extract_call(record, default_region="US", default_timezone="UTC")
        called_at = record.ended_at or record.started_at
        if called_at is None:
            continue
        for action in plan_actions(extraction, mapping.model.actions, called_at=called_at):
            planned[action_stamp(TENANT, call_id, action.rule)] = action.state
    in_crm = Counter(_stamps(sandbox, crm))
    status = Counter(r.status for r in runs.values())
    lost = sum(1 for stamp, state in planned.items() if state is ActionState.READY and stamp not in runs)
    lost += sum(
        1
        for stamp, r in runs.items()
        if r.status == "confirmed" and r.result in ("created", "found") and r.action != "advance_stage"
        and in_crm[stamp] == 0
    )  # fmt: skip
    doubtful = sum(
        1
        for stamp in in_crm
        if planned.get(stamp) is ActionState.REVIEW and not (runs.get(stamp) and runs[stamp].reviewer)
    )
    return {
        "actions_planned": len(planned),
        "actions_confirmed": status["confirmed"],
        "actions_in_review": status["review"],
        "actions_dead_letter": status["dead_letter"],
        "actions_duplicated": sum(n - 1 for n in in_crm.values() if n > 1),
        "actions_lost": lost,
        "actions_on_doubtful_values": doubtful,
    }


def _mapping_of(db: Database) -> Any:
    """The mapping the run used (chaos.py writes it beside the database)."""
    from pathlib import Path

    url = db.url.removeprefix("sqlite:///")
    path = Path(url).parent / "mapping.yaml"
    if not path.exists():
        return None
    return parse_mapping(path.read_text(encoding="utf-8"), str(path))
