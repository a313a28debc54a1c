"""Commands that run the service: serve (webhook ingest + delivery workers), worker (delivery only)."""

from __future__ import annotations

import os
import signal
import socket
import threading
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Annotated, Any

import typer

from callsync.cli.common import (
    BatchWindowOption,
    ConcurrencyOption,
    DbConnectionsOption,
    DbOption,
    app,
    err,
    fail,
    open_database,
    out,
)
from callsync.config import TenantConfig
from callsync.crm.http.coalesce import DEFAULT_BATCH_WINDOW_S
from callsync.errors import ConfigError

DEMO_SECRET_ENV = "CALLSYNC_DEMO_SECRET"

TenantsDirOption = Annotated[
    Path | None,
    typer.Option("--tenants", help="Directory of tenant files (*.yaml). Default: one `demo` tenant whose webhook "
                 f"secret is ${DEMO_SECRET_ENV} and whose CRM is the HubSpot sandbox at $CALLSYNC_HUBSPOT_URL."),
]  # fmt: skip


def demo_tenant() -> TenantConfig:
    """The tenant `serve`, `poll` and `quarantine retry` use without --tenants: every platform signed with
    $CALLSYNC_DEMO_SECRET, polling keys in $CALLSYNC_VAPI_API_KEY / $CALLSYNC_RETELL_API_KEY."""
    from callsync.capture.platforms import PLATFORMS
    from callsync.config import CRMConnection

    return TenantConfig.model_validate(
        {
            "name": "demo",
            "crm": CRMConnection(base_url=os.environ.get("CALLSYNC_HUBSPOT_URL", "http://127.0.0.1:8765")),
            "secrets": dict.fromkeys(PLATFORMS, DEMO_SECRET_ENV),
            "api_keys": {"vapi": "CALLSYNC_VAPI_API_KEY", "retell": "CALLSYNC_RETELL_API_KEY"},
        }
    )


def ingest_tenants(directory: Path | None) -> dict[str, TenantConfig]:
    from callsync.config import load_tenants

    if directory is None:
        return {"demo": demo_tenant()}
    try:
        return load_tenants(directory)
    except ConfigError as exc:
        raise fail(str(exc)) from exc


def delivery_problems(tenants: dict[str, TenantConfig]) -> list[str]:
    """Why the delivery workers cannot run for these tenants (a missing CRM token or mapping)."""
    problems = []
    for t in tenants.values():
        try:
            t.crm.token()
            t.check_against_crm()  # the mapping, and its fields where the CRM can be asked (Pipedrive)
        except (ConfigError, OSError) as exc:
            problems.append(f"tenant {t.name}: {exc}")
    return problems


def _report_secrets(tenants: dict[str, TenantConfig]) -> None:
    for t in tenants.values():
        ready = sorted(p for p in t.secrets if t.secret(p))
        missing = sorted(f"{p} (${t.secrets[p]})" for p in t.secrets if not t.secret(p))
        if not t.secrets or not ready:
            names = ", ".join(sorted(set(t.secrets.values()))) or "none configured"
            err.print(f"[yellow]warning:[/yellow] tenant {t.name} accepts no webhooks: no secret is set "
                      f"(environment: {names})")  # fmt: skip
            continue
        out.print(f"tenant {t.name}: accepting {', '.join(ready)}")
        if missing and t.name != "demo":
            err.print(f"[yellow]warning:[/yellow] tenant {t.name}: no secret for {', '.join(missing)}")


@app.command()
def serve(
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8080,
    host: Annotated[
        str, typer.Option(help="Address to bind (use 0.0.0.0 behind a proxy only).")
    ] = "127.0.0.1",
    db: DbOption = None,
    tenants: TenantsDirOption = None,
    no_workers: Annotated[
        bool, typer.Option("--no-workers", help="Ingest only; run `callsync worker` for delivery.")
    ] = False,
    concurrency: ConcurrencyOption = None,
    batch_window: BatchWindowOption = DEFAULT_BATCH_WINDOW_S,
    max_body: Annotated[
        int, typer.Option(min=1024, max=1024**3, help="Largest accepted request body, in bytes.")
    ] = 2 * 1024 * 1024,
    public_url: Annotated[
        str | None,
        typer.Option(
            help="The scheme://host[:port] platforms call (Twilio signs the URL; needed behind a proxy)."
        ),
    ] = None,
    metrics_token: Annotated[
        str | None,
        typer.Option(envvar="CALLSYNC_METRICS_TOKEN", show_envvar=True,
                     help="Bearer token /metrics requires (default: none; set it when the port is reachable)."),
    ] = None,
    no_dashboard: Annotated[
        bool, typer.Option("--no-dashboard", help="Serve the webhooks and /metrics only, no dashboard.")
    ] = False,
) -> None:
    """Serve the webhook ingest API, the dashboard at / (sign in with a `callsync users add` user), /metrics,
    and, by default, the delivery workers in the same process."""
    import uvicorn

    from callsync.pipeline import engine
    from callsync.pipeline.worker import running_worker
    from callsync.route.app import create_app
    from callsync.web.mount import mount

    configs = ingest_tenants(tenants)
    listener = _listen(host, port)  # before anything says "listening": a taken port is the only output
    _report_secrets(configs)
    workers = not no_workers
    if workers and (problems := delivery_problems(configs)):
        for p in problems:
            err.print(f"[yellow]warning:[/yellow] {p}")
        err.print("[yellow]warning:[/yellow] delivery workers not started: calls are stored and queued; "
                  "run `callsync worker` once the configuration is fixed")  # fmt: skip
        workers = False
    with open_database(db) as database:
        ingest = create_app(database, configs, max_body=max_body, public_url=public_url)
        mount(ingest, database, configs, metrics_token=metrics_token, decisions_here=not workers,
              dashboard=not no_dashboard)  # fmt: skip
        running: AbstractContextManager[Any] = (
            running_worker(engine.Runtime(database, configs), concurrency=concurrency, poll_s=batch_window)
            if workers
            else nullcontext()
        )
        with running:
            out.print(f"callsync ingest on http://{host}:{port} (database {database.url}; "
                      f"workers {'on' if workers else 'off'}); Ctrl-C to stop")  # fmt: skip
            if not no_dashboard:
                out.print(f"dashboard on http://{host}:{port}/ (users: `callsync users add`); "
                          f"/metrics {'with' if metrics_token else 'without'} a bearer token")  # fmt: skip
            server = uvicorn.Server(uvicorn.Config(ingest, log_level="warning", log_config=None))
            server.run(sockets=[listener])


def _listen(host: str, port: int) -> socket.socket:
    """The bound listening socket, or one line saying why the address cannot be used (exit 2)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}", 2) from exc
    sock.set_inheritable(True)
    return sock


@app.command()
def worker(
    db: DbOption = None,
    tenants: TenantsDirOption = None,
    concurrency: ConcurrencyOption = None,
    batch_window: BatchWindowOption = DEFAULT_BATCH_WINDOW_S,
    db_connections: DbConnectionsOption = None,
) -> None:
    """Run the delivery workers until interrupted (for `serve --no-workers`, or more workers on PostgreSQL)."""
    from callsync.pipeline import engine
    from callsync.pipeline.worker import (
        SHUTDOWN_GRACE_S,
        ConnectionBudgetError,
        check_connection_budget,
        exit_by_deadline,
        running_worker,
    )

    configs = ingest_tenants(tenants)
    if problems := delivery_problems(configs):
        raise fail("; ".join(problems))
    stop = threading.Event()

    def on_signal(*_: object) -> None:
        # Stop taking work, give in-flight steps a few seconds, and end within 10 s whatever is blocked:
        # an interrupted step resumes from its last checkpoint on the next worker.
        stop.set()
        exit_by_deadline()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, on_signal)
    with open_database(db, connections=db_connections) as database:
        try:
            budget = check_connection_budget(database, concurrency)
        except ConnectionBudgetError as exc:
            raise fail(str(exc), 2) from exc
        with running_worker(
            engine.Runtime(database, configs), concurrency=concurrency, poll_s=batch_window,
            shutdown_grace_s=SHUTDOWN_GRACE_S,
        ):  # fmt: skip
            out.print(f"callsync worker on {database.url} ({', '.join(configs)}); Ctrl-C to stop")
            out.print(f"database connections: {budget}")
            while not stop.wait(0.5):
                pass
    out.print("worker stopped")
