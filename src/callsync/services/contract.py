"""`callsync contract check`: gather the evidence of the eight lines (trust/contract.py) for one tenant.

Where each line's evidence comes from:

1. the mapping document is rendered now (structure/mapping_doc.py) into the evidence directory;
2. and 7. the mapping file as written (every field's own `policy:`, read without refusing the document);
3. the rehearsal's record (`callsync rehearse` writes `<evidence dir>/rehearsal.json`); a record made
   under another mapping version does not count;
4. a ledger row of the tenant's database (with `--db`) traced to its sentence, else the rehearsal's;
5. the runbook: `--runbook`, `$CALLSYNC_RUNBOOK`, else docs/runbook.md of this installation;
6. reconcile run now on the tenant's database (with `--db`), else the rehearsal's reconcile run;
8. the schema check, run now against the tenant's CRM (or an exported schema file), and the rehearsal
   against an emulator seeded with that schema.

Nothing is written to the database; the evidence directory holds the mapping document, the rehearsal
record and the last contract report (`contract.json`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final

from callsync.config import TenantConfig
from callsync.crm.registry import capabilities_for
from callsync.errors import ConfigError
from callsync.reconcile.policy import ConflictPolicy
from callsync.services.errors import ServiceError
from callsync.store.db import Database
from callsync.structure.mapping import MappingDocument
from callsync.structure.mapping_doc import SOURCE_OF_TRUTH, integration_version, render
from callsync.trust.contract import (
    ContractLine,
    ContractReport,
    PolicyScan,
    RehearsalResult,
    SampleTrace,
    load_rehearsal,
    scan_policies,
)

__all__ = [
    "EVIDENCE_ENV",
    "ContractInputs",
    "contract_check",
    "evidence_dir",
    "rehearsal_path",
    "runbook_path",
]

EVIDENCE_ENV: Final = "CALLSYNC_EVIDENCE_DIR"
RUNBOOK_ENV: Final = "CALLSYNC_RUNBOOK"


def evidence_dir(tenant: str) -> Path:
    """Where a tenant's go-live evidence is kept: $CALLSYNC_EVIDENCE_DIR (or ./callsync-evidence)/<tenant>."""
    return Path(os.environ.get(EVIDENCE_ENV) or "callsync-evidence") / tenant


def rehearsal_path(tenant: str) -> Path:
    return evidence_dir(tenant) / "rehearsal.json"


def runbook_path(given: Path | None = None) -> Path | None:
    """The sync-failure runbook: the one given, $CALLSYNC_RUNBOOK, else this installation's docs/runbook.md."""
    for candidate in (given, Path(os.environ[RUNBOOK_ENV]) if os.environ.get(RUNBOOK_ENV) else None):
        if candidate is not None:
            return candidate
    shipped = Path(__file__).resolve().parents[3] / "docs" / "runbook.md"
    return shipped if shipped.is_file() else None


@dataclass(frozen=True)
class ContractInputs:
    tenant: TenantConfig
    schema_file: Path | None = None  # check against an exported schema instead of reading the CRM
    rehearsal_file: Path | None = None  # default: rehearsal_path(tenant)
    db: Database | None = None  # the tenant's own database: a real trace and a reconcile run now
    since: datetime | None = None  # reconcile window (with db)
    runbook: Path | None = None
    out_dir: Path | None = None  # default: evidence_dir(tenant)


def _mapping(tenant: TenantConfig) -> tuple[MappingDocument | None, str]:
    try:
        return tenant.load_mapping(), ""
    except ConfigError as exc:
        return None, str(exc)


def _line1(doc: MappingDocument | None, error: str, out_dir: Path) -> tuple[ContractLine, str]:
    claim = "A field-mapping document exists"
    if doc is None:
        return ContractLine(1, claim, False, f"the mapping does not load: {error}"), ""
    target = out_dir / "mapping.md"
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        target.write_text(render(doc, "md"), encoding="utf-8")
    except OSError as exc:
        return ContractLine(1, claim, False, f"cannot write {target}: {exc.strerror}"), ""
    evidence = (
        f"{target} (from {doc.source}), mapping version {doc.model.version}, "
        f"integration version {integration_version(doc)}"
    )
    return ContractLine(1, claim, True, evidence), str(target)


def _line2(scan: PolicyScan, source: str) -> ContractLine:
    claim = "Conflicts are declared per field"
    missing = tuple(
        f"objects.{o}.fields.{f} ({Path(source).name}:{line}): no declared policy"
        for o, f, line in scan.undeclared
    )
    if not scan.declared and not missing:
        return ContractLine(2, claim, False, f"no mapped fields found in {source}")
    if missing:
        return ContractLine(
            2,
            claim,
            False,
            f"{len(missing)} of {len(scan.declared) + len(missing)} mapped field(s) declare no policy",
            missing,
        )
    return ContractLine(2, claim, True, f"all {len(scan.declared)} mapped fields declare their own policy in {source}")  # fmt: skip


def _current(rehearsal: RehearsalResult | None, doc: MappingDocument | None, where: Path) -> tuple[RehearsalResult | None, str]:  # fmt: skip
    """The rehearsal when it was made under this very mapping; else why it does not count."""
    if rehearsal is None:
        return None, f"no rehearsal recorded at {where} (run `callsync rehearse --tenant FILE`)"
    if doc is None:
        return None, "the mapping does not load"
    if rehearsal.integration_version != integration_version(doc):
        return None, (
            f"the rehearsal at {where} ran under {rehearsal.integration_version}; the mapping is now "
            f"{integration_version(doc)}: rehearse again"
        )
    return rehearsal, ""


def _line3(rehearsal: RehearsalResult | None, why: str) -> ContractLine:
    claim = "Writes are idempotent"
    if rehearsal is None:
        return ContractLine(3, claim, False, why)
    created = ", ".join(f"{o}: {n}" for o, n in rehearsal.created.items())
    evidence = (
        f"rehearsal {rehearsal.finished_at}: a create's answer was lost after the CRM committed it "
        f"{rehearsal.dropped_after_commit}×; records {created}; doubled {rehearsal.doubled}, lost {rehearsal.lost}"
    )
    passed = rehearsal.dropped_after_commit > 0 and rehearsal.doubled == 0 and rehearsal.lost == 0
    if rehearsal.dropped_after_commit == 0:
        evidence += " (the lost answer never happened, so idempotency was not shown)"
    return ContractLine(3, claim, passed, evidence)


def _trace_from_db(db: Database, tenant: TenantConfig) -> SampleTrace | None:
    from sqlalchemy import select

    from callsync.store.tables import LedgerRow
    from callsync.trust.trace import field_history

    with db.session() as session:
        rows = session.scalars(
            select(LedgerRow)
            .where(LedgerRow.tenant == tenant.name, LedgerRow.policy != "default")
            .order_by(LedgerRow.id.desc())
            .limit(50)
        ).all()
    for row in rows:
        for entry in reversed(field_history(db, row.crm, row.record_id, row.field)):
            if entry.quotes:
                return SampleTrace(row.object_type, row.record_id, row.field, str(entry.value), entry.call_id,
                                   entry.policy, entry.quotes[0].sentence, entry.integration_version)  # fmt: skip
    return None


def _line4(trace: SampleTrace | None, origin: str) -> ContractLine:
    claim = "There is a per-record audit trail"
    if trace is None:
        return ContractLine(4, claim, False, f"no ledger row traced to a sentence ({origin})")
    evidence = (
        f"{trace.crm_object} {trace.record_id} {trace.field} = {trace.value!r} ← call {trace.call_id}: "
        f'"{trace.sentence}" ({trace.policy}, {trace.integration_version}; {origin}; '
        f"`callsync trace --record {trace.record_id} --field {trace.field}`)"
    )
    return ContractLine(4, claim, True, evidence)


def _line5(path: Path | None) -> ContractLine:
    claim = "A sync-failure runbook exists"
    if path is None or not path.is_file():
        return ContractLine(
            5, claim, False, f"no runbook at {path}" if path else "no runbook found (--runbook)"
        )
    title = next(
        (
            ln.lstrip("# ").strip()
            for ln in path.read_text(encoding="utf-8").splitlines()
            if ln.startswith("#")
        ),
        "",
    )
    return ContractLine(5, claim, True, f"{path} ({title})" if title else str(path))  # fmt: skip


def _line6(inputs: ContractInputs, rehearsal: RehearsalResult | None, why: str) -> ContractLine:
    claim = "A reconciliation job exists"
    if inputs.db is not None:
        from callsync.services.reconcile import reconcile

        try:
            report = reconcile(inputs.db, {inputs.tenant.name: inputs.tenant}, since=inputs.since)
        except ServiceError as exc:
            return ContractLine(6, claim, False, f"`callsync reconcile` run now could not finish: {exc}")
        window = f"since {inputs.since:%Y-%m-%d %H:%M}" if inputs.since else "all calls"
        evidence = (
            f"`callsync reconcile` run now ({report.generated_at:%Y-%m-%d %H:%M:%S} UTC, {window}): "
            f"{report.received} call(s), {report.records_checked} record(s) checked, lost {report.lost}, "
            f"doubled {report.doubled}, {len(report.drifted_fields)} drifted"
        )
        return ContractLine(6, claim, report.clean, evidence)
    if rehearsal is None:
        return ContractLine(6, claim, False, f"no reconcile run to show: {why} (or give --db)")
    return ContractLine(
        6,
        claim,
        rehearsal.reconcile_clean,
        f"last run {rehearsal.finished_at} after the rehearsal: {rehearsal.reconcile_summary}",
    )


def _line7(scan: PolicyScan, doc: MappingDocument | None, kind: str) -> ContractLine:
    claim = "A source of truth is named per field"
    objects = {name: o.crm_object for name, o in doc.model.objects.items()} if doc else {}
    details = tuple(
        f"{objects.get(o, o)}.{f}: {SOURCE_OF_TRUTH[ConflictPolicy(p)]}" for o, f, p, _line in scan.declared
    )
    if scan.global_keys:
        where = ", ".join(f"{k} (line {n})" for k, n in scan.global_keys)
        return ContractLine(
            7, claim, False, f"a global default is not a source of truth per field: {where}", details
        )
    if scan.undeclared or not scan.declared:
        return ContractLine(
            7, claim, False, f"{len(scan.undeclared)} field(s) have no source of truth of their own", details
        )
    evidence = f"{len(details)} field(s), each from its own policy"
    if not capabilities_for(kind).read_back:
        evidence += (
            f" (carried in each document: callsync cannot read a {kind} target, the receiver applies them)"
        )
    return ContractLine(7, claim, True, evidence, details)


def _line8(inputs: ContractInputs, doc: MappingDocument | None, rehearsal: RehearsalResult | None, why: str) -> ContractLine:  # fmt: skip
    from callsync.services.schema import check_tenant_schema

    claim = "Tested against the real schema in a sandbox"
    if doc is None:
        return ContractLine(8, claim, False, "the mapping does not load")
    try:
        check, schema = check_tenant_schema(inputs.tenant, inputs.schema_file, doc)
    except (ServiceError, ConfigError) as exc:
        return ContractLine(8, claim, False, f"schema check could not run: {exc}")
    problems = tuple(f"{p.kind.replace('_', ' ')}: {p.where}: {p.detail}" for p in check.problems)
    schema_part = f"schema check against {schema.source}: {check.summary()}"
    if rehearsal is None:
        return ContractLine(8, claim, False, f"{schema_part}; rehearsal: {why}", problems)
    if not check.applicable:
        seeded = f"{rehearsal.crm}: no schema to seed (the receiver takes the document as sent)"
    else:
        seeded = rehearsal.schema_source or "the emulator's default schema (not the customer's)"
    if check.applicable and rehearsal.schema_digest != schema.digest():
        return ContractLine(
            8,
            claim,
            False,
            f"{schema_part}; the rehearsal ({rehearsal.finished_at}) was seeded with another schema than the CRM's "
            "now: rehearse again",
            problems,
        )
    rehearsal_part = (
        f"rehearsal against an emulator seeded from {seeded}: "
        f"{'nothing lost or doubled' if rehearsal.ok else f'{rehearsal.lost} lost, {rehearsal.doubled} doubled'}"
    )
    passed = check.ok and rehearsal.ok and (bool(rehearsal.schema_source) or not check.applicable)
    return ContractLine(8, claim, passed, f"{schema_part}; {rehearsal_part}", problems)


def contract_check(inputs: ContractInputs) -> ContractReport:
    """The eight lines for one tenant, each with its evidence; writes the mapping document and the report
    to the evidence directory."""
    tenant = inputs.tenant
    out_dir = inputs.out_dir or evidence_dir(tenant.name)
    doc, error = _mapping(tenant)
    try:
        text = Path(tenant.mapping).read_text(encoding="utf-8")
    except OSError:
        text = ""
    scan = scan_policies(text)
    where = inputs.rehearsal_file or rehearsal_path(tenant.name)
    rehearsal, why = _current(load_rehearsal(where), doc, where)
    line1, doc_path = _line1(doc, error, out_dir)
    if inputs.db is not None:
        trace, origin = _trace_from_db(inputs.db, tenant), "from the tenant's ledger"
    else:
        trace, origin = (rehearsal.trace if rehearsal else None), "from the rehearsal's ledger"
    lines = (
        line1,
        _line2(scan, tenant.mapping),
        _line3(rehearsal, why),
        _line4(trace, origin),
        _line5(runbook_path(inputs.runbook)),
        _line6(inputs, rehearsal, why),
        _line7(scan, doc, tenant.crm.kind),
        _line8(inputs, doc, rehearsal, why),
    )
    report_path = out_dir / "contract.json"
    recorded = [doc_path] if doc_path else []
    report = ContractReport(tenant.name, lines, tuple(recorded))
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        report_path.write_text(json.dumps(report.to_json(), indent=2) + "\n", encoding="utf-8")
        recorded.append(str(report_path))
    except OSError:
        pass  # the report is printed either way; the file is a convenience
    return ContractReport(tenant.name, lines, tuple(recorded))
