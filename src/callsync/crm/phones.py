"""Phone number shapes to look a caller up by: CRMs compare stored strings, and people type numbers in
many shapes."""

from __future__ import annotations

import re

import phonenumbers


def phone_variants(e164: str) -> list[str]:
    """The E.164 number and the shapes people store it in (national, digits, international, ...)."""
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return [e164]
    national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    digits = re.sub(r"\D", "", national)
    intl = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    variants = [e164, national, digits, intl, e164.lstrip("+")]
    if parsed.country_code == 1 and len(digits) == 10:
        variants.append(f"{digits[:3]}-{digits[3:6]}-{digits[6:]}")
    return list(dict.fromkeys(variants))
