"""Stage 1 extraction: a CallRecord's transcript → canonical fields with value, confidence, evidence, status.

One module per field family (name, email, phone, company, labels), shared spoken-form normalizers
(spoken), shared conversation mechanics (dialogue: read-backs, confirmations, corrections), the platform
cross-check (grounding), and the acceptance thresholds in one place (thresholds).

The promise every module keeps: a value is caller data only if the caller said it, or confirmed the agent's
read-back of it; every value points at the words that produced it; and it is accepted only when its
confidence reaches its field's threshold, else it waits for review. Pure functions: no I/O.
"""

from __future__ import annotations

from callsync.capture.extract.company import extract_company
from callsync.capture.extract.email import extract_email
from callsync.capture.extract.grounding import ground_platform_values
from callsync.capture.extract.labels import classify_intent, classify_outcome, classify_sentiment
from callsync.capture.extract.name import extract_names
from callsync.capture.extract.phone import extract_phone
from callsync.capture.extract.spoken import shared_analysis
from callsync.capture.extract.thresholds import FIELD_THRESHOLDS, status_for
from callsync.models import CANONICAL_FIELDS, CallRecord, Extraction, FieldValue

# Bumped when any extractor changes what it emits for the same call (recorded in the audit ledger).
EXTRACTOR_VERSION = "1"

__all__ = ["EXTRACTOR_VERSION", "FIELD_THRESHOLDS", "extract_call", "status_for"]


def extract_call(call: CallRecord, *, default_region: str = "US") -> Extraction:
    """Extract the caller's fields and the call's labels. Fields not found are absent, never null."""
    with shared_analysis():
        return _extract(call, default_region)


def _extract(call: CallRecord, default_region: str) -> Extraction:
    fields: dict[str, FieldValue] = {}
    fields.update(extract_names(call))
    email = extract_email(call)
    if email is not None:
        fields["email"] = email
    fields.update(extract_phone(call, default_region=default_region))
    company = extract_company(call)
    if company is not None:
        fields["company"] = company
    fields = ground_platform_values(call, fields, default_region=default_region)
    # Field order is the canonical order, so JSON output is stable and diffable.
    ordered = {name: fields[name] for name in CANONICAL_FIELDS if name in fields}
    return Extraction(
        call_id=call.call_id,
        fields=ordered,
        intent=classify_intent(call),
        outcome=classify_outcome(call),
        sentiment=classify_sentiment(call),
    )
