"""The delivery engine: one durable DBOS workflow per call.

    prepare (extract + plan) → write attempt (find → decide → write → read back), retried with backoff
    → finish (ledger, identity links, review items or dead letter)

Every step is safe to run twice: DBOS re-runs a step whose checkpoint was not saved (a crash after the
HTTP call), so a write attempt always starts by looking for what an earlier attempt may have left — the
record stamped with this call id — before it creates anything.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from typing import Any, ParamSpec, TypeVar

import structlog
from dbos import DBOS
from pydantic import BaseModel, model_validator

from callsync import __version__
from callsync.actions.plan import ActionRun, ActionState, PlannedAction, action_stamp, plan_actions
from callsync.capture.extract import extract_call
from callsync.capture.platforms.generic import parse_generic_call
from callsync.config import TenantConfig
from callsync.crm.http.coalesce import DEFAULT_BATCH_WINDOW_S
from callsync.crm.pool import AdapterPool
from callsync.crm.protocol import (
    AmbiguousWriteError,
    ConflictError,
    CRMAdapter,
    CRMError,
    CRMRecord,
    IdentityQuery,
    NotYetConsistent,
    PermanentError,
    RateLimited,
    RecordRef,
    TransientError,
    UnknownFieldError,
    WriteRequest,
    WriteResult,
)
from callsync.crm.registry import capabilities_for
from callsync.delivery import (
    FieldWrite,
    HeldValue,
    ObjectPlanData,
    Outcome,
    PlannedField,
    PlannedIdentity,
    PreparedCall,
    RecordLink,
    ReviewProposal,
    ReviewRequest,
    Status,
    SuppliedIdentity,
    WaitingObject,
)
from callsync.models import NO_TURN, CallRecord, EvidenceSource, Extraction
from callsync.pipeline.actions import DEAL_OBJECT, action_request, call_facts, run_action, unfinished_run
from callsync.pipeline.document import send_document
from callsync.pipeline.queue import SYNC_WORKFLOW, workflow_id_for
from callsync.reconcile.fields import (
    FieldDecisions,
    decide_fields,
    display_name,
    new_record_writes,
    still_to_write,
)
from callsync.reconcile.identity import (
    IdentityKeys,
    IdentityMatch,
    MatchKind,
    normalize_email,
    normalize_phone,
    possible_duplicates,
    resolve_identity,
)
from callsync.reconcile.policy import same_value
from callsync.store import ledger as ledger_store
from callsync.store.db import Database
from callsync.store.errors import is_transient_database_error
from callsync.store.events import StoredCall, stored_call, stored_calls
from callsync.store.group_commit import GroupCommit
from callsync.store.locks import identity_lock
from callsync.structure.mapping import MappingDocument, ObjectMapping
from callsync.structure.payload import ObjectPlan
from callsync.structure.plan import CONTACT, plan_call

P = ParamSpec("P")
R = TypeVar("R")

log = structlog.get_logger("callsync.engine")


@dataclass
class Runtime:
    """What the workflow steps need in this process: the database, tenants and their mappings."""

    db: Database
    tenants: dict[str, TenantConfig]
    adapters: AdapterPool = field(default_factory=AdapterPool)
    # The queue's polling interval (write/worker.py): retries wake on its grid (on_batch_grid).
    batch_window_s: float = DEFAULT_BATCH_WINDOW_S
    _mappings: dict[str, MappingDocument] = field(default_factory=dict)
    # A call is loaded, its links read and written, and its extracted values and outcome written, with the
    # other calls' of the same moment, in one transaction (store/group_commit.py): calls are prepared,
    # written and finished in bursts, a batch at a time.
    stored_calls: GroupCommit[tuple[str, str], StoredCall] = field(init=False)
    linked_records: GroupCommit[ledger_store.LinkQuery, dict[str, list[str]]] = field(init=False)
    identity_links: GroupCommit[ledger_store.IdentityLink, None] = field(init=False)
    field_values: GroupCommit[tuple[str, Extraction], None] = field(init=False)
    outcomes: GroupCommit[ledger_store.OutcomeToRecord, str] = field(init=False)

    def __post_init__(self) -> None:
        if self.adapters.db is None:
            self.adapters.db = self.db  # credit budgets are shared through the database
        self.stored_calls = GroupCommit(partial(stored_calls, self.db))
        self.linked_records = GroupCommit(partial(ledger_store.linked_records_of, self.db))
        self.identity_links = GroupCommit(partial(ledger_store.link_identities, self.db))
        self.field_values = GroupCommit(partial(ledger_store.save_field_values_of, self.db))
        self.outcomes = GroupCommit(partial(ledger_store.record_outcomes, self.db))

    def tenant(self, name: str) -> TenantConfig:
        if name not in self.tenants:
            raise PermanentError(f"no configuration for tenant {name!r} in this worker")
        return self.tenants[name]

    def mapping(self, name: str) -> MappingDocument:
        if name not in self._mappings:
            self._mappings[name] = self.tenant(name).load_mapping()
        return self._mappings[name]

    def integration_version(self, tenant: str) -> str:
        return f"callsync {__version__}+map.{self.mapping(tenant).digest[:12]}"


_runtime: Runtime | None = None


def configure(runtime: Runtime) -> None:
    global _runtime
    _runtime = runtime


def runtime() -> Runtime:
    if _runtime is None:
        raise RuntimeError("the delivery engine is not configured: call engine.configure(Runtime(...))")
    return _runtime


def backoff_delay(attempt: int, base_s: float, cap_s: float, key: str) -> float:
    """Exponential backoff with jitter in [50%, 100%], derived from the key so a replayed workflow
    computes the same schedule (workflow code must be deterministic)."""
    raw = min(cap_s, base_s * 2.0 ** max(0, attempt - 1))
    digest = hashlib.sha256(f"{key}:{attempt}".encode()).digest()
    return raw * (0.5 + digest[0] / 510)


def load_call(db: Database, tenant: str, call_id: str) -> CallRecord:
    """The call as stored: its first payload verbatim plus any later events (store/events.py), read by the
    platform adapter that received them (capture/platforms)."""
    return call_from_stored(stored_call(db, tenant, call_id), tenant)


def call_from_stored(stored: StoredCall, tenant: str) -> CallRecord:
    """A stored call read by the platform adapter that received it (`load_call`)."""
    from callsync.capture.platforms import record_from_payloads

    if stored.payload_format is None and not stored.later:
        return parse_generic_call(json.loads(stored.raw_payload), tenant=tenant, source=stored.source)
    return record_from_payloads(stored.payload_format, [stored.raw_payload, *stored.later], tenant)


def extraction_for(call: CallRecord, tenant: TenantConfig) -> Extraction:
    return extract_call(
        call,
        default_region=tenant.default_country,
        default_timezone=tenant.timezone,
        own_numbers=tenant.numbers,
    )


# -- steps --------------------------------------------------------------------------------------------
# DBOS checkpoints a step's inputs and output: they cross as JSON (`model_dump(mode="json")`) and are
# validated back into the typed models on the other side.


def _name_fields(obj: ObjectMapping) -> tuple[str, ...]:
    """The CRM fields that hold a record's name under this mapping: a person's name parts, else the
    company name, else a templated name (a deal's)."""
    people = [f for f, m in obj.fields.items() if m.source in ("full_name", "first_name", "last_name")]
    if people:
        return tuple(people)
    company = [f for f, m in obj.fields.items() if m.source == "company"]
    return tuple(company or [f for f, m in obj.fields.items() if m.template is not None][:1])


def plan_data(plan: ObjectPlan) -> ObjectPlanData:
    return ObjectPlanData(
        object=plan.object_name,
        crm_object=plan.crm_object,
        fields={
            f: PlannedField(
                canonical=p.canonical,
                value=p.value,
                confidence=p.confidence,
                policy=p.policy.value,
                evidence=[e.to_json() for e in p.evidence],
            )
            for f, p in plan.fields.items()
        },
        held=[
            HeldValue(
                field=h.crm_field,
                canonical=h.canonical,
                value=h.value,
                confidence=h.confidence,
                reason=h.reason,
            )
            for h in plan.held
        ],
        identity=PlannedIdentity(
            email=plan.identity.email,
            phone=plan.identity.phone,
            name=plan.display_name,
            other_phones=[p for p in plan.phone_keys if p != plan.identity.phone],
        ),
        defaults=dict(plan.defaults),
        missing_required=list(plan.missing_required),
    )


def _supplied_fields(
    obj: ObjectMapping, supplied: SuppliedIdentity, region: str
) -> tuple[PlannedIdentity, dict[str, PlannedField]]:
    """A reviewer's email/phone as identity keys and as planned values of the fields mapped from them."""
    email = normalize_email(supplied.email) if supplied.email else None
    phone = normalize_phone(supplied.phone, region) if supplied.phone else None
    evidence = [{"turn": NO_TURN, "start": 0, "end": 0, "source": EvidenceSource.REVIEWER.value}]
    fields = {
        crm_field: PlannedField(
            canonical=rule.source, value=value, confidence=1.0, policy=rule.policy.value, evidence=evidence
        )
        for crm_field, rule in obj.fields.items()
        for canonical, value in (("email", email), ("phone", phone))
        if rule.source == canonical and value
    }
    return PlannedIdentity(email=email, phone=phone), fields


def _prepare(
    tenant_name: str, stored: StoredCall, supplied: SuppliedIdentity | None = None
) -> tuple[PreparedCall, Extraction]:
    """The call's plan, and its extraction, which the caller saves (`_prepare_safely`)."""
    rt = runtime()
    tenant = rt.tenant(tenant_name)
    call = call_from_stored(stored, tenant_name)
    extraction = extraction_for(call, tenant)
    mapping = rt.mapping(tenant_name)
    sync_plan = plan_call(mapping, call, extraction, tenant.default_country, own_numbers=tenant.numbers)
    plan = sync_plan.objects[CONTACT]
    contact = plan_data(plan)
    if supplied is not None:
        identity, fields = _supplied_fields(mapping.object(CONTACT), supplied, tenant.default_country)
        contact = contact.model_copy(
            update={
                "identity": contact.identity.model_copy(
                    update={"email": identity.email, "phone": identity.phone}
                ),
                "fields": {**contact.fields, **fields},
            }
        )
    review: ReviewRequest | None = None
    if not (contact.identity.email or contact.identity.phone):
        review = ReviewRequest(kind="no_identity", reason="no email or phone to match on; names never match")
    elif plan.missing_required:
        review = ReviewRequest(
            kind="missing_required",
            reason="required fields without a value: " + ", ".join(plan.missing_required),
        )
    called_at = call.ended_at or call.started_at or datetime.now(UTC)
    actions = plan_actions(extraction, mapping.model.actions, called_at=called_at, timezone=tenant.timezone)
    prepared = PreparedCall(
        actions=actions,
        status=Status.REVIEW if review else Status.READY,
        plan=contact,
        related=[plan_data(p) for name, p in sync_plan.objects.items() if name != CONTACT],
        links=list(sync_plan.links),
        waiting=[WaitingObject(object=w.object_name, reason=w.reason) for w in sync_plan.waiting],
        observed_at=call.ended_at or call.started_at or datetime.now(UTC),
        integration_version=rt.integration_version(tenant_name),
        review=review,
    )
    return prepared, extraction


# Database work that meets a blip (restart, killed connection, too many clients, serialization failure) is
# retried in place with backoff, for about four minutes; only a bug or bad data becomes a dead letter.
DB_RETRY_ATTEMPTS, DB_RETRY_INTERVAL_S, DB_RETRY_BACKOFF = 12, 0.5, 1.6


def database_step(name: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """A DBOS step whose database blips are retried in place (the settings above); any other error is not."""
    return DBOS.step(
        name=name,
        retries_allowed=True,
        should_retry=is_transient_database_error,
        max_attempts=DB_RETRY_ATTEMPTS,
        interval_seconds=DB_RETRY_INTERVAL_S,
        backoff_rate=DB_RETRY_BACKOFF,
    )


async def _prepare_safely(tenant: str, call_id: str, supplied: SuppliedIdentity | None) -> PreparedCall:
    """`_prepare` off the event loop, and the call's extracted values saved (with the other calls'
    prepared meanwhile); a transient database error is raised (`retry_database_blips`)."""
    rt = runtime()
    try:
        stored = await rt.stored_calls.submit((tenant, call_id))
        prepared, extraction = await asyncio.to_thread(_prepare, tenant, stored, supplied)
        await rt.field_values.submit((tenant, extraction))
        return prepared
    except PermanentError as exc:
        return PreparedCall(status=Status.PERMANENT, error=str(exc))
    except Exception as exc:
        if is_transient_database_error(exc):
            raise  # retried in place (`retry_database_blips`)
        # A bug or a bad stored payload must not leave the call queued forever: it becomes a dead letter
        # with the error, replayable once fixed.
        log.exception("prepare failed", tenant=tenant, call_id=call_id)
        error = f"internal error while preparing: {type(exc).__name__}: {exc}"
        return PreparedCall(status=Status.PERMANENT, error=error)


# Plan-time reviews a reviewer answers by naming the record the call belongs to.
_ANSWERED_BY_A_RECORD = ("no_identity", "missing_required")


class FirstAttempt(BaseModel):
    """What `first_attempt` returns: the call's final state when nothing was left to do; otherwise the
    prepared call and its first write attempt's outcome, which the rest of the workflow goes on from (and
    which `checkpoint_first_attempt` records). Earlier releases also checkpointed a finished call's state
    alone, which a recovery of their workflows reads back."""

    state: str | None = None
    prepared: PreparedCall | None = None
    outcome: Outcome | None = None

    @model_validator(mode="after")
    def _state_or_prepared(self) -> FirstAttempt:
        if (self.state is None) == (self.prepared is None):
            raise ValueError("a first attempt holds either the call's final state or its prepared call")
        return self


def with_reviewer_answer(prepared: PreparedCall, forced_record: str | None) -> PreparedCall:
    """A reviewer who named the record answers a plan-time review (no identity, a required field missing):
    the call is ready, and is written to that record."""
    if not forced_record:
        return prepared
    if prepared.review is not None and prepared.review.kind in _ANSWERED_BY_A_RECORD:
        prepared = prepared.model_copy(update={"status": Status.READY, "review": None})
    if prepared.status is Status.READY:
        prepared = prepared.model_copy(update={"forced_record": forced_record})
    return prepared


def work_follows(prepared: PreparedCall, outcome: Outcome, linking: bool) -> bool:
    """Whether the workflow has more to do after the person's write: related objects, records a reviewer
    chose to link (`linking`), or workflow actions, each once the person is confirmed."""
    if outcome.status is not Status.CONFIRMED or not (outcome.object_type and outcome.record_id):
        return False
    return bool(prepared.related or linking or prepared.actions)


async def retry_database_blips(work: Callable[[], Awaitable[R]], tenant: str, call_id: str) -> R:
    """`work()`, a database blip retried in place with backoff (the settings above, as a database step's);
    any other error is raised at once."""
    for attempt in range(1, DB_RETRY_ATTEMPTS + 1):
        try:
            return await work()
        except Exception as exc:
            if attempt == DB_RETRY_ATTEMPTS or not is_transient_database_error(exc):
                raise
            log.warning("database unavailable, retrying", tenant=tenant, call_id=call_id, attempt=attempt)
            await asyncio.sleep(DB_RETRY_INTERVAL_S * DB_RETRY_BACKOFF ** (attempt - 1))
    raise AssertionError("unreachable: the last attempt returns or raises")


# What most calls need, prepare, write once, finish, runs as the workflow's own code, not as a step: a
# step's checkpoint (a read, a locked write, DBOS's bookkeeping around it) was about 5 ms of a worker's CPU
# per call, and a call finished here needs none, since the workflow's output records its state. Each part
# is idempotent (a write attempt finds what an earlier run created by its stamp; the finish's inserts are
# keyed), so a recovery that runs it again after a crash repeats it safely. A first attempt that leaves
# work (a retry, related objects, actions) is checkpointed (`checkpoint_first_attempt`) before the
# workflow goes on, so a recovery continues from the recorded attempt, not from a fresh one.
async def first_attempt(
    tenant: str,
    call_id: str,
    supplied_json: dict[str, Any] | None,
    forced_record: str | None,
    linking: bool,
) -> FirstAttempt:
    supplied = SuppliedIdentity.model_validate(supplied_json) if supplied_json else None
    prepared = with_reviewer_answer(await _prepare_safely(tenant, call_id, supplied), forced_record)
    workflow_id = DBOS.workflow_id or workflow_id_for(tenant, call_id)
    if prepared.status is not Status.READY:
        as_outcome = Outcome(status=prepared.status, review=prepared.review, error=prepared.error)
        return FirstAttempt(state=await _finish(tenant, call_id, workflow_id, prepared, as_outcome))
    outcome = await _write_once(tenant, call_id, prepared)
    if outcome.finished and not work_follows(prepared, outcome, linking):
        return FirstAttempt(state=await _finish(tenant, call_id, workflow_id, prepared, outcome))
    return FirstAttempt(prepared=prepared, outcome=outcome)


# The name of the step earlier releases ran the first attempt in, so a workflow they checkpointed
# recovers here: its recorded attempt (or final state) is what this step returns.
@DBOS.step(name="callsync.first_attempt")
async def checkpoint_first_attempt(first_json: dict[str, Any]) -> dict[str, Any]:
    return first_json


async def attempt_with(tenant: str, label: str, work: Callable[[CRMAdapter], Awaitable[Outcome]]) -> Outcome:
    """Run one attempt against the tenant's CRM and turn what went wrong into an outcome the retry loop
    understands: rate_limited (wait what the CRM said), retry (backoff), permanent (dead letter)."""
    rt = runtime()
    try:
        adapter, owned = rt.adapters.for_attempt(rt.tenant(tenant))
    except CRMError as exc:
        return Outcome(status=Status.PERMANENT, error=str(exc))
    except Exception as exc:  # a configuration error (missing token) must dead-letter, not crash the queue
        return Outcome(status=Status.PERMANENT, error=f"cannot build the CRM adapter: {exc}")
    try:
        return await work(adapter)
    except RateLimited as exc:
        return Outcome(status=Status.RATE_LIMITED, delay=exc.retry_after, error=str(exc))
    except NotYetConsistent as exc:
        return Outcome(status=Status.RETRY, outage=False, error=str(exc))
    except (TransientError, AmbiguousWriteError) as exc:
        return Outcome(status=Status.RETRY, outage=True, error=str(exc))
    except CRMError as exc:
        return Outcome(status=Status.PERMANENT, error=str(exc))
    except Exception as exc:
        if is_transient_database_error(exc):
            # Our own database blinked (identity locks, links, intents): the CRM is fine, retry like an outage.
            return Outcome(
                status=Status.RETRY, outage=True, error=f"database unavailable: {type(exc).__name__}"
            )
        log.exception("attempt failed", tenant=tenant, attempt=label)
        return Outcome(
            status=Status.PERMANENT, error=f"internal error in {label}: {type(exc).__name__}: {exc}"
        )
    finally:
        if owned:
            await adapter.aclose()


@DBOS.step(name="callsync.write_attempt")
async def write_step(tenant: str, call_id: str, prepared_json: dict[str, Any]) -> dict[str, Any]:
    outcome = await _write_once(tenant, call_id, PreparedCall.model_validate(prepared_json))
    return outcome.model_dump(mode="json")


async def _write_once(tenant: str, call_id: str, prepared: PreparedCall) -> Outcome:
    """One attempt at the call's person: find, decide, write, read back, link its keys."""
    rt = runtime()
    if tenant in rt.tenants and not capabilities_for(rt.tenants[tenant].crm.kind).read_back:
        # Nothing to find or read back (a webhook): the whole call goes as one document, `delivered` on a 2xx.
        return await attempt_with(tenant, f"delivery of {call_id}", partial(send_document, tenant=tenant,
                                  call_id=call_id, prepared=prepared))  # fmt: skip
    plan = _contact_plan(prepared)

    async def locked(adapter: CRMAdapter) -> Outcome:
        notes: list[asyncio.Task[list[tuple[str, str]]]] = []
        try:
            # Two calls about one person (two lines, one number said) must not both miss and both create:
            # find-then-create runs under the person's keys, and the keys are linked before the lock is
            # freed, so the next holder finds the record even while the CRM's search index lags.
            async with identity_lock(
                rt.db, [f"{tenant}:{adapter.name}:{k}" for k in plan.identity.link_keys()]
            ):
                outcome = await write_attempt(adapter, rt, tenant, call_id, prepared, notes)
                if outcome.status is Status.CONFIRMED and outcome.record_id and outcome.object_type:
                    await rt.identity_links.submit(
                        ledger_store.IdentityLink(tenant, adapter.name, outcome.object_type,
                                                  tuple(outcome.link_keys), outcome.record_id, call_id)
                    )  # fmt: skip
            if outcome.status is Status.CONFIRMED and outcome.created and notes and plan.identity.name:
                found = await notes[-1]  # outside the lock: advisory, it never holds up the next caller
                proposals = possible_duplicate_notes(plan.identity.name, found, outcome.record_id)
                outcome = outcome.model_copy(update={"reviews": [*outcome.reviews, *proposals]})
            return outcome
        finally:
            for task in notes:
                task.cancel()  # an attempt that failed needs no note; a finished task ignores this

    return await attempt_with(tenant, f"sync of {call_id}", locked)


def _contact_plan(prepared: PreparedCall) -> ObjectPlanData:
    if prepared.plan is None:
        raise PermanentError("the call has no plan to write")
    return prepared.plan


async def write_attempt(
    adapter: CRMAdapter,
    rt: Runtime,
    tenant: str,
    call_id: str,
    prepared: PreparedCall,
    notes: list[asyncio.Task[list[tuple[str, str]]]] | None = None,
) -> Outcome:
    """One attempt: find the record, decide each field by its policy, write, and confirm by reading back.
    When the attempt creates the record (or completes one an earlier attempt created), the look-alike name
    search starts beside the write and is appended to `notes`: it is advisory and off the write's path, so
    it costs the call no round trip of its own (`look_alikes_safely`)."""
    mapping = rt.mapping(tenant).object(CONTACT)
    plan = _contact_plan(prepared)
    crm_object = plan.crm_object
    stamp, last_call = mapping.stamp_field, mapping.last_call_field
    await adapter.ensure_schema(crm_object, [stamp, last_call])
    read_fields = tuple(dict.fromkeys([*plan.fields, *plan.defaults, stamp, last_call]))
    keys = IdentityKeys(plan.identity.email, plan.identity.phone)
    object_types = tuple(mapping.match_objects or [crm_object])

    for _ in range(2):  # a create that meets a unique-key conflict goes round once more as an update
        found = await adapter.find(
            IdentityQuery(
                object_types=object_types,
                email=keys.email,
                phone=keys.phone,
                origin_call_id=call_id,
                stamp_field=stamp,
                fields=read_fields,
            )
        )
        linked = await rt.linked_records.submit(
            ledger_store.LinkQuery(tenant, adapter.name, tuple(object_types), keys)
        )
        # Links stand in only where the CRM's search found nothing for that key (its index lags behind
        # our own writes); what the CRM says now wins, e.g. a Lead since converted to a Contact.
        by_phone = [r.ref.record_id for r in found.by_phone] or linked.get("phone", [])
        extra_ids, extra = await _other_phone_matches(
            adapter, rt, tenant, object_types, plan.identity.other_phones, read_fields
        )
        by_phone = list(dict.fromkeys([*by_phone, *extra_ids]))
        match = resolve_identity(
            keys,
            [r.ref.record_id for r in found.by_email] or linked.get("email", []),
            by_phone,
            [r.ref.record_id for r in found.by_origin],
        )
        if prepared.forced_record:
            match = IdentityMatch(MatchKind.MATCHED, prepared.forced_record, ("reviewer",))
        if match.kind is MatchKind.CONFLICT:
            return Outcome(
                status=Status.REVIEW,
                review=ReviewRequest(
                    kind="identity_conflict",
                    reason="email and phone point to different records: " + ", ".join(match.candidates),
                    candidates=list(match.candidates),
                ),
            )
        reviews: list[ReviewProposal] = []
        if match.kind is MatchKind.MATCHED and match.record_id is not None:
            seen = {r.ref.record_id: r for r in (*found.by_origin, *found.by_email, *found.by_phone, *extra)}
            current = seen.get(match.record_id) or await adapter.read(
                RecordRef(crm_object, match.record_id), read_fields
            )
            if current is None:
                raise NotYetConsistent(f"record {match.record_id} was found but cannot be read")
            if current.fields.get(stamp) == call_id:
                # This call created the record in an earlier attempt whose answer was lost: every planned
                # field is ours and is ledgered as written. Write only what did not land (still empty); a
                # value that differs was changed since by someone else, and theirs stays (reconcile
                # reports it as drift).
                writes, created = new_record_writes(plan), True
                _look_for_duplicates(adapter, rt, tenant, plan, notes)
            else:
                decided = await _decide_update(
                    rt, tenant, adapter.name, current.ref, call_id, current.fields, last_call, prepared, plan
                )
                writes, reviews, created = decided.writes, decided.reviews, False
            to_write = still_to_write(writes, current.fields, own=created)
            if not to_write:
                return _confirmed(current.ref, created, None, writes, reviews, plan.identity.link_keys())
            to_write[last_call] = call_id
            # The record's own type: a caller mapped as a Lead may be found as a Contact.
            request = WriteRequest(
                current.ref.object_type,
                to_write,
                current.ref.record_id,
                f"{tenant}:{adapter.name}:{call_id}:update",
            )
            if not created:
                await asyncio.to_thread(
                    ledger_store.save_intents, rt.db, tenant, adapter.name, call_id, current.ref.object_type,
                    current.ref.record_id, writes, prepared,
                )  # fmt: skip
        else:
            writes, created = new_record_writes(plan), True
            _look_for_duplicates(adapter, rt, tenant, plan, notes)
            to_write = {f: w.new for f, w in writes.items()} | {stamp: call_id, last_call: call_id}
            request = WriteRequest(crm_object, to_write, None, f"{tenant}:{adapter.name}:{call_id}:create")
        sent_at = datetime.now(UTC)
        try:
            result, rejected = await write_known_fields(adapter, request, keep=(stamp, last_call))
        except ConflictError as exc:
            if request.record_id is None:
                continue  # someone holds the unique key: find it and update instead of creating
            raise PermanentError(str(exc), request_id=exc.request_id, status=exc.status) from exc
        acknowledged_at = datetime.now(UTC)
        if rejected:
            writes = {f: w for f, w in writes.items() if f not in rejected}
            to_write = {f: v for f, v in to_write.items() if f not in rejected}
        back = await adapter.read(result.ref, tuple(to_write))
        if back is None:
            raise NotYetConsistent(f"record {result.ref.record_id} not readable after the write")
        mismatched = [f for f, v in to_write.items() if not same_value(back.fields.get(f), v)]
        if mismatched:
            # A partial write: the next attempt finds the record and completes it.
            raise NotYetConsistent("read-back differs on " + ", ".join(sorted(mismatched)))
        done = _confirmed(
            result.ref,
            created,
            result.request_id,
            writes,
            reviews,
            plan.identity.link_keys(),
            sent_at,
            acknowledged_at,
        )
        return done.model_copy(update={"rejected_fields": rejected}) if rejected else done
    raise NotYetConsistent("create conflicted twice with records the search does not return yet")


async def _other_phone_matches(
    adapter: CRMAdapter,
    rt: Runtime,
    tenant: str,
    object_types: tuple[str, ...],
    phones: list[str],
    read_fields: tuple[str, ...],
) -> tuple[list[str], list[CRMRecord]]:
    """The record ids the caller's further phones (the line beside a spoken number) belong to, and the
    records the CRM returned for them. callsync's own identity links answer first (no CRM request: the line
    of a known caller was linked by an earlier call); only an unknown line is searched in the CRM."""
    ids: list[str] = []
    found: list[CRMRecord] = []
    for phone in phones:
        linked = await asyncio.to_thread(
            ledger_store.linked_records, rt.db, tenant, adapter.name, object_types, IdentityKeys(None, phone)
        )
        if linked.get("phone"):
            ids.extend(linked["phone"])
            continue
        query = IdentityQuery(object_types=object_types, phone=phone, fields=read_fields)
        by_phone = (await adapter.find(query)).by_phone
        found.extend(by_phone)
        ids.extend(r.ref.record_id for r in by_phone)
    return ids, found


async def write_known_fields(
    adapter: CRMAdapter, request: WriteRequest, keep: tuple[str, ...]
) -> tuple[WriteResult, dict[str, str]]:
    """Write, leaving out the fields the CRM says it does not have (a mapping naming a property that does
    not exist): the good fields land, and each left-out field is returned with the CRM's error, to be
    dead-lettered on its own. callsync's own fields (`keep`) are never left out: without them the write is
    not safe to retry, so their absence stays an error for the whole write."""
    rejected: dict[str, str] = {}
    for _ in range(len(request.fields) + 1):
        try:
            return await adapter.write(request), rejected
        except UnknownFieldError as exc:
            unknown = [f for f in exc.fields if f in request.fields and f not in keep]
            if not unknown or len(unknown) == len([f for f in request.fields if f not in keep]):
                raise
            for f in unknown:
                rejected[f] = str(exc)
            request = replace(request, fields={f: v for f, v in request.fields.items() if f not in rejected})
    raise PermanentError("the CRM kept refusing fields: " + ", ".join(rejected))


async def look_alikes(
    adapter: CRMAdapter, crm_object: str, name: str, name_fields: tuple[str, ...]
) -> list[tuple[str, str]]:
    """(record id, display name) of the records the CRM's name search returns for `name`."""
    found = await adapter.find(IdentityQuery(object_types=(crm_object,), name=name))
    return [(r.ref.record_id, display_name(r.fields, name_fields)) for r in found.by_name]


def possible_duplicate_notes(
    name: str, candidates: list[tuple[str, str]], created_id: str | None
) -> list[ReviewProposal]:
    """A new record whose name resembles existing ones is still created (names never match), and a
    reviewer is told about the look-alikes (never about the record itself)."""
    others = [(rid, shown) for rid, shown in candidates if rid != created_id]
    similar = possible_duplicates(name, others)
    if not similar:
        return []
    names = dict(others)
    return [
        ReviewProposal(
            kind="possible_duplicate",
            field=None,
            proposed=name,
            reason="name resembles existing record(s): "
            + ", ".join(f"{rid} ({names[rid]!r}, {score:.0f}%)" for rid, score in similar),
            candidates=[rid for rid, _ in similar],
        )
    ]


def _look_for_duplicates(
    adapter: CRMAdapter,
    rt: Runtime,
    tenant: str,
    plan: ObjectPlanData,
    notes: list[asyncio.Task[list[tuple[str, str]]]] | None,
) -> None:
    if notes is None or notes or not plan.identity.name or not rt.tenant(tenant).delivery.duplicate_check:
        return
    name_fields = _name_fields(rt.mapping(tenant).object(CONTACT))
    notes.append(
        asyncio.create_task(look_alikes_safely(adapter, plan.crm_object, plan.identity.name, name_fields))
    )


# Advisory only, so off the write path: it runs beside the create and is awaited outside the identity lock,
# and a CRM that keeps failing costs the call its note, never its sync.
async def look_alikes_safely(
    adapter: CRMAdapter, crm_object: str, name: str, name_fields: tuple[str, ...]
) -> list[tuple[str, str]]:
    error: CRMError | None = None
    for attempt in range(1, 4):
        try:
            return await look_alikes(adapter, crm_object, name, name_fields)
        except (TransientError, RateLimited, AmbiguousWriteError) as exc:
            error = exc
            await asyncio.sleep(min(getattr(exc, "retry_after", 0.0) or attempt, 10.0))
        except CRMError as exc:
            error = exc
            break
        except Exception as exc:  # advisory: nothing here may fail the call's sync
            log.warning("possible-duplicate check failed", error=type(exc).__name__)
            return []
    log.warning("no possible-duplicate check", name_fields=name_fields, error=str(error))
    return []


async def _decide_update(
    rt: Runtime,
    tenant: str,
    crm: str,
    ref: RecordRef,
    call_id: str,
    crm_fields: dict[str, Any],
    last_call_field: str,
    prepared: PreparedCall,
    plan: ObjectPlanData,
) -> FieldDecisions:
    history, intents = await asyncio.to_thread(
        ledger_store.write_history, rt.db, tenant, crm, ref.object_type, ref.record_id, call_id
    )
    return decide_fields(
        plan.fields,
        crm_fields,
        history,
        prepared.observed_at or datetime.now(UTC),
        own_intents=intents,
        # An earlier attempt of this call updated the record but its answer was lost.
        lost_update=crm_fields.get(last_call_field) == call_id,
    )


def _confirmed(
    ref: RecordRef,
    created: bool,
    request_id: str | None,
    writes: dict[str, FieldWrite],
    reviews: list[ReviewProposal],
    link_keys: list[str],
    sent_at: datetime | None = None,
    acknowledged_at: datetime | None = None,
) -> Outcome:
    return Outcome(
        status=Status.CONFIRMED,
        object_type=ref.object_type,
        record_id=ref.record_id,
        created=created,
        request_id=request_id,
        sent_at=sent_at,
        acknowledged_at=acknowledged_at,
        confirmed_at=datetime.now(UTC),
        writes=writes,
        reviews=reviews,
        link_keys=link_keys,
    )


# Only database work: a lock timeout or a dropped connection is worth retrying; the writes are keyed.
@database_step("callsync.finish")
async def finish_step(
    tenant: str, call_id: str, prepared_json: dict[str, Any], outcome_json: dict[str, Any]
) -> str:
    # The running workflow's own id: a re-plan, a replay or a reviewer's rerun each have their own.
    workflow_id = DBOS.workflow_id or workflow_id_for(tenant, call_id)
    return await _finish(
        tenant,
        call_id,
        workflow_id,
        PreparedCall.model_validate(prepared_json),
        Outcome.model_validate(outcome_json),
    )


async def _finish(
    tenant: str, call_id: str, workflow_id: str, prepared: PreparedCall, outcome: Outcome
) -> str:
    rt = runtime()
    crm = rt.tenants[tenant].crm.kind if tenant in rt.tenants else "unknown"
    # Committed with the other calls finishing meanwhile (`Runtime.outcomes`).
    return await rt.outcomes.submit(
        ledger_store.OutcomeToRecord(tenant, crm, call_id, workflow_id, prepared, outcome)
    )


# -- the workflow -------------------------------------------------------------------------------------


def is_outage(outcome: Outcome) -> bool:
    """A retry caused by the CRM being unreachable or failing (connection refused, timeout, 5xx), as
    opposed to the engine waiting for the CRM to catch up with a write (NotYetConsistent)."""
    return outcome.status is Status.RETRY and outcome.outage


def on_batch_grid(delay: float, window: float) -> float:
    """`delay`, stretched to end on the batch window's grid (wall-clock multiples of `window`): calls that
    failed in one batch retry together and share a batch again, instead of scattering with their jitter.
    Safe in workflow code: DBOS records a sleep's wake-up time, and a replay keeps the recorded one."""
    if window <= 0:
        return delay
    now = time.time()
    return max(delay, math.ceil((now + delay) / window) * window - now)


async def deliver(
    tenant: str, key: str, attempt: Callable[[], Awaitable[dict[str, Any]]], first: Outcome | None = None
) -> Outcome:
    """Run write attempts until one is confirmed (or sent to review): durable backoff between failures,
    the CRM's own wait after a rate limit (which uses up no attempt), a dead letter at the end.
    While the CRM is down (`is_outage`), retries use up no attempt either: they back off up to
    `max_delay_s` and keep going until they have waited `outage_horizon_s` in all; only then do they count."""
    settings = runtime().tenant(tenant).delivery
    attempts = rate_waits = outage_retries = 0
    outage_waited = 0.0
    errors: list[str] = []
    while True:
        # `first`: an attempt already made (in the call's first step); the loop decides on it as on any.
        outcome = first if first is not None else Outcome.model_validate(await attempt())
        first = None
        if outcome.finished:
            return outcome
        errors.append(outcome.error or "unknown error")
        if outcome.status is Status.RATE_LIMITED and rate_waits < settings.max_rate_limit_waits:
            rate_waits += 1
            await DBOS.sleep_async(on_batch_grid(float(outcome.delay or 0.0), runtime().batch_window_s))
            continue
        if is_outage(outcome) and outage_waited < settings.outage_horizon_s:
            # Deterministic (workflow code): the waits are derived from the key, not from a clock.
            outage_retries += 1
            delay = backoff_delay(
                outage_retries, settings.base_delay_s, settings.max_delay_s, f"{key}:outage"
            )
            outage_waited += delay  # the deterministic delay, so a replay counts the same
            await DBOS.sleep_async(on_batch_grid(delay, runtime().batch_window_s))
            continue
        attempts += 1
        if outcome.status is Status.PERMANENT or attempts >= settings.max_attempts:
            return Outcome(
                status=Status.DEAD_LETTER,
                object=outcome.object,
                error=outcome.error,
                attempts=attempts,
                outage_retries=outage_retries,
                errors=errors[-5:],
            )
        delay = backoff_delay(attempts, settings.base_delay_s, settings.max_delay_s, key)
        await DBOS.sleep_async(on_batch_grid(delay, runtime().batch_window_s))


@DBOS.workflow(name=SYNC_WORKFLOW)
async def sync_call(
    tenant: str,
    call_id: str,
    forced_record: str | None = None,
    supplied: dict[str, Any] | None = None,
    linked_records: dict[str, str] | None = None,
) -> str:
    """`forced_record` is a reviewer's answer: this call belongs to that record (an identity conflict, or a
    call with nothing to match on or a required field missing, which the record answers). `supplied` is a
    reviewer's email/phone for a call with nothing to match on (`SuppliedIdentity`). `linked_records`: for
    objects the call could not create (waiting in review), the existing record a reviewer chose, by object
    name; it is linked to the call's records."""
    chosen = dict(linked_records or {})
    first_try = partial(first_attempt, tenant, call_id, supplied, forced_record, bool(chosen))
    fresh = await retry_database_blips(first_try, tenant, call_id)
    if fresh.state is not None:
        return fresh.state  # finished: nothing followed its first attempt
    # From here on the workflow goes on from the recorded attempt: in a recovery, the one the first run
    # checkpointed, which the steps and sleeps recorded after it followed.
    first = FirstAttempt.model_validate(await checkpoint_first_attempt(fresh.model_dump(mode="json")))
    if first.state is not None:
        return first.state  # an earlier release's checkpoint of a finished call
    prepared = first.prepared
    assert prepared is not None  # FirstAttempt holds a state or a prepared call (its validator)
    prepared_json = prepared.model_dump(mode="json")
    key = workflow_id_for(tenant, call_id)
    outcome = await deliver(tenant, key, lambda: write_step(tenant, call_id, prepared_json), first.outcome)
    if (
        outcome.status is Status.CONFIRMED
        and (prepared.related or chosen)
        and outcome.object_type
        and outcome.record_id
    ):
        refs = {CONTACT: RecordLink(object_type=outcome.object_type, record_id=outcome.record_id)}
        related: list[Outcome] = []
        for obj in prepared.related:
            refs_json = {k: v.model_dump(mode="json") for k, v in refs.items()}
            attempt = partial(
                related_step, tenant, call_id, prepared_json, obj.model_dump(mode="json"), refs_json
            )
            result = await deliver(tenant, f"{key}:{obj.object}", attempt)
            related.append(result.model_copy(update={"object": obj.object}))
            if result.status is Status.CONFIRMED and result.record_id:
                refs[obj.object] = RecordLink(object_type=obj.crm_object, record_id=result.record_id)
        for name, record_id in chosen.items():
            # A reviewer named the existing record of an object this call could not create: link it.
            refs_json = {k: v.model_dump(mode="json") for k, v in refs.items()}
            result = await deliver(
                tenant, f"{key}:{name}", partial(link_step, tenant, name, record_id, refs_json)
            )
            related.append(result)
        outcome = outcome.model_copy(update={"related": related})
    if outcome.status is Status.CONFIRMED and prepared.actions and outcome.object_type and outcome.record_id:
        outcome = await run_actions(tenant, call_id, key, prepared, outcome)
    return await finish_step(tenant, call_id, prepared_json, outcome.model_dump(mode="json"))


async def run_actions(
    tenant: str, call_id: str, key: str, prepared: PreparedCall, outcome: Outcome
) -> Outcome:
    """The call's workflow actions, once its person (and deal) are confirmed: one `deliver` per rule, keyed
    by (call, rule). A doubtful action is not attempted: it waits for a person (store/ledger.py)."""
    assert outcome.object_type and outcome.record_id
    person = RecordLink(object_type=outcome.object_type, record_id=outcome.record_id)
    deals = [
        r for r in outcome.related if r.object == DEAL_OBJECT and r.status is Status.CONFIRMED and r.record_id
    ]
    deal = (
        RecordLink(object_type=deals[0].object_type or "", record_id=deals[0].record_id or "")
        if deals
        else None
    )
    runs: list[ActionRun] = []
    for planned in prepared.actions:
        stamp = action_stamp(tenant, call_id, planned.rule)
        if planned.state is ActionState.REVIEW:
            runs.append(unfinished_run(planned, stamp, person, deal, Outcome(status=Status.REVIEW)))
            continue
        attempt = partial(action_step, tenant, call_id, planned.model_dump(mode="json"), stamp,
                          person.model_dump(mode="json"), deal.model_dump(mode="json") if deal else None)  # fmt: skip
        result = await deliver(tenant, f"{key}:action:{planned.rule}", attempt)
        runs.append(
            result.actions[0] if result.actions else unfinished_run(planned, stamp, person, deal, result)
        )
    return outcome.model_copy(update={"actions": runs})


@DBOS.step(name="callsync.action")
async def action_step(
    tenant: str,
    call_id: str,
    planned_json: dict[str, Any],
    stamp: str,
    person_json: dict[str, Any],
    deal_json: dict[str, Any] | None,
) -> dict[str, Any]:
    rt = runtime()
    planned = PlannedAction.model_validate(planned_json)
    person = RecordLink.model_validate(person_json)
    deal = RecordLink.model_validate(deal_json) if deal_json else None
    crm = rt.tenant(tenant).crm.kind
    try:
        row = await asyncio.to_thread(ledger_store.call_row, rt.db, tenant, call_id)
        candidates = []
        if planned.once_open:
            candidates = await asyncio.to_thread(
                ledger_store.open_action_records, rt.db, tenant, crm, planned.rule, person.record_id, stamp
            )
    except Exception as exc:
        if not is_transient_database_error(exc):
            raise
        # Our own database blinked: retried like an outage by `deliver`; escaping, it would end the whole
        # workflow in error and leave the call queued for good.
        blip = Outcome(status=Status.RETRY, outage=True, error=f"database unavailable: {type(exc).__name__}")
        return blip.model_dump(mode="json")
    facts = call_facts(row, row.outcome or "")
    request = action_request(planned, stamp, person, deal, facts, candidates)
    outcome = await attempt_with(
        tenant, f"action {planned.rule} of {call_id}", lambda adapter: run_action(adapter, planned, request)
    )
    return outcome.model_dump(mode="json")


@DBOS.step(name="callsync.link_existing")
async def link_step(
    tenant: str, name: str, record_id: str, refs_json: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    rt = runtime()
    mapping = rt.mapping(tenant).object(name)
    refs = {k: RecordLink.model_validate(v) for k, v in refs_json.items()}
    ref = RecordRef(mapping.crm_object, record_id)

    async def link(adapter: CRMAdapter) -> Outcome:
        if await adapter.read(ref, (mapping.stamp_field,)) is None:
            raise PermanentError(f"{name} record {record_id} does not exist in the CRM")
        linked = [refs[link] for link in mapping.links if link in refs]
        for target in linked:
            await adapter.associate(ref, RecordRef(target.object_type, target.record_id))
        return Outcome(
            status=Status.CONFIRMED, object=name, object_type=mapping.crm_object, record_id=record_id,
            confirmed_at=datetime.now(UTC), linked_to=linked,
        )  # fmt: skip

    outcome = await attempt_with(tenant, f"link of {name} {record_id}", link)
    return outcome.model_copy(update={"object": name}).model_dump(mode="json")


@DBOS.step(name="callsync.write_related")
async def related_step(
    tenant: str,
    call_id: str,
    prepared_json: dict[str, Any],
    obj_json: dict[str, Any],
    refs_json: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    rt = runtime()
    prepared = PreparedCall.model_validate(prepared_json)
    obj = ObjectPlanData.model_validate(obj_json)
    refs = {k: RecordLink.model_validate(v) for k, v in refs_json.items()}
    name = obj.identity.name or ""

    async def locked(adapter: CRMAdapter) -> Outcome:
        # Companies are not unique in the CRM: two calls naming one new company take turns to find or
        # create it.
        async with identity_lock(rt.db, [f"{tenant}:{adapter.name}:{obj.crm_object}:name:{name.casefold()}"]):
            return await write_related(adapter, rt, tenant, call_id, prepared, obj, refs)

    outcome = await attempt_with(tenant, f"{obj.object} of {call_id}", locked)
    return outcome.model_dump(mode="json")


async def write_related(
    adapter: CRMAdapter,
    rt: Runtime,
    tenant: str,
    call_id: str,
    prepared: PreparedCall,
    obj: ObjectPlanData,
    refs: dict[str, RecordLink],
) -> Outcome:
    """A company or deal of this call: find it (this call's stamp, else an exact name), write by policy,
    read back, and link it to the objects it must be linked to. Never created without its links."""
    mapping = rt.mapping(tenant).object(obj.object)
    crm_object, stamp = obj.crm_object, mapping.stamp_field
    missing = [link for link in mapping.links if link not in refs]
    if missing:
        reason = f"{obj.object} cannot be linked to {', '.join(missing)}: not resolved for this call"
        return Outcome(
            status=Status.REVIEW, object=obj.object, review=ReviewRequest(kind="unlinked", reason=reason)
        )
    await adapter.ensure_schema(crm_object, [stamp])
    read_fields = tuple(dict.fromkeys([*obj.fields, *obj.defaults, stamp]))
    mine = await adapter.find(
        IdentityQuery(
            object_types=(crm_object,), origin_call_id=call_id, stamp_field=stamp, fields=read_fields
        )
    )
    current = mine.by_origin[0] if mine.by_origin else None
    name = obj.identity.name
    if current is None and "name" in mapping.match_on and name:
        found = await adapter.find(IdentityQuery(object_types=(crm_object,), name=name, fields=read_fields))
        name_fields = _name_fields(mapping)
        same = [r for r in found.by_name if same_value(display_name(r.fields, name_fields), name)]
        if len(same) > 1:
            ids = ", ".join(r.ref.record_id for r in same)
            reason = f"{obj.object} {name!r} matches several records: {ids}"
            return Outcome(
                status=Status.REVIEW,
                object=obj.object,
                review=ReviewRequest(kind="ambiguous_match", reason=reason),
            )
        current = same[0] if same else None
    if current is None:
        writes = new_record_writes(obj)
        # Created with its links, not linked afterwards: a CRM that refuses an unlinked deal (no orphans)
        # gets them in the create itself; the associate calls below then only confirm them.
        links = tuple(RecordRef(refs[link].object_type, refs[link].record_id) for link in mapping.links)
        request = WriteRequest(crm_object, {f: w.new for f, w in writes.items()} | {stamp: call_id}, None,
                               f"{tenant}:{adapter.name}:{call_id}:{obj.object}", associations=links)  # fmt: skip
        created = True
    else:
        created = current.fields.get(stamp) == call_id
        if created:
            writes = new_record_writes(obj)  # created by this call: as for the contact, complete only
        else:
            decided = await _decide_update(
                rt, tenant, adapter.name, current.ref, call_id, current.fields, stamp, prepared, obj
            )
            writes = decided.writes
        to_write = still_to_write(writes, current.fields, own=created)
        request = WriteRequest(
            crm_object, to_write, current.ref.record_id, f"{tenant}:{call_id}:{obj.object}"
        )
    result = None
    sent_at = acknowledged_at = None
    if request.fields:
        sent_at = datetime.now(UTC)
        result = await adapter.write(request)
        acknowledged_at = datetime.now(UTC)
        back = await adapter.read(result.ref, tuple(request.fields))
        if back is None or any(not same_value(back.fields.get(f), v) for f, v in request.fields.items()):
            raise NotYetConsistent(f"read-back of the {obj.object} does not show every field yet")
    if result is not None:
        ref = result.ref
    elif current is not None:
        ref = current.ref  # nothing needed writing: the record already holds every value
    else:
        raise NotYetConsistent(f"no {obj.object} record to link")
    for link in mapping.links:
        await adapter.associate(ref, RecordRef(refs[link].object_type, refs[link].record_id))
    return Outcome(
        status=Status.CONFIRMED,
        object=obj.object,
        object_type=crm_object,
        record_id=ref.record_id,
        created=created,
        request_id=result.request_id if result else None,
        sent_at=sent_at,
        acknowledged_at=acknowledged_at,
        confirmed_at=datetime.now(UTC),
        writes=writes,
        linked_to=[refs[link] for link in mapping.links],
    )
