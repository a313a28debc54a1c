"""The portal's state: schema, records, unique indexes, search indexes and associations."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from callsync_sandbox.hubspot.associations import (
    ASSOCIATION_TYPES,
    DEFAULT_ASSOCIATION,
    Associations,
    association_results,
    association_type,
)
from callsync_sandbox.hubspot.bodies import (
    input_id,
    list_of_objects,
    properties_field,
    reject_duplicate_ids,
    required_changes,
    unique_trace_ids,
)
from callsync_sandbox.hubspot.errors import (
    HubSpotError,
    InvalidValue,
    Problem,
    conflict,
    not_found,
    property_values_error,
    validation_error,
)
from callsync_sandbox.hubspot.objects import (
    FIRST_ID,
    OBJECT_TYPE_IDS,
    OBJECT_TYPES,
    PORTAL_ID,
    SINGULAR,
    TIMESTAMP_PROPERTIES,
    now_iso,
)
from callsync_sandbox.hubspot.properties import (
    DEFAULT_PROPERTIES,
    MAX_UNIQUE_PROPERTIES,
    NATIVE_UNIQUE,
    REQUIRED_PROPERTIES,
    PropertyDef,
    builtin_schema,
    custom_property,
    lookup_key,
    normalise,
)
from callsync_sandbox.hubspot.records import Record, merge, record_json
from callsync_sandbox.hubspot.search import SearchLimits, SearchParser, ValueIndex

LIST_MAX_LIMIT = 100


class Portal:
    """The emulated HubSpot account: schema, records, unique indexes and associations."""

    def __init__(self, *, search_lag_s: float, batch_limit: int, search_limits: SearchLimits) -> None:
        self.batch_limit = batch_limit
        self.search_limits = search_limits
        self._search_lag_s = search_lag_s
        self._lock = threading.RLock()
        self._schema = {object_type: builtin_schema(object_type) for object_type in OBJECT_TYPES}
        self._records: dict[str, dict[str, Record]] = {object_type: {} for object_type in OBJECT_TYPES}
        self._unique: dict[tuple[str, str], dict[str, str]] = {}
        self._values = {object_type: ValueIndex() for object_type in OBJECT_TYPES}
        self._links = Associations()
        self._next_id = FIRST_ID

    # -- inspection ---------------------------------------------------------------------------------

    def snapshot(self, object_type: str) -> list[dict[str, Any]]:
        with self._lock:
            records = sorted(self._records[object_type].values(), key=lambda record: int(record.id))
            return [record_json(record, record.properties) for record in records]

    def page(
        self, object_type: str, *, limit: int, after: str | None, archived: bool
    ) -> tuple[list[Record], str | None]:
        """A page of the basic list endpoint, in id order: records with an id from `after` on (a cursor
        this emulator makes from the next record's id), and the cursor of the next page if any."""
        if not 1 <= limit <= LIST_MAX_LIMIT:
            raise validation_error(f"limit must be between 1 and {LIST_MAX_LIMIT}, got {limit}")
        if after is not None and not after.isdigit():
            raise validation_error(f"Invalid paging cursor `after`: {after!r}")
        start = int(after) if after is not None else 0
        with self._lock:
            records = sorted(
                (
                    r
                    for r in self._records[object_type].values()
                    if r.archived == archived and int(r.id) >= start
                ),
                key=lambda record: int(record.id),
            )
        page = records[:limit]
        return page, (records[limit].id if len(records) > limit else None)

    def wanted(
        self, object_type: str, requested: Sequence[str] | None, written: Iterable[str] = ()
    ) -> set[str]:
        """The properties a response shows: requested ones (known only) or the defaults, plus system ones."""
        created, modified = TIMESTAMP_PROPERTIES[object_type]
        system = {"hs_object_id", created, modified}
        if requested:
            schema = self._schema[object_type]
            return system | {name for name in requested if name in schema}
        return system | set(DEFAULT_PROPERTIES[object_type]) | set(written)

    # -- single-record operations -------------------------------------------------------------------

    def read(self, object_type: str, record_id: str, id_property: str | None) -> Record:
        with self._lock:
            return self._find(object_type, record_id, id_property)

    def create(self, object_type: str, body: Mapping[str, Any]) -> Record:
        with self._lock:
            values = self._validated_new(object_type, properties_field(body), claimed=set())
            links = self._validated_links(object_type, body.get("associations"))
            return self._insert(object_type, values, links)

    def update(
        self, object_type: str, record_id: str, id_property: str | None, body: Mapping[str, Any]
    ) -> Record:
        with self._lock:
            record = self._find(object_type, record_id, id_property)
            changes = self._validated_changes(record, required_changes(body), claimed=set())
            self._apply(record, changes)
            return record

    def archive(self, object_type: str, record_id: str) -> None:
        with self._lock:
            record = self._find_or_none(object_type, record_id, None)
            if record is not None:
                self._archive(record)

    # -- search -------------------------------------------------------------------------------------

    def search(self, object_type: str, body: Mapping[str, Any]) -> dict[str, Any]:
        with self._lock:
            query = SearchParser(object_type, self._schema[object_type], self.search_limits).parse(body)
            now = time.monotonic()
            records = self._records[object_type]
            lookups = query.lookups()
            if lookups is None:
                candidates: Iterable[Record] = records.values()
            else:
                index = self._values[object_type]
                ids = set().union(*(index.candidates(lookup, records.values()) for lookup in lookups))
                candidates = [records[record_id] for record_id in ids]
            # Archived records leave the index at once; writes reach it only after the search lag.
            versions = [(record, record.indexed(now)) for record in candidates]
            hits = [
                (r, v)
                for r, v in versions
                if v is not None and not r.archived and query.matches(v.properties)
            ]
        hits = query.ordered(hits)
        page = hits[query.offset : query.offset + query.limit]
        wanted = self.wanted(object_type, query.properties)
        response: dict[str, Any] = {
            "total": len(hits),
            "results": [record_json(record, wanted, version) for record, version in page],
        }
        if query.offset + query.limit < len(hits):
            response["paging"] = {"next": {"after": str(query.offset + query.limit)}}
        return response

    # -- batch --------------------------------------------------------------------------------------

    def batch_read(
        self, object_type: str, inputs: Sequence[Mapping[str, Any]], id_property: str | None
    ) -> tuple[list[Record], list[str]]:
        with self._lock:
            found: dict[str, Record] = {}
            missing: list[str] = []
            for record_id in dict.fromkeys(input_id(item) for item in inputs):
                record = self._find_or_none(object_type, record_id, id_property)
                if record is None:
                    missing.append(record_id)
                else:
                    found[record.id] = record
            return list(found.values()), missing

    def batch_create(
        self, object_type: str, inputs: Sequence[Mapping[str, Any]]
    ) -> tuple[list[tuple[Record, str | None]], list[dict[str, Any]]]:
        with self._lock:
            traces = unique_trace_ids(inputs)
            if traces is None:
                return [(record, None) for record in self._create_all(object_type, inputs)], []
            return self._create_each(object_type, inputs, traces)

    def batch_update(
        self, object_type: str, inputs: Sequence[Mapping[str, Any]]
    ) -> tuple[list[Record], list[str]]:
        with self._lock:
            reject_duplicate_ids(inputs)
            claimed: set[tuple[str, str]] = set()
            plan: list[tuple[Record, dict[str, str | None]]] = []
            missing: list[str] = []
            for item in inputs:
                record = self._find_or_none(object_type, input_id(item), item.get("idProperty"))
                if record is None:
                    missing.append(input_id(item))
                else:
                    plan.append((record, self._validated_changes(record, required_changes(item), claimed)))
            for record, changes in plan:
                self._apply(record, changes)
            return [record for record, _ in plan], missing

    def batch_upsert(
        self, object_type: str, inputs: Sequence[Mapping[str, Any]]
    ) -> list[tuple[Record, bool]]:
        with self._lock:
            reject_duplicate_ids(inputs)
            claimed: set[tuple[str, str]] = set()
            plan = [self._plan_upsert(object_type, item, claimed) for item in inputs]
            results: list[tuple[Record, bool]] = []
            for record, values in plan:
                if record is None:
                    results.append((self._insert(object_type, merge({}, values), []), True))
                else:
                    self._apply(record, values)
                    results.append((record, False))
            return results

    def batch_archive(self, object_type: str, inputs: Sequence[Mapping[str, Any]]) -> None:
        with self._lock:
            for item in inputs:
                self.archive(object_type, input_id(item))

    # -- properties ---------------------------------------------------------------------------------

    def property_definitions(self, object_type: str) -> list[PropertyDef]:
        with self._lock:
            return sorted(self._schema[object_type].values(), key=lambda definition: definition.name)

    def property_definition(self, object_type: str, name: str) -> PropertyDef:
        with self._lock:
            definition = self._schema[object_type].get(name)
        if definition is None:
            raise HubSpotError(
                404, "OBJECT_NOT_FOUND", f"Unable to find property {name} on object {object_type}"
            )
        return definition

    def create_property(self, object_type: str, body: Mapping[str, Any]) -> PropertyDef:
        definition = custom_property(body)
        with self._lock:
            schema = self._schema[object_type]
            if definition.name in schema:
                raise HubSpotError(
                    409, "OBJECT_ALREADY_EXISTS", f"Property named '{definition.name}' already exists."
                )
            if definition.has_unique_value and self._count_unique(object_type) >= MAX_UNIQUE_PROPERTIES:
                raise validation_error(
                    f"An object can have at most {MAX_UNIQUE_PROPERTIES} properties with unique values."
                )
            schema[definition.name] = definition
            return definition

    def archive_property(self, object_type: str, name: str) -> None:
        """An admin deletes a custom property (`DELETE /crm/v3/properties/{objectType}/{name}`): it is gone
        from the schema, so a write naming it is refused with PROPERTY_DOESNT_EXIST. HubSpot's own
        properties cannot be deleted."""
        definition = self.property_definition(object_type, name)
        if definition.hubspot_defined:
            raise validation_error(f"{name} is a HubSpot defined property and cannot be deleted.")
        with self._lock:
            self._schema[object_type].pop(name, None)

    def seed_properties(self, object_type: str, definitions: Sequence[PropertyDef]) -> None:
        """The object's properties become `definitions` (a customer's exported schema); the read-only
        system properties stay, and so does each property's group."""
        with self._lock:
            current = self._schema[object_type]
            group = next(iter(current.values())).group_name
            kept = {name: d for name, d in current.items() if d.read_only}
            for d in definitions:
                if d.name not in kept:
                    kept[d.name] = dataclasses.replace(d, group_name=d.group_name or group)
            self._schema[object_type] = kept

    # -- associations -------------------------------------------------------------------------------

    def associate_default(
        self, from_type: str, from_id: str, to_type: str, to_id: str
    ) -> list[tuple[str, str, int]]:
        type_id = DEFAULT_ASSOCIATION.get((from_type, to_type))
        if type_id is None:
            raise validation_error(f"There is no default association from {from_type} to {to_type}.")
        with self._lock:
            self._find(from_type, from_id, None)
            self._find(to_type, to_id, None)
            self._links.link(from_type, from_id, to_id, type_id)
        return [(from_id, to_id, type_id), (to_id, from_id, ASSOCIATION_TYPES[type_id].reverse_id)]

    def associations(self, from_type: str, from_id: str, to_type: str) -> list[dict[str, Any]]:
        with self._lock:
            self._find(from_type, from_id, None)
            targets = self._links.targets(from_type, from_id, to_type)
            live = {
                to_id: type_ids
                for to_id, type_ids in targets.items()
                if self._find_or_none(to_type, to_id, None) is not None
            }
            return association_results(live)

    # -- internals (callers hold the lock) ----------------------------------------------------------

    def _find(self, object_type: str, record_id: str, id_property: str | None) -> Record:
        record = self._find_or_none(object_type, record_id, id_property)
        if record is None:
            raise not_found()
        return record

    def _find_or_none(self, object_type: str, record_id: str, id_property: str | None) -> Record | None:
        if id_property in (None, "hs_object_id"):
            record = self._records[object_type].get(record_id)
        else:
            self._require_unique(object_type, id_property)
            owner = self._unique_values(object_type, id_property).get(
                lookup_key(object_type, id_property, record_id)
            )
            record = self._records[object_type].get(owner or "")
        return None if record is None or record.archived else record

    def _require_unique(self, object_type: str, name: str) -> None:
        if name not in self._unique_properties(object_type):
            raise validation_error(
                f"Unable to perform update/upsert by non-unique {OBJECT_TYPE_IDS[object_type]} "
                f"property {name} in portal ID {PORTAL_ID}"
            )

    def _unique_properties(self, object_type: str) -> list[str]:
        custom = [d.name for d in self._schema[object_type].values() if d.has_unique_value]
        return [*NATIVE_UNIQUE.get(object_type, ()), *custom]

    def _count_unique(self, object_type: str) -> int:
        return sum(1 for definition in self._schema[object_type].values() if definition.has_unique_value)

    def _unique_values(self, object_type: str, name: str) -> dict[str, str]:
        return self._unique.setdefault((object_type, name), {})

    def _clean(self, object_type: str, raw: Mapping[str, Any]) -> dict[str, str | None]:
        """Validate and normalise written values, reporting every bad property at once."""
        schema = self._schema[object_type]
        cleaned: dict[str, str | None] = {}
        problems: list[Problem] = []
        for name, value in raw.items():
            definition = schema.get(name)
            if definition is None:
                problems.append(Problem(name, "PROPERTY_DOESNT_EXIST", f'Property "{name}" does not exist'))
            elif definition.read_only:
                message = f"{name} is a read only property; its value cannot be set."
                problems.append(Problem(name, "READ_ONLY_VALUE", message))
            else:
                try:
                    cleaned[name] = normalise(object_type, definition, value)
                except InvalidValue as exc:
                    problems.append(Problem(name, exc.code, exc.message))
        if problems:
            raise property_values_error(problems)
        return cleaned

    def _check_required(self, object_type: str, values: Mapping[str, str]) -> None:
        absent = [name for name in REQUIRED_PROPERTIES.get(object_type, ()) if name not in values]
        if absent:
            raise property_values_error(
                [Problem(name, "REQUIRED_PROPERTY", f"{name} is required") for name in absent]
            )

    def _check_unique(
        self, object_type: str, values: Mapping[str, str], own_id: str | None, claimed: set[tuple[str, str]]
    ) -> None:
        """Reject a value another live record holds, or one an earlier input of the same batch claimed."""
        for name in self._unique_properties(object_type):
            value = values.get(name)
            if value is None:
                continue
            owner = self._unique_values(object_type, name).get(value)
            if owner is not None and owner != own_id:
                raise conflict(object_type, owner)
            if (name, value) in claimed:
                raise validation_error(
                    f"Duplicate value {value!r} for unique property {name} in batch inputs."
                )
            claimed.add((name, value))

    def _validated_new(
        self, object_type: str, raw: Mapping[str, Any], claimed: set[tuple[str, str]]
    ) -> dict[str, str]:
        values = merge({}, self._clean(object_type, raw))
        self._check_required(object_type, values)
        self._check_unique(object_type, values, None, claimed)
        return values

    def _validated_changes(
        self, record: Record, raw: Mapping[str, Any], claimed: set[tuple[str, str]]
    ) -> dict[str, str | None]:
        changes = self._clean(record.object_type, raw)
        merged = merge(record.properties, changes)
        self._check_required(record.object_type, merged)
        self._check_unique(record.object_type, merged, record.id, claimed)
        return changes

    def _plan_upsert(
        self, object_type: str, item: Mapping[str, Any], claimed: set[tuple[str, str]]
    ) -> tuple[Record | None, Mapping[str, str | None]]:
        id_property = item.get("idProperty")
        if not isinstance(id_property, str) or id_property == "hs_object_id":
            raise validation_error(
                f"Unable to perform update/upsert by non-unique {OBJECT_TYPE_IDS[object_type]} "
                f"property {id_property} in portal ID {PORTAL_ID}"
            )
        value = input_id(item)
        record = self._find_or_none(object_type, value, id_property)
        raw = properties_field(item)
        if record is not None:
            return record, self._validated_changes(record, raw, claimed)
        # An unmatched id creates the record, carrying the id value in its unique property.
        return None, self._validated_new(object_type, {**raw, id_property: value}, claimed)

    def _create_all(self, object_type: str, inputs: Sequence[Mapping[str, Any]]) -> list[Record]:
        """All-or-nothing: validate every input before creating any, as HubSpot fails the whole batch."""
        claimed: set[tuple[str, str]] = set()
        plan = [
            (
                self._validated_new(object_type, properties_field(item), claimed),
                self._validated_links(object_type, item.get("associations")),
            )
            for item in inputs
        ]
        return [self._insert(object_type, values, links) for values, links in plan]

    def _create_each(
        self, object_type: str, inputs: Sequence[Mapping[str, Any]], traces: list[str]
    ) -> tuple[list[tuple[Record, str | None]], list[dict[str, Any]]]:
        created: list[tuple[Record, str | None]] = []
        errors: list[dict[str, Any]] = []
        for item, trace in zip(inputs, traces, strict=True):
            try:
                values = self._validated_new(object_type, properties_field(item), claimed=set())
                links = self._validated_links(object_type, item.get("associations"))
            except HubSpotError as exc:
                errors.append(exc.batch_item({"objectWriteTraceId": [trace]}))
            else:
                created.append((self._insert(object_type, values, links), trace))
        return created, errors

    def _validated_links(self, object_type: str, raw: object) -> list[tuple[str, str, int]]:
        """Inline `associations` of a create, as (to_type, to_id, type_id) after checking each target."""
        links: list[tuple[str, str, int]] = []
        for item in list_of_objects(raw or [], "associations"):
            target = item.get("to")
            if not isinstance(target, dict):
                raise validation_error("Each association needs a `to` object with an `id`.")
            to_id = input_id(target)
            for spec in list_of_objects(item.get("types"), "types"):
                type_id, association = association_type(spec)
                if association.from_type != object_type:
                    raise validation_error(f"Association type {type_id} does not start at {object_type}.")
                if self._find_or_none(association.to_type, to_id, None) is None:
                    label = SINGULAR[association.to_type].upper()
                    raise validation_error(
                        f"One or more associations are invalid: {label} {to_id} does not exist."
                    )
                links.append((association.to_type, to_id, type_id))
        return links

    def _insert(
        self, object_type: str, values: Mapping[str, str], links: list[tuple[str, str, int]]
    ) -> Record:
        record_id = str(self._next_id)
        self._next_id += 1
        now = now_iso()
        created, modified = TIMESTAMP_PROPERTIES[object_type]
        properties = {**values, "hs_object_id": record_id, created: now, modified: now}
        record = Record(record_id, object_type, properties, now, now)
        self._records[object_type][record_id] = record
        self._index(record)
        for _to_type, to_id, type_id in links:
            self._links.link(object_type, record_id, to_id, type_id)
        return record

    def _apply(self, record: Record, changes: Mapping[str, str | None]) -> None:
        self._unindex(record)
        now = now_iso()
        record.properties = merge(record.properties, changes)
        record.properties[TIMESTAMP_PROPERTIES[record.object_type][1]] = now
        record.updated_at = now
        self._index(record)

    def _archive(self, record: Record) -> None:
        self._unindex(record)
        record.archived = True
        record.updated_at = now_iso()

    def _index(self, record: Record) -> None:
        for name in self._unique_properties(record.object_type):
            value = record.properties.get(name)
            if value is not None:
                self._unique_values(record.object_type, name)[value] = record.id
        now = time.monotonic()
        values = self._values[record.object_type]
        before = values.entries(record)
        record.publish(now + self._search_lag_s, now)
        values.replace(record.id, before, values.entries(record))

    def _unindex(self, record: Record) -> None:
        for name in self._unique_properties(record.object_type):
            value = record.properties.get(name)
            index = self._unique_values(record.object_type, name)
            if value is not None and index.get(value) == record.id:
                del index[value]
