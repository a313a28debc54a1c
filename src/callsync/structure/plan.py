"""The plan of what one call creates and links, computed as data before any write (pure).

`callsync plan FILE` prints it; the delivery engine executes it. A linked object (a deal) whose required
link cannot be resolved waits in review rather than being created orphaned.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from callsync.models import CallRecord, Evidence, Extraction
from callsync.structure.mapping import MappingDocument, ObjectMapping
from callsync.structure.payload import ObjectPlan, plan_object

CONTACT = "contact"


@dataclass(frozen=True, slots=True)
class Waiting:
    """An object the call would create, held back with the reason (it goes to review)."""

    object_name: str
    reason: str


@dataclass(frozen=True)
class SyncPlan:
    call_id: str
    objects: dict[str, ObjectPlan]  # in creation order: the contact first
    links: tuple[tuple[str, str], ...]  # (from object, to object), both in `objects`
    waiting: tuple[Waiting, ...] = ()
    skipped: dict[str, str] = field(default_factory=dict)  # object → why the call does not create it

    def to_json(self) -> dict[str, Any]:
        return {
            "call_id": self.call_id,
            "objects": {
                name: {
                    "crm_object": p.crm_object,
                    "fields": {
                        f: {
                            "value": v.value,
                            "policy": v.policy.value,
                            "confidence": v.confidence,
                            "from": v.canonical,
                            "source": _source(v.evidence),
                        }
                        for f, v in p.fields.items()
                    },
                    "held": [{"field": h.crm_field, "value": h.value, "reason": h.reason} for h in p.held],
                    "defaults": p.defaults,
                    # What the record is looked up by: email and phone for a person (the phone may be the
                    # caller ID: see match_sources); the exact name for an object declared `match_on: [name]`.
                    "match": p.match_keys,
                    "match_sources": p.identity_sources,
                    # The caller's line usable by this object (a secondary key when not the phone key).
                    "caller_id": p.caller_id,
                    "phone_keys": list(p.phone_keys),
                    # A person's name is never a match key; it only flags look-alike records for a reviewer.
                    "name_for_duplicates": None if "name" in p.match_on else p.display_name,
                }
                for name, p in self.objects.items()
            },
            "links": [list(link) for link in self.links],
            "waiting": [{"object": w.object_name, "reason": w.reason} for w in self.waiting],
            "skipped": self.skipped,
        }


def wanted(obj: ObjectMapping, plan: ObjectPlan, extraction: Extraction) -> str | None:
    """None when the call should create this object; else the reason it does not."""
    rule = obj.create_when
    if rule is None:
        # The caller's line alone is not a reason to create an object: something must have been said.
        said = [f for f in plan.fields.values() if f.canonical != "caller_id"]
        return None if said else "no mapped value was said"
    if extraction.intent.value in rule.intent:
        return None
    accepted = extraction.accepted()
    if any(name in accepted for name in rule.any_field):
        return None
    return f"create_when not met (intent {extraction.intent.value!r}; none of {rule.any_field} accepted)"


def _source(evidence: tuple[Evidence, ...]) -> str:
    """Where a planned value comes from: transcript, caller_id, platform, or call (no evidence: a call fact)."""
    if not evidence:
        return "call"
    return "+".join(dict.fromkeys(e.source.value for e in evidence))


def plan_call(
    doc: MappingDocument,
    call: CallRecord,
    extraction: Extraction,
    region: str = "US",
    *,
    own_numbers: Iterable[str] = (),
) -> SyncPlan:
    """`own_numbers` are the tenant's lines (`TenantConfig.numbers`): a caller ID equal to one is never used,
    even if the extraction was made without them."""
    own = tuple(own_numbers)
    objects: dict[str, ObjectPlan] = {}
    skipped: dict[str, str] = {}

    def plan(name: str, obj: ObjectMapping) -> ObjectPlan:
        use = doc.uses_caller_id(name)
        return plan_object(name, obj, call, extraction, region, use_caller_id=use, own_numbers=own)

    objects[CONTACT] = plan(CONTACT, doc.object(CONTACT))
    for name, obj in doc.model.objects.items():
        if name == CONTACT:
            continue
        planned = plan(name, obj)
        reason = wanted(obj, planned, extraction)
        if reason is None:
            objects[name] = planned
        else:
            skipped[name] = reason
    waiting: list[Waiting] = []
    for name in [n for n in objects if n != CONTACT]:
        reasons = []
        missing = [link for link in doc.object(name).links if link not in objects]
        if missing:
            why = "; ".join(f"{m}: {skipped.get(m, 'not planned')}" for m in missing)
            reasons.append(f"cannot be linked to {', '.join(missing)} ({why})")
        if objects[name].missing_required:
            reasons.append("required field(s) without a value: " + ", ".join(objects[name].missing_required))
        if reasons:
            waiting.append(Waiting(name, "; ".join(reasons)))
            del objects[name]
    links = tuple((name, link) for name in objects for link in doc.object(name).links if link in objects)
    return SyncPlan(call.call_id, objects, links, tuple(waiting), skipped)
