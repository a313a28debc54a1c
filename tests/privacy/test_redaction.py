"""redaction.py: contacts masked in logs and reasons, cards and SSNs masked in stored text."""

from __future__ import annotations

import json
import logging

from hypothesis import given
from hypothesis import strategies as st

from callsync.redaction import (
    RedactingFilter,
    keyed_hash,
    luhn_valid,
    mask_contacts,
    mask_payload,
    mask_sensitive,
    redact_event,
)

_LOCAL = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789._", min_size=1, max_size=20).filter(
    lambda s: s[0].isalnum() and s[-1].isalnum()
)
_DOMAIN = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=12)
_WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz ,.!?", max_size=40)


def _luhn_complete(prefix: str) -> str:
    for check in "0123456789":
        if luhn_valid(prefix + check):
            return prefix + check
    raise AssertionError("unreachable")


@given(_WORDS, _LOCAL, _DOMAIN, _WORDS)
def test_an_email_anywhere_in_a_line_is_masked(before: str, local: str, domain: str, after: str) -> None:
    email = f"{local}@{domain}.com"
    out = mask_contacts(f"{before} {email} {after}")
    assert email not in out and "[email]" in out


@given(_WORDS, st.integers(2, 9), st.text(alphabet="0123456789", min_size=9, max_size=9), _WORDS,
       st.sampled_from(["+1{a}{n}", "+1 ({a}) {b}-{c}", "{a}-{b}-{c}", "{a}.{b}.{c}", "({a}) {b} {c}"]))  # fmt: skip
def test_a_phone_number_in_any_usual_format_is_masked(
    before: str, area: int, rest: str, after: str, shape: str
) -> None:
    a, n = f"{area}{rest[:2]}", rest[2:]
    phone = shape.format(a=a, n=n, b=n[:3], c=n[3:])
    out = mask_contacts(f"{before} {phone} {after}")
    assert phone not in out and "[phone]" in out
    assert "".join(c for c in out if c.isdigit()) == ""


def test_amounts_dates_and_short_numbers_are_left_alone() -> None:
    text = "budget 50000 USD on 2026-11-20, order 1234, 3 seats"
    assert mask_contacts(text) == text


@given(st.text(alphabet="0123456789", min_size=12, max_size=18), st.sampled_from([" ", "-", ""]), _WORDS)
def test_a_luhn_valid_card_number_is_masked_written_or_grouped(prefix: str, sep: str, words: str) -> None:
    card = _luhn_complete(prefix)
    grouped = sep.join(card[i : i + 4] for i in range(0, len(card), 4))
    out = mask_sensitive(f"{words} my card is {grouped} thanks")
    assert "[card]" in out and card not in out.replace(sep, "")


def test_a_spoken_card_number_is_masked() -> None:
    words = "four one one one one one one one one one one one one one one one"
    assert mask_sensitive(f"sure, it's {words}, expiry next May") == "sure, it's [card], expiry next May"


def test_a_number_that_fails_luhn_is_not_taken_for_a_card() -> None:
    assert mask_sensitive("order 4111111111111112 shipped") == "order 4111111111111112 shipped"


def test_social_security_numbers_are_masked_written_and_spoken() -> None:
    assert mask_sensitive("SSN 123-45-6789.") == "SSN [ssn]."
    spoken = "my social security number is one two three four five six seven eight nine"
    assert mask_sensitive(spoken) == "my social security number is [ssn]"
    assert mask_sensitive("we have 123456789 widgets") == "we have 123456789 widgets"


def test_tenant_patterns_are_masked_too() -> None:
    assert mask_sensitive("member id MRN-88213 confirmed", [r"MRN-\d+"]) == "member id [redacted] confirmed"


def test_payload_masking_keeps_json_shape_ids_and_times() -> None:
    payload = json.dumps({"call_id": "1732136580000", "started_at": "4111111111111111",
                          "turns": [{"speaker": "caller", "text": "card 4111 1111 1111 1111 ok"}]})  # fmt: skip
    out = json.loads(mask_payload(payload))
    assert out["call_id"] == "1732136580000" and out["started_at"] == "4111111111111111"
    assert out["turns"][0]["text"] == "card [card] ok"


def test_payload_without_anything_sensitive_is_kept_byte_for_byte() -> None:
    payload = '{"call_id":  "c-1", "turns": [{"text": "hi, dana@x.com here"}]}'
    assert mask_payload(payload) is payload


def test_structlog_processor_masks_contacts_and_drops_transcript_text() -> None:
    event = redact_event(None, "debug", {"event": "matched dana@x.com", "phone": "+14155550123",
                                        "text": "Hi, it's Dana", "extra": {"emails": ["a@b.io"]}, "n": 3})  # fmt: skip
    assert event == {"event": "matched [email]", "phone": "[phone]", "text": "[text removed]",
                     "extra": {"emails": ["[email]"]}, "n": 3}  # fmt: skip


def test_logging_filter_masks_message_arguments_and_exceptions() -> None:
    try:
        raise ValueError("no contact for dana@x.com")
    except ValueError:
        import sys

        record = logging.LogRecord("t", logging.ERROR, __file__, 1, "call from %s", ("+14155550123",),
                                   sys.exc_info())  # fmt: skip
    assert RedactingFilter().filter(record)
    assert record.getMessage() == "call from [phone]"
    assert record.exc_text is not None and "dana@x.com" not in record.exc_text and "[email]" in record.exc_text


def test_keyed_hash_depends_on_key_and_value_and_hides_the_value() -> None:
    h = keyed_hash(b"k1", "dana@x.com")
    assert h.startswith("hmac:") and "dana" not in h
    assert h == keyed_hash(b"k1", "dana@x.com") != keyed_hash(b"k2", "dana@x.com") != keyed_hash(b"k1", "x")


def test_percent_encoded_emails_and_numbers_in_a_logged_request_url_are_masked() -> None:
    """httpx logs each request's URL: a CRM search by email or number carries them percent-encoded."""
    from callsync.redaction import mask_contacts

    line = 'GET http://crm/contacts/search/duplicate?email=owen.okafor%40orchard.com&number=%2B13125553022 "200"'
    masked = mask_contacts(line)
    assert "orchard" not in masked and "3125553022" not in masked
    assert masked.startswith("GET http://crm/contacts/search/duplicate?email=")
    soql = "GET /query?q=SELECT+Id+FROM+Lead+WHERE+Phone+IN+%28%27%2B13125553022%27%2C+%27%28312%29+555-3022%27%29"
    assert "3022" not in mask_contacts(soql) and "312" not in mask_contacts(soql)
    zoho = "GET /crm/v8/Leads/search?criteria=%28%28Phone%3Aequals%3A3125553022%29or%28Phone%3Aequals%3A%2B1+312-555-3022%29%29"
    assert "3022" not in mask_contacts(zoho) and "312-" not in mask_contacts(zoho)
    assert mask_contacts("100% of 20 calls") == "100% of 20 calls", "a plain percent sign is left alone"
