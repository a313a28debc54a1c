"""Masking personal and sensitive data (pure: text in, text out). docs/privacy.md says where each is used.

Three families:
- `mask_contacts`: emails and phone numbers → `[email]`, `[phone]` (log lines, exception messages,
  dead-letter reasons, review reasons);
- `mask_sensitive`: card numbers (Luhn-valid, 13-19 digits, written or spoken), US social security numbers
  and a tenant's own patterns → `[card]`, `[ssn]`, `[redacted]` (stored transcripts, before the call row is
  committed);
- `keyed_hash`: an HMAC of a removed value, so the audit trail can still prove *which* value it was to
  someone who holds it, without keeping it.

`redact_event` is a structlog processor and `RedactingFilter` a stdlib logging filter built on these.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from typing import Any
from urllib.parse import unquote_plus

__all__ = [
    "RedactingFilter",
    "install_log_redaction",
    "keyed_hash",
    "luhn_valid",
    "mask_contacts",
    "mask_payload",
    "mask_sensitive",
    "redact_event",
    "redact_value",
    "sentence_around",
]

EMAIL_MASK = "[email]"
PHONE_MASK = "[phone]"
CARD_MASK = "[card]"
SSN_MASK = "[ssn]"
PATTERN_MASK = "[redacted]"
TEXT_MASK = "[text removed]"

# Also percent-encoded (`%40`, `%2B`), as in the query string of a search request that a client library logs.
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+(?:@|%40)[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
# A phone number: an optional +, then 7-15 digits with the usual separators (space, dot, dash, parens).
_PHONE = re.compile(r"(?<![\w+])(?:\+|%2[Bb])?\(?\d(?:[\s().\-]{0,2}\d){6,14}(?![\w])")
_DATE = re.compile(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{4}")

_DIGIT_WORDS = {
    "zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
    "six": "6", "seven": "7", "eight": "8", "nine": "9",
}  # fmt: skip
_DIGIT_TOKEN = r"(?:\d|zero|oh|one|two|three|four|five|six|seven|eight|nine)"
# A run of digits or spoken digits joined by spaces, dashes, dots or commas ("4111 1111 ...",
# "four one one one, one one ..."), or by nothing ("41111111", "fourone"). One way to split a run only: a second
# way to join two tokens by nothing made a run of n digits followed by a letter cost 2^n steps.
_DIGIT_RUN = re.compile(rf"(?<![\w]){_DIGIT_TOKEN}(?:[\s,.\-]{{0,3}}{_DIGIT_TOKEN})*(?![\w])", re.IGNORECASE)
_SSN_WRITTEN = re.compile(r"(?<!\d)(?!000|666|9\d\d)\d{3}[- ](?!00)\d{2}[- ](?!0000)\d{4}(?!\d)")
# The same two patterns for ASCII text (nearly every transcript), written so that Python's regex engine spends
# less per position of text: masking was a quarter of the CPU time a webhook costs. The SSN one starts at a
# digit other than 9 and checks the character before it and the 000/666 area afterwards instead of starting
# with lookarounds; the run one is _DIGIT_RUN without IGNORECASE, applied to the lowercased text (same length,
# same positions). On ASCII text they match exactly what the others match (property tests).
_SSN_WRITTEN_ASCII = re.compile(r"[0-8](?<!\d[0-8])\d\d(?<!000)(?<!666)[- ](?!00)\d\d[- ](?!0000)\d{4}(?!\d)")
_DIGIT_RUN_LOWER = re.compile(rf"(?<![\w]){_DIGIT_TOKEN}(?:[\s,.\-]{{0,3}}{_DIGIT_TOKEN})*(?![\w])")
_SSN_CONTEXT = re.compile(r"(social\s+security|\bssn\b|\bsocial\b)", re.IGNORECASE)

# Keys whose string values are identifiers or times, never spoken words (a 13-digit epoch-ms time is
# sometimes Luhn-valid).
_ID_KEY = re.compile(r"(?:^|_)(?:id|sid|uuid|at|time|timestamp|ts)$|(?:Id|Sid|At|Time)$")
# Keys structlog fills itself (when, how severe, which logger): never personal data.
_PLAIN_KEYS = frozenset({"timestamp", "level", "logger", "log_level"})
# Keys whose values are spoken or written words: masked whole in log events.
_TEXT_KEYS = frozenset(
    {"text", "transcript", "sentence", "turns", "raw_payload", "payload", "message_text", "utterance",
     "summary", "quote", "content", "body"}
)  # fmt: skip


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum of a string of digits (the check every card number passes)."""
    if not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _digits_of(run: str) -> str:
    out = []
    for token in re.findall(rf"{_DIGIT_TOKEN}", run, re.IGNORECASE):
        out.append(token if token.isdigit() else _DIGIT_WORDS[token.lower()])
    return "".join(out)


def _run_mask(text: str, start: int, run: str) -> str | None:
    """The mask for a run of digits found at `start` of `text`, or None when it stays."""
    if len(run) < 9:  # fewer than 9 digits, said or written (a year, a count): most runs
        return None
    digits = _digits_of(run)
    if 13 <= len(digits) <= 19 and luhn_valid(digits):
        return CARD_MASK
    if len(digits) == 9 and _SSN_CONTEXT.search(text[max(0, start - 60) : start]):
        return SSN_MASK
    return None


def _mask_runs(text: str) -> str:
    if text.isascii():  # the common case, found faster (_DIGIT_RUN_LOWER)
        pieces: list[str] = []
        end = 0
        for match in _DIGIT_RUN_LOWER.finditer(text.lower()):
            start = match.start()
            mask = _run_mask(text, start, text[start : match.end()])
            if mask is not None:
                pieces += (text[end:start], mask)
                end = match.end()
        return "".join(pieces) + text[end:] if pieces else text

    def replace(match: re.Match[str]) -> str:
        run = match.group(0)
        return _run_mask(text, match.start(), run) or run

    return _DIGIT_RUN.sub(replace, text)


def mask_sensitive(text: str, patterns: Iterable[str | re.Pattern[str]] = ()) -> str:
    """`text` with card numbers, US social security numbers and the given patterns (regular expressions)
    masked. Card numbers are masked only when Luhn-valid (an order number of 16 digits stays)."""
    out = (_SSN_WRITTEN_ASCII if text.isascii() else _SSN_WRITTEN).sub(SSN_MASK, text)
    out = _mask_runs(out)
    for pattern in patterns:
        out = re.sub(pattern, PATTERN_MASK, out)
    return out


def _mask_json(value: Any, patterns: tuple[str | re.Pattern[str], ...], key: str = "") -> Any:
    if isinstance(value, str):
        return value if _ID_KEY.search(key) else mask_sensitive(value, patterns)
    if isinstance(value, list):
        return [_mask_json(v, patterns, key) for v in value]
    if isinstance(value, dict):
        return {k: _mask_json(v, patterns, str(k)) for k, v in value.items()}
    return value


def mask_payload(raw_payload: str, patterns: Iterable[str | re.Pattern[str]] = ()) -> str:
    """A received payload with sensitive values masked in its text. JSON keeps its shape (only string values
    change, identifiers and times are left alone) and is returned unchanged, byte for byte, when nothing was
    masked; any other body (form-encoded, plain text) is masked as text."""
    pats = tuple(patterns)
    if not pats and "\\" not in raw_payload and mask_sensitive(raw_payload) == raw_payload:
        # Nothing in the whole text would be masked. Without escapes, every JSON string value is written
        # verbatim in the text between two quotes, which no mask matches and which act on the patterns'
        # lookarounds like the ends of the value, and a value's SSN cue is looked for in text just before it:
        # a value that would be masked is masked in the whole text too. (Keys and numbers are scanned as well:
        # they can only send a payload to the per-value masking below.)
        return raw_payload
    try:
        data = json.loads(raw_payload)
    except ValueError:
        return mask_sensitive(raw_payload, pats)
    masked = _mask_json(data, pats)
    if masked == data:
        return raw_payload
    return json.dumps(masked, ensure_ascii=False)


def _phone_like(match: re.Match[str]) -> str:
    run = match.group(0)
    digits = sum(c.isdigit() for c in run)
    # Ten digits or a leading +: a phone number. Fewer, unpunctuated digits are counts, amounts, ids.
    if _DATE.match(run.strip()):  # a date, or a date and time ("2026-12-04 17:53:39")
        return run
    if run.startswith(("+", "%2B", "%2b")) or digits >= 10 or (digits >= 7 and re.search(r"[\s().\-]", run)):
        return PHONE_MASK
    return run


def mask_contacts(text: str) -> str:
    """`text` with emails and phone numbers masked, also where they are percent-encoded (a request URL a
    client library logs: a search by email, a SOQL `WHERE Phone IN (...)`): such text is then returned
    decoded, masked."""
    if "%" in text:  # decoded first: a number split by encoded separators is then masked whole
        decoded = unquote_plus(text)
        masked = _PHONE.sub(_phone_like, _EMAIL.sub(EMAIL_MASK, decoded))
        if masked != decoded:
            return masked
    return _PHONE.sub(_phone_like, _EMAIL.sub(EMAIL_MASK, text))


def redact_value(key: str, value: Any) -> Any:
    """A log event's value with contacts masked; words spoken or written (`text`, `transcript`, ...) are
    replaced whole."""
    if key in _PLAIN_KEYS:
        return value
    if key in _TEXT_KEYS and value is not None:
        return TEXT_MASK
    if isinstance(value, str):
        return mask_contacts(value)
    if isinstance(value, Mapping):
        return {k: redact_value(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [redact_value(key, v) for v in value]
    if isinstance(value, int | float | bool) or value is None:
        # A bare number may be a phone number stored as an integer.
        return mask_contacts(str(value)) if isinstance(value, int) and len(str(value)) >= 10 else value
    return mask_contacts(str(value))


def redact_event(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: masks emails, phones and transcript text in every key of the event (including
    the message and a formatted exception). Put it last before the renderer, after format_exc_info."""
    for key in list(event_dict):
        event_dict[key] = redact_value(key, event_dict[key])
    return event_dict


class RedactingFilter(logging.Filter):
    """stdlib logging filter: the record's message (with its arguments) and exception text are masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        record.msg = mask_contacts(message)
        record.args = None
        if record.exc_info:
            record.exc_text = mask_contacts(logging.Formatter().formatException(record.exc_info))
            # The exception itself stays reachable for filters that look at its type, not its text.
            record.callsync_exception = record.exc_info[1]
            record.exc_info = None
        return True


_SENTENCE_END = re.compile(r"[.!?]+(?:\s+|$)")


def sentence_around(text: str, start: int, end: int) -> tuple[str, int, int]:
    """The sentence of `text` holding [start, end), and the span's offsets inside it. ASR text often has
    no punctuation: then the sentence is the whole turn."""
    begin, stop = 0, len(text)
    for match in _SENTENCE_END.finditer(text):
        if match.end() <= start:
            begin = match.end()
        elif match.start() >= end:
            stop = match.end()
            break
    raw = text[begin:stop]
    lead = len(raw) - len(raw.lstrip())
    return raw.strip(), start - begin - lead, end - begin - lead


def keyed_hash(key: bytes, value: Any) -> str:
    """HMAC-SHA256 of a value (JSON of it, keys sorted), short and labelled: `hmac:<32 hex>`."""
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return "hmac:" + hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def _redacting_factory(base: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    def make(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = base(*args, **kwargs)
        RedactingFilter().filter(record)
        return record

    make.callsync_redacting = True  # type: ignore[attr-defined]
    return make


def install_log_redaction() -> None:
    """Mask every log line of this process, whoever configures the output later: stdlib records are masked
    as they are made (a log record factory), and structlog gets `format_exc_info` + `redact_event` before its
    renderer (a later `structlog.configure` that sets other keys keeps them). Idempotent."""
    factory = logging.getLogRecordFactory()
    if not getattr(factory, "callsync_redacting", False):
        logging.setLogRecordFactory(_redacting_factory(factory))
    import structlog  # the one logging library callsync uses; imported here so this module stays import-light

    processors = list(structlog.get_config()["processors"])
    if redact_event in processors:
        return
    renderer = processors.pop() if processors else structlog.dev.ConsoleRenderer()
    if structlog.processors.format_exc_info not in processors:
        processors.append(structlog.processors.format_exc_info)
    structlog.configure(processors=[*processors, redact_event, renderer])
