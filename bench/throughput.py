"""Throughput benchmark: sustained overload on PostgreSQL with 1, 2 and 4 worker processes against a
HubSpot emulator with configurable latency and limits, and a nominal-load run for latency.

    .venv/bin/python bench/throughput.py [--runs w1,w2,w4,lifted_w1,lifted_w4,nominal] [--n 500] [--json]

Each run gets a fresh database on a private PostgreSQL cluster this script starts (initdb in a temporary
directory, its own port, max_connections 400, so four workers at full concurrency fit and the machine's
shared server is left alone; --pg URL uses an existing server instead), a fresh emulator served on 127.0.0.1 (every request delayed by --latency-ms; HubSpot's window of
--ten-second-max requests per 10 s and --search-per-second searches, or no limit in the way for the
`lifted_*` runs) and its own worker processes (this script with --worker, as `callsync worker` runs
the delivery engine). Overload runs queue every call before the workers start (calls arrive faster than
the CRM allows); the nominal run delivers calls at --nominal-rate to one worker.

Printed per run:
- ceiling_calls_per_s: what the CRM's limits allow at the requests per call the run needed, per lane
  (searches have their own limit): min over lanes of limit/s ÷ accepted requests per confirmed call, both
  counted over the steady state confirmed_per_s is measured on (a call costs more searches as the CRM
  fills, so the whole run's average would understate the steady state's cost); null when no limit is in
  the way (lifted runs);
- confirmed_per_s: confirmations per second between the 10th and the 90th percentile of confirmations
  (worker start-up and the last stragglers are not the steady state);
- ratio: confirmed_per_s / ceiling; requests_per_call: every CRM request (429s included) per call;
- rate_limited: requests the emulator answered 429; p50_ms / p99_ms: call stored -> confirmed;
- dead_letters: calls dead-lettered;
- by_tenth_per_s: confirmations per second in each tenth of the confirmations, in order: a rate that
  falls as the run goes on is a cost that grows with the CRM or the queue;
- load_average: the machine's 1-minute load average as the run's workers start and as they stop.
`--json` prints one object keyed by run name.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import itertools
import json
import os
import pwd
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from chaos import COMPANIES, FIRST, LAST, MAPPING, Call, Person, _payload, percentile

from callsync.capture.platforms.generic import parse_generic_call
from callsync.config import EXAMPLES_DIR
from callsync.crm.http.coalesce import DEFAULT_BATCH_WINDOW_S, DEFAULT_PG_CONCURRENCY
from callsync.pipeline.intake import receive_call
from callsync.store.db import DEFAULT_DB_CONNECTIONS, ConnectionBudget, Database
from callsync_sandbox.faults import FaultPlan
from callsync_sandbox.hubspot import HubSpotSandbox
from callsync_sandbox.salesforce import SalesforceSandbox
from callsync_sandbox.server import SandboxServer
from callsync_sandbox.zoho import ZohoSandbox

TOKEN = "sandbox-token"
TOKEN_ENV = "CALLSYNC_BENCH_HUBSPOT_TOKEN"
RUNS = ("w1", "w2", "w4", "lifted_w1", "lifted_w4", "nominal")
LIFTED = 10_000_000  # a limit nothing reaches
SEARCH_PATH = "/search"


@dataclass
class RunResult:
    ceiling_calls_per_s: float | None
    confirmed_per_s: float
    ratio: float | None
    requests_per_call: float
    rate_limited: int
    p50_ms: float
    p99_ms: float
    dead_letters: int
    workers: int
    concurrency: int
    calls: int
    confirmed: int
    seconds: float
    # From the last call stored to the first confirmed (start-up, first batch); at nominal load, where calls
    # keep arriving while others are confirmed, from the first call stored.
    first_confirmed_s: float
    db_kb_per_call: float  # growth of the database (callsync's tables and the queue's) per call
    tail_s: float  # from the 90th percentile of confirmations to the last
    worker_cpu_ms_per_call: float = 0.0  # the worker processes' own CPU time (user + system) per call
    # The PostgreSQL server's CPU per call (every process of the cluster; None when it is not on this
    # machine) and the CRM emulator's: with the workers', what a call costs the machine.
    db_server_cpu_ms_per_call: float | None = None
    emulator_cpu_ms_per_call: float = 0.0
    phases_ms: dict[str, float] = field(default_factory=dict)  # mean ms per call by phase (step_phases)
    requests_by_kind: dict[str, float] = field(default_factory=dict)  # CRM requests per call by method + path
    rate_limited_by_kind: dict[str, int] = field(default_factory=dict)  # 429s by method + path
    by_tenth_per_s: list[float] = field(default_factory=list)  # confirmations/s in each tenth, in order
    # The machine's 1-minute load average as the run's workers start and as they stop: other jobs on the
    # machine move every figure here, and the run's own processes raise it.
    load_average: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class Limits:
    ten_second_max: int
    search_per_second: int

    @property
    def lifted(self) -> bool:
        return self.ten_second_max >= LIFTED


ZOHO_CONCURRENCY = 10  # the Zoho emulator's concurrent requests (the Standard edition's limit)


def emulator(crm: str, plan: FaultPlan, limits: Limits) -> Any:
    """The CRM emulator of a run: HubSpot with the run's window and search limits; Salesforce with its
    daily allocation; Zoho with its concurrency limit (both lifted for the `lifted_*` runs)."""
    if crm == "salesforce":
        return SalesforceSandbox(token=TOKEN, faults=plan, daily_max=LIFTED if limits.lifted else 15_000)
    if crm == "zoho":
        return ZohoSandbox(
            token=TOKEN, faults=plan, max_concurrency=LIFTED if limits.lifted else ZOHO_CONCURRENCY
        )
    return HubSpotSandbox(
        token=TOKEN,
        faults=plan,
        ten_second_max=limits.ten_second_max,
        search_per_second=limits.search_per_second,
    )


def mapping_for(crm: str) -> str:
    """HubSpot: the chaos benchmark's contact mapping; Salesforce and Zoho: the shipped example mapping
    without its workflow actions (a Lead per new caller, looked up in Leads and Contacts)."""
    if crm == "hubspot":
        return MAPPING
    return (EXAMPLES_DIR / f"{crm}.yaml").read_text().split("\nactions:")[0] + "\n"


# -- the calls -----------------------------------------------------------------------------------------------


def make_calls(n: int, seed: int, rate: float, repeat_share: float = 0.2) -> list[Call]:
    """`n` calls arriving at `rate` per second (evenly, with jitter), each from a person with an email and
    a number; `repeat_share` of them from someone who called before, picked uniformly (the chaos bench's
    few very frequent callers would make one caller's calls, which run one at a time, the bound)."""
    rng = random.Random(seed)
    names = rng.sample([(f, la) for f in FIRST for la in LAST], n)
    people: list[Person] = []
    calls: list[Call] = []
    for i in range(n):
        if people and rng.random() < repeat_share:
            person = rng.choice(people)
        else:
            first, last = names[i]
            company = rng.choice(COMPANIES)
            line = f"+1{rng.choice(['415', '617', '312', '206', '773'])}{5_550_000 + i:07d}"
            person = Person(f"p{i}", first, last, f"{first}.{last}{i}@{company}.com", None, (line,))
            people.append(person)
        assert person.email
        local, domain = person.email.split("@")
        lines = [
            f"hi my name is {person.first} {person.last}",
            f"i work at {domain[:-4]}",
            f"my email is {local.replace('.', ' dot ')} at {domain[:-4]} dot com",
        ]
        at = i / rate + rng.uniform(0, 0.5 / rate)
        calls.append(Call(f"tp-{i:06d}", person, at, _payload(f"tp-{i:06d}", person, lines, rng, at)))
    return sorted(calls, key=lambda c: c.at)


# -- the database server --------------------------------------------------------------------------------------


@contextmanager
def private_cluster(max_connections: int = 400) -> Iterator[str]:
    """A PostgreSQL cluster of this run's own on 127.0.0.1 (as `postgres` when run as root, which
    PostgreSQL refuses); yields its administrator URL and stops and removes it afterwards."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        bin_dir = Path(found).resolve().parent
    else:
        versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
        if not versions:
            raise SystemExit("no PostgreSQL server binaries (initdb, pg_ctl); pass --pg URL of a server")
        bin_dir = Path(versions[-1]).parent
    root = Path(tempfile.mkdtemp(prefix="callsync-bench-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(root, user.pw_uid, user.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = root / "data"
    options = (
        f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={data} "
        f"-c max_connections={max_connections} -c shared_buffers=128MB"
    )

    def pg_ctl(*args: str) -> None:
        command = [*as_user, str(bin_dir / "pg_ctl"), *args, "-D", str(data), "-w", "-t", "60"]
        subprocess.run(command, check=True, capture_output=True, timeout=90)

    try:
        subprocess.run([*as_user, str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust"],
                       check=True, capture_output=True, timeout=120)  # fmt: skip
        pg_ctl("start", "-l", str(root / "server.log"), "-o", options)
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        with contextlib.suppress(Exception):
            pg_ctl("stop", "-m", "fast")
        shutil.rmtree(root, ignore_errors=True)


# -- one run -------------------------------------------------------------------------------------------------


@contextmanager
def fresh_database(admin_url: str) -> Iterator[str]:
    import psycopg

    name = f"callsync_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{admin_url.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def workers(
    count: int,
    db_url: str,
    tenant_file: Path,
    concurrency: int,
    batch_window: float,
    workdir: Path,
    db_connections: int = DEFAULT_DB_CONNECTIONS,
) -> Iterator[list[subprocess.Popen[bytes]]]:
    env = {**os.environ, TOKEN_ENV: TOKEN, "CALLSYNC_DB_CONNECTIONS": str(db_connections)}
    procs: list[subprocess.Popen[bytes]] = []
    for i in range(count):
        command = [sys.executable, str(Path(__file__).resolve()), "--worker", "--db", db_url,
                   "--tenant-file", str(tenant_file), "--concurrency", str(concurrency),
                   "--batch-window", str(batch_window)]  # fmt: skip
        with (workdir / f"worker-{i}.log").open("ab") as out:
            procs.append(subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT))
    try:
        yield procs
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def run(
    name: str, count: int, limits: Limits, args: argparse.Namespace, *, rate: float | None = None
) -> RunResult:
    """`count` worker processes deliver `args.n` calls queued at once (or `args.nominal_n` arriving at `rate`)."""
    from sqlalchemy import func, select

    from callsync.config import load_tenant
    from callsync.store.tables import CallRow, DeadLetterRow

    n = args.nominal_n if rate is not None else args.n
    calls = make_calls(n + 1, args.seed, rate or 1.0)
    warmup, calls = calls[0], calls[1:]
    latency = {"path": ".*", "fault": "latency", "times": None, "latency": {"ms": args.latency_ms}}
    plan = FaultPlan.model_validate({"seed": args.seed, "rules": [latency]})
    sandbox = emulator(args.crm, plan, limits)
    with (
        tempfile.TemporaryDirectory(prefix=f"throughput-{name}-") as tmp,
        fresh_database(args.pg) as db_url,
        SandboxServer(sandbox.app()) as server,
    ):
        workdir = Path(args.workdir / name if args.workdir else tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        db = Database(db_url, connections=ConnectionBudget(8))  # this process only stores calls and counts
        db.migrate()
        size_before = database_size(db)
        (workdir / "mapping.yaml").write_text(mapping_for(args.crm))
        tenant_file = workdir / "bench.yaml"
        address = {"hubspot": "base_url", "salesforce": "instance_url", "zoho": "api_domain"}[args.crm]
        tenant_file.write_text(
            f"name: chaos\nmapping: {workdir / 'mapping.yaml'}\n"
            f"crm: {{kind: {args.crm}, {address}: '{server.base_url}', token_env: {TOKEN_ENV}, timeout_s: 10"
            # Lifted: the portal's search limit is lifted too, and HubSpot's answers carry no search limit
            # headers to learn that from, so the tenant says so (the window lane learns it from headers).
            + (f", search_per_second: {LIFTED}" if limits.lifted and args.crm == "hubspot" else "")
            + "}\n"
            "delivery: {max_attempts: 8, base_delay_s: 0.5, max_delay_s: 10, outage_horizon_s: 900, "
            f"duplicate_check: {str(not args.no_duplicate_check).lower()}}}\n"
        )
        load_tenant(tenant_file)  # a bad file fails here, not in every worker

        def deliver(c: Any) -> None:
            receive_call(db, parse_generic_call(c.payload, tenant="chaos"), json.dumps(c.payload))

        def unsettled() -> int:
            with db.session() as session:
                return int(
                    session.scalar(
                        select(func.count()).select_from(CallRow).where(CallRow.sync_state == "queued")
                    )
                    or 0
                )

        if rate is None:
            for c in calls:  # the whole load is waiting before the first worker starts
                deliver(c)
        load_at_start = os.getloadavg()[0]
        started = time.monotonic()
        deadline = started + args.timeout
        server_pids = database_server_pids(db)
        server_cpu_before = sum(cpu_seconds(pid, children=True) for pid in server_pids)
        emulator_cpu_before = time.process_time()
        with workers(
            count, db_url, tenant_file, args.concurrency, args.batch_window, workdir, args.db_connections
        ) as procs:
            if rate is not None:
                # One call first: the worker is up and callsync's properties exist before the clock runs.
                deliver(warmup)
                while unsettled() and time.monotonic() < deadline:
                    time.sleep(0.2)
                requests_before = len(sandbox.request_log)
                began = time.monotonic()
                for c in calls:
                    time.sleep(max(0.0, began + c.at - time.monotonic()))
                    deliver(c)
            else:
                requests_before = 0
            # The emulator's request count through the run, to count a steady state's requests by.
            counts: list[tuple[datetime, int]] = []
            polls = 0
            while time.monotonic() < deadline:
                counts.append((datetime.now(UTC), len(sandbox.request_log) - requests_before))
                if any(p.poll() is not None for p in procs):
                    raise SystemExit(f"{name}: a worker exited early; see {workdir}/worker-*.log")
                polls += 1
                if polls % 5 == 0 and not unsettled():
                    break
                time.sleep(0.1)
            elapsed = time.monotonic() - started
            load_at_end = os.getloadavg()[0]
            worker_cpu_s = sum(cpu_seconds(p.pid) for p in procs)
            # This process's other threads are the emulator (and the polling above, a query each half second).
            emulator_cpu_s = time.process_time() - emulator_cpu_before
        server_cpu_s = sum(cpu_seconds(pid, children=True) for pid in server_pids) - server_cpu_before
        ids = [c.call_id for c in calls]
        with db.session() as session:
            rows = session.execute(
                select(CallRow.sync_state, CallRow.received_at, CallRow.synced_at).where(
                    CallRow.call_id.in_(ids)
                )
            ).all()
            dead = int(
                session.scalar(
                    select(func.count()).select_from(DeadLetterRow).where(DeadLetterRow.status == "open")
                )
                or 0
            )
        grown = database_size(db) - size_before
        phases = step_phases(db)
        db.dispose()
    log = sandbox.request_log[requests_before:]
    if args.workdir:
        (args.workdir / name / "requests.json").write_text(json.dumps(log))
    result = summarize(
        rows,
        log,
        dead,
        limits,
        n,
        count,
        args.concurrency,
        elapsed,
        args.crm,
        args.latency_ms,
        rate is None,
        counts,
    )
    result.db_kb_per_call = round(grown / 1024 / max(1, n), 1)
    result.worker_cpu_ms_per_call = round(worker_cpu_s * 1000 / max(1, n), 1)
    result.db_server_cpu_ms_per_call = round(server_cpu_s * 1000 / max(1, n), 1) if server_pids else None
    result.emulator_cpu_ms_per_call = round(emulator_cpu_s * 1000 / max(1, n), 1)
    result.load_average = [round(load_at_start, 2), round(load_at_end, 2)]
    result.phases_ms = phases
    return result


def step_phases(db: Database) -> dict[str, float]:
    """Where a sync's time goes, from the queue's own records (dbos.workflow_status and
    dbos.operation_outputs carry start and end times in epoch ms): mean ms per workflow waiting in the queue
    (enqueued -> dequeued), in each step (summed over retries), and between steps (checkpoints, sleeps)."""
    from sqlalchemy import text

    with db.session() as session:
        waits = session.execute(
            text(
                "SELECT avg(started_at_epoch_ms - created_at), avg(updated_at - started_at_epoch_ms), count(*) "
                "FROM dbos.workflow_status WHERE status = 'SUCCESS' AND started_at_epoch_ms IS NOT NULL"
            )
        ).one()
        steps = session.execute(
            text(
                "SELECT function_name, sum(completed_at_epoch_ms - started_at_epoch_ms) "
                "FROM dbos.operation_outputs WHERE completed_at_epoch_ms IS NOT NULL GROUP BY function_name"
            )
        ).all()
    workflows = int(waits[2] or 0)
    if not workflows:
        return {}
    out = {"queued": round(float(waits[0] or 0), 1), "running": round(float(waits[1] or 0), 1)}
    for name, total in steps:
        out[str(name).removeprefix("callsync.")] = round(float(total or 0) / workflows, 1)
    out["between_steps"] = round(
        out["running"] - sum(v for k, v in out.items() if k not in ("queued", "running")), 1
    )
    return out


CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int, *, children: bool = False) -> float:
    """A process's own CPU time so far (user + system), from /proc: what one call costs a worker, whatever
    else the machine is doing. `children`: with its live children's and the reaped children's it waited
    for (a PostgreSQL postmaster and its backends)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    total = int(fields[11]) + int(fields[12])
    if children:
        total += int(fields[13]) + int(fields[14])
        for stat in glob.glob("/proc/[0-9]*/stat"):
            try:
                child = Path(stat).read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if child[1] == str(pid):
                total += int(child[11]) + int(child[12])
    return total / CLK_TCK


def database_server_pids(db: Database) -> list[int]:
    """The PostgreSQL postmaster's pid when the server runs on this machine and its data directory can be
    read (the private cluster can), else none."""
    from sqlalchemy import text

    try:
        with db.session() as session:
            data = str(session.scalar(text("SHOW data_directory")))
        return [int((Path(data) / "postmaster.pid").read_text().split()[0])]
    except Exception:  # not a superuser, another machine: the figure is left out
        return []


def database_size(db: Database) -> int:
    from sqlalchemy import text

    with db.session() as session:
        return int(session.scalar(text("SELECT pg_database_size(current_database())")) or 0)


def steady_requests(
    log: list[tuple[str, str, int]], confirmed: list[datetime], counts: Sequence[tuple[datetime, int]]
) -> tuple[int, int, int] | None:
    """Accepted requests of HubSpot's ten-second window and of its search lane, and confirmations, over the
    steady state: from the last request count at or before the 10th percentile confirmation to the first
    at or after the 90th. None when the counts do not cover it."""
    if len(confirmed) < 10 or not counts:
        return None
    lo, hi = confirmed[int(len(confirmed) * 0.1)], confirmed[int(len(confirmed) * 0.9)]
    before = [c for c in counts if c[0] <= lo]
    after = [c for c in counts if c[0] >= hi]
    if not before or not after:
        return None
    (start, first), (end, last) = before[-1], after[0]
    calls = sum(1 for t in confirmed if start <= t <= end)
    window, searches = lane_requests(log[first:last])
    if not calls or not window + searches:
        return None
    return window, searches, calls


def lane_requests(log: Sequence[tuple[str, str, int]]) -> tuple[int, int]:
    """Accepted requests (429s are not) of HubSpot's ten-second window and of its search lane."""
    searches = sum(1 for _, path, status in log if status != 429 and path.endswith(SEARCH_PATH))
    return sum(1 for _, _, status in log if status != 429) - searches, searches


def summarize(
    rows: list[Any],
    log: list[tuple[str, str, int]],
    dead: int,
    limits: Limits,
    n: int,
    count: int,
    concurrency: int,
    elapsed: float,
    crm: str = "hubspot",
    latency_ms: float = 200.0,
    overload: bool = True,
    counts: Sequence[tuple[datetime, int]] = (),
) -> RunResult:
    confirmed = sorted(synced for state, _, synced in rows if state == "confirmed" and synced)
    latencies = [
        (synced - received).total_seconds() * 1000
        for state, received, synced in rows
        if state == "confirmed" and synced and received
    ]
    received_at = [received for _, received, _ in rows if received]
    stored = (max if overload else min)(received_at, default=None)
    first = (confirmed[0] - stored).total_seconds() if confirmed and stored else 0.0
    tail = (confirmed[-1] - confirmed[int(len(confirmed) * 0.9)]).total_seconds() if confirmed else 0.0
    tenths: list[float] = []
    if len(confirmed) >= 10:
        cuts = [confirmed[len(confirmed) * q // 10] for q in range(10)] + [confirmed[-1]]
        tenths = [
            round(len(confirmed) / 10 / max((b - a).total_seconds(), 1e-3), 1)
            for a, b in itertools.pairwise(cuts)
        ]
        lo, hi = int(len(confirmed) * 0.1), int(len(confirmed) * 0.9)
        span = (confirmed[hi] - confirmed[lo]).total_seconds()
        per_s = (hi - lo) / span if span > 0 else 0.0
    else:
        per_s = len(confirmed) / max(elapsed, 1e-9)
    accepted = [(path, status) for _, path, status in log if status != 429]
    ceiling: float | None = None
    if not limits.lifted and confirmed and crm == "hubspot":
        window, searches, calls = steady_requests(log, confirmed, counts) or (*lane_requests(log), len(confirmed))
        lanes = [(limits.ten_second_max / 10.0, window), (float(limits.search_per_second), searches)]
        ceiling = min(rate / (used / calls) for rate, used in lanes if used)
    elif not limits.lifted and confirmed and crm == "zoho" and accepted and latency_ms > 0:
        # Zoho's limit in the way is requests in flight: at most that many every `latency`.
        ceiling = ZOHO_CONCURRENCY / (latency_ms / 1000) / (len(accepted) / len(confirmed))
    # Salesforce: a daily allocation, not a per-second limit; nothing in a run's way (ceiling None).
    return RunResult(
        ceiling_calls_per_s=round(ceiling, 2) if ceiling else None,
        confirmed_per_s=round(per_s, 2),
        ratio=round(per_s / ceiling, 3) if ceiling else None,
        requests_per_call=round(len(log) / max(1, n), 3),
        rate_limited=sum(1 for _, _, status in log if status == 429),
        p50_ms=round(percentile(latencies, 0.5)),
        p99_ms=round(percentile(latencies, 0.99)),
        dead_letters=dead,
        workers=count,
        concurrency=concurrency,
        calls=n,
        confirmed=len(confirmed),
        seconds=round(elapsed, 1),
        first_confirmed_s=round(first, 1),
        db_kb_per_call=0.0,
        tail_s=round(tail, 1),
        by_tenth_per_s=tenths,
        requests_by_kind=requests_by_kind(log, n),
        # Counts, not per call: requests_by_kind of the 429s alone, per one "call".
        rate_limited_by_kind={
            k: int(v) for k, v in requests_by_kind([e for e in log if e[2] == 429], 1).items()
        },
    )


def requests_by_kind(log: list[tuple[str, str, int]], n: int) -> dict[str, float]:
    """CRM requests per call by method and path (record ids folded), most first: where the budget goes."""
    counts: dict[str, int] = {}
    for method, path, _ in log:
        kind = f"{method} {re.sub(r'/[0-9]+(?=/|$)', '/{id}', path)}"
        counts[kind] = counts.get(kind, 0) + 1
    ranked = sorted(counts.items(), key=lambda item: -item[1])
    return {kind: round(count / max(1, n), 3) for kind, count in ranked}


# -- the worker process -----------------------------------------------------------------------------------------


def worker_main(args: argparse.Namespace) -> None:
    """The delivery engine until SIGTERM, as `callsync worker` runs it."""
    import logging

    from callsync.config import load_tenant
    from callsync.pipeline import engine
    from callsync.pipeline.worker import check_connection_budget, running_worker

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    tenant = load_tenant(args.tenant_file)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    db = Database(args.db)
    print(check_connection_budget(db, args.concurrency), file=sys.stderr, flush=True)
    runtime = engine.Runtime(db, {tenant.name: tenant})
    with running_worker(runtime, concurrency=args.concurrency, poll_s=args.batch_window):
        while not stop.wait(0.5):
            pass
    db.dispose()


# -- the command -------------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--runs", default=",".join(RUNS), help=f"comma-separated subset of {', '.join(RUNS)}")
    p.add_argument("--n", type=int, default=500, help="calls per overload run (default 500)")
    p.add_argument("--nominal-n", type=int, default=100, help="calls of the nominal run (default 100)")
    p.add_argument("--nominal-rate", type=float, default=5.0, help="nominal arrivals, calls/s (default 5)")
    p.add_argument(
        "--latency-ms", type=float, default=200.0, help="every CRM request's latency (default 200)"
    )
    p.add_argument(
        "--crm",
        choices=("hubspot", "salesforce", "zoho"),
        default="hubspot",
        help="the CRM emulator (default hubspot; salesforce and zoho use the example mappings, and the "
        "ceiling is Zoho's 10 requests in flight, none for Salesforce's daily allocation)",
    )
    p.add_argument("--ten-second-max", type=int, default=190, help="HubSpot requests per 10 s (default 190)")
    p.add_argument("--search-per-second", type=int, default=5, help="HubSpot searches per second (default 5)")
    p.add_argument(
        "--concurrency",
        type=int,
        default=DEFAULT_PG_CONCURRENCY,
        help=f"syncs in flight per worker (default {DEFAULT_PG_CONCURRENCY}, as `callsync worker` on PostgreSQL)",
    )
    p.add_argument(
        "--batch-window",
        type=float,
        default=DEFAULT_BATCH_WINDOW_S,
        help=f"the workers' queue polling interval and batch window (default {DEFAULT_BATCH_WINDOW_S})",
    )
    p.add_argument(
        "--db-connections",
        type=int,
        default=DEFAULT_DB_CONNECTIONS,
        help=f"each worker's connection budget (default {DEFAULT_DB_CONNECTIONS}, as `callsync worker`)",
    )
    p.add_argument(
        "--no-duplicate-check",
        action="store_true",
        help="the tenant's delivery.duplicate_check off: no look-alike name searches (HubSpot's binding lane)",
    )
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--timeout", type=float, default=600.0, help="give a run up to this many seconds")
    p.add_argument(
        "--pg",
        help="an administrator's URL of an existing PostgreSQL server (a database is created per run); "
        "default: a private cluster started for the benchmark",
    )
    p.add_argument("--workdir", type=Path, help="keep each run's tenant file and worker logs here")
    p.add_argument("--json", action="store_true", help="print one JSON object keyed by run")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--db", help=argparse.SUPPRESS)
    p.add_argument("--tenant-file", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    unknown = sorted(set(args.runs.split(",")) - set(RUNS)) if not args.worker else []
    if unknown:
        p.error(f"unknown run {', '.join(unknown)}; choose from {', '.join(RUNS)}")
    return args


def print_table(out: dict[str, RunResult], args: argparse.Namespace) -> None:
    limits = {
        "hubspot": f"{args.ten_second_max} requests/10 s, {args.search_per_second} searches/s",
        "salesforce": "15,000 requests a day",
        "zoho": f"{ZOHO_CONCURRENCY} requests in flight",
    }[args.crm]
    print(
        f"{args.crm} emulator: {args.latency_ms:g} ms per request, {limits} (lifted_*: no limit); "
        f"{args.n} calls per overload run"
    )
    head = ("run", "workers×conc", "ceiling/s", "confirmed/s", "ratio", "req/call", "429s", "p50 ms", "p99 ms",
            "dead", "secs", "1st conf s", "tail s", "cpu ms/call")  # fmt: skip
    print("  ".join(f"{h:>12}" for h in head))
    for name, r in out.items():
        cells = (name, f"{r.workers}×{r.concurrency}", r.ceiling_calls_per_s, r.confirmed_per_s, r.ratio,
                 r.requests_per_call, r.rate_limited, r.p50_ms, r.p99_ms, r.dead_letters, r.seconds,
                 r.first_confirmed_s, r.tail_s, r.worker_cpu_ms_per_call)  # fmt: skip
        print("  ".join(f"{'-' if c is None else c!s:>12}" for c in cells))
    for name, r in out.items():
        db_cpu = "-" if r.db_server_cpu_ms_per_call is None else f"{r.db_server_cpu_ms_per_call:g}"
        print(f"{name}: CPU ms per call: workers {r.worker_cpu_ms_per_call:g}, PostgreSQL {db_cpu}, "
              f"CRM emulator {r.emulator_cpu_ms_per_call:g}")  # fmt: skip
        if r.load_average:
            print(f"{name}: load average (1 min) at start and end: {r.load_average[0]:g}, {r.load_average[1]:g}")
        if r.phases_ms:
            print(f"{name}: mean ms per call: " + ", ".join(f"{k} {v:g}" for k, v in r.phases_ms.items()))
        if r.by_tenth_per_s:
            print(f"{name}: confirmed/s by tenth of the run: " + " ".join(f"{v:g}" for v in r.by_tenth_per_s))
        if r.rate_limited_by_kind:
            print(
                f"{name}: 429s by request: "
                + ", ".join(f"{k} {v}" for k, v in r.rate_limited_by_kind.items())
            )
        if r.requests_by_kind:
            print(
                f"{name}: requests per call: "
                + ", ".join(f"{k} {v:g}" for k, v in r.requests_by_kind.items())
            )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        worker_main(args)
        return 0
    default = Limits(args.ten_second_max, args.search_per_second)
    lifted = Limits(LIFTED, LIFTED)
    plans: dict[str, tuple[int, Limits, float | None]] = {
        "w1": (1, default, None),
        "w2": (2, default, None),
        "w4": (4, default, None),
        "lifted_w1": (1, lifted, None),
        "lifted_w4": (4, lifted, None),
        "nominal": (1, default, args.nominal_rate),
    }
    out: dict[str, RunResult] = {}
    with contextlib.ExitStack() as stack:
        if not args.pg:
            args.pg = stack.enter_context(private_cluster())
        for name in args.runs.split(","):
            count, limits, rate = plans[name]
            if not args.json:
                print(f"running {name} ...", file=sys.stderr, flush=True)
            out[name] = run(name, count, limits, args, rate=rate)
    if args.json:
        print(json.dumps({name: asdict(r) for name, r in out.items()}, indent=1))
    else:
        print_table(out, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
