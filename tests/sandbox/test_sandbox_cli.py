"""`callsync sandbox <crm>`: every emulator can be served and listed through the vendor's own list
endpoint; bad usage is one line and exit 2; every option documents itself."""

from __future__ import annotations

import socket

import httpx
import pytest
import typer
from typer.testing import CliRunner

from callsync.cli import app
from callsync_sandbox.hubspot import HubSpotSandbox
from callsync_sandbox.listing import CHOICES, list_records
from callsync_sandbox.salesforce import SalesforceSandbox
from callsync_sandbox.server import SandboxServer
from callsync_sandbox.zoho import ZohoSandbox

TOKEN = "cli-token"


def invoke(*args: str) -> object:
    return CliRunner().invoke(app, list(args))


def test_hubspot_list_prints_every_contact_across_pages() -> None:
    sandbox = HubSpotSandbox(token=TOKEN)
    with SandboxServer(sandbox.app()) as server, httpx.Client(base_url=server.base_url) as http:
        for n in range(105):  # more than one page of 100
            body = {"properties": {"email": f"p{n}@example.com", "firstname": f"P{n}"}}
            http.post("/crm/v3/objects/contacts", json=body, headers={"Authorization": f"Bearer {TOKEN}"})
        listing = list_records("hubspot", server.port, TOKEN)
        result = CliRunner().invoke(
            app, ["sandbox", "hubspot", "--list", "--port", str(server.port), "--token", TOKEN]
        )
    assert listing.columns == ("id", "email", "firstname")
    assert len(listing.rows) == 105 and listing.rows[104] == ("1105", "p104@example.com", "P104")
    assert result.exit_code == 0, result.output
    assert "contacts: 105 record(s)" in result.stdout and "p104@example.com" in result.stdout


def test_salesforce_list_queries_the_object_with_the_columns_it_has() -> None:
    sandbox = SalesforceSandbox(token=TOKEN)
    with SandboxServer(sandbox.app()) as server:
        sandbox.org.create("Contact", {"LastName": "Okafor", "Email": "tom@harbor.com"})
        contacts = list_records("salesforce", server.port, TOKEN, "Contact")
        leads = list_records("salesforce", server.port, TOKEN)
    assert contacts.columns == ("id", "Name", "Email") and contacts.rows[0][1:] == (
        "Okafor",
        "tom@harbor.com",
    )
    assert leads.object_type == "Lead" and leads.rows == ()


def test_zoho_list_reads_the_module_with_lookups_by_name() -> None:
    sandbox = ZohoSandbox(token=TOKEN)
    with SandboxServer(sandbox.app()) as server:
        account = sandbox.insert("Accounts", {"Account_Name": "Harbor Freight"})
        sandbox.insert(
            "Contacts", {"Last_Name": "Okafor", "Email": "tom@harbor.com", "Account_Name": {"id": account}}
        )
        listing = list_records("zoho", server.port, TOKEN, "Contacts")
        empty = list_records("zoho", server.port, TOKEN)  # Leads: the emulator answers 204
    assert listing.columns == ("id", "Full_Name", "Email", "Account_Name")
    assert listing.rows[0][1:] == ("Okafor", "tom@harbor.com", "Harbor Freight")
    assert empty.rows == ()


def test_list_with_a_wrong_token_or_nothing_listening_is_one_line_exit_1() -> None:
    with SandboxServer(ZohoSandbox(token=TOKEN).app()) as server:
        refused = invoke("sandbox", "zoho", "--list", "--port", str(server.port), "--token", "wrong")
    assert refused.exit_code == 1  # type: ignore[attr-defined]
    assert refused.stderr.strip().count("\n") == 0 and "refused the token" in refused.stderr  # type: ignore[attr-defined]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    nothing = invoke("sandbox", "salesforce", "--list", "--port", str(free))
    assert nothing.exit_code == 1 and "no sandbox answers" in nothing.stderr  # type: ignore[attr-defined]


def test_unknown_crm_is_a_one_line_error_listing_the_choices_exit_2() -> None:
    for command, said in (
        (("sandbox", "nosuchcrm"), "error: unknown CRM 'nosuchcrm'; choose one of: " + ", ".join(CHOICES)),
        (("demo", "--crm", "nosuchcrm"), "error: no demo for 'nosuchcrm'; choose one of: "),
    ):
        result = invoke(*command)
        assert result.exit_code == 2  # type: ignore[attr-defined]
        assert result.stderr.strip().startswith(said)  # type: ignore[attr-defined]


def test_serving_on_a_taken_port_prints_only_the_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = invoke("sandbox", "zoho", "--port", str(taken.getsockname()[1]))
    assert result.exit_code == 1  # type: ignore[attr-defined]
    assert result.stdout == ""  # type: ignore[attr-defined]
    assert result.stderr.startswith("error: cannot listen on 127.0.0.1:")  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", ["sandbox", "demo"])
def test_every_argument_and_option_has_help_text(name: str) -> None:
    sub = typer.main.get_command(app).commands[name]  # type: ignore[attr-defined]
    undocumented = [p.name for p in sub.params if not getattr(p, "help", None)]
    assert not undocumented, f"`callsync {name}` parameters without --help text: {undocumented}"


def test_the_choices_are_the_five_emulated_crms_and_the_webhook_receiver() -> None:
    assert CHOICES == ("hubspot", "salesforce", "zoho", "pipedrive", "gohighlevel", "webhook")


def test_listing_needs_the_port_a_sandbox_runs_on_not_any_port() -> None:
    result = invoke("sandbox", "hubspot", "--list", "--port", "0")
    assert result.exit_code == 2  # type: ignore[attr-defined]
    assert result.stderr.strip() == "error: --list needs the port the sandbox runs on, not 0"  # type: ignore[attr-defined]
