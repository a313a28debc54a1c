"""A mapping change, previewed over the calls already synced (`callsync plan --mapping NEW --since 7d`).

Each call received in the window (and synced: not still queued) is planned twice, pure, exactly as the
delivery engine plans it — under the tenant's current mapping and under the new one — and the two plans
are compared field by field: a field the new mapping writes that the current one does not, one it no
longer writes, a different value, a different policy, a value now held for review, an object no longer
(or newly) created. Nothing is written anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import select

from callsync.actions.plan import PlannedAction, plan_actions
from callsync.config import TenantConfig
from callsync.models import CallRecord, Extraction
from callsync.store.db import Database
from callsync.store.tables import CallRow
from callsync.structure.mapping import MappingDocument
from callsync.structure.mapping_doc import integration_version
from callsync.structure.plan import SyncPlan, plan_call

__all__ = ["ChangeKind", "FieldChange", "MappingPreview", "preview_mapping"]

ChangeKind = Literal["added", "removed", "value", "policy", "held", "object", "action"]
_PREVIEW_LIMIT = 5_000  # calls compared at most (newest first), so a preview stays interactive


@dataclass(frozen=True, slots=True)
class FieldChange:
    call_id: str
    object_name: str
    crm_object: str
    field: str  # "" for a whole object
    kind: ChangeKind
    before: Any
    after: Any


@dataclass(frozen=True, slots=True)
class MappingPreview:
    tenant: str
    current_version: str
    new_version: str
    since: datetime
    calls: int
    changed_calls: int
    changes: tuple[FieldChange, ...]
    limited: bool  # more calls than _PREVIEW_LIMIT were in the window

    def to_json(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "current_version": self.current_version,
            "new_version": self.new_version,
            "since": self.since.isoformat(),
            "calls": self.calls,
            "changed_calls": self.changed_calls,
            "limited": self.limited,
            "changes": [
                {
                    "call_id": c.call_id,
                    "object": c.object_name,
                    "crm_object": c.crm_object,
                    "field": c.field,
                    "kind": c.kind,
                    "before": c.before,
                    "after": c.after,
                }
                for c in self.changes
            ],
        }


def _fields(plan: SyncPlan) -> dict[tuple[str, str, str], tuple[Any, str]]:
    """(object, crm object, field) -> (value, policy) of everything the plan writes (defaults included)."""
    out: dict[tuple[str, str, str], tuple[Any, str]] = {}
    for name, obj in plan.objects.items():
        for f, planned in obj.fields.items():
            out[(name, obj.crm_object, f)] = (planned.value, planned.policy.value)
        for f, value in obj.defaults.items():
            out[(name, obj.crm_object, f)] = (value, "default")
    return out


def _held(plan: SyncPlan) -> dict[tuple[str, str, str], Any]:
    return {(n, o.crm_object, h.crm_field): h.value for n, o in plan.objects.items() for h in o.held}


def compare_plans(call_id: str, before: SyncPlan, after: SyncPlan) -> list[FieldChange]:
    """What the second plan writes differently from the first, field by field (pure)."""
    changes: list[FieldChange] = []
    for name in dict.fromkeys([*before.objects, *after.objects]):
        was, now = before.objects.get(name), after.objects.get(name)
        present = was or now
        if present is not None and (was is None or now is None):
            reason_was = (
                "created" if was else f"not created ({before.skipped.get(name, 'not in the mapping')})"
            )
            reason_now = (
                "created" if now else f"not created ({after.skipped.get(name, 'not in the mapping')})"
            )
            changes.append(
                FieldChange(call_id, name, present.crm_object, "", "object", reason_was, reason_now)
            )
    old, new = _fields(before), _fields(after)
    for key in dict.fromkeys([*old, *new]):
        name, crm_object, f = key
        if key not in old:
            changes.append(FieldChange(call_id, name, crm_object, f, "added", None, new[key][0]))
        elif key not in new:
            changes.append(FieldChange(call_id, name, crm_object, f, "removed", old[key][0], None))
        elif old[key][0] != new[key][0]:
            changes.append(FieldChange(call_id, name, crm_object, f, "value", old[key][0], new[key][0]))
        elif old[key][1] != new[key][1]:
            changes.append(FieldChange(call_id, name, crm_object, f, "policy", old[key][1], new[key][1]))
    old_held, new_held = _held(before), _held(after)
    for key in new_held.keys() - old_held.keys():
        name, crm_object, f = key
        changes.append(FieldChange(call_id, name, crm_object, f, "held", None, new_held[key]))
    return changes


def _plan(doc: MappingDocument, call: CallRecord, extraction: Extraction, tenant: TenantConfig) -> SyncPlan:
    return plan_call(doc, call, extraction, tenant.default_country, own_numbers=tenant.numbers)


def _action(a: PlannedAction) -> str:
    """What an action would do, in a few words (what differs between two mappings shows here)."""
    target = f" to {a.stage}" if a.stage else ""
    owner = f" for {a.owner}" if a.owner else ""
    return f"{a.kind.value}{target}{owner} {a.title!r} ({a.state.value})".replace(" ''", "")


def compare_actions(
    call_id: str, before: list[PlannedAction], after: list[PlannedAction]
) -> list[FieldChange]:
    """The workflow actions a call would trigger under each mapping, by rule (pure)."""
    old = {a.rule: _action(a) for a in before}
    new = {a.rule: _action(a) for a in after}
    return [
        FieldChange(call_id, "actions", "", rule, "action", old.get(rule), new.get(rule))
        for rule in dict.fromkeys([*old, *new])
        if old.get(rule) != new.get(rule)
    ]


def _actions(
    doc: MappingDocument, call: CallRecord, extraction: Extraction, tenant: TenantConfig
) -> list[PlannedAction]:
    called_at = call.ended_at or call.started_at or datetime.now(UTC)
    return plan_actions(extraction, doc.model.actions, called_at=called_at, timezone=tenant.timezone)


def preview_mapping(
    db: Database, tenant: TenantConfig, new: MappingDocument, since: datetime
) -> MappingPreview:
    """Plan every call synced since `since` under the current and the new mapping; compare."""
    from callsync.pipeline.engine import extraction_for, load_call

    current = tenant.load_mapping()
    with db.session() as session:
        ids = session.scalars(
            select(CallRow.call_id)
            .where(
                CallRow.tenant == tenant.name, CallRow.received_at >= since, CallRow.sync_state != "queued"
            )
            .order_by(CallRow.received_at.desc())
            .limit(_PREVIEW_LIMIT + 1)
        ).all()
    changes: list[FieldChange] = []
    changed = 0
    for call_id in ids[:_PREVIEW_LIMIT]:
        call = load_call(db, tenant.name, call_id)
        extraction = extraction_for(call, tenant)
        found = compare_plans(
            call_id, _plan(current, call, extraction, tenant), _plan(new, call, extraction, tenant)
        )
        found += compare_actions(
            call_id, _actions(current, call, extraction, tenant), _actions(new, call, extraction, tenant)
        )
        changed += bool(found)
        changes += found
    return MappingPreview(
        tenant=tenant.name,
        current_version=integration_version(current),
        new_version=integration_version(new),
        since=since,
        calls=min(len(ids), _PREVIEW_LIMIT),
        changed_calls=changed,
        changes=tuple(changes),
        limited=len(ids) > _PREVIEW_LIMIT,
    )
