"""The CRM search endpoint: filter groups, operators, sorting and paging, with its limits."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from callsync_sandbox.hubspot.bodies import int_field, list_of_objects, string_list
from callsync_sandbox.hubspot.errors import InvalidValue, validation_error
from callsync_sandbox.hubspot.objects import parse_datetime
from callsync_sandbox.hubspot.properties import PropertyDef, as_text, lookup_key
from callsync_sandbox.hubspot.records import Record, Version

_SEARCH_DEFAULT_LIMIT: Final = 10
_SEARCH_MAX_LIMIT: Final = 200
_SEARCH_MAX_RESULTS: Final = 10_000

# Numbers and dates compare numerically, strings as strings; the tuple keeps both in one sortable type.
_Key = tuple[int, float, str]
_KeyFn = Callable[[str], _Key]

_VALUE_OPERATORS: Final = frozenset(
    {"EQ", "NEQ", "GT", "GTE", "LT", "LTE", "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"}
)
_LIST_OPERATORS: Final = frozenset({"IN", "NOT_IN"})
_PRESENCE_OPERATORS: Final = frozenset({"HAS_PROPERTY", "NOT_HAS_PROPERTY"})
# Negative operators also match records that lack the property, as HubSpot's do.
_NEGATIONS: Final = {"NEQ": "EQ", "NOT_IN": "IN", "NOT_CONTAINS_TOKEN": "CONTAINS_TOKEN"}
_COMPARISONS: Final[dict[str, Callable[[_Key, tuple[_Key, ...]], bool]]] = {
    "GT": lambda key, bounds: key > bounds[0],
    "GTE": lambda key, bounds: key >= bounds[0],
    "LT": lambda key, bounds: key < bounds[0],
    "LTE": lambda key, bounds: key <= bounds[0],
    "BETWEEN": lambda key, bounds: bounds[0] <= key <= bounds[1],
}


@dataclass(frozen=True)
class SearchLimits:
    """Filter limits differ between HubSpot's sources (see crm-apis.md §1), hence configurable."""

    max_filter_groups: int
    max_filters_per_group: int
    max_filters_total: int


def _key_fn(object_type: str, definition: PropertyDef) -> _KeyFn:
    if definition.type == "number":
        return lambda text: (0, float(text), "")
    if definition.type in ("datetime", "date"):
        return lambda text: (0, _epoch_ms(text), "")
    name = definition.name
    return lambda text: (1, 0.0, lookup_key(object_type, name, text))


def _epoch_ms(text: str) -> float:
    moment = parse_datetime(text)
    if moment is None:
        raise ValueError(f"not a date: {text}")
    return moment.timestamp() * 1000


def _has_token(text: str, pattern: str) -> bool:
    """CONTAINS_TOKEN: a whole word of the value (or the whole value) matches; `*` is a wildcard."""
    words = {text.lower(), *(word for word in re.split(r"\W+", text.lower()) if word)}
    regex = re.compile(".*".join(re.escape(part) for part in pattern.lower().split("*")))
    return any(regex.fullmatch(word) for word in words)


@dataclass(frozen=True)
class _Filter:
    name: str
    operator: str
    texts: tuple[str, ...]
    keys: tuple[_Key, ...]
    key_fn: _KeyFn

    def matches(self, properties: Mapping[str, str]) -> bool:
        stored = properties.get(self.name)
        if self.operator in _PRESENCE_OPERATORS:
            return (stored is not None) == (self.operator == "HAS_PROPERTY")
        positive = _NEGATIONS.get(self.operator)
        if positive is not None:
            return stored is None or not self._holds(positive, stored)
        return stored is not None and self._holds(self.operator, stored)

    def _holds(self, operator: str, stored: str) -> bool:
        if operator == "CONTAINS_TOKEN":
            return _has_token(stored, self.texts[0])
        key = self.key_fn(stored)
        if operator in ("EQ", "IN"):
            return key in self.keys
        return _COMPARISONS[operator](key, self.keys)


@dataclass(frozen=True)
class SearchQuery:
    groups: tuple[tuple[_Filter, ...], ...]
    properties: list[str] | None
    limit: int
    offset: int
    sort: tuple[str, _KeyFn, bool] | None

    def matches(self, properties: Mapping[str, str]) -> bool:
        # Groups are ORed, the filters inside a group ANDed; no groups means every record.
        return not self.groups or any(all(f.matches(properties) for f in group) for group in self.groups)

    def lookups(self) -> list[_Filter] | None:
        """One EQ or IN filter per group, whose values bound that group's hits; None if some group has
        none (or there are no groups), so that only a scan of every record can answer."""
        picked: list[_Filter] = []
        for group in self.groups:
            exact = next((f for f in group if f.operator in ("EQ", "IN")), None)
            if exact is None:
                return None
            picked.append(exact)
        return picked or None

    def ordered(self, hits: list[tuple[Record, Version]]) -> list[tuple[Record, Version]]:
        if self.sort is None:
            return sorted(hits, key=lambda hit: int(hit[0].id))
        name, key_fn, descending = self.sort
        present = [hit for hit in hits if name in hit[1].properties]
        missing = [hit for hit in hits if name not in hit[1].properties]
        present.sort(key=lambda hit: key_fn(hit[1].properties[name]), reverse=descending)
        return present + missing


class SearchParser:
    """Turns a search body into a `SearchQuery`, rejecting what HubSpot rejects with a 400."""

    def __init__(self, object_type: str, schema: Mapping[str, PropertyDef], limits: SearchLimits) -> None:
        self._object_type = object_type
        self._schema = schema
        self._limits = limits

    def parse(self, body: Mapping[str, Any]) -> SearchQuery:
        if body.get("query"):
            raise validation_error("The sandbox does not emulate free-text `query`; use filterGroups.")
        limit = int_field(body, "limit", _SEARCH_DEFAULT_LIMIT, minimum=0)
        if limit > _SEARCH_MAX_LIMIT:
            raise validation_error(f"limit must be at most {_SEARCH_MAX_LIMIT}, got {limit}")
        offset = int_field(body, "after", 0, minimum=0)
        if offset + limit > _SEARCH_MAX_RESULTS:
            raise validation_error(f"Search cannot page beyond {_SEARCH_MAX_RESULTS} results.")
        return SearchQuery(
            groups=self._groups(body.get("filterGroups")),
            properties=string_list(body.get("properties"), "properties"),
            limit=limit,
            offset=offset,
            sort=self._sort(body.get("sorts")),
        )

    def _groups(self, raw: object) -> tuple[tuple[_Filter, ...], ...]:
        groups = list_of_objects(raw or [], "filterGroups")
        limits = self._limits
        if len(groups) > limits.max_filter_groups:
            raise validation_error(
                f"Too many filterGroups: {len(groups)} (maximum {limits.max_filter_groups})."
            )
        parsed = tuple(self._group(group) for group in groups)
        if any(len(group) > limits.max_filters_per_group for group in parsed):
            raise validation_error(f"Too many filters in a group (maximum {limits.max_filters_per_group}).")
        total = sum(len(group) for group in parsed)
        if total > limits.max_filters_total:
            raise validation_error(
                f"Too many filters: {total} (maximum {limits.max_filters_total} in total)."
            )
        return parsed

    def _group(self, group: Mapping[str, Any]) -> tuple[_Filter, ...]:
        return tuple(self._filter(item) for item in list_of_objects(group.get("filters"), "filters"))

    def _filter(self, raw: Mapping[str, Any]) -> _Filter:
        name, operator = raw.get("propertyName"), raw.get("operator")
        if not isinstance(name, str) or not isinstance(operator, str):
            raise validation_error("Each filter needs a propertyName and an operator.")
        key_fn = _key_fn(self._object_type, self._definition(name))
        texts = self._operands(operator, raw)
        try:
            keys = tuple(key_fn(text) for text in texts)
        except ValueError as exc:
            raise validation_error(f"Invalid value for filter on {name}: {exc}") from exc
        return _Filter(name, operator, texts, keys, key_fn)

    def _operands(self, operator: str, raw: Mapping[str, Any]) -> tuple[str, ...]:
        if operator in _PRESENCE_OPERATORS:
            return ()
        if operator in _LIST_OPERATORS:
            values = raw.get("values")
            if not isinstance(values, list) or not values:
                raise validation_error(f"operator {operator} requires a non-empty `values` list")
            return tuple(self._operand(value, operator) for value in values)
        if operator == "BETWEEN":
            return (self._operand(raw.get("value"), operator), self._operand(raw.get("highValue"), operator))
        if operator in _VALUE_OPERATORS:
            return (self._operand(raw.get("value"), operator),)
        raise validation_error(f"Unknown filter operator: {operator}")

    @staticmethod
    def _operand(raw: object, operator: str) -> str:
        try:
            text = as_text(raw)
        except InvalidValue as exc:
            raise validation_error(exc.message) from exc
        if text is None:
            raise validation_error(f"operator {operator} requires a value")
        return text

    def _sort(self, raw: object) -> tuple[str, _KeyFn, bool] | None:
        sorts = raw or []
        if not isinstance(sorts, list) or len(sorts) > 1:
            raise validation_error("`sorts` must be a list with at most one sort.")
        if not sorts:
            return None
        name, descending = _sort_spec(sorts[0])
        return name, _key_fn(self._object_type, self._definition(name)), descending

    def _definition(self, name: str) -> PropertyDef:
        definition = self._schema.get(name)
        if definition is None:
            message = f'Property "{name}" does not exist'
            error = {"message": message, "code": "PROPERTY_DOESNT_EXIST", "context": {"propertyName": [name]}}
            raise validation_error(message, errors=[error])
        return definition


def _sort_spec(raw: object) -> tuple[str, bool]:
    """A sort is `{"propertyName", "direction"}` or, in HubSpot's older form, "name" / "-name"."""
    if isinstance(raw, str) and raw.strip("-"):
        return raw.lstrip("-"), raw.startswith("-")
    if isinstance(raw, dict) and isinstance(raw.get("propertyName"), str):
        direction = raw.get("direction", "ASCENDING")
        if direction in ("ASCENDING", "DESCENDING"):
            return raw["propertyName"], direction == "DESCENDING"
    raise validation_error("Each sort needs a propertyName and a direction of ASCENDING or DESCENDING.")


class ValueIndex:
    """Record ids by the search key of a property's value, for the EQ and IN filters of one object type.

    A property is indexed the first time a search filters on it by equality (one scan), and kept current
    on every write after that, so that looking a contact up by email, phone or callsync's stamp costs
    the same with ten records as with a hundred thousand. It indexes every version a record keeps for
    the search lag, so it may name a record whose visible value differs: candidates are always checked
    against the version search sees, exactly as a scan would.
    """

    def __init__(self) -> None:
        self._key_fns: dict[str, _KeyFn] = {}
        self._ids: dict[str, dict[_Key, set[str]]] = {}

    def entries(self, record: Record) -> set[tuple[str, _Key]]:
        """(property, key) for each indexed property's value in any version the record keeps."""
        return {entry for name in self._key_fns for entry in self._entries(record, name)}

    def replace(self, record_id: str, before: set[tuple[str, _Key]], after: set[tuple[str, _Key]]) -> None:
        for name, key in before - after:
            ids = self._ids[name].get(key)
            if ids is not None:
                ids.discard(record_id)
                if not ids:
                    del self._ids[name][key]
        for name, key in after - before:
            self._ids[name].setdefault(key, set()).add(record_id)

    def candidates(self, lookup: _Filter, records: Iterable[Record]) -> set[str]:
        """Ids of the records that may match `lookup`, building the property's index on first use."""
        name = lookup.name
        if name not in self._key_fns:
            self._key_fns[name] = lookup.key_fn
            self._ids[name] = {}
            for record in records:
                for _, key in self._entries(record, name):
                    self._ids[name].setdefault(key, set()).add(record.id)
        by_key = self._ids[name]
        return {record_id for key in lookup.keys for record_id in by_key.get(key, ())}

    def _entries(self, record: Record, name: str) -> set[tuple[str, _Key]]:
        key_fn = self._key_fns[name]
        found: set[tuple[str, _Key]] = set()
        for version in record.versions:
            text = version.properties.get(name)
            if text is None:
                continue
            try:
                found.add((name, key_fn(text)))
            except ValueError:  # a stored value the key cannot read never equals a filter value
                continue
        return found
