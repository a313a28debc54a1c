"""What a CRM declares beside its settings: its capabilities and how to build its adapter.

Modelled on a dlt destination's factory: each CRM folder exposes one `CRMSpec`, the registry lists them,
and the pipeline and trust branch on `Capabilities`, never on a CRM's name.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

import httpx

from callsync.crm.settings import CRMConnection

if TYPE_CHECKING:
    from callsync.crm.http.budget import BudgetStore
    from callsync.crm.protocol import CRMAdapter
    from callsync.crm.schema import SchemaReader
    from callsync.structure.mapping import MappingDocument


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What one CRM's adapter really does (docs/crms.md has the table)."""

    # write_batch sends batch endpoints (not a loop over write), up to max_batch_size records a request.
    batch_write: bool
    max_batch_size: int
    # Concurrent write attempts share batch requests (group commit), so one adapter per tenant and event
    # loop serves every attempt with batching on.
    group_commit: bool
    # A create is the CRM's own upsert on the origin stamp (a retried create updates what the first made);
    # otherwise create-then-409 on the unique stamp.
    native_upsert: bool
    # A record can be read back by id right after a write (the pipeline confirms every write this way).
    read_back: bool
    # The adapter has `scan(object_type, fields, since)`: every record modified since a moment, paged.
    bulk_scan: bool
    # The account's API allowance per rolling window is shared by every worker through the database.
    daily_credit_budget: bool
    # A person may be a lead that the CRM converts into a contact; `find` follows a converted lead.
    lead_conversion: bool
    # `find` returns look-alike names (`IdentityQuery.name`) for the reviewer.
    name_search: bool
    # `ensure_schema` creates callsync's stamp fields itself (otherwise an admin must, and it says how).
    creates_fields: bool
    # The adapter has `stamped(object_type, stamp_field, fields)`: every record of the account (location)
    # carrying a callsync origin stamp, so reconcile can find a record written to the wrong account.
    stamp_listing: bool = False
    # `find` searches the CRM (email, phone, origin stamp). Without it (and without read-back) the target
    # keeps nothing callsync can look at: the engine sends each call as one document (a webhook), and a
    # 2xx is recorded as delivered, not confirmed.
    search: bool = True
    # The workflow actions (`ActionKind` values) the adapter does on the CRM's own objects (`act`); a rule
    # naming another is refused when the tenant's mapping loads.
    actions: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class AdapterContext:
    """What the pool hands a factory besides the tenant's settings."""

    tenant: str = ""
    # Where the account's credit budget is kept (the database, for every worker); None: this process.
    budget_store: BudgetStore | None = None
    # Send through batch endpoints together with other attempts (only where `group_commit`).
    batching: bool = False
    # An httpx transport to send through instead of the network (tests, the emulators in process).
    transport: httpx.AsyncBaseTransport | None = None


S = TypeVar("S", bound=CRMConnection)


@dataclass(frozen=True, slots=True)
class CRMSpec(Generic[S]):
    kind: str
    settings: type[S]
    capabilities: Capabilities
    factory: Callable[[S, AdapterContext], CRMAdapter]
    # What `callsync status` and messages call the CRM.
    label: str = ""
    # Reads the CRM's own schema through the adapter (crm/schema.py); None: `callsync schema` cannot.
    schema_reader: SchemaReader | None = None
    # Checks a tenant's mapping against the CRM's own fields when the tenant loads for work (`worker`,
    # `serve`, `sync`): a field the CRM does not have is a ConfigError naming the mapping's file and line.
    # For a CRM that would drop an unknown field silently (Pipedrive); None: nothing to check at load.
    check_mapping: Callable[[S, MappingDocument], Awaitable[None]] | None = None
