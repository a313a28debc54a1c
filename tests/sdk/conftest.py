"""The vendors' own SDKs as clients: each emulator served over real HTTP on 127.0.0.1 (the SDKs are
synchronous and speak to a socket), a fresh one per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from callsync_sandbox.hubspot import HubSpotSandbox
from callsync_sandbox.salesforce import SalesforceSandbox
from callsync_sandbox.server import SandboxServer
from callsync_sandbox.zoho import ZohoSandbox

HUBSPOT_TOKEN = "hubspot-sdk-token"
SALESFORCE_TOKEN = "salesforce-sdk-token"
ZOHO_TOKEN = "zoho-sdk-token"


@pytest.fixture
def hubspot() -> Iterator[tuple[HubSpotSandbox, SandboxServer]]:
    sandbox = HubSpotSandbox(token=HUBSPOT_TOKEN)
    with SandboxServer(sandbox.app()) as server:
        yield sandbox, server


@pytest.fixture
def salesforce() -> Iterator[tuple[SalesforceSandbox, SandboxServer]]:
    sandbox = SalesforceSandbox(token=SALESFORCE_TOKEN)
    with SandboxServer(sandbox.app()) as server:
        yield sandbox, server


@pytest.fixture
def zoho() -> Iterator[tuple[ZohoSandbox, SandboxServer]]:
    sandbox = ZohoSandbox(token=ZOHO_TOKEN)
    with SandboxServer(sandbox.app()) as server:
        yield sandbox, server
