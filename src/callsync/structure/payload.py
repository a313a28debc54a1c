"""Build the typed field plan for one CRM object from a call's extraction (pure).

The caller ID (the extraction's `caller_id` field, already vetted: no withheld lines, no tenant numbers) is
used unless the mapping turns it off for the object: fields mapped `from: phone` take it when the caller
spoke no number at all (a number said, even one held for review, wins: writing the line first would
pre-empt it), and an object matching on phone uses it as its phone key when the caller said no key of their
own (no email, no number); beside a spoken key it is kept as a secondary key (`ObjectPlan.caller_id`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from callsync.capture.extract.caller_id import normalize_line
from callsync.models import CallRecord, Evidence, EvidenceSource, Extraction, FieldStatus, FieldValue
from callsync.reconcile.identity import IdentityKeys, normalize_email, normalize_phone
from callsync.reconcile.policy import ConflictPolicy
from callsync.structure.mapping import FieldType, ObjectMapping, template_fields


@dataclass(frozen=True, slots=True)
class PlannedField:
    crm_field: str
    canonical: str
    value: Any
    confidence: float
    policy: ConflictPolicy
    evidence: tuple[Evidence, ...]


@dataclass(frozen=True, slots=True)
class HeldField:
    """A mapped value that is not written: it waits in review (low confidence, not in transcript, ...)."""

    crm_field: str
    canonical: str
    value: Any
    confidence: float
    reason: str


@dataclass(frozen=True, slots=True)
class ObjectPlan:
    object_name: str
    crm_object: str
    fields: dict[str, PlannedField]
    held: tuple[HeldField, ...]
    identity: IdentityKeys
    # Required CRM fields with no value: filled from the mapping's default when creating, or
    # (when the mapping says review) the whole record waits in review rather than being half-written.
    defaults: dict[str, str]
    missing_required: tuple[str, ...]
    # The caller's name as said (accepted values only): used to flag possible duplicates, never to match.
    # For an object that matches on `name` (a company), the exact name it is matched on.
    display_name: str | None = None
    # The keys this object is matched on (subset of email, phone, name) as the mapping declares them.
    match_on: tuple[str, ...] = ()
    # The caller's line when this object may use it (vetted, E.164, `match_on` lists phone). It is the
    # phone key (`identity.phone`) when the caller said neither an email nor a number; otherwise a secondary
    # key: a record found by it alone, while the spoken keys find nothing, is the caller's only when a
    # person agrees (the engine may offer it as a candidate; it never outranks a key the caller said).
    caller_id: str | None = None
    # Where each identity key came from: {"email": "transcript", "phone": "caller_id"}.
    identity_sources: dict[str, str] = field(default_factory=dict)

    @property
    def phone_keys(self) -> tuple[str, ...]:
        """Every phone the record may be found by: the phone key, then the caller ID when it differs and the
        caller gave no email (a caller who says a new number is still the person whose line it is). The
        engine searches each and treats the records found as one `by_phone` list, so a spoken number and a
        line that find different records are a conflict for a person, never a silent pick."""
        keys = [self.identity.phone] if self.identity.phone else []
        if self.caller_id and self.caller_id != self.identity.phone and not self.identity.email:
            keys.append(self.caller_id)
        return tuple(keys)

    @property
    def match_keys(self) -> dict[str, str]:
        """The keys this record is looked up by, named: never a person's name (names never match a person;
        an object declared `match_on: [name]`, a company, is matched on its exact name)."""
        keys: dict[str, str] = {}
        if self.identity.email:
            keys["email"] = self.identity.email
        if self.identity.phone:
            keys["phone"] = self.identity.phone
        if "name" in self.match_on and self.display_name:
            keys["name"] = self.display_name
        return keys


def coerce(value: Any, kind: FieldType, region: str) -> Any:
    """Turn an extracted value into what the CRM field takes; None when it cannot be."""
    if value is None:
        return None
    if kind == "email":
        return normalize_email(str(value))
    if kind == "phone":
        return normalize_phone(str(value), region)
    if kind == "number":
        try:
            number = float(value)
        except (TypeError, ValueError):
            return None
        return int(number) if number.is_integer() else number
    return str(value).strip() or None


def _call_facts(call: CallRecord, extraction: Extraction, region: str) -> dict[str, tuple[Any, float]]:
    """Facts known from the call itself rather than from words: always certain, except labels. The caller's
    line is given in E.164 and only when it is a real number (never "anonymous" or a withheld code)."""
    return {
        "call_id": (call.call_id, 1.0),
        "call_started_at": (call.started_at.isoformat() if call.started_at else None, 1.0),
        "call_direction": (call.direction.value, 1.0),
        "caller_line": (normalize_line(call.caller_line, region), 1.0),
        "intent": (extraction.intent.value, extraction.intent.confidence),
        "outcome": (extraction.outcome.value, extraction.outcome.confidence),
        "sentiment": (extraction.sentiment.value, extraction.sentiment.confidence),
    }


def caller_id_value(
    extraction: Extraction, region: str = "US", own_numbers: Iterable[str] = ()
) -> FieldValue | None:
    """The extraction's accepted caller ID, unless it is one of `own_numbers` (the tenant's lines)."""
    fv = extraction.fields.get("caller_id")
    if fv is None or fv.status is not FieldStatus.ACCEPTED:
        return None
    own = {normalize_line(n, region) for n in own_numbers}
    return None if normalize_line(str(fv.value), region) in own else fv


def plan_object(
    name: str,
    mapping: ObjectMapping,
    call: CallRecord,
    extraction: Extraction,
    region: str = "US",
    *,
    use_caller_id: bool = True,
    own_numbers: Iterable[str] = (),
) -> ObjectPlan:
    """`use_caller_id` is the mapping's switch for this object (MappingDocument.uses_caller_id)."""
    fields: dict[str, PlannedField] = {}
    held: list[HeldField] = []
    facts = _call_facts(call, extraction, region)
    caller = caller_id_value(extraction, region, own_numbers) if use_caller_id else None
    for crm_field, rule in mapping.fields.items():
        if rule.template is not None:
            built = _from_template(crm_field, rule.template, rule.policy, extraction, facts)
            if built is not None:
                fields[crm_field] = built
            continue
        source = rule.source or ""  # the mapping's validator guarantees `from` when there is no template
        fv = extraction.fields.get(source)
        if source == "caller_id" and caller is None:
            continue  # turned off by the mapping, or the tenant's own line
        if fv is None and source == "phone" and caller is not None:
            # No number said: the caller's line stands in, and says so in its evidence and canonical name.
            value = coerce(caller.value, rule.type, region)
            if value is not None:
                fields[crm_field] = PlannedField(
                    crm_field, "caller_id", value, caller.confidence, rule.policy, caller.evidence
                )
            continue
        if fv is not None:
            value = coerce(fv.value, rule.type, region)
            if value is None:
                held.append(HeldField(crm_field, source, fv.value, fv.confidence, "not a valid " + rule.type))
            elif fv.status is not FieldStatus.ACCEPTED:
                held.append(HeldField(crm_field, source, value, fv.confidence, fv.reason or fv.status.value))
            else:
                fields[crm_field] = PlannedField(
                    crm_field, source, value, fv.confidence, rule.policy, fv.evidence
                )
        elif source in facts and facts[source][0] is not None:
            value, confidence = facts[source]
            fields[crm_field] = PlannedField(crm_field, source, value, confidence, rule.policy, ())
    defaults = {
        f: r.default for f, r in mapping.required.items() if r.default is not None and f not in fields
    }
    missing = tuple(f for f, r in mapping.required.items() if r.review and f not in fields)
    line = normalize_phone(str(caller.value), region) if caller is not None else None
    email = _planned(fields, mapping, "email") if "email" in mapping.match_on else None
    phone = _planned(fields, mapping, "phone") if "phone" in mapping.match_on else None
    sources = {"email": EvidenceSource.TRANSCRIPT.value} if email else {}
    if phone:
        sources["phone"] = EvidenceSource.TRANSCRIPT.value
    elif "phone" in mapping.match_on and line and not email:
        # The line identifies a caller who gave no key of their own. Beside a key they said it stays a
        # secondary key (`caller_id`): a shared line (an office, a household) must not pull a caller who
        # gave a new email onto the record of whoever called from that line before.
        phone = line
        sources["phone"] = EvidenceSource.CALLER_ID.value
    identity = IdentityKeys(email=email, phone=phone)
    # Organisations are known by their name; people by theirs only to flag possible duplicates.
    display = _planned(fields, mapping, "company") if "name" in mapping.match_on else _name(extraction)
    return ObjectPlan(
        name,
        mapping.crm_object,
        fields,
        tuple(held),
        identity,
        defaults,
        missing,
        display,
        match_on=tuple(mapping.match_on),
        caller_id=line if "phone" in mapping.match_on else None,
        identity_sources=sources,
    )


def _from_template(
    crm_field: str,
    template: str,
    policy: ConflictPolicy,
    extraction: Extraction,
    facts: dict[str, tuple[Any, float]],
) -> PlannedField | None:
    """Fill the template from accepted values and call facts; None if any placeholder has no value."""
    accepted = extraction.accepted()
    values: dict[str, Any] = {}
    confidence = 1.0
    evidence: list[Evidence] = []
    for name in template_fields(template):
        if name in accepted:
            values[name] = accepted[name].value
            confidence = min(confidence, accepted[name].confidence)
            evidence.extend(accepted[name].evidence)
        elif facts.get(name, (None, 0.0))[0] is not None:
            values[name], fact_confidence = facts[name]
            confidence = min(confidence, fact_confidence)
        else:
            return None
    return PlannedField(crm_field, "template", template.format(**values), confidence, policy, tuple(evidence))


def _name(extraction: Extraction) -> str | None:
    accepted = extraction.accepted()
    if "full_name" in accepted:
        return str(accepted["full_name"].value)
    parts = [str(accepted[k].value) for k in ("first_name", "last_name") if k in accepted]
    return " ".join(parts) or None


def _planned(fields: dict[str, PlannedField], mapping: ObjectMapping, canonical: str) -> str | None:
    for planned in fields.values():
        if planned.canonical == canonical:
            return str(planned.value)
    return None
