"""Check the platform's own extraction (`analysis.structured_data`) against what was actually said.

Voice platforms run their own LLM over the call and sometimes report values nobody spoke (a caller-ID
number, a surname the caller never gave, an email one character off). DESIGN.md: kept, never trusted
blindly. For each platform value that maps to a canonical field:

- found nowhere in the transcript's spoken forms → `needs_review`, reason "not_in_transcript", never accepted;
- equal to what our extractor found → our value's confidence rises slightly (two readings agree);
- said in the call but missed by our extractor → added as `needs_review` (reason "platform_only"), with
  evidence where it was said, for a human to decide;
- different from our value → ours stands: it has the caller's words behind it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from callsync.capture.extract.name import title
from callsync.capture.extract.phone import find_phones, to_e164
from callsync.capture.extract.spoken import find_emails, find_spelled_runs, is_valid_email, tokenize, word_set
from callsync.capture.extract.thresholds import clamp, status_for
from callsync.models import CallRecord, Evidence, FieldStatus, FieldValue, Speaker

EXTRACTOR = "platform@1"

AGREEMENT_BOOST = 0.05  # the platform's reading matches ours
PLATFORM_ONLY = 0.50  # said in the call, but only the platform picked it as this field

# structured_data keys (lower-case, "_" for spaces) that mean a canonical field. An explicit list: a key
# like "adjuster_name" or "referring_doctor" names someone else and must not become the caller's name.
PLATFORM_KEYS: Mapping[str, frozenset[str]] = {
    "email": word_set(
        "email email_address customer_email caller_email contact_email lead_email patient_email client_email"
    ),
    "phone": word_set("""phone phone_number callback_number callback_phone customer_phone caller_phone contact_phone
        contact_number mobile mobile_number cell cell_phone best_number patient_phone client_phone
        lead_phone"""),
    "full_name": word_set("""name full_name customer_name caller_name contact_name patient_name client_name lead_name
        claimant claimant_name applicant_name candidate_name prospect_name"""),
    "first_name": word_set("first_name firstname given_name"),
    "last_name": word_set("last_name lastname surname family_name"),
    "company": word_set("company company_name business business_name organization organisation employer"),
}


def canonical_key(key: str) -> str | None:
    normalized = re.sub(r"[\s-]+", "_", key.strip().lower())
    return next((field for field, keys in PLATFORM_KEYS.items() if normalized in keys), None)


def platform_values(call: CallRecord) -> list[tuple[str, str, Any]]:
    """(structured_data key, canonical field, raw value) for every mapped, non-empty platform value."""
    structured = call.analysis.get("structured_data") if isinstance(call.analysis, dict) else None
    if not isinstance(structured, dict):
        return []
    out = []
    for key, raw in structured.items():
        field = canonical_key(str(key))
        if field is not None and raw not in (None, "") and isinstance(raw, str | int):
            out.append((str(key), field, raw))
    return out


def normalize(field: str, raw: Any, default_region: str) -> str | None:
    """The platform value in our canonical form, or None when it is not a usable value of that field."""
    text = str(raw).strip()
    if field == "email":
        value = text.lower()
        return value if is_valid_email(value) else None
    if field == "phone":
        digits = re.sub(r"\D", "", text)
        return to_e164(digits, plus=text.startswith("+"), region=default_region) if digits else None
    return " ".join(text.split()) or None


def same_value(field: str, a: Any, b: Any) -> bool:
    if field in ("email", "phone"):
        return str(a) == str(b)
    return _name_key(str(a)) == _name_key(str(b))


def _name_key(value: str) -> str:
    return re.sub(r"[\s'’.-]", "", value).casefold()


def locate(call: CallRecord, field: str, value: str, default_region: str) -> tuple[Evidence, ...]:
    """Where the value was said, in any turn and by anyone; empty when it was never said."""
    if field == "email":
        return tuple(
            Evidence(i, r.start, e.end)
            for i, turn in enumerate(call.turns)
            for e in find_emails(turn.text)
            for r in e.readings
            if r.value == value
        )
    if field == "phone":
        return tuple(
            Evidence(i, p.start, p.end)
            for i, turn in enumerate(call.turns)
            for p in find_phones(turn.text, default_region)
            if p.e164 == value
        )
    if field == "company":
        return _locate_phrase(call, value)
    return _locate_words(call, value)


def _locate_phrase(call: CallRecord, value: str) -> tuple[Evidence, ...]:
    wanted = [t.text for t in tokenize(value)]
    out = []
    for i, turn in enumerate(call.turns):
        tokens = tokenize(turn.text)
        for k in range(len(tokens) - len(wanted) + 1):
            if wanted and [t.text for t in tokens[k : k + len(wanted)]] == wanted:
                out.append(Evidence(i, tokens[k].start, tokens[k + len(wanted) - 1].end))
    return tuple(out)


def _locate_words(call: CallRecord, value: str) -> tuple[Evidence, ...]:
    """Every word of a name must have been said (or spelled) somewhere; caller turns are preferred."""
    order = sorted(range(len(call.turns)), key=lambda i: call.turns[i].speaker is not Speaker.CALLER)
    out: list[Evidence] = []
    for word in value.split():
        key = _name_key(word)
        hit = None
        for i in order:
            text = call.turns[i].text
            spans = [(t.start, t.end) for t in tokenize(text) if _name_key(t.text) == key]
            spans += [(r.start, r.end) for r in find_spelled_runs(text) if r.letters == key]
            if spans:
                hit = Evidence(i, *spans[0])
                break
        if hit is None:
            return ()
        out.append(hit)
    return tuple(out)


def ground_platform_values(
    call: CallRecord, fields: Mapping[str, FieldValue], *, default_region: str = "US"
) -> dict[str, FieldValue]:
    out = dict(fields)
    for _key, field, raw in platform_values(call):
        value = normalize(field, raw, default_region)
        existing = out.get(field)
        if value is None:
            if existing is None:
                out[field] = _review(field, str(raw), (), "invalid_platform_value")
            continue
        if field in ("full_name", "first_name", "last_name", "company"):
            value = title(value)
        if existing is not None:
            if same_value(field, existing.value, value) and existing.extractor != EXTRACTOR:
                out[field] = _agreed(field, existing)
            continue
        evidence = locate(call, field, value, default_region)
        out[field] = _review(field, value, evidence, "platform_only" if evidence else "not_in_transcript")
    return out


def _agreed(field: str, fv: FieldValue) -> FieldValue:
    confidence = clamp(fv.confidence + AGREEMENT_BOOST)
    status = status_for(field, confidence)
    return FieldValue(
        value=fv.value,
        confidence=confidence,
        evidence=fv.evidence,
        extractor=fv.extractor,
        status=status,
        reason=None if status is FieldStatus.ACCEPTED else fv.reason,
        superseded=fv.superseded,
    )


def _review(field: str, value: str, evidence: tuple[Evidence, ...], reason: str) -> FieldValue:
    # Never accepted whatever its confidence: only words the caller said (or confirmed) are accepted.
    return FieldValue(
        value=value,
        confidence=PLATFORM_ONLY if evidence else 0.0,
        evidence=evidence,
        extractor=EXTRACTOR,
        status=FieldStatus.NEEDS_REVIEW,
        reason=reason,
    )
