"""A webhook target's connection: where the signed call documents are POSTed, and with which secret."""

from __future__ import annotations

import ipaddress
from typing import Literal
from urllib.parse import urlsplit

from pydantic import field_validator

from callsync.crm.settings import CRMConnection

# Plain http is allowed only to this machine (a receiver in a test or the sandbox): anything else would send
# the caller's details and the signature in the clear.
LOCAL_HOSTS = frozenset({"localhost"})


def is_local(host: str) -> bool:
    if host in LOCAL_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class WebhookSettings(CRMConnection):
    """An outbound webhook (a Zapier, Make or n8n catch hook, or the customer's own endpoint). `url` must
    be https (http only to 127.0.0.1 / localhost). `token_env` names the variable holding the signing
    secret in Standard Webhooks form (`whsec_` + base64; default CALLSYNC_WEBHOOK_TOKEN). `event_type` is
    the document's `type`."""

    kind: Literal["webhook"] = "webhook"
    url: str
    event_type: str = "call.processed"

    @field_validator("url")
    @classmethod
    def _https(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError(f"webhook url {value!r} is not an http(s) URL")
        if parts.scheme == "http" and not is_local(parts.hostname):
            raise ValueError(
                f"webhook url {value!r} is not https: the call's details and signature would travel in the "
                "clear (plain http is allowed only to 127.0.0.1 or localhost)"
            )
        return value.strip()
