"""Stage 1 extraction: a CallRecord's transcript → canonical fields with value, confidence, evidence, status.

One module per field family: name, email, phone, callback (callback_phone), company, job_title, amount
(amount, amount_range, currency), when (date, time), address (address, zip), reference (reference_id),
labels (intent, outcome, sentiment). Shared spoken-form normalizers and their inverse renderers (spoken),
shared conversation mechanics (dialogue: read-backs, confirmations, corrections), the platform cross-check
(grounding), the caller's line as a value of its own (caller_id: source `caller_id`, never `phone`), and the
acceptance thresholds in one place (thresholds). docs/extraction.md describes the
contract, the confidence scale and every status and reason.

The promise every module keeps: a value is caller data only if the caller said it, or confirmed the agent's
read-back of it; every value points at the words that produced it; and it is accepted only when its
confidence reaches its field's threshold, else it waits for review. Pure functions: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable

from callsync.capture.extract.address import extract_address
from callsync.capture.extract.amount import extract_amount
from callsync.capture.extract.calibration import calibrate
from callsync.capture.extract.callback import extract_callback
from callsync.capture.extract.caller_id import extract_caller_id
from callsync.capture.extract.company import extract_company
from callsync.capture.extract.email import extract_email
from callsync.capture.extract.grounding import ground_platform_values
from callsync.capture.extract.job_title import extract_job_title
from callsync.capture.extract.labels import classify_intent, classify_outcome, classify_sentiment
from callsync.capture.extract.name import extract_names
from callsync.capture.extract.phone import extract_phone
from callsync.capture.extract.reference import extract_reference
from callsync.capture.extract.spoken import shared_analysis
from callsync.capture.extract.thresholds import FIELD_THRESHOLDS, status_for
from callsync.capture.extract.when import extract_when, local_today
from callsync.capture.extract.word_confidence import review_doubtful
from callsync.models import CANONICAL_FIELDS, CallRecord, Extraction, FieldStatus, FieldValue, Speaker

# Bumped when any extractor changes what it emits for the same call (recorded in the audit ledger).
EXTRACTOR_VERSION = "77"

__all__ = ["EXTRACTOR_VERSION", "FIELD_THRESHOLDS", "extract_call", "status_for"]


def extract_call(
    call: CallRecord,
    *,
    default_region: str = "US",
    default_timezone: str = "UTC",
    own_numbers: Iterable[str] = (),
    calibrated: bool = True,
    word_confidence: bool = True,
) -> Extraction:
    """Extract the caller's fields and the call's labels. Fields not found are absent, never null.

    `default_region` is the tenant's country (phone numbers without a country code, the default currency);
    `default_timezone` the tenant's IANA zone, used for relative dates when the call carries no `timezone`;
    `own_numbers` the tenant's own lines (`TenantConfig.numbers`): a caller ID equal to one of them is never
    the caller's (nor is a withheld one, nor the business's side of this call), see caller_id.py.
    `calibrated` (default) maps confidences to measured precision (capture/calibration.py); False gives the
    rules' raw confidences, which is what the calibration is fitted on. `word_confidence` (default) sends
    values resting on words the recognizer doubted to review (word_confidence.py); False skips that check,
    which is what its bars are fitted on.
    """
    with shared_analysis():
        extraction = _extract(call, default_region, default_timezone, tuple(own_numbers), word_confidence)
        return calibrate(call, extraction) if calibrated else extraction


def _arranged(fields: dict[str, FieldValue]) -> bool:
    """Did the call settle a date with the agent (booked, or an offer taken), not merely ask for one?"""
    day = fields.get("date")
    return day is not None and day.status is FieldStatus.ACCEPTED


def _arranged_by_agent(call: CallRecord, fields: dict[str, FieldValue]) -> tuple[int, ...]:
    """The agent's turns behind an accepted date: where the call says the day was arranged."""
    if not _arranged(fields):
        return ()
    day = fields["date"]
    turns = {e.turn for e in day.evidence if e.in_transcript and 0 <= e.turn < len(call.turns)}
    return tuple(sorted(t for t in turns if call.turns[t].speaker is Speaker.AGENT))


def _extract(
    call: CallRecord,
    default_region: str,
    default_timezone: str,
    own_numbers: tuple[str, ...],
    word_confidence: bool = True,
) -> Extraction:
    fields: dict[str, FieldValue] = {}
    fields.update(extract_names(call))
    email = extract_email(call)
    if email is not None:
        fields["email"] = email
    fields.update(extract_phone(call, default_region=default_region))
    callback = extract_callback(call, default_region=default_region)
    if callback is not None:
        fields["callback_phone"] = callback
    company = extract_company(call)
    if company is not None:
        fields["company"] = company
    job_title = extract_job_title(call)
    if job_title is not None:
        fields["job_title"] = job_title
    fields.update(extract_amount(call, default_region=default_region))
    fields.update(extract_when(call, default_timezone=default_timezone))
    fields.update(extract_address(call))
    reference = extract_reference(call)
    if reference is not None:
        fields["reference_id"] = reference
    # The recognizer's own word confidence, when the payload carries it: doubtful words mean review.
    if word_confidence:
        fields = review_doubtful(call, fields)
    fields, platform = ground_platform_values(
        call, fields, default_region=default_region, today=local_today(call, default_timezone)
    )
    # Not speech: added after the platform cross-check, which compares the platform's values with words.
    caller_id = extract_caller_id(call, own_numbers, default_region)
    if caller_id is not None:
        fields["caller_id"] = caller_id
    # Field order is the canonical order, so JSON output is stable and diffable.
    ordered = {name: fields[name] for name in CANONICAL_FIELDS if name in fields}
    return Extraction(
        call_id=call.call_id,
        fields=ordered,
        intent=classify_intent(call, arranged=_arranged(fields)),
        outcome=classify_outcome(call, arranged=_arranged_by_agent(call, fields)),
        sentiment=classify_sentiment(call),
        platform_values=platform,
    )
