"""Webhook signature schemes, one `verify_*` function each (and its `sign_*` twin, for clients and tests).

Each scheme is checked exactly as its platform documents it (voice-webhooks.md), always on the raw request
bytes, with a constant-time comparison (`hmac.compare_digest`) and, where the scheme has a timestamp, a
tolerance window. A failure raises `SignatureError` with a reason for the log; the client only ever
learns "401 invalid signature".
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlsplit, urlunsplit

GENERIC_TOLERANCE_S = 300
VAPI_TOLERANCE_S = 300  # Vapi defines none; we chose five minutes (voice-webhooks.md §1)
RETELL_TOLERANCE_S = 300
ELEVENLABS_TOLERANCE_S = 1800  # the official SDK rejects events older than 30 minutes


class SignatureError(Exception):
    """The request is not signed with this secret (missing, malformed, stale or wrong signature)."""


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        value = next((v for k, v in headers.items() if k.lower() == name.lower()), None)
    return value.strip() if value is not None else None


def _hmac_hex(secret: str, message: bytes, digest: str = "sha256") -> str:
    return hmac.new(secret.encode(), message, digest).hexdigest()


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def _fresh(timestamp_s: float, tolerance_s: float, now: float | None, *, past_only: bool = False) -> None:
    age = (time.time() if now is None else now) - timestamp_s
    if age > tolerance_s or (not past_only and -age > tolerance_s):
        raise SignatureError(f"timestamp outside the {tolerance_s:.0f} s tolerance")


def _int(value: str | None, what: str) -> int:
    if value is None or not re.fullmatch(r"[0-9]{1,16}", value):
        raise SignatureError(f"missing or malformed {what}")
    return int(value)


# -- callsync's own scheme (the generic endpoint) ------------------------------------------------------

CALLSYNC_TIMESTAMP = "X-Callsync-Timestamp"
CALLSYNC_SIGNATURE = "X-Callsync-Signature"


def sign_callsync(body: bytes, secret: str, timestamp: int) -> dict[str, str]:
    digest = _hmac_hex(secret, f"{timestamp}.".encode() + body)
    return {CALLSYNC_TIMESTAMP: str(timestamp), CALLSYNC_SIGNATURE: f"sha256={digest}"}


def verify_callsync(body: bytes, headers: Mapping[str, str], secret: str, now: float | None = None) -> None:
    """`X-Callsync-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`, 300 s tolerance."""
    raw_ts = _header(headers, CALLSYNC_TIMESTAMP)
    timestamp = _int(raw_ts, CALLSYNC_TIMESTAMP)
    signature = _header(headers, CALLSYNC_SIGNATURE) or ""
    if not signature.startswith("sha256="):
        raise SignatureError(f"missing or malformed {CALLSYNC_SIGNATURE}")
    _fresh(timestamp, GENERIC_TOLERANCE_S, now)
    if not _same(signature[len("sha256=") :].lower(), _hmac_hex(secret, f"{raw_ts}.".encode() + body)):
        raise SignatureError("signature mismatch")


# -- Vapi -----------------------------------------------------------------------------------------------

VAPI_SIGNATURE = "x-signature"
VAPI_TIMESTAMP = "x-timestamp"


def sign_vapi(body: bytes, secret: str, timestamp: int) -> dict[str, str]:
    return {
        VAPI_TIMESTAMP: str(timestamp),
        VAPI_SIGNATURE: _hmac_hex(secret, f"{timestamp}.".encode() + body),
    }


def verify_vapi_hmac(body: bytes, headers: Mapping[str, str], secret: str, now: float | None = None) -> None:
    """The HMAC credential we recommend configuring in Vapi: sha256, hex, payload `{timestamp}.{body}`,
    headers `x-signature` / `x-timestamp`. The timestamp's unit is undocumented: read as milliseconds when
    it is that large. An optional `sha256=` prefix is accepted."""
    raw_ts = _header(headers, VAPI_TIMESTAMP)
    timestamp = _int(raw_ts, VAPI_TIMESTAMP)
    signature = (_header(headers, VAPI_SIGNATURE) or "").lower().removeprefix("sha256=")
    if not signature:
        raise SignatureError(f"missing {VAPI_SIGNATURE}")
    _fresh(timestamp / 1000 if timestamp > 10**11 else timestamp, VAPI_TOLERANCE_S, now)
    if not _same(signature, _hmac_hex(secret, f"{raw_ts}.".encode() + body)):
        raise SignatureError("signature mismatch")


def verify_bearer(headers: Mapping[str, str], secret: str) -> None:
    """Vapi's bearer-token credential: `Authorization: Bearer <token>`."""
    value = _header(headers, "Authorization") or ""
    if not value.lower().startswith("bearer ") or not _same(value[7:].strip(), secret):
        raise SignatureError("missing or wrong bearer token")


def verify_secret_header(headers: Mapping[str, str], secret: str, header: str = "X-Vapi-Secret") -> None:
    """A shared secret sent as is in a header (Vapi's legacy `X-Vapi-Secret`)."""
    if not _same(_header(headers, header) or "", secret):
        raise SignatureError(f"missing or wrong {header}")


# -- Retell ---------------------------------------------------------------------------------------------

RETELL_SIGNATURE = "X-Retell-Signature"


def sign_retell(body: bytes, api_key: str, timestamp_ms: int) -> dict[str, str]:
    digest = _hmac_hex(api_key, body + str(timestamp_ms).encode())
    return {RETELL_SIGNATURE: f"v={timestamp_ms},d={digest}"}


def verify_retell(body: bytes, headers: Mapping[str, str], api_key: str, now: float | None = None) -> None:
    """`X-Retell-Signature: v=<unix ms>,d=<hex HMAC-SHA256(api key, body + v)>`, 5 minute window."""
    m = re.fullmatch(r"v=([0-9]{1,16}),d=([0-9a-fA-F]+)", _header(headers, RETELL_SIGNATURE) or "")
    if m is None:
        raise SignatureError(f"missing or malformed {RETELL_SIGNATURE}")
    _fresh(int(m.group(1)) / 1000, RETELL_TOLERANCE_S, now)
    if not _same(m.group(2).lower(), _hmac_hex(api_key, body + m.group(1).encode())):
        raise SignatureError("signature mismatch")


# -- Bland ----------------------------------------------------------------------------------------------

BLAND_SIGNATURE = "X-Webhook-Signature"


def sign_bland(body: bytes, secret: str) -> dict[str, str]:
    return {BLAND_SIGNATURE: _hmac_hex(secret, body)}


def verify_bland(body: bytes, headers: Mapping[str, str], secret: str) -> None:
    """`X-Webhook-Signature: <hex HMAC-SHA256(secret, body)>`. No timestamp, so no replay window: a
    replayed delivery is a duplicate of the stored call (idempotency by call id)."""
    signature = (_header(headers, BLAND_SIGNATURE) or "").lower()
    if not signature:
        raise SignatureError(f"missing {BLAND_SIGNATURE}")
    if not _same(signature, _hmac_hex(secret, body)):
        raise SignatureError("signature mismatch")


# -- ElevenLabs -----------------------------------------------------------------------------------------

ELEVENLABS_SIGNATURE = "ElevenLabs-Signature"


def sign_elevenlabs(body: bytes, secret: str, timestamp: int) -> dict[str, str]:
    return {ELEVENLABS_SIGNATURE: f"t={timestamp},v0={_hmac_hex(secret, f'{timestamp}.'.encode() + body)}"}


def verify_elevenlabs(body: bytes, headers: Mapping[str, str], secret: str, now: float | None = None) -> None:
    """`ElevenLabs-Signature: t=<unix s>,v0=<hex HMAC-SHA256(secret, "t.body")>`; events older than 30
    minutes are refused (as the SDK does), and so are ones dated more than 30 minutes ahead."""
    parts = dict(
        p.split("=", 1) for p in (_header(headers, ELEVENLABS_SIGNATURE) or "").split(",") if "=" in p
    )
    timestamp = _int(parts.get("t"), f"{ELEVENLABS_SIGNATURE} t=")
    signature = parts.get("v0", "").lower()
    if not signature:
        raise SignatureError(f"missing {ELEVENLABS_SIGNATURE} v0=")
    _fresh(timestamp, ELEVENLABS_TOLERANCE_S, now)
    if not _same(signature, _hmac_hex(secret, f"{timestamp}.".encode() + body)):
        raise SignatureError("signature mismatch")


# -- Twilio ---------------------------------------------------------------------------------------------

TWILIO_SIGNATURE = "X-Twilio-Signature"
TWILIO_SETTINGS = "X-Twilio-Webhooks-Signature-Settings"


def _twilio_string(url: str, params: list[tuple[str, str]]) -> bytes:
    """The URL, then each POST parameter sorted by name (values sorted too): name + value, no separators."""
    grouped: dict[str, set[str]] = {}
    for name, value in params:
        grouped.setdefault(name, set()).add(value)
    return (url + "".join(n + v for n in sorted(grouped) for v in sorted(grouped[n]))).encode()


def _twilio_digest(token: str, url: str, params: list[tuple[str, str]], algorithm: str = "sha1") -> str:
    return base64.b64encode(
        hmac.new(token.encode(), _twilio_string(url, params), algorithm).digest()
    ).decode()


def _port_variants(url: str) -> list[str]:
    """Twilio's back end is inconsistent about the port: its SDK accepts the URL with and without it."""
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    userinfo = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    without = urlunsplit(parts._replace(netloc=userinfo + host))
    port = parts.port or default
    with_port = urlunsplit(parts._replace(netloc=f"{userinfo}{host}:{port}")) if port else without
    return list(dict.fromkeys([url, without, with_port]))


def sign_twilio(
    url: str, body: bytes, auth_token: str, content_type: str = "application/x-www-form-urlencoded"
) -> dict[str, str]:
    """Sign as Twilio does. For a JSON body, `url` must already carry `bodySHA256=<hex sha256 of body>`."""
    params = (
        []
        if content_type.startswith("application/json")
        else parse_qsl(body.decode(errors="replace"), keep_blank_values=True)
    )
    return {TWILIO_SIGNATURE: _twilio_digest(auth_token, url, params)}


def verify_twilio(
    url: str, body: bytes, content_type: str, headers: Mapping[str, str], auth_token: str
) -> None:
    """`X-Twilio-Signature: base64(HMAC-SHA1(auth token, URL + sorted POST params))` over the public URL
    exactly as configured in Twilio. JSON bodies: the URL's `bodySHA256` must equal the body's SHA-256
    and the signature covers the URL alone. A Webhooks Rule may switch the algorithm to HMAC-SHA256
    (announced in `X-Twilio-Webhooks-Signature-Settings`). No timestamp: a replay is a duplicate."""
    signature = _header(headers, TWILIO_SIGNATURE)
    if not signature:
        raise SignatureError(f"missing {TWILIO_SIGNATURE}")
    settings = (_header(headers, TWILIO_SETTINGS) or "").upper()
    algorithm = "sha256" if "ALGORITHM=HMAC_SHA256" in settings.replace(" ", "") else "sha1"
    if content_type.startswith("application/json"):
        claimed = dict(parse_qsl(urlsplit(url).query)).get("bodySHA256")
        if not claimed or not _same(claimed.lower(), hashlib.sha256(body).hexdigest()):
            raise SignatureError("bodySHA256 missing from the URL or not the body's hash")
        params: list[tuple[str, str]] = []
    else:
        # Form bodies are percent-encoded ASCII; stray bytes are replaced here and refused later (400).
        params = parse_qsl(body.decode(errors="replace"), keep_blank_values=True)
    for candidate in _port_variants(url):
        if _same(signature, _twilio_digest(auth_token, candidate, params, algorithm)):
            return
    raise SignatureError("signature mismatch")
