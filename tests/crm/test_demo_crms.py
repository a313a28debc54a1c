"""`callsync demo --crm salesforce|zoho`: the sample calls land once each, with a trace, like HubSpot's."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from callsync.cli import app


@pytest.mark.parametrize(
    ("crm", "throttled", "company"),
    [
        ("salesforce", "HTTP 403", "Company"),
        ("zoho", "HTTP 429", "Company"),
        ("gohighlevel", "HTTP 429", "companyName"),
    ],
)
def test_demo_lands_the_sample_calls_as_leads_with_zero_duplicates(
    tmp_path: object, crm: str, throttled: str, company: str
) -> None:
    result = CliRunner().invoke(app, ["demo", "--crm", crm, "--db", f"sqlite:///{tmp_path}/demo.db"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "duplicates: 0" in out and throttled in out
    # The wrong-number call comes from a withheld line and says nothing to match on: it waits for review.
    assert re.search(r"calls 6: confirmed 5, waiting for review 1, dead-lettered 0, queued 0", out)
    assert f"callsync trace --crm {crm} --record" in out and f"--field {company}" in out
    assert re.search(r"'?Northwind'? → '?Contoso'?", out), (
        "the repeat caller's company change is in the history"
    )
    assert "waiting for CRM budget 0" in out


def test_pipedrive_demo_lands_persons_linked_to_their_organization_with_zero_duplicates(
    tmp_path: object,
) -> None:
    result = CliRunner().invoke(app, ["demo", "--crm", "pipedrive", "--db", f"sqlite:///{tmp_path}/demo.db"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "duplicates: 0" in out and "HTTP 429" in out
    assert re.search(r"calls 6: confirmed 5, waiting for review 1, dead-lettered 0, queued 0", out)
    # A person's company is an organization: the repeat caller's person is now linked to Contoso's.
    assert re.search(r"Dana Whitfield .*Contoso", out) and "Harbor Freight Lines" in out
    assert "callsync trace --crm pipedrive --record" in out and "--field name" in out
    assert "waiting for CRM budget 0" in out


def test_demo_refuses_an_unknown_crm() -> None:
    result = CliRunner().invoke(app, ["demo", "--crm", "nosuchcrm"])
    assert result.exit_code != 0 and "no demo for 'nosuchcrm'" in result.output
