"""Chaos benchmark: N calls through callsync and through a naive middleware, under one fault plan.

    .venv/bin/python bench/chaos.py [--crm hubspot] [--n 2000] [--seed 7] [--json]   (or: bench/chaos --n 200)

`--crm` picks the target: hubspot (default), salesforce, zoho, pipedrive, gohighlevel or webhook; each is
its emulator (the webhook: the sandbox's signature-verifying receiver) under the same kinds of fault, with
the example mapping of that CRM (examples/<crm>.yaml; HubSpot keeps the bench's own). Deals and
opportunities are counted where the mapping makes them (a quarter of the calls name a budget): any without
its person/contact is an orphan. GoHighLevel runs with a second location in the agency: a record found there
is in a wrong location. The naive baseline exists for HubSpot only.

The same synthetic calls (repeat callers, people calling from two lines, pairs of calls from one person
at the same instant, phone-only callers) arrive over time, in bursts, at a HubSpot emulator served on
127.0.0.1 with a fault plan: latency with a long tail, 5xx, 429 storms with HubSpot's headers, answers
lost after commit, answers held past the client's timeout, connection resets, and one outage window —
at least 20% of responses are faulty. While the calls arrive, a "rep" edits the company of some contacts
between two of their calls (a value the calls must never overwrite), and the worker process is killed
(SIGKILL) several times and restarted.

callsync runs as it does in production: calls are stored and queued by this process (the ingest side);
a separate `worker` process (this script with --worker) runs the DBOS delivery engine and is the one
killed. The baseline (`naive_baseline.py`) is a webhook handler with an in-memory pool: search by name,
create or update, plain retry, no read-back; a kill loses what it held.

For the webhook, "confirmed" is "delivered" (a 2xx; nothing can be read back), a duplicate is a call the
receiver got under two different `webhook-id`s (the same id again is a retry the receiver drops), and the
rep has no record to edit.

Printed for each: received, confirmed, lost, duplicates, protected-field overwrites, dead letters, CRM
requests per call, and p50/p99 from call end (arrival) to confirmed. `--json` prints one object
`{"callsync": {...}, "baseline": {...}}`. The exit status is 1 when callsync misses a target (anything
lost, doubled or overwritten, or reconcile not clean).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from naive_baseline import NaiveMiddleware, NaiveResult

from callsync.capture.extract import extract_call
from callsync.capture.platforms.generic import parse_generic_call
from callsync.crm.http.coalesce import DEFAULT_BATCH_WINDOW_S, DEFAULT_CONCURRENCY
from callsync.pipeline.intake import receive_call
from callsync.reconcile.identity import normalize_phone
from callsync.store.db import Database
from callsync_sandbox.faults import FaultPlan
from callsync_sandbox.hubspot import HubSpotSandbox
from callsync_sandbox.server import SandboxServer
from callsync_sandbox.webhook import SANDBOX_SECRET

TOKEN = "sandbox-token"
TOKEN_ENV = "CALLSYNC_CHAOS_HUBSPOT_TOKEN"
REP_SUFFIX = " (rep-verified)"
GHL_LOCATION, GHL_OTHER_LOCATION = "location-1", "location-2"
SF_API = "/services/data/v62.0"

# Room for counters of workflow actions (bench/chaos_actions.py, when present): `counters(db, sandbox, crm)`
# -> extra metrics for the callsync column.
try:
    from chaos_actions import counters as action_counters  # type: ignore[import-not-found]
    from chaos_actions import decide as decide_calls
    from chaos_actions import with_actions
except ImportError:  # the module is optional
    action_counters = with_actions = decide_calls = None

MAPPING = """
crm: hubspot
objects:
  contact:
    crm_object: contacts
    fields:
      email:     {from: email,      policy: fill_if_empty, type: email}
      phone:     {from: phone,      policy: fill_if_empty, type: phone}
      firstname: {from: first_name, policy: fill_if_empty}
      lastname:  {from: last_name,  policy: fill_if_empty}
      company:   {from: company,    policy: call_wins}
    required:
      lastname: {default: "(unknown caller)"}
"""


def _words(text: str) -> list[str]:
    return text.split()


FIRST = _words(
    "emma liam olivia noah ava ethan sophia mason isabella logan mia lucas amelia jackson harper "
    "aiden evelyn elijah abigail james emily benjamin ella henry grace owen chloe samuel zoe daniel "
    "nora jacob lily michael hannah david layla joseph aria carter riley wyatt aubrey jack violet "
    "julian stella levi hazel luke aurora isaac savannah gabriel audrey anthony brooklyn dylan bella "
    "leo claire lincoln skylar"
)
LAST = _words(
    "garcia okafor schmidt nguyen patel kowalski silva tanaka moreau jensen rossi novak fischer "
    "haddad ibrahim larsen murphy oconnor reyes santos walsh weber yamamoto zhang abbott barnes "
    "castillo dalton ellison foster gallagher hartley ingram jacobs keller lambert mercer nolan "
    "ortega porter quinn ramsey sutton thornton underwood vaughn whitaker york zimmerman bishop "
    "carver donovan emerson"
)
COMPANIES = _words(
    "vertex bluepeak redwood lumen northwind contoso globex initech umbrella acme starling cobalt "
    "halcyon ironbark juniper kestrel meridian nimbus orchard pinnacle quarry riverton summit "
    "tidewater"
)
DIGITS = _words("zero one two three four five six seven eight nine")


# -- the calls -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    key: str
    first: str
    last: str
    email: str | None
    phone: str | None  # the number they say (phone-only callers)
    lines: tuple[str, ...]


@dataclass
class Call:
    call_id: str
    person: Person
    at: float  # seconds after the start: when the platform delivers it
    payload: dict[str, Any]
    fields: dict[str, Any] = field(default_factory=dict)  # extracted, for the baseline
    burst: bool = False  # one of the calls that all arrive at once after the others are done


def with_burst(calls: list[Call], burst: int) -> list[Call]:
    """The last `burst` calls become the burst: held until every other call is done, then delivered at
    once, so the CRM requests they cost are counted on their own."""
    main, rest = calls[: len(calls) - burst], calls[len(calls) - burst :]
    end = main[-1].at if main else 0.0
    for c in rest:
        c.burst, c.at = True, end
    return main + rest


def _spoken(number: str) -> str:
    return " ".join(DIGITS[int(d)] for d in number)


def make_calls(n: int, seed: int, rate: float) -> list[Call]:
    rng = random.Random(seed)
    people_n = max(5, int(n * 0.45))
    names = rng.sample(
        [(f, la) for f in FIRST for la in LAST], people_n
    )  # unique names: not what is compared
    people: list[Person] = []
    for i, (first, last) in enumerate(names):
        company = rng.choice(COMPANIES)
        phone_only = rng.random() < 0.2
        lines = [f"+1{rng.choice(['415', '617', '312', '206', '773'])}555{1000 + i:04d}"[:12]]
        if rng.random() < 0.1:
            lines.append(f"+1650555{2000 + i:04d}"[:12])
        people.append(
            Person(
                key=f"p{i}",
                first=first,
                last=last,
                email=None if phone_only else f"{first}.{last}@{company}.com",
                phone=f"+1312555{3000 + i:04d}"[:12] if phone_only else None,
                lines=tuple(lines),
            )
        )
    # Every person calls at least once; the rest go to repeat callers, a few people far more than others.
    weights = [1.0 / (1 + (i % 37)) for i in range(people_n)]
    who = list(people) + rng.choices(people, weights=weights, k=max(0, n - people_n))
    rng.shuffle(who)
    who = who[:n]
    duration = n / rate
    times = sorted(rng.uniform(0, duration) for _ in who)
    # Bursts: a fifth of the calls land in three short windows.
    for b in range(3):
        center = duration * (b + 1) / 4
        for j in rng.sample(range(len(times)), max(1, len(times) // 15)):
            times[j] = center + rng.uniform(0, duration * 0.02)
    times.sort()
    calls: list[Call] = []
    companies: dict[str, str] = {}
    budgets = random.Random(seed + 3)  # its own sequence: the calls above stay what they were
    for idx, (person, at) in enumerate(zip(who, times, strict=True)):
        company = companies.setdefault(
            person.key, person.email.split("@")[1][:-4] if person.email else rng.choice(COMPANIES)
        )
        if rng.random() < 0.15:  # changed jobs since the last call
            company = companies[person.key] = rng.choice(COMPANIES)
        lines = [f"hi my name is {person.first} {person.last}", f"i work at {company}"]
        if person.email:
            lines.append(
                f"my email is {person.first} dot {person.last} at {person.email.split('@')[1][:-4]} dot com"
            )
        else:
            lines.append(f"you can reach me at {_spoken(person.phone[2:] if person.phone else '')}")
        if budgets.random() < 0.25:  # a deal (an opportunity) where the mapping makes one
            lines.append(
                f"we have a budget of about {budgets.choice(['ten', 'twenty', 'fifty'])} thousand dollars"
            )
        calls.append(
            Call(f"chaos-{idx:05d}", person, at, _payload(f"chaos-{idx:05d}", person, lines, rng, at))
        )
    # Pairs of calls from one person at the same instant (two agents, two lines, one person).
    for j in rng.sample(range(len(calls)), max(1, len(calls) // 20)):
        twin = calls[j]
        cid = f"{twin.call_id}-twin"
        lines = [t["text"] for t in twin.payload["turns"] if t["speaker"] == "caller"]
        payload = _payload(cid, twin.person, lines, rng, twin.at, line=twin.person.lines[-1])
        payload["ended_at"] = twin.payload["ended_at"]
        calls.append(Call(cid, twin.person, twin.at, payload))
    calls.sort(key=lambda c: (c.at, c.call_id))
    return calls[:n]


def _payload(call_id: str, person: Person, lines: list[str], rng: random.Random, at: float,
             line: str | None = None) -> dict[str, Any]:  # fmt: skip
    turns: list[dict[str, Any]] = []
    for text in lines:
        turns.append({"speaker": "agent", "text": "Thanks for calling. How can I help?"})
        turns.append({"speaker": "caller", "text": text})
    ended = datetime(2026, 11, 20, 9, 0, tzinfo=UTC).timestamp() + at
    return {
        "call_id": call_id,
        "direction": "inbound",
        "from": line or rng.choice(person.lines),
        "to": "+14155559876",
        "started_at": datetime.fromtimestamp(ended - 180, UTC).isoformat(),
        "ended_at": datetime.fromtimestamp(ended, UTC).isoformat(),
        "turns": turns,
    }


def extract_fields(calls: list[Call]) -> None:
    """What the baseline writes: the same extraction callsync makes, as HubSpot properties."""
    names = {
        "email": "email",
        "phone": "phone",
        "first_name": "firstname",
        "last_name": "lastname",
        "company": "company",
    }
    for call in calls:
        extraction = extract_call(parse_generic_call(call.payload, tenant="chaos"), default_region="US")
        call.fields = {
            prop: str(extraction.fields[c].value) for c, prop in names.items() if c in extraction.fields
        }


# -- the fault plan --------------------------------------------------------------------------------------


def fault_plan(
    seed: int, outage_start_s: float, outage_s: float, duration_s: float, profile: Profile | None = None
) -> FaultPlan:
    profile = profile or PROFILES["hubspot"]
    every, (create_method, creates) = profile.every, profile.create
    storms = [max(3.0, duration_s * 0.15), max(6.0, duration_s * 0.65)]
    return FaultPlan.model_validate(
        {
            "seed": seed,
            "outages": [{"start_s": outage_start_s, "duration_s": outage_s}] if outage_s > 0 else [],
            "rules": [
                {"path": ".*", "fault": "latency", "times": None,
                 "latency": {"distribution": "lognormal", "p50_ms": 25, "p99_ms": 400, "max_ms": 1500}},
                # throttling storms: the account is over its limit for a whole ten-second window, and says so
                # with the vendor's status, body and headers to every request in it (a limit is a window)
                *[{"path": every, "fault": "status", "status": profile.throttle, "times": None, "start_s": at,
                   "end_s": at + 10.0} for at in storms],
                {"method": create_method, "path": creates, "fault": "drop_response_after_commit",
                 "probability": 0.08, "times": None},
                *[{"method": method, "path": path, "fault": "drop_response_after_commit", "probability": 0.08,
                   "times": None} for method, path in profile.updates],
                {"method": create_method, "path": creates, "fault": "timeout_after_commit",
                 "probability": 0.02, "times": None, "latency": {"ms": 2500}},
                {"path": every, "fault": "connection_reset", "probability": 0.05, "times": None},
                {"path": every, "fault": "status", "status": 503, "probability": 0.12, "times": None},
                {"path": every, "fault": "status", "status": 502, "probability": 0.05, "times": None},
                *([{"path": profile.batches, "fault": "partial_batch", "probability": 0.2, "times": None}]
                  if profile.batches else []),
            ],
        }
    )  # fmt: skip


# -- the targets ----------------------------------------------------------------------------------------


def _flat(record_id: Any, email: Any, phone: Any, company: Any) -> dict[str, Any]:
    """A record in the one shape the measurements read (HubSpot's): id and properties."""
    return {"id": str(record_id), "properties": {"email": email, "phone": phone, "company": company}}


@dataclass(frozen=True)
class Profile:
    """One target as the bench drives it: its emulator, where its faults go, how to read what landed."""

    kind: str
    every: str  # regex of every API request (5xx, resets, storms)
    create: tuple[str, str]  # (method, regex) of the request that creates a person
    updates: tuple[tuple[str, str], ...]  # requests that update one (answers lost after commit)
    throttle: int  # the vendor's "slow down" status
    batches: str | None = None  # batch endpoints (partial failures)
    token: str = TOKEN

    @property
    def token_env(self) -> str:
        return f"CALLSYNC_CHAOS_{self.kind.upper()}_TOKEN"

    def sandbox(self, plan: FaultPlan, args: argparse.Namespace) -> Any:
        if self.kind == "hubspot":
            # A Professional portal's published limits; the search index lags writes by a second.
            return HubSpotSandbox(token=TOKEN, faults=plan, ten_second_max=args.ten_second_max,
                                  search_per_second=args.search_per_second, search_lag_s=1.0)  # fmt: skip
        if self.kind == "salesforce":
            from callsync_sandbox.salesforce import SalesforceSandbox

            return SalesforceSandbox(token=TOKEN, faults=plan, daily_max=1_000_000)
        if self.kind == "zoho":
            from callsync_sandbox.zoho import ZohoSandbox

            return ZohoSandbox(token=TOKEN, faults=plan)
        if self.kind == "pipedrive":
            from callsync_sandbox.pipedrive import PipedriveSandbox

            return PipedriveSandbox(token=TOKEN, faults=plan)
        if self.kind == "gohighlevel":
            from callsync_sandbox.gohighlevel import GoHighLevelSandbox

            # The agency has a second location: nothing of this tenant may ever land there.
            return GoHighLevelSandbox(token=TOKEN, locations=(GHL_LOCATION, GHL_OTHER_LOCATION), faults=plan)
        from callsync_sandbox.webhook import WebhookReceiver

        return WebhookReceiver(faults=plan)

    def connection(self, url: str) -> str:
        common = f"token_env: {self.token_env}, timeout_s: 2"
        return {
            "hubspot": f"{{kind: hubspot, base_url: '{url}', {common}}}",
            "salesforce": f"{{kind: salesforce, instance_url: '{url}', {common}, limit_retry_s: 2}}",
            "zoho": f"{{kind: zoho, api_domain: '{url}', {common}, limit_retry_s: 2}}",
            "pipedrive": f"{{kind: pipedrive, api_domain: '{url}', {common}, limit_retry_s: 2}}",
            "gohighlevel": f"{{kind: gohighlevel, api_url: '{url}', location_id: {GHL_LOCATION}, {common}}}",
            "webhook": f"{{kind: webhook, url: '{url}/hooks/calls', {common}}}",
        }[self.kind]

    def mapping(self) -> str:
        from callsync.config import EXAMPLES_DIR

        text = MAPPING if self.kind == "hubspot" else (EXAMPLES_DIR / f"{self.kind}.yaml").read_text()
        # The CRM's example action rules, so every run's calls have actions to count (chaos_actions.py).
        return with_actions(text, self.kind) if with_actions is not None and self.read_back else text

    @property
    def read_back(self) -> bool:
        from callsync.crm.registry import capabilities_for

        return capabilities_for(self.kind).read_back

    def people(self, sandbox: Any) -> list[dict[str, Any]]:
        """Every person record (for the webhook: every accepted event, one per webhook-id)."""
        if self.kind == "hubspot":
            return list(sandbox.records("contacts"))
        if self.kind == "salesforce":
            accounts = {a["Id"]: a.get("Name") for a in sandbox.records("Account")}
            return [_flat(r["Id"], r.get("Email"), r.get("Phone"),
                          r.get("Company") or accounts.get(r.get("AccountId")))
                    for obj in ("Lead", "Contact") for r in sandbox.records(obj)]  # fmt: skip
        if self.kind == "zoho":
            return [
                _flat(r["id"], r.get("Email"), r.get("Phone"), r.get("Company"))
                for obj in ("Leads", "Contacts")
                for r in sandbox.records(obj)
            ]
        if self.kind == "pipedrive":
            return [
                _flat(r["id"], r.get("email"), r.get("phone"), r.get("organization"))
                for r in sandbox.records("persons")
            ]
        if self.kind == "gohighlevel":
            return [
                _flat(r["id"], r.get("email"), r.get("phone"), r.get("companyName"))
                for r in sandbox.records("contacts", GHL_LOCATION)
            ]
        return [_flat(e["id"], e.get("email"), e.get("phone"), e.get("company")) for e in sandbox.records()]

    @property
    def rep_edits(self) -> bool:
        """Whether a rep can set a person's company by hand (Pipedrive: a linked organization; a webhook
        keeps no record)."""
        return self.kind not in ("pipedrive", "webhook")

    def edit(self, base_url: str, record_id: str, company: str) -> httpx.Response | None:
        """A rep sets the company by hand (None: this target has no field a rep could edit)."""
        auth = {"Authorization": f"Bearer {TOKEN}"}
        if self.kind == "hubspot":
            return httpx.patch(f"{base_url}/crm/v3/objects/contacts/{record_id}",
                               json={"properties": {"company": company}}, headers=auth, timeout=3)  # fmt: skip
        if self.kind == "salesforce":
            return httpx.patch(f"{base_url}{SF_API}/sobjects/Lead/{record_id}", json={"Company": company},
                               headers=auth, timeout=3)  # fmt: skip
        if self.kind == "zoho":
            return httpx.put(f"{base_url}/crm/v8/Leads/{record_id}", json={"data": [{"Company": company}]},
                             headers={"Authorization": f"Zoho-oauthtoken {TOKEN}"}, timeout=3)  # fmt: skip
        if self.kind == "gohighlevel":
            # v2 updates a contact's companyName only through the upsert (PUT /contacts/{id} refuses it),
            # matched on the contact's own email or phone, as the location's UI does.
            headers = {**auth, "Version": "2021-07-28"}
            found = httpx.get(f"{base_url}/contacts/{record_id}", headers=headers, timeout=3)
            if found.status_code >= 300:
                return found
            contact = found.json().get("contact", {})
            keys = {k: contact[k] for k in ("email", "phone") if contact.get(k)}
            body = {"locationId": GHL_LOCATION, **keys, "companyName": company}
            return httpx.post(f"{base_url}/contacts/upsert", json=body, headers=headers, timeout=3)
        return None  # Pipedrive: the company is a linked organization; a webhook keeps no record

    def orphans(self, sandbox: Any) -> int | None:
        """Deals/opportunities without their person (and, Pipedrive, organization); None: none are made."""
        if self.kind == "pipedrive":
            return sum(1 for d in sandbox.records("deals") if not d.get("person_id") or not d.get("org_id"))
        if self.kind == "gohighlevel":
            return sum(1 for o in sandbox.records("opportunities") if not o.get("contactId"))
        return None

    def deals(self, sandbox: Any) -> int | None:
        if self.kind == "pipedrive":
            return len(sandbox.records("deals"))
        if self.kind == "gohighlevel":
            return len(sandbox.records("opportunities", GHL_LOCATION))
        return None

    def wrong_location(self, sandbox: Any) -> int | None:
        if self.kind != "gohighlevel":
            return None
        return len(sandbox.records("contacts", GHL_OTHER_LOCATION)) + len(
            sandbox.records("opportunities", GHL_OTHER_LOCATION)
        )

    def fault_stats(self, sandbox: Any) -> dict[str, Any]:
        stats = getattr(sandbox, "fault_stats", None)
        return dict(stats() if stats else sandbox._faults.stats())


PROFILES: dict[str, Profile] = {
    p.kind: p
    for p in (
        Profile("hubspot", "/crm/.*", ("POST", r"/crm/v3/objects/contacts(/batch/create)?"),
                (("PATCH", r"/crm/v3/objects/contacts/\d+"), ("POST", "/crm/v3/objects/contacts/batch/update")),
                429, batches="/crm/v3/objects/contacts/batch/.*"),
        # Salesforce throttles with 403 REQUEST_LIMIT_EXCEEDED.
        Profile("salesforce", f"{SF_API}/.*", ("PATCH", f"{SF_API}/sobjects/Lead/callsync_origin_call_id__c/.*"),
                (("PATCH", f"{SF_API}/sobjects/Lead/[^/]+"),), 403),
        Profile("zoho", "/crm/v8/.*", ("POST", "/crm/v8/Leads/upsert"), (("PUT", "/crm/v8/Leads/[^/]+"),), 429),
        Profile("pipedrive", "/api/.*", ("POST", "/api/v2/persons"), (("PATCH", "/api/v2/persons/[^/]+"),), 429),
        Profile("gohighlevel", "/(contacts|opportunities|locations)/.*", ("POST", "/contacts/upsert"),
                (("PUT", "/contacts/[^/]+"),), 429),
        Profile("webhook", "/hooks/.*", ("POST", "/hooks/calls"), (), 429, token=SANDBOX_SECRET),
    )
}  # fmt: skip


# -- shared measurement -------------------------------------------------------------------------------


@dataclass
class RunResult:
    received: int
    confirmed: int
    lost: int
    duplicates: int
    protected_overwrites: int
    dead_letters: int
    requests_per_call: float
    p50_ms: float
    p99_ms: float
    extra: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "confirmed": self.confirmed,
            "lost": self.lost,
            "duplicates": self.duplicates,
            "protected_overwrites": self.protected_overwrites,
            "dead_letters": self.dead_letters,
            "requests_per_call": round(self.requests_per_call, 2),
            "p50_ms": round(self.p50_ms),
            "p99_ms": round(self.p99_ms),
            **self.extra,
        }


@dataclass
class Burst:
    """The CRM requests the CRM received from the burst's release until every call was done."""

    calls: int
    _start: int | None = None
    requests: int | None = None
    _t0: float = 0.0
    seconds: float = 0.0

    def start(self, requests_so_far: int) -> None:
        self._start, self._t0 = requests_so_far, time.monotonic()

    def end(self, requests_so_far: int) -> None:
        if self._start is not None:
            self.requests = requests_so_far - self._start
            self.seconds = time.monotonic() - self._t0

    def to_json(self) -> dict[str, Any]:
        per_call = round(self.requests / self.calls, 2) if self.requests is not None and self.calls else None
        return {"burst_calls": self.calls, "burst_requests_per_call": per_call,
                "burst_seconds": round(self.seconds, 1)}  # fmt: skip


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def duplicate_records(contacts: list[dict[str, Any]], calls: list[Call]) -> int:
    """Per person, the records beyond the first that hold their email or phone."""
    people = {c.person.key: c.person for c in calls}
    extra = 0
    for person in people.values():
        held = {
            c["id"]
            for c in contacts
            if (person.email and (c["properties"].get("email") or "").lower() == person.email)
            or (person.phone and normalize_phone(c["properties"].get("phone")) == person.phone)
        }
        extra += max(0, len(held) - 1)
    return extra


def records_of(contacts: list[dict[str, Any]], person: Person) -> list[dict[str, Any]]:
    return [
        c
        for c in contacts
        if (person.email and (c["properties"].get("email") or "").lower() == person.email)
        or (person.phone and normalize_phone(c["properties"].get("phone")) == person.phone)
    ]


class Rep:
    """A sales rep who corrects the company of some contacts between two of their calls. The value is the
    rep's: no call may overwrite it afterwards."""

    def __init__(
        self, calls: list[Call], sandbox: Any, base_url: str, seed: int, profile: Profile | None = None
    ) -> None:
        self.profile = profile or PROFILES["hubspot"]
        rng = random.Random(seed + 1)
        by_person: dict[str, list[Call]] = {}
        for c in calls:
            by_person.setdefault(c.person.key, []).append(c)
        repeaters = [p for p, cs in by_person.items() if len({c.at for c in cs}) >= 2]
        self.targets = {
            p: sorted(by_person[p], key=lambda c: c.at)
            for p in rng.sample(repeaters, max(1, len(repeaters) // 8))
        }
        if not self.profile.rep_edits:
            self.targets = {}  # nothing a rep could edit by hand on this target
        self.sandbox = sandbox
        self.base_url = base_url
        self.edits: list[tuple[str, str, str]] = []  # (person, record id, value)
        self.requests = 0
        self._done: set[str] = set()

    def step(self, now: float, finished: Callable[[str], bool]) -> None:
        """Edit each target once: after every call that arrived is finished, before the next arrives."""
        for key, calls in self.targets.items():
            if key in self._done:
                continue
            arrived = [c for c in calls if c.at <= now]
            pending = [c for c in calls if c.at > now]
            if not arrived or not pending or pending[0].at - now < 0.5:
                continue
            if not all(finished(c.call_id) for c in arrived):
                continue
            records = records_of(self.profile.people(self.sandbox), calls[0].person)
            if not records:
                continue
            record = records[0]
            value = f"{(record['properties'].get('company') or 'Unknown').title()}{REP_SUFFIX}"
            if self._patch(record["id"], value):
                self.edits.append((key, record["id"], value))
            self._done.add(key)

    def _patch(self, record_id: str, value: str) -> bool:
        for _ in range(20):
            self.requests += 1
            try:
                response = self.profile.edit(self.base_url, record_id, value)
                if response is not None and response.status_code < 300:
                    return True
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        return False

    def overwritten(self) -> int:
        contacts = {c["id"]: c for c in self.profile.people(self.sandbox)}
        return sum(
            1
            for _, rid, value in self.edits
            if rid in contacts and contacts[rid]["properties"].get("company") != value
        )


def sandbox_for(plan: FaultPlan, args: argparse.Namespace) -> HubSpotSandbox:
    sandbox: HubSpotSandbox = PROFILES["hubspot"].sandbox(plan, args)
    return sandbox


def kill_times(args: argparse.Namespace, duration: float) -> list[float]:
    rng = random.Random(args.seed + 2)
    return sorted(
        duration * (k + 1) / (args.kills + 1) + rng.uniform(-0.05, 0.05) * duration for k in range(args.kills)
    )


class Progress:
    def __init__(self, label: str, total: int, quiet: bool) -> None:
        self.label, self.total, self.quiet = label, total, quiet
        self._last = 0.0

    def show(self, done: int, note: str = "") -> None:
        if self.quiet or time.monotonic() - self._last < 1.0:
            return
        self._last = time.monotonic()
        width = 30
        filled = int(width * done / max(1, self.total))
        sys.stderr.write(
            f"\r{self.label:9} [{'#' * filled}{'.' * (width - filled)}] {done}/{self.total} {note:40}"
        )
        sys.stderr.flush()

    def end(self) -> None:
        if not self.quiet:
            sys.stderr.write("\n")


# -- callsync -----------------------------------------------------------------------------------------


@contextmanager
def worker_process(
    db_url: str, tenant_file: Path, concurrency: int, log: Path, batch_window: float, crm: str = "hubspot"
) -> Iterator[Callable[[], None]]:
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", "--db", db_url,
               "--tenant-file", str(tenant_file), "--concurrency", str(concurrency),
               "--batch-window", str(batch_window)]  # fmt: skip
    profile = PROFILES[crm]
    env = {**os.environ, profile.token_env: profile.token}
    state: dict[str, subprocess.Popen[bytes]] = {}

    def start() -> None:
        with log.open("ab") as out:
            state["proc"] = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)

    def kill() -> None:
        state["proc"].kill()  # SIGKILL
        state["proc"].wait(timeout=30)
        start()

    start()
    try:
        yield kill
    finally:
        proc = state["proc"]
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def run_callsync(calls: list[Call], plan: FaultPlan, args: argparse.Namespace, workdir: Path) -> RunResult:
    from sqlalchemy import select

    from callsync.config import load_tenant
    from callsync.store.tables import CallRow, DeadLetterRow
    from callsync.trust.reconcile import reconcile

    profile = PROFILES[args.crm]
    os.environ[profile.token_env] = profile.token
    db = Database(f"sqlite:///{workdir}/callsync.db")
    db.migrate()
    (workdir / "mapping.yaml").write_text(profile.mapping())
    sandbox = profile.sandbox(plan, args)
    duration = calls[-1].at if calls else 0.0
    with SandboxServer(sandbox.app()) as server:
        tenant_file = workdir / "chaos.yaml"
        tenant_file.write_text(
            f"name: chaos\nmapping: {workdir / 'mapping.yaml'}\n"
            f"crm: {profile.connection(server.base_url)}\n"
            "delivery: {max_attempts: 6, base_delay_s: 0.5, max_delay_s: 4, outage_horizon_s: 900}\n"
        )
        tenant = load_tenant(tenant_file)
        rep = Rep(calls, sandbox, server.base_url, args.seed, profile)
        states: dict[str, str] = {}

        def refresh() -> None:
            with db.session() as session:
                states.update(
                    {
                        cid: state
                        for cid, state in session.execute(select(CallRow.call_id, CallRow.sync_state))
                    }
                )

        progress = Progress("callsync", len(calls), args.json)
        kills = kill_times(args, duration)
        killed = 0
        with worker_process(
            db.url, tenant_file, args.concurrency, workdir / "worker.log", args.batch_window, args.crm
        ) as kill:
            started = time.monotonic()
            pending = [c for c in calls if not c.burst]
            held = [c for c in calls if c.burst]
            burst = Burst(len(held))
            deadline = started + duration + args.timeout
            while time.monotonic() < deadline:
                now = time.monotonic() - started
                while pending and pending[0].at <= now:
                    c = pending.pop(0)
                    receive_call(db, parse_generic_call(c.payload, tenant="chaos"), json.dumps(c.payload))
                if kills and kills[0] <= now:
                    kills.pop(0)
                    kill()
                    killed += 1
                refresh()
                rep.step(now, lambda cid: states.get(cid, "queued") != "queued")
                done = sum(1 for s in states.values() if s != "queued")
                progress.show(done, f"killed {killed}x")
                if held and not pending and not kills and done == len(calls) - len(held):
                    burst.start(len(sandbox.request_log) - rep.requests)
                    for c in held:
                        receive_call(db, parse_generic_call(c.payload, tenant="chaos"), json.dumps(c.payload))
                    held = []
                if not pending and not held and not kills and done == len(calls):
                    burst.end(len(sandbox.request_log) - rep.requests)
                    break
                time.sleep(0.05)
            progress.end()
            elapsed = time.monotonic() - started
        requests = len(sandbox.request_log) - rep.requests
        faults = profile.fault_stats(sandbox)
        time.sleep(1.5)  # let the search index catch up before the reconciliation reads it
        report = asyncio.run(reconcile(db, {"chaos": tenant}))
        contacts = profile.people(sandbox)
        target = {
            "orphaned_deals": profile.orphans(sandbox),
            "deals": profile.deals(sandbox),
            "wrong_location_records": profile.wrong_location(sandbox),
            "misrouted": len(report.misrouted_writes),
        }
        if action_counters is not None:
            target.update(action_counters(db, sandbox, args.crm))
        (workdir / "reconcile.json").write_text(json.dumps(report.to_json(), indent=1, default=str))
        (workdir / "contacts.json").write_text(json.dumps(contacts, indent=1))
        (workdir / "requests.json").write_text(json.dumps(sandbox.request_log))
        with db.session() as session:
            rows = session.execute(
                select(CallRow.call_id, CallRow.sync_state, CallRow.received_at, CallRow.synced_at)
            ).all()
            dead_letters = len(
                session.scalars(select(DeadLetterRow).where(DeadLetterRow.status == "open")).all()
            )
    db.dispose()
    if not profile.read_back:
        target.update(receiver_counts(sandbox, {cid: state for cid, state, _, _ in rows}))
    counts = Counter(state for _, state, _, _ in rows)
    # Where nothing can be read back, a 2xx ("delivered") is what a call reaches.
    landed = "confirmed" if profile.read_back else "delivered"
    latencies = [
        (synced - received).total_seconds() * 1000
        for _, state, received, synced in rows
        if state == landed and synced
    ]
    accounted = counts[landed] + counts["review"] + dead_letters
    if profile.read_back:
        lost, duplicates = (len(calls) - accounted) + report.lost, duplicate_records(contacts, calls)
    else:  # the receiver's record is the truth: every delivered call there, under one id
        lost = (len(calls) - accounted) + target["delivered_but_not_received"]
        duplicates = target["calls_under_two_ids"]
    return RunResult(
        received=len(calls),
        confirmed=counts[landed],
        lost=lost,
        duplicates=duplicates,
        protected_overwrites=rep.overwritten(),
        dead_letters=dead_letters,
        requests_per_call=requests / max(1, len(calls)),
        p50_ms=percentile(latencies, 0.50),
        p99_ms=percentile(latencies, 0.99),
        extra={
            "review": counts["review"],
            "still_queued": counts["queued"],
            "reconcile_clean": report.clean,
            "log_lines_with_contact_details": contact_details_in_log(workdir / "worker.log", calls),
            "drifted_fields": len(report.drifted_fields),
            "rep_edits": len(rep.edits),
            "worker_kills": killed,
            "faulty_response_share": round(faults["faulted"] / max(1, faults["requests"]), 3),
            "seconds": round(elapsed, 1),
            **burst.to_json(),
            **{k: v for k, v in target.items() if v is not None},
        },
    )


def receiver_counts(receiver: Any, states: dict[str, str] | None = None) -> dict[str, int]:
    """What a webhook receiver got: calls it accepted under more than one webhook-id (a duplicate it
    cannot drop), deliveries repeated under one id (retries it drops), and delivered calls it lacks."""
    ids_per_call: dict[str, set[str]] = {}
    for event in receiver.events():
        ids_per_call.setdefault(str(event["data"]["call_id"]), set()).add(str(event["id"]))
    arrivals = receiver.event_ids()
    return {
        "calls_under_two_ids": sum(1 for ids in ids_per_call.values() if len(ids) > 1),
        "repeated_deliveries": len(arrivals) - len(set(arrivals)),
        "received_calls": len(ids_per_call),
        "delivered_but_not_received": sum(
            1 for cid, state in (states or {}).items() if state == "delivered" and cid not in ids_per_call
        ),
    }


def worker_main(args: argparse.Namespace) -> None:
    """The callsync worker process: the delivery engine until SIGTERM (or SIGKILL)."""
    from callsync.config import load_tenant
    from callsync.pipeline import engine
    from callsync.pipeline.worker import running_worker

    tenant = load_tenant(args.tenant_file)
    _debug_logging()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    db = Database(args.db)
    runtime = engine.Runtime(db, {tenant.name: tenant})
    with running_worker(runtime, concurrency=args.concurrency, poll_s=args.batch_window):
        while not stop.wait(0.5):
            pass
    db.dispose()


def _debug_logging() -> None:
    """Every log line of the worker, at debug, into its log file (stdout/stderr go there), masked as callsync
    masks every process's logs: the run then counts the lines that still carry a caller's email or phone."""
    import logging

    import structlog

    from callsync.redaction import install_log_redaction

    logging.basicConfig(level=logging.DEBUG, stream=sys.stderr, force=True)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG))
    install_log_redaction()


def contact_details_in_log(log: Path, calls: list[Call]) -> int:
    """Lines of the worker's log that carry any caller's email or phone number (in any common shape)."""
    if not log.is_file():
        return 0
    needles: set[str] = set()
    for c in calls:
        person = c.person
        if person.email:
            needles.update({person.email.lower(), person.email.lower().replace("@", "%40")})
        for number in (person.phone, *person.lines):
            if number:
                digits = "".join(ch for ch in number if ch.isdigit())
                needles.update({number, digits, digits[-10:]})
    text = log.read_text(encoding="utf-8", errors="replace").lower().splitlines()
    return sum(1 for line in text if any(n and n in line for n in needles))


# -- the baseline -------------------------------------------------------------------------------------


def run_baseline(calls: list[Call], plan: FaultPlan, args: argparse.Namespace) -> RunResult:
    sandbox = sandbox_for(plan, args)
    duration = calls[-1].at if calls else 0.0
    results: dict[str, NaiveResult] = {}
    arrived: dict[str, float] = {}
    refused: set[str] = set()
    lock = threading.Lock()

    def record(result: NaiveResult) -> None:
        with lock:
            results[result.call_id] = result

    with SandboxServer(sandbox.app()) as server:
        middleware = NaiveMiddleware(server.base_url, TOKEN, workers=args.baseline_workers, on_result=record)
        middleware.start()
        rep = Rep(calls, sandbox, server.base_url, args.seed)
        progress = Progress("baseline", len(calls), args.json)
        kills = kill_times(args, duration)
        killed = dropped = 0
        down_until = 0.0
        started = time.monotonic()
        wall0 = time.time()
        pending = [c for c in calls if not c.burst]
        held = [c for c in calls if c.burst]
        burst = Burst(len(held))
        in_memory: set[str] = set()
        deadline = started + duration + args.timeout

        def deliver(c: Call, at: float) -> None:
            arrived[c.call_id] = at
            if middleware.receive({"call_id": c.call_id, "fields": c.fields}):
                in_memory.add(c.call_id)
            else:
                refused.add(c.call_id)

        while time.monotonic() < deadline:
            now = time.monotonic() - started
            if down_until and now >= down_until:
                middleware.restart()
                down_until = 0.0
            while pending and pending[0].at <= now:
                c = pending.pop(0)
                deliver(c, wall0 + c.at)
            with lock:
                idle = not (in_memory - set(results))
            if held and not pending and not kills and not down_until and idle:
                burst.start(len(sandbox.request_log) - rep.requests)
                for c in held:
                    deliver(c, time.time())
                held = []
            if kills and kills[0] <= now:
                kills.pop(0)
                middleware.crash()
                killed += 1
                with lock:
                    dropped += len(in_memory - set(results))
                    in_memory.clear()
                down_until = now + args.restart_s
            with lock:
                done_ids = set(results)
            rep.step(now, partial(_finished, done_ids | refused))
            finished = len(done_ids | refused) + dropped
            progress.show(min(finished, len(calls)), f"killed {killed}x")
            if not pending and not held and not kills and not down_until and not (in_memory - done_ids):
                burst.end(len(sandbox.request_log) - rep.requests)
                break
            time.sleep(0.05)
        progress.end()
        elapsed = time.monotonic() - started
        middleware.stop()
        requests = len(sandbox.request_log) - rep.requests
        faults = sandbox.fault_stats()
        contacts = sandbox.records("contacts")
        overwrites = rep.overwritten()
    ok = [r for r in results.values() if r.ok]
    latencies = [(r.finished_at - arrived[r.call_id]) * 1000 for r in ok]
    return RunResult(
        received=len(calls),
        confirmed=len(ok),
        lost=len(calls) - len(ok),  # no dead-letter queue, no review: what failed is gone
        duplicates=duplicate_records(contacts, calls),
        protected_overwrites=overwrites,
        dead_letters=0,
        requests_per_call=requests / max(1, len(calls)),
        p50_ms=percentile(latencies, 0.50),
        p99_ms=percentile(latencies, 0.99),
        extra={
            "review": 0,
            "still_queued": 0,
            "reconcile_clean": None,
            "drifted_fields": None,
            "rep_edits": len(rep.edits),
            "worker_kills": killed,
            "faulty_response_share": round(faults["faulted"] / max(1, faults["requests"]), 3),
            "seconds": round(elapsed, 1),
            **burst.to_json(),
        },
    )


def _finished(done: set[str], call_id: str) -> bool:
    return call_id in done


# -- main ---------------------------------------------------------------------------------------------

ROWS = (
    ("received", "received"),
    ("confirmed", "confirmed (webhook: delivered)"),
    ("lost", "lost"),
    ("duplicates", "duplicates"),
    ("protected_overwrites", "protected-field overwrites"),
    ("dead_letters", "dead letters"),
    ("requests_per_call", "CRM requests per call"),
    ("burst_requests_per_call", "… during the burst"),
    ("p50_ms", "p50 call end → confirmed (ms)"),
    ("p99_ms", "p99 call end → confirmed (ms)"),
    ("review", "in review"),
    ("deals", "deals/opportunities made"),
    ("orphaned_deals", "orphaned deals/opportunities"),
    ("wrong_location_records", "records in a wrong location"),
    ("misrouted", "misrouted (reconcile)"),
    ("repeated_deliveries", "webhook-id re-sent (dropped)"),
    ("rep_edits", "rep edits to protect"),
    ("reconcile_clean", "reconcile clean"),
    ("log_lines_with_contact_details", "log lines with an email/phone"),
    ("worker_kills", "worker kills"),
    ("faulty_response_share", "faulty responses (share)"),
    ("seconds", "wall time (s)"),
)


def print_table(out: dict[str, dict[str, Any]], args: argparse.Namespace) -> None:
    print(
        f"chaos benchmark: crm={args.crm} n={args.n} (+{args.burst} in the burst) seed={args.seed} kills={args.kills} "
        f"outage={args.outage_s:g}s"
    )
    print(f"| {'metric':32} | {'callsync':>10} | {'baseline':>10} |")
    print(f"|{'-' * 34}|{'-' * 12}|{'-' * 12}|")
    for key, label in ROWS:
        a = out["callsync"].get(key)
        b = None if args.only == "callsync" else out["baseline"].get(key)
        print(f"| {label:32} | {'—' if a is None else a!s:>10} | {'—' if b is None else b!s:>10} |")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument(
        "--crm",
        choices=tuple(PROFILES),
        default="hubspot",
        help="the target: its emulator (webhook: the receiver) and example mapping (default hubspot)",
    )
    p.add_argument("--n", type=int, default=2000, help="calls (default 2000)")
    p.add_argument("--seed", type=int, default=7, help="seed for the calls and the fault plan")
    p.add_argument(
        "--json", action="store_true", help='one JSON object {"callsync": {...}, "baseline": {...}}'
    )
    p.add_argument("--kills", type=int, default=3, help="worker kills during the run (default 3)")
    p.add_argument("--rate", type=float, default=3.0, help="mean arrival rate, calls/s (default 3)")
    p.add_argument("--outage-s", type=float, help="outage length (default: 8%% of the arrival time, 15-60 s)")
    p.add_argument("--burst", type=int, default=None,
                   help="calls delivered at once after the others are done (default n/10); their CRM "
                   "requests per call are reported on their own")  # fmt: skip
    p.add_argument(
        "--concurrency",
        type=int,
        default=DEFAULT_CONCURRENCY,
        help="callsync's calls in flight (`callsync worker --concurrency`)",
    )
    p.add_argument("--baseline-workers", type=int, default=8, help="the baseline's worker pool")
    p.add_argument("--batch-window", type=float, default=DEFAULT_BATCH_WINDOW_S,
                   help="callsync's batch window in seconds (`callsync worker --batch-window`)")  # fmt: skip
    p.add_argument(
        "--ten-second-max", type=int, default=190, help="HubSpot requests per 10 s (Professional: 190)"
    )
    p.add_argument("--search-per-second", type=int, default=5, help="HubSpot searches per second (5)")
    p.add_argument("--restart-s", type=float, default=1.0, help="baseline: how long a killed process is down")
    p.add_argument(
        "--timeout", type=float, default=1800.0, help="give up draining after the last arrival (s)"
    )
    p.add_argument("--only", choices=("callsync", "baseline"), help="run one side only")
    p.add_argument("--workdir", type=Path, help="keep the database and worker log here")
    # internal: the worker process
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--db", help=argparse.SUPPRESS)
    p.add_argument("--tenant-file", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        worker_main(args)
        return 0
    if args.burst is None:
        args.burst = max(1, args.n // 10)
    calls = with_burst(make_calls(args.n + args.burst, args.seed, args.rate), args.burst)
    if decide_calls is not None:
        decide_calls(calls, args.seed)  # some calls book, ask for a callback, are transferred, are frustrated
    extract_fields(calls)
    duration = max((c.at for c in calls), default=0.0)
    if args.outage_s is None:
        args.outage_s = round(min(60.0, max(15.0, duration * 0.08)))
    plan = fault_plan(
        args.seed,
        outage_start_s=max(5.0, duration * 0.4),
        outage_s=args.outage_s,
        duration_s=duration,
        profile=PROFILES[args.crm],
    )
    if args.crm != "hubspot":
        args.only = "callsync"  # the naive baseline speaks HubSpot only
    out: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="callsync-chaos-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        empty = RunResult(0, 0, 0, 0, 0, 0, 0.0, 0.0, 0.0, {})
        out["callsync"] = (
            run_callsync(calls, plan, args, workdir) if args.only != "baseline" else empty
        ).to_json()
        out["baseline"] = (run_baseline(calls, plan, args) if args.only != "callsync" else empty).to_json()
    if args.json:
        sys.stdout.write(json.dumps(out) + "\n")
    else:
        print_table(out, args)
    c = out["callsync"]
    missed = args.only != "baseline" and (
        c["lost"]
        or c["duplicates"]
        or c["protected_overwrites"]
        or not c.get("reconcile_clean", True)
        or c.get("log_lines_with_contact_details", 0)
        or c.get("orphaned_deals")
        or c.get("wrong_location_records")
        or c.get("misrouted")
    )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
