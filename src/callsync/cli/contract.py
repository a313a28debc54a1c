"""`callsync contract check`: the buyer's eight-line go-live checklist, each line with its evidence."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from callsync.cli.common import DbOption, app, fail, open_database, out
from callsync.cli.schema import TenantOption
from callsync.errors import ConfigError
from callsync.trust.contract import ContractReport

contract_app = typer.Typer(
    help="The continuity contract: the eight go-live lines, proven.", no_args_is_help=True
)
app.add_typer(contract_app, name="contract")


@contract_app.command("check")
def check(
    tenant: TenantOption,
    schema_file: Annotated[
        Path | None,
        typer.Option("--schema", help="Check against an exported schema instead of reading the CRM."),
    ] = None,
    rehearsal: Annotated[
        Path | None,
        typer.Option(
            "--rehearsal", help="The rehearsal record to use (default: the one `callsync rehearse` wrote)."
        ),
    ] = None,
    use_db: Annotated[
        bool,
        typer.Option(
            "--use-db",
            help="Also take the audit trail from the tenant's database and run reconcile on it now.",
        ),
    ] = False,
    db: DbOption = None,
    since: Annotated[
        str,
        typer.Option(help="With --use-db: reconcile the calls received since then (ISO date/time, or 7d)."),
    ] = "7d",
    runbook: Annotated[
        Path | None, typer.Option("--runbook", help="The sync-failure runbook (default: docs/runbook.md).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object instead of the table.")] = False,
) -> None:
    """The eight lines a buyer checks before go-live, each with its evidence and pass/fail: the mapping
    document (path, version), a declared policy per field, the idempotency rehearsal, a sample trace from
    field to sentence, the runbook, the last reconcile run, the source of truth per field, the schema check
    and rehearsal against the CRM's schema. Exit 1 if any line fails."""
    from callsync.config import load_tenant
    from callsync.services.contract import ContractInputs, contract_check
    from callsync.services.reconcile import parse_since

    try:
        config = load_tenant(tenant)
    except ConfigError as exc:
        raise fail(str(exc)) from exc
    inputs = ContractInputs(tenant=config, schema_file=schema_file, rehearsal_file=rehearsal, runbook=runbook)
    try:
        if use_db:
            moment = parse_since(since)
            with open_database(db, read_only=True) as database:
                report = contract_check(dataclasses.replace(inputs, db=database, since=moment))
        else:
            report = contract_check(inputs)
    except (ConfigError, ValueError) as exc:
        raise fail(str(exc)) from exc
    if as_json:
        sys.stdout.write(json.dumps(report.to_json()) + "\n")
    else:
        render_contract(report)
    if not report.ok:
        raise typer.Exit(1)


def render_contract(report: ContractReport) -> None:
    table = Table(
        title=f"callsync contract check · tenant {report.tenant}", title_justify="left", show_lines=True
    )
    table.add_column("#", justify="right")
    table.add_column("line")
    table.add_column("result")
    table.add_column("evidence", overflow="fold")
    for line in report.lines:
        result = "[green]PASS[/green]" if line.passed else "[red]FAIL[/red]"
        evidence = escape(line.evidence)
        if line.details and (not line.passed or line.number == 7):
            evidence += "\n" + "\n".join(f"· {escape(d)}" for d in line.details)
        table.add_row(str(line.number), line.claim, result, evidence)
    out.print(table)
    for path in report.recorded:
        out.print(f"recorded {path}")
    if report.ok:
        out.print("[green]contract holds: 8 of 8 lines pass[/green]")
    else:
        failed = ", ".join(str(line.number) for line in report.failed)
        out.print(f"[red]contract does not hold: line(s) {failed} fail[/red]")
