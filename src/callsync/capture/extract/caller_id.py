"""The caller's line as a contact value: the `from` of an inbound call, the `to` of an outbound one.

Nobody says it, so it is not a transcript value: its evidence has source `caller_id` and points at no turn.
It is used only when it is a real, dialable number of someone other than the business:

- withheld or anonymous lines never count: words ("anonymous", "restricted", "private", "unknown"), the
  carriers' keypad spellings of them (Twilio's +266696687 ANONYMOUS, +7378742833 RESTRICTED, +8656696
  UNKNOWN, +2562533 BLOCKED), SIP or client addresses, and anything that is not a valid number;
- the tenant's own numbers (`TenantConfig.numbers`, passed in as `own_numbers`) and the business's side of
  this very call never count: a test call from the office line is not a customer's phone.

A number the caller speaks is a separate value (the `phone` field) and wins over this one wherever both
could fill a CRM field (structure/payload.py); the caller ID still serves as an identity key.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import phonenumbers

from callsync.capture.extract.spoken import memo
from callsync.capture.extract.thresholds import status_for
from callsync.models import CallRecord, Direction, Evidence, FieldStatus, FieldValue

EXTRACTOR = "caller_id@1"

# The network says which line called; whether that line is the person's own phone (not a shared office
# line, not a borrowed one) is less certain than a number they read out and confirmed.
CALLER_ID_CONFIDENCE = 0.90

# Keypad spellings carriers and platforms put in `from` when the caller withheld their number.
WITHHELD_NUMBERS = frozenset(
    {
        "+266696687",  # ANONYMOUS
        "+7378742833",  # RESTRICTED
        "+8656696",  # UNKNOWN
        "+2562533",  # BLOCKED
    }
)
# Only digits and the separators people and platforms write numbers with: letters are never a number here
# (phonenumbers would read "RESTRICTED" as a vanity number).
_DIALABLE = re.compile(r"\+?[0-9 ().\-]*[0-9][0-9 ().\-]*")


def normalize_line(raw: str | None, region: str) -> str | None:
    """E.164 for a line as a platform reports it, or None when it is withheld or not a valid number."""
    if raw is None:
        return None
    # Once per line within one extraction (never kept between calls: spoken.shared_analysis).
    return memo(f"line|{region}", raw, 0, lambda: _normalize_line(raw, region))


def _normalize_line(raw: str, region: str) -> str | None:
    text = raw.strip()
    if text.lower().startswith("tel:"):
        text = text[4:]
    if not _DIALABLE.fullmatch(text):
        return None
    try:
        parsed = phonenumbers.parse(text, None if text.startswith("+") else region)
    except phonenumbers.NumberParseException:
        return None
    e164 = str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))
    if e164 in WITHHELD_NUMBERS or not phonenumbers.is_valid_number(parsed):
        return None
    return e164


def business_side(call: CallRecord) -> str | None:
    """The business's line of this call: `to` on inbound calls, `from` on outbound ones."""
    return call.to_number if call.direction is Direction.INBOUND else call.from_number


def usable_caller_id(call: CallRecord, own_numbers: Iterable[str] = (), region: str = "US") -> str | None:
    """The caller's line in E.164 when it may serve as their phone and identity key, else None."""
    line = normalize_line(call.caller_line, region)
    if line is None:
        return None
    own = {n for n in (normalize_line(o, region) for o in (*own_numbers, business_side(call))) if n}
    return None if line in own else line


def extract_caller_id(
    call: CallRecord, own_numbers: Iterable[str] = (), default_region: str = "US"
) -> FieldValue | None:
    line = usable_caller_id(call, own_numbers, default_region)
    if line is None:
        return None
    status = status_for("caller_id", CALLER_ID_CONFIDENCE)
    return FieldValue(
        value=line,
        confidence=CALLER_ID_CONFIDENCE,
        evidence=(Evidence.caller_id(),),
        extractor=EXTRACTOR,
        status=status,
        reason=None if status is FieldStatus.ACCEPTED else "low_confidence",
    )
