"""Check the platform's own extraction against what was actually said.

Voice platforms run their own LLM over the call and report values nobody spoke (a caller-ID number, a
surname the caller never gave, an email one character off, the midpoint of a range, an appointment time
nobody set). DESIGN.md: kept, never trusted blindly. Every value of the platform's analysis is checked
against the transcript's spoken forms: words, spelled letters, numbers said in words, emails and phone
numbers said aloud, dates said relative to the call. The result is reported per key in
`Extraction.platform_values`, and for keys that name a canonical field:

- found nowhere in the transcript → the field (when we have none) is `needs_review`, reason
  "not_in_transcript", with no evidence: it is never accepted, and the empty evidence is the honest record
  that no words stand behind it;
- equal to what our extractor found → our value's confidence rises slightly (two readings agree);
- said in the call but missed by our extractor → added as `needs_review` (reason "platform_only"), with
  evidence where it was said, for a human to decide;
- different from our value → ours stands: it has the caller's words behind it.

Where the analysis lives: `analysis.structured_data` (the generic call JSON, and what the platform adapters
fill from Vapi's structuredData / structured outputs, Retell's custom_analysis_data, Bland's analysis and
ElevenLabs' data collection); payloads that kept the platform's own key names (`structuredData`,
`custom_analysis_data`, `structuredOutputs`, `data_collection_results`) are read too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

from callsync.capture.extract.name import title
from callsync.capture.extract.phone import find_phones, to_e164
from callsync.capture.extract.reference import ids_in
from callsync.capture.extract.spoken import (
    Token,
    find_emails,
    find_numbers,
    find_spelled_runs,
    is_valid_email,
    tokenize,
    word_set,
    words,
)
from callsync.capture.extract.thresholds import clamp, status_for
from callsync.capture.extract.when import find_dates, times_said
from callsync.models import CallRecord, Evidence, FieldStatus, FieldValue, PlatformValue, Speaker

EXTRACTOR = "platform@1"

AGREEMENT_BOOST = 0.05  # the platform's reading matches ours
PLATFORM_ONLY = 0.50  # said in the call, but only the platform picked it as this field

# structured_data keys (lower-case, "_" for spaces) that mean a canonical field. An explicit list: a key
# like "adjuster_name" or "referring_doctor" names someone else and must not become the caller's name.
PLATFORM_KEYS: Mapping[str, frozenset[str]] = {
    "email": word_set(
        "email email_address customer_email caller_email contact_email lead_email patient_email client_email"
    ),
    "phone": word_set("""phone phone_number customer_phone caller_phone contact_phone contact_number mobile
        mobile_number cell cell_phone best_number patient_phone client_phone lead_phone"""),
    "callback_phone": word_set("callback_number callback_phone call_back_number"),
    "full_name": word_set("""name full_name customer_name caller_name contact_name patient_name client_name lead_name
        claimant claimant_name applicant_name candidate_name prospect_name"""),
    "first_name": word_set("first_name firstname given_name"),
    "last_name": word_set("last_name lastname surname family_name"),
    "company": word_set("company company_name business business_name organization organisation employer"),
    "job_title": word_set("job_title title role position job"),
    "amount": word_set("""amount budget price deal_value deal_amount expected_price asking_price disputed_amount
        claim_amount charge_amount deposit"""),
    "date": word_set("date appointment_date booking_date callback_date visit_date demo_date"),
    "time": word_set("time appointment_time booking_time callback_time visit_time"),
    "address": word_set("address street_address service_address home_address mailing_address"),
    "zip": word_set("zip zip_code zipcode postal_code"),
    "reference_id": word_set("""reference reference_number reference_id order_number order_id account_number
        claim_number policy_number confirmation_number ticket_number case_number member_number invoice_number"""),
}
_DATETIME_KEYS = word_set("appointment appointment_datetime datetime booking scheduled_for start_time")
_CONTAINERS = ("structured_data", "structuredData", "custom_analysis_data")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")
_ISO_TIME = re.compile(r"(?:^|T)(\d{1,2}):(\d{2})")
_NUMBER = re.compile(r"^\s*[$£€]?\s*(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?\s*(k|K)?\s*$")


def canonical_key(key: str) -> str | None:
    normalized = _normalize_key(key)
    if normalized in _DATETIME_KEYS:
        return "date"
    return next((field for field, keys in PLATFORM_KEYS.items() if normalized in keys), None)


def _normalize_key(key: str) -> str:
    return re.sub(r"[\s-]+", "_", key.strip().lower())


def platform_values(call: CallRecord) -> list[tuple[str, Any]]:
    """(key, raw value) for every value of the platform's analysis, in the order given."""
    analysis = call.analysis if isinstance(call.analysis, dict) else {}
    out: list[tuple[str, Any]] = []
    for container in _CONTAINERS:
        data = analysis.get(container)
        if isinstance(data, dict):
            out.extend((str(k), v) for k, v in data.items())
    outputs = analysis.get("structuredOutputs")
    if isinstance(outputs, dict):
        for item in outputs.values():
            if isinstance(item, dict) and isinstance(item.get("result"), dict):
                out.extend((str(k), v) for k, v in item["result"].items())
    collected = analysis.get("data_collection_results")
    if isinstance(collected, dict):
        out.extend((str(k), v.get("value")) for k, v in collected.items() if isinstance(v, dict))
    seen: set[str] = set()
    unique = []
    for key, value in out:
        if key not in seen and value not in (None, ""):
            seen.add(key)
            unique.append((key, value))
    return unique


# -- the platform value in our canonical form -----------------------------------------------------------


def _as_number(raw: Any) -> float | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        return float(raw)
    m = _NUMBER.match(str(raw))
    if m is None:
        return None
    value = float(m.group(1).replace(",", "")) + (float("0." + m.group(2)) if m.group(2) else 0.0)
    return value * 1000 if m.group(3) else value


def normalize(field: str, raw: Any, default_region: str) -> Any:
    """The platform value in our canonical form, or None when it is not a usable value of that field."""
    if isinstance(raw, bool | dict | list):
        return None
    text = str(raw).strip()
    if field == "email":
        value = text.lower()
        return value if is_valid_email(value) else None
    if field in ("phone", "callback_phone"):
        digits = re.sub(r"\D", "", text)
        return to_e164(digits, plus=text.startswith("+"), region=default_region) if digits else None
    if field == "amount":
        number = _as_number(raw)
        if number is None:
            return None
        return int(number) if number.is_integer() else number
    if field == "date":
        m = _ISO_DATE.match(text)
        return f"{m.group(1)}-{m.group(2)}-{m.group(3)}" if m else None
    if field == "time":
        m = _ISO_TIME.search(text)
        return f"{int(m.group(1)):02d}:{m.group(2)}" if m else None
    if field == "zip":
        digits = re.sub(r"\D", "", text)
        return digits if len(digits) == 5 else None
    if field == "reference_id":
        value = re.sub(r"[^0-9A-Z]", "", text.upper())
        return value or None
    value = " ".join(text.split())
    if field in ("full_name", "first_name", "last_name", "company"):
        value = title(value)
    return value or None


def same_value(field: str, a: Any, b: Any) -> bool:
    if field == "amount":
        x, y = _as_number(a), _as_number(b)
        return x is not None and y is not None and abs(x - y) < 0.005
    if field in ("email", "phone", "callback_phone", "date", "time", "zip", "reference_id"):
        return str(a) == str(b)
    return _name_key(str(a)) == _name_key(str(b))


def _name_key(value: str) -> str:
    return re.sub(r"[\s'’.,-]", "", re.sub(r"\s*&\s*", " and ", value)).casefold()


# -- was it said? ----------------------------------------------------------------------------------------


def locate(
    call: CallRecord, field: str, value: Any, default_region: str, today: date | None = None
) -> tuple[Evidence, ...]:
    """Where the value was said, in any turn and by anyone; empty when it was never said."""
    if field == "email":
        return tuple(
            Evidence(i, r.start, e.end)
            for i, turn in enumerate(call.turns)
            for e in find_emails(turn.text)
            for r in e.readings
            if r.value == value
        )
    if field in ("phone", "callback_phone"):
        return tuple(
            Evidence(i, p.start, p.end)
            for i, turn in enumerate(call.turns)
            for p in find_phones(turn.text, default_region)
            if p.e164 == value
        )
    if field == "amount":
        return _locate_number(call, float(value))
    if field == "date":
        return _locate_date(call, str(value), today)
    if field == "time":
        return _locate_time(call, str(value), today)
    if field == "company":
        return _locate_phrase(call, str(value))
    if field == "reference_id":
        return _locate_reference(call, str(value))
    return _locate_words(call, str(value))


def _locate_reference(call: CallRecord, value: str) -> tuple[Evidence, ...]:
    out = []
    for i, turn in enumerate(call.turns):
        for found, start, end in ids_in(turn.text):
            if found == value:
                out.append(Evidence(i, start, end))
    return tuple(out)


def _phrase_tokens(text: str) -> list[Token]:
    """Tokens of a name as said, "&" and "and" alike ("Smith & Sons" is said "smith and sons")."""
    return [t for t in tokenize(text) if t.text != "and"]


def said_forms_match(value: str, text: str) -> bool:
    """Is the phrase `value` said in `text` (word for word, "&" and "and" alike)?"""
    wanted = [t.text for t in _phrase_tokens(value)]
    said = [t.text for t in _phrase_tokens(text)]
    return bool(wanted) and any(
        said[k : k + len(wanted)] == wanted for k in range(len(said) - len(wanted) + 1)
    )


def _locate_phrase(call: CallRecord, value: str) -> tuple[Evidence, ...]:
    wanted = [t.text for t in _phrase_tokens(value)]
    out = []
    for i, turn in enumerate(call.turns):
        tokens = _phrase_tokens(turn.text)
        for k in range(len(tokens) - len(wanted) + 1):
            if wanted and [t.text for t in tokens[k : k + len(wanted)]] == wanted:
                out.append(Evidence(i, tokens[k].start, tokens[k + len(wanted) - 1].end))
    return tuple(out)


def _locate_words(call: CallRecord, value: str) -> tuple[Evidence, ...]:
    """Every word and number of the value must have been said (or spelled) somewhere; caller turns first.

    "2019 Accord" was said as "twenty nineteen accord"; "RAV4" as "rav four"; "Mary-Kate" as "mary dash kate"."""
    order = sorted(range(len(call.turns)), key=lambda i: call.turns[i].speaker is not Speaker.CALLER)
    out: list[Evidence] = []
    chunks = re.findall(r"[^\W\d_]+|\d+(?:\.\d+)?", value.casefold())
    if not chunks:
        return ()
    for chunk in chunks:
        hit = (
            _said_number(call, order, float(chunk)) if chunk[0].isdigit() else _said_word(call, order, chunk)
        )
        if hit is None:
            return ()
        out.append(hit)
    return tuple(out)


def _said_word(call: CallRecord, order: list[int], word: str) -> Evidence | None:
    key = _name_key(word)
    for i in order:
        text = call.turns[i].text
        if key in words(text):  # tokens are already lower-case, without apostrophes
            t = next(t for t in tokenize(text) if t.text == key)
            return Evidence(i, t.start, t.end)
        for r in find_spelled_runs(text):
            if r.letters == key:
                return Evidence(i, r.start, r.end)
    return None


def _said_number(call: CallRecord, order: list[int], value: float) -> Evidence | None:
    for i in order:
        text = call.turns[i].text
        for n in find_numbers(text):
            if any(abs(r - value) < 0.005 for r in n.readings):
                return Evidence(i, n.start, n.end)
        for t in tokenize(text):
            if t.text.isdigit() and float(t.text) == value:
                return Evidence(i, t.start, t.end)
    return None


def _locate_number(call: CallRecord, value: float) -> tuple[Evidence, ...]:
    hit = _said_number(call, list(range(len(call.turns))), value)
    return (hit,) if hit is not None else ()


def _locate_date(call: CallRecord, value: str, today: date | None) -> tuple[Evidence, ...]:
    if today is None:
        return ()
    out = []
    for i, turn in enumerate(call.turns):
        for d in find_dates(turn.text, today):
            if value in (d.value.isoformat(), *(a.isoformat() for a in d.alternatives)):
                out.append(Evidence(i, d.start, d.end))
    return tuple(out)


def _locate_time(call: CallRecord, value: str, today: date | None) -> tuple[Evidence, ...]:
    hour, minute = (int(x) for x in value.split(":"))
    out = []
    for i in range(len(call.turns)):
        for t in times_said(call, i, today):
            if t.minute == minute and (t.hour == hour or (not t.half_day_known and t.hour % 12 == hour % 12)):
                out.append(Evidence(i, t.start, t.end))
    return tuple(out)


def _locate_any(
    call: CallRecord, raw: Any, default_region: str, today: date | None
) -> tuple[Evidence, ...] | None:
    """Spoken evidence for a value of a key we do not map; None when the value cannot be checked."""
    if isinstance(raw, bool) or raw is None or isinstance(raw, dict | list):
        return None
    number = _as_number(raw)
    if number is not None:
        return _locate_number(call, number)
    text = str(raw).strip()
    if is_valid_email(text.lower()):
        return locate(call, "email", text.lower(), default_region)
    if _ISO_DATE.match(text):
        found = _locate_date(call, _ISO_DATE.match(text).group(0), today)  # type: ignore[union-attr]
        time = _ISO_TIME.search(text)
        if found and time:
            found_time = _locate_time(call, f"{int(time.group(1)):02d}:{time.group(2)}", today)
            return found + found_time if found_time else ()
        return found
    if re.fullmatch(r"\d{1,2}:\d{2}(\s*[ap]m)?", text, re.IGNORECASE):
        m = _ISO_TIME.search(text)
        assert m is not None
        hour = int(m.group(1)) + (12 if text.lower().endswith("pm") and int(m.group(1)) < 12 else 0)
        return _locate_time(call, f"{hour:02d}:{m.group(2)}", today)
    digits = re.sub(r"\D", "", text)
    if len(digits) >= 7 and re.fullmatch(r"[\d\s()+.-]+", text):
        e164 = to_e164(digits, plus=text.startswith("+"), region=default_region)
        return locate(call, "phone", e164, default_region) if e164 else ()

    return _locate_words(call, text)


# -- applying the check ---------------------------------------------------------------------------------


def _items(call: CallRecord, default_region: str) -> Iterator[tuple[str, Any, str | None, Any]]:
    """(key, raw, canonical field, normalized value) for each platform value; datetimes split in two."""
    for key, raw in platform_values(call):
        normalized_key = _normalize_key(key)
        if normalized_key in _DATETIME_KEYS:
            yield key, raw, "date", normalize("date", raw, default_region)
            if _ISO_TIME.search(str(raw)):
                yield key, raw, "time", normalize("time", raw, default_region)
            continue
        field = canonical_key(key)
        yield key, raw, field, normalize(field, raw, default_region) if field else None


def ground_platform_values(
    call: CallRecord,
    fields: Mapping[str, FieldValue],
    *,
    default_region: str = "US",
    today: date | None = None,
) -> tuple[dict[str, FieldValue], tuple[PlatformValue, ...]]:
    """Our fields after the check, and the per-key report."""
    out = dict(fields)
    report: list[PlatformValue] = []
    for key, raw, field, value in _items(call, default_region):
        if field is None:
            evidence = _locate_any(call, raw, default_region, today)
            if evidence is None:
                report.append(PlatformValue(key, raw, None, False, "not_checkable", "none"))
            else:
                reason = "said" if evidence else "not_in_transcript"
                report.append(PlatformValue(key, raw, None, bool(evidence), reason, "none", evidence))
            continue
        existing = out.get(field)
        if value is None:
            if existing is None and not isinstance(raw, bool):
                out[field] = _review(field, str(raw), (), "invalid_platform_value")
                report.append(
                    PlatformValue(key, raw, field, False, "invalid_platform_value", "added_for_review")
                )
            else:
                report.append(PlatformValue(key, raw, field, False, "invalid_platform_value", "none"))
            continue
        evidence = locate(call, field, value, default_region, today)
        reason = "said" if evidence else "not_in_transcript"
        if existing is not None:
            if same_value(field, existing.value, value) and existing.extractor != EXTRACTOR:
                out[field] = _agreed(field, existing)
                effect = "raised_confidence"
            else:
                effect = "kept_ours"
            report.append(PlatformValue(key, raw, field, bool(evidence), reason, effect, evidence))
            continue
        out[field] = _review(field, value, evidence, "platform_only" if evidence else "not_in_transcript")
        report.append(PlatformValue(key, raw, field, bool(evidence), reason, "added_for_review", evidence))
    return out, tuple(report)


def _agreed(field: str, fv: FieldValue) -> FieldValue:
    confidence = clamp(fv.confidence + AGREEMENT_BOOST)
    status = status_for(field, confidence)
    if fv.status is FieldStatus.NEEDS_REVIEW and fv.reason in ("range", "ambiguous_reading"):
        status = FieldStatus.NEEDS_REVIEW  # a reading only a person can settle stays with a person
    return FieldValue(
        value=fv.value,
        confidence=confidence,
        evidence=fv.evidence,
        extractor=fv.extractor,
        status=status,
        reason=None if status is FieldStatus.ACCEPTED else fv.reason,
        superseded=fv.superseded,
    )


def _review(field: str, value: Any, evidence: tuple[Evidence, ...], reason: str) -> FieldValue:
    # Never accepted whatever its confidence: only words the caller said (or confirmed) are accepted.
    return FieldValue(
        value=value,
        confidence=PLATFORM_ONLY if evidence else 0.0,
        evidence=evidence,
        extractor=EXTRACTOR,
        status=FieldStatus.NEEDS_REVIEW,
        reason=reason,
    )
