"""The dashboard in a real browser: Playwright for Python driving Debian's chromium (/usr/bin/chromium,
installed by scripts/ensure-chromium; never a downloaded browser). One browser for the module.

Skipped with the reason only when chromium is absent and CI is unset; in CI a missing browser fails.
CALLSYNC_SCREENSHOTS=<dir>: each page is also saved as a PNG there (docs/dashboard.md)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from callsync.store.tables import DeadLetterRow, LedgerRow, ReviewItemRow
from callsync.web.app import create_dashboard
from callsync_sandbox.server import SandboxServer
from tests.pipeline.test_engine import DANA, call_payload, make_harness
from tests.reconcile.test_review import protected_company_item
from tests.web.helpers import PASSWORD, SECRET, add_user

__all__ = ["make_harness"]  # the fixture, used by name

# One browser for the whole tier: under `pytest -n`, these tests share one worker process.
pytestmark = pytest.mark.xdist_group("browser")

CHROMIUM = os.environ.get("CALLSYNC_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
SHOTS = os.environ.get("CALLSYNC_SCREENSHOTS")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).is_file():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing in CI: scripts/ensure-chromium installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} is missing (run scripts/ensure-chromium); browser tests skipped")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        found = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield found
        finally:
            found.close()


class Site:
    def __init__(self, browser: Any, h: Any) -> None:
        self.h = h
        self.server = SandboxServer(create_dashboard(h.db, {"t1": h.tenant}, secret=SECRET))
        self.server.start()
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.context.set_default_timeout(15_000)
        self.page = self.context.new_page()

    @property
    def url(self) -> str:
        return self.server.base_url

    def sign_in(self, name: str) -> Any:
        page = self.page
        page.goto(f"{self.url}/review")
        page.fill("input[name=username]", name)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(r".*/review$"))
        return page

    def shot(self, name: str) -> None:
        if SHOTS:
            Path(SHOTS).mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)

    def close(self) -> None:
        self.context.close()
        self.server.stop()


@pytest.fixture
def site(browser: Any, make_harness: Any) -> Iterator[Site]:
    h = make_harness()
    _apart(lambda: protected_company_item(h))
    add_user(h.db, "rita", "reviewer", ["t1"])
    add_user(h.db, "vic", "viewer", ["t1"])
    add_user(h.db, "bea", "reviewer", ["t2"])
    s = Site(browser, h)
    try:
        yield s
    finally:
        s.close()


def _apart(work: Any) -> Any:
    """Run pipeline work (DBOS, asyncio) in its own thread: Playwright's sync API keeps an event loop
    running in this one."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(work).result(timeout=120)


def _item(h: Any) -> ReviewItemRow:
    (item,) = [r for r in h.rows(ReviewItemRow) if r.kind == "protected_field"]
    return item


def test_sign_in_approve_and_the_value_lands_in_the_crm(site: Site) -> None:
    page = site.page
    page.goto(f"{site.url}/")
    assert "/login" in page.url
    site.shot("login")
    site.sign_in("rita")
    site.shot("review-queue")
    item = _item(site.h)
    page.click(f"a[href='/review/{item.id}']")
    assert page.locator(".proposed").inner_text() == "Contoso"
    site.shot("review-item")
    page.click("button[value=approve]")
    page.wait_for_url(re.compile(r".*done=approved"))
    assert "Done: approved" in page.locator("[role=status]").inner_text()
    (contact,) = site.h.contacts()
    assert contact["properties"]["company"] == "Contoso"
    assert [r.reviewer for r in site.h.rows(LedgerRow) if r.policy == "reviewer"] == ["rita"]
    page.goto(f"{site.url}/")
    site.shot("overview")


def test_open_a_trace_and_see_the_sentence(site: Site) -> None:
    page = site.sign_in("vic")
    record = site.h.contacts()[0]["id"]
    page.goto(f"{site.url}/calls?q={record}")
    site.shot("calls")
    page.click("a[href='/calls/t1/c-1']")
    assert page.locator("mark.ev sup", has_text="email").count() >= 1
    site.shot("call")
    page.click(f"a[href='/records/hubspot/{record}']")
    quote = page.locator("#field-email blockquote.quote").first
    assert quote.locator("mark").count() == 1 and quote.locator("mark").inner_text().strip()
    assert "caller" in quote.locator(".speaker").inner_text().lower()
    site.shot("record-trace")
    for path, name in (("/analytics", "analytics"), ("/spot-check", "spot-check"), ("/feedback", "feedback"),
                       ("/quarantine", "quarantine"), ("/mapping/t1", "mapping")):  # fmt: skip
        answer = page.goto(f"{site.url}{path}")
        assert answer is not None and answer.status == 200, path
        site.shot(name)


def test_a_viewer_cannot_approve(site: Site) -> None:
    page = site.sign_in("vic")
    item = _item(site.h)
    page.goto(f"{site.url}/review/{item.id}")
    assert page.locator("button[value=approve]").count() == 0
    assert "a reviewer decides it" in page.content()
    token = page.locator("form[action='/logout'] input[name=csrf]").get_attribute("value")
    answer = page.request.post(f"{site.url}/review/{item.id}/approve", form={"csrf": token or ""})
    assert answer.status == 403
    assert _item(site.h).status == "open"


def test_a_tenant_a_user_gets_404_on_a_tenant_b_call(site: Site) -> None:
    page = site.sign_in("bea")
    answer = page.goto(f"{site.url}/calls/t1/c-1")
    assert answer is not None and answer.status == 404
    assert "Dana" not in page.content()


def test_replay_a_dead_letter(browser: Any, make_harness: Any) -> None:
    down = {"path": "/crm/v3/objects/contacts.*", "fault": "status", "status": 503, "times": None}
    h = make_harness({"rules": [down]})
    h.ingest(call_payload("c-down", DANA))
    _apart(h.sync)
    (dead,) = h.rows(DeadLetterRow)
    add_user(h.db, "rita", "reviewer", ["t1"])
    s = Site(browser, h)
    try:
        page = s.sign_in("rita")
        page.goto(f"{s.url}/dead-letters")
        s.shot("dead-letters")
        page.click(f"a[href='/dead-letters/{dead.id}']")
        s.shot("dead-letter")
        page.click("button[value=replay]")
        page.wait_for_url(re.compile(r".*done=replay"))
        assert "Replay queued" in page.locator("[role=status]").inner_text()
        (after,) = h.rows(DeadLetterRow)
        assert after.status == "replaying"
    finally:
        s.close()
