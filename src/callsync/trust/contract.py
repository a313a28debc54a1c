"""The continuity contract: the eight lines a buyer checks before go-live, each with its evidence and a
verdict (`callsync contract check`).

1. a field-mapping document exists (its path and version);
2. conflicts are declared per field (every mapped field has its own policy);
3. writes are idempotent (the rehearsal: a response lost after the CRM committed did not double a record);
4. there is a per-record audit trail (a sample trace from a field to the sentence it was heard in);
5. a sync-failure runbook exists (where it is);
6. a reconciliation job exists (its last run and result);
7. a source of truth is named per field (a global default alone fails);
8. the integration was tested against the real schema in a sandbox (schema check and rehearsal results).

This module holds the data and the verdicts, pure; services/contract.py gathers the evidence. The
rehearsal (which needs the emulators, `callsync rehearse`) records its result as a JSON file that the
contract check reads: `RehearsalResult`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml

from callsync.errors import ConfigError
from callsync.reconcile.policy import ConflictPolicy

__all__ = [
    "REHEARSAL_FORMAT",
    "ContractLine",
    "ContractReport",
    "PolicyScan",
    "RehearsalResult",
    "SampleTrace",
    "load_rehearsal",
    "scan_policies",
]

REHEARSAL_FORMAT: Final = "callsync-rehearsal/1"
_POLICIES: Final = frozenset(p.value for p in ConflictPolicy)
# Keys that would give many fields one policy at once: the mapping refuses them, the contract names them.
_GLOBAL_KEYS: Final = frozenset({"policy", "default_policy", "policies", "conflict_policy"})


@dataclass(frozen=True, slots=True)
class SampleTrace:
    """One field's audit trail, from the CRM value back to what the caller said."""

    crm_object: str
    record_id: str
    field: str
    value: str
    call_id: str
    policy: str
    sentence: str  # the transcript sentence the value was heard in ("" when none is kept)
    integration_version: str


@dataclass(frozen=True, slots=True)
class RehearsalResult:
    """What `callsync rehearse` found, written to a file for the contract check."""

    tenant: str
    crm: str
    mapping: str
    integration_version: str
    schema_source: str  # where the emulator's schema came from ("" when it kept its defaults)
    started_at: str
    finished_at: str
    calls: int
    confirmed: int
    review: int
    dead_letter: int
    queued: int
    created: dict[str, int]  # CRM object -> records in the emulator after the run
    doubled: int  # records beyond the first carrying one call's stamp, plus reconcile's double writes
    lost: int  # calls neither confirmed nor waiting for review, plus reconcile's missing writes
    faults: dict[str, int]  # fault -> how many requests it hit
    reconcile_clean: bool
    reconcile_summary: str
    trace: SampleTrace | None = None
    delivered: int = 0  # answered 2xx by a target that cannot be read back (a webhook): not lost
    schema_digest: str = ""  # `CRMSchema.digest()` of the schema the emulator was seeded with

    @property
    def dropped_after_commit(self) -> int:
        return self.faults.get("drop_response_after_commit", 0)

    @property
    def ok(self) -> bool:
        return self.lost == 0 and self.doubled == 0 and self.reconcile_clean

    def to_json(self) -> dict[str, Any]:
        return {"format": REHEARSAL_FORMAT, **asdict(self)}


def _rehearsal(data: Mapping[str, Any]) -> RehearsalResult:
    if data.get("format") != REHEARSAL_FORMAT:
        raise ValueError(f'not a rehearsal record (expected "format": "{REHEARSAL_FORMAT}")')
    trace = data.get("trace")
    fields = {k: v for k, v in data.items() if k not in ("format", "trace")}
    result = RehearsalResult(**fields, trace=SampleTrace(**trace) if isinstance(trace, Mapping) else None)
    for name in ("calls", "confirmed", "review", "dead_letter", "queued", "doubled", "lost"):
        if not isinstance(getattr(result, name), int):
            raise ValueError(f"{name}: expected a whole number")
    return result


def load_rehearsal(path: Path) -> RehearsalResult | None:
    """The rehearsal recorded at `path`; None when there is none. A damaged file is a ConfigError."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"cannot read the rehearsal record: {exc.strerror}", str(path)) from exc
    try:
        data = json.loads(text)
        if not isinstance(data, Mapping):
            raise ValueError("expected a JSON object")
        return _rehearsal(data)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"not a usable rehearsal record: {exc}", str(path)) from exc


@dataclass(frozen=True, slots=True)
class PolicyScan:
    """Every mapped field of a mapping document's text and whether it declares its own policy."""

    declared: tuple[tuple[str, str, str, int], ...]  # (object, field, policy, line)
    undeclared: tuple[tuple[str, str, int], ...]  # (object, field, line): no policy, or not a known one
    global_keys: tuple[tuple[str, int], ...]  # (where, line): a policy given for many fields at once


def scan_policies(text: str) -> PolicyScan:
    """Read the mapping's fields as written, without refusing the document: the contract reports a field
    without a policy as a failed line instead of stopping at the first one."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return PolicyScan((), (), ())
    declared: list[tuple[str, str, str, int]] = []
    undeclared: list[tuple[str, str, int]] = []
    global_keys: list[tuple[str, int]] = []

    def pairs(n: yaml.Node | None) -> list[tuple[str, yaml.Node, int]]:
        if not isinstance(n, yaml.MappingNode):
            return []
        return [
            (str(k.value), v, k.start_mark.line + 1) for k, v in n.value if isinstance(k, yaml.ScalarNode)
        ]

    for key, value, line in pairs(node):
        if key in _GLOBAL_KEYS:
            global_keys.append((key, line))
        if key != "objects":
            continue
        for obj, obj_node, _ in pairs(value):
            for okey, fields_node, oline in pairs(obj_node):
                if okey in _GLOBAL_KEYS:
                    global_keys.append((f"objects.{obj}.{okey}", oline))
                if okey != "fields":
                    continue
                for name, rule, fline in pairs(fields_node):
                    policy = next((v for k, v, _ in pairs(rule) if k == "policy"), None)
                    value_text = policy.value if isinstance(policy, yaml.ScalarNode) else None
                    if value_text in _POLICIES:
                        declared.append((obj, name, str(value_text), fline))
                    else:
                        undeclared.append((obj, name, fline))
    return PolicyScan(tuple(declared), tuple(undeclared), tuple(global_keys))


@dataclass(frozen=True, slots=True)
class ContractLine:
    number: int
    claim: str
    passed: bool
    evidence: str
    details: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ContractReport:
    tenant: str
    lines: tuple[ContractLine, ...]
    recorded: Sequence[str] = field(default=())  # files the check wrote (the mapping document, the report)

    @property
    def ok(self) -> bool:
        return all(line.passed for line in self.lines)

    @property
    def failed(self) -> tuple[ContractLine, ...]:
        return tuple(line for line in self.lines if not line.passed)

    def to_json(self) -> dict[str, Any]:
        return {"tenant": self.tenant, "ok": self.ok, "lines": [asdict(line) for line in self.lines]}
