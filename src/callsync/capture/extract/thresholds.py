"""The one place that decides when an extracted value is good enough to be written without review.

A value is `accepted` only when its confidence reaches the threshold of its field; anything below waits in
the review queue as `needs_review`. Contact fields are the identity keys later stages match CRM records on
(DESIGN.md stage 5), so a wrong accepted value there merges two people: their bar is set so that a value
the caller said once, clearly, passes, and anything the extractors mark as a guess (an ambiguous email
boundary, a one-word name nobody echoed, a change with no correction marker) does not.

Confidence scales used by the extractors (see each module):
- 0.80-0.85  the caller said it once in an unambiguous form
- +0.05      the agent repeated it and the caller did not object
- +0.12      the agent read it back and the caller confirmed
- <= 0.60    the extractor is guessing (ambiguous words, unmarked change, conflicting evidence)
"""

from __future__ import annotations

from types import MappingProxyType

from callsync.models import FieldStatus

FIELD_THRESHOLDS: MappingProxyType[str, float] = MappingProxyType(
    {
        "email": 0.80,
        "phone": 0.80,
        "phone_extension": 0.80,
        "callback_phone": 0.80,
        "full_name": 0.80,
        "first_name": 0.80,
        "last_name": 0.80,
        "company": 0.80,
        "job_title": 0.80,
        "amount": 0.80,
        "amount_range": 0.80,
        "currency": 0.80,
        "address": 0.80,
        "zip": 0.80,
        "reference_id": 0.80,
        "date": 0.80,
        "time": 0.80,
        # The caller's line (caller_id.py): not speech, so its bar is the same as a phone number said once.
        "caller_id": 0.80,
    }
)

# A field with no declared threshold is never auto-accepted: adding a field family means declaring its bar here.
_UNDECLARED = 1.01


def threshold_for(field: str) -> float:
    return FIELD_THRESHOLDS.get(field, _UNDECLARED)


def status_for(field: str, confidence: float) -> FieldStatus:
    # Rounded so that sums such as 0.75 + 0.05 compare as the 0.80 they mean.
    return FieldStatus.ACCEPTED if round(confidence, 6) >= threshold_for(field) else FieldStatus.NEEDS_REVIEW


def clamp(confidence: float) -> float:
    """Confidence stays inside (0, 0.99]: no extractor reading speech is ever certain."""
    return max(0.0, min(0.99, confidence))
