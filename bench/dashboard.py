"""Dashboard and /metrics server time with a large database (issue 16's targets: every page p95 < 300 ms,
/metrics < 100 ms, with 100,000 calls, on SQLite and on PostgreSQL).

    .venv/bin/python bench/dashboard.py                      # SQLite in a temporary file, 100,000 calls
    .venv/bin/python bench/dashboard.py --pg postgresql://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/dashboard.py --calls 20000 --rounds 10

It seeds calls (a tenth with three ledgered writes, review items, dead letters, quarantined payloads) in bulk,
signs in an admin (all tenants) and a one-tenant reviewer, requests every page `--rounds` times in-process
(Starlette's TestClient: the server's own time, no network), and prints p50/p95 per page with ok / MISS.
Measures; does not assert. A PostgreSQL run creates and drops its own database.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert

from callsync.cli.serve import demo_tenant
from callsync.route.app import create_app
from callsync.services import users
from callsync.store.db import Database
from callsync.store.tables import (
    CallRow,
    DeadLetterRow,
    FieldValueRow,
    LedgerRow,
    QuarantineRow,
    ReviewItemRow,
)
from callsync.web.mount import mount

PAGE_TARGET_MS, METRICS_TARGET_MS = 300.0, 100.0
TENANTS = ("acme", "globex", "initech", "umbrella")
PASSWORD = "bench password 123"


def _payload(call_id: str, phone: str, email: str) -> str:
    return json.dumps({
        "call_id": call_id, "platform": "generic", "direction": "inbound", "from": phone, "to": "+14155559876",
        "started_at": "2026-11-20T21:03:00Z", "ended_at": "2026-11-20T21:07:12Z",
        "turns": [{"speaker": "agent", "text": "Thanks for calling, who am I speaking with?"},
                  {"speaker": "caller", "text": f"Hi, it's Dana from Northwind, my email is {email}."},
                  {"speaker": "agent", "text": "Great, I'll book you for Tuesday at ten."}],
    })  # fmt: skip


def seed(db: Database, n: int, seed_: int = 7) -> dict[str, str]:
    rng = random.Random(seed_)
    now = datetime.now(UTC)
    sample: dict[str, str] = {}
    batch: dict[str, list[dict[str, Any]]] = {k: [] for k in ("calls", "fv", "ledger", "review", "dead", "q")}

    def flush() -> None:
        with db.engine.begin() as conn:
            for key, table in (("calls", CallRow), ("fv", FieldValueRow), ("ledger", LedgerRow),
                               ("review", ReviewItemRow), ("dead", DeadLetterRow), ("q", QuarantineRow)):  # fmt: skip
                if batch[key]:
                    conn.execute(insert(table), batch[key])
                    batch[key].clear()

    for i in range(n):
        tenant = TENANTS[i % len(TENANTS)]
        call_id = f"call-{i:06d}"
        phone = f"+1415{rng.randrange(10**6, 10**7):07d}"
        email = f"person{i}@example{i % 97}.com"
        ended = now - timedelta(seconds=rng.randrange(0, 30 * 86400))
        state = rng.choices(["confirmed", "queued", "review", "dead_letter", "closed"], [85, 3, 6, 2, 4])[0]
        batch["calls"].append({
            "tenant": tenant, "call_id": call_id, "platform": "generic", "direction": "inbound",
            "from_number": phone, "to_number": "+14155559876", "started_at": ended - timedelta(seconds=250),
            "ended_at": ended, "received_at": ended + timedelta(seconds=2), "raw_payload": _payload(call_id, phone, email),
            "source": "bench", "sync_state": state, "workflow_id": f"sync:{tenant}:{call_id}",
            "identity_key": f"line:{phone}", "synced_at": ended + timedelta(seconds=rng.uniform(3, 40)) if state == "confirmed" else None,
            "revision": 0,
            # Labels as the pipeline stores them when it prepares a call (analytics count them in SQL).
            "intent": rng.choice(["sales", "support", "booking", "inquiry", "complaint", "other"]),
            "outcome": rng.choice(["appointment_booked", "callback_scheduled", "resolved", "transferred", "unknown"]),
            "sentiment": rng.choices(["positive", "neutral", "negative", "frustrated"], [30, 50, 12, 8])[0],
        })  # fmt: skip
        if i % 10 == 0:
            record = str(100000 + i)
            for field, value, conf in (("email", email, 0.82), ("firstname", "Dana", 0.8), ("company", "Northwind", 0.8)):
                batch["ledger"].append({
                    "tenant": tenant, "crm": "hubspot", "object_type": "contacts", "record_id": record, "field": field,
                    "canonical_field": field, "old_value": None, "new_value": value, "policy": "fill_if_empty",
                    "decision": "new record", "call_id": call_id, "confidence": conf,
                    "evidence": [{"turn": 1, "start": 0, "end": 5}], "integration_version": "bench",
                    "written_at": ended + timedelta(seconds=5), "confirmed_at": ended + timedelta(seconds=5),
                })  # fmt: skip
                batch["fv"].append({"tenant": tenant, "call_id": call_id, "name": field, "value": value, "confidence": conf,
                                    "status": "accepted", "evidence": [{"turn": 1, "start": 0, "end": 5}],
                                    "extractor": "bench@1", "created_at": ended})  # fmt: skip
            sample.setdefault(tenant, call_id)
            sample.setdefault("record", record)
            sample.setdefault("email", email)
            sample.setdefault("phone", phone)
        if state == "review":
            batch["review"].append({
                "dedupe_key": f"bench:{call_id}", "tenant": tenant, "call_id": call_id, "crm": "hubspot",
                "object_type": "contacts", "record_id": str(100000 + i), "field": "company", "kind": "held_value",
                "reason": "below threshold", "proposed_value": "Northwind", "current_value": None,
                "detail": {"canonical": "company", "confidence": 0.6}, "status": rng.choice(["open", "open", "approved", "corrected"]),
                "created_at": ended,
            })  # fmt: skip
        if state == "dead_letter":
            batch["dead"].append({"tenant": tenant, "crm": "hubspot", "call_id": call_id, "workflow_id": f"sync:{tenant}:{call_id}",
                                  "operation": "write", "request": {"plan": {}}, "last_error": "HTTP 503", "attempts": 3,
                                  "status": "open", "created_at": ended})  # fmt: skip
        if i % 500 == 0:
            batch["q"].append({"tenant": None, "source": "bench", "reason": "no tenant", "payload": "{}",
                               "status": "open", "received_at": ended, "platform": "generic"})  # fmt: skip
        if len(batch["calls"]) >= 5000:
            flush()
    flush()
    return sample


def measure(get: Callable[[], Any], rounds: int) -> tuple[float, float, int]:
    get()  # warm-up, not timed: the first request compiles the page's template
    times, status = [], 0
    for _ in range(rounds):
        start = time.perf_counter()
        answer = get()
        times.append(1000 * (time.perf_counter() - start))
        status = answer.status_code
    times.sort()
    p95 = times[min(len(times) - 1, max(0, round(0.95 * len(times)) - 1))]
    return statistics.median(times), p95, status


def run(db: Database, calls: int, rounds: int, label: str) -> list[dict[str, Any]]:
    from fastapi.testclient import TestClient

    db.migrate()
    t0 = time.perf_counter()
    sample = seed(db, calls)
    print(f"[{label}] seeded {calls} calls in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    # Planner statistics and the visibility map, as autovacuum (PostgreSQL) keeps them on a live database.
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    else:
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    users.add(db, "admin", PASSWORD, "admin", [])
    users.add(db, "rita", PASSWORD, "reviewer", ["acme"])
    tenants = {"demo": demo_tenant()}
    app = mount(create_app(db, tenants), db, tenants)
    results = []
    for who in ("admin", "rita"):
        c = TestClient(app, base_url="http://127.0.0.1", follow_redirects=False)
        login = c.get("/login").text
        token = login.split('name="csrf" value="')[1].split('"')[0]
        c.post("/login", data={"username": who, "password": PASSWORD, "csrf": token})
        pages = {
            "overview": "/", "review queue": "/review", "review (all states)": "/review?status=all",
            "calls (newest)": "/calls", "search call id": f"/calls?q={sample['acme']}",
            "search email": f"/calls?q={sample['email']}", "search phone": f"/calls?q={sample['phone']}",
            "search record": f"/calls?q={sample['record']}", "call page": f"/calls/acme/{sample['acme']}",
            "record trace": f"/records/hubspot/{sample['record']}", "dead letters": "/dead-letters",
            "quarantine": "/quarantine", "analytics (14 days)": "/analytics", "spot check": "/spot-check",
            "feedback": "/feedback",
        }  # fmt: skip
        for name, path in pages.items():
            p50, p95, status = measure(lambda path=path, c=c: c.get(path), rounds)
            results.append({"db": label, "user": who, "page": name, "p50_ms": p50, "p95_ms": p95, "status": status,
                            "target_ms": PAGE_TARGET_MS})  # fmt: skip
    anon = TestClient(app, base_url="http://127.0.0.1")
    p50, p95, status = measure(lambda: anon.get("/metrics"), rounds)
    results.append({"db": label, "user": "-", "page": "/metrics", "p50_ms": p50, "p95_ms": p95, "status": status,
                    "target_ms": METRICS_TARGET_MS})  # fmt: skip
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--pg", help="a PostgreSQL admin URL: also run on a fresh database there")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results: list[dict[str, Any]] = []
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            db = Database(f"sqlite:///{os.path.join(tmp, 'bench.db')}")
            try:
                results += run(db, args.calls, args.rounds, "sqlite")
            finally:
                db.dispose()
    if args.pg:
        import psycopg

        name = f"callsync_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(args.pg, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        db = Database(args.pg.rsplit("/", 1)[0] + f"/{name}")
        try:
            results += run(db, args.calls, args.rounds, "postgresql")
        finally:
            db.dispose()
            with psycopg.connect(args.pg, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    if args.json:
        print(json.dumps(results, indent=1))
        return
    print(f"{'db':<11}{'user':<7}{'page':<22}{'status':>7}{'p50 ms':>9}{'p95 ms':>9}{'target':>8}")
    for r in results:
        verdict = "ok" if r["p95_ms"] < r["target_ms"] and r["status"] == 200 else "MISS"
        print(f"{r['db']:<11}{r['user']:<7}{r['page']:<22}{r['status']:>7}{r['p50_ms']:>9.1f}{r['p95_ms']:>9.1f}"
              f"{r['target_ms']:>7.0f} {verdict}")  # fmt: skip


if __name__ == "__main__":
    main()
