"""HubSpot's batch endpoints behind group commit: the lookups and writes of concurrent write attempts go
out together (batch/read, one search for many numbers or names, batch/create, batch/update).

Each request answers per input, so one caller's failure is never another's: a batch whose answer was
lost is ambiguous for every input in it (the engine then looks for each call's stamp before creating),
an input HubSpot refused gets that input's error, and a batch refused as a whole for one bad input is
split and sent one by one.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping, Sequence
from typing import Any, Protocol

import httpx

from callsync.crm.errors import field_gone
from callsync.crm.http.coalesce import Coalescers
from callsync.crm.hubspot.wire import EXISTING_ID, field_error
from callsync.crm.protocol import (
    AmbiguousWriteError,
    ConflictError,
    CRMError,
    CRMRecord,
    PermanentError,
    RateLimited,
    RecordRef,
    TransientError,
    WriteRequest,
    WriteResult,
)

BATCH_MAX = 100  # HubSpot's input cap for object batch endpoints
IN_VALUES_MAX = 100  # values in one IN filter
FILTER_GROUPS_MAX = 5  # filter groups in one search (with at most 18 filters in all)
_MAX_PAGES = 10  # a search answers at most 200 records a page
# Contacts' modification date (companies and deals call it hs_lastmodifieddate).
_RECENT_FIRST = [{"propertyName": "lastmodifieddate", "direction": "DESCENDING"}]


class Send(Protocol):
    def __call__(
        self, method: str, path: str, *, json: Any = None, params: dict[str, str] | None = None,
        search: bool = False, safe: bool = False,
    ) -> Awaitable[httpx.Response]: ...  # fmt: skip


Fields = tuple[str, ...]
Answers = dict[Any, Any]


def wire(value: Any) -> Any:
    """HubSpot properties are strings on the wire (numbers and dates included)."""
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def to_record(object_type: str, item: Mapping[str, Any]) -> CRMRecord:
    return CRMRecord(RecordRef(object_type, str(item["id"])), dict(item.get("properties") or {}))


def item_error(item: Mapping[str, Any], *, write: bool, request_id: str | None) -> CRMError:
    """One input's error from a 207 answer, in the adapter protocol's terms."""
    category = str(item.get("category") or "")
    message = f"{category or 'error'}: {item.get('message') or 'failed'}"
    status = _status(item)
    if category == "CONFLICT" or status == 409:
        found = EXISTING_ID.search(str(item.get("message", "")))
        return ConflictError(message, existing_id=found.group(1) if found else None, request_id=request_id)
    if category == "RATE_LIMITS" or status == 429:
        return RateLimited(message, retry_after=1.0, request_id=request_id, status=429)
    if category in ("INTERNAL_ERROR", "SERVICE_UNAVAILABLE", "TIMEOUT") or (status or 0) >= 500:
        # A server error on one input does not prove the input was not applied.
        kind = AmbiguousWriteError if write else TransientError
        return kind(message, request_id=request_id, status=status)
    named = field_error(item, message, request_id=request_id, status=status)
    return named or PermanentError(message, request_id=request_id, status=status)


def _status(item: Mapping[str, Any]) -> int | None:
    raw = item.get("status")
    return int(raw) if isinstance(raw, str) and raw.isdigit() else raw if isinstance(raw, int) else None


def _digits(value: Any) -> str:
    return re.sub(r"\D", "", str(value or ""))


def _in_filters(*conditions: tuple[str, Iterable[str]]) -> dict[str, Any]:
    """One filter group: each property IN its words, in the three cases HubSpot's IN compares (a
    condition without words is left out; a group without filters is the caller's to drop)."""
    return {
        "filters": [
            {"propertyName": prop, "operator": "IN", "values": sorted(_cases(words))}
            for prop, words in conditions
            if words
        ]
    }


def exact_name_groups(pairs: Iterable[tuple[str, str]], singles: Iterable[str]) -> list[dict[str, Any]]:
    """Filter groups that find every record named exactly one of `pairs` (first word, last word) or, for
    `singles`, with that last name. One group `firstname IN (...) AND lastname IN (...)` over a whole
    batch also answers every first name crossed with every last name: 16 names asked 256, which in a CRM
    of common names is pages of records nobody asked for, each page a search against the portal's search
    limit. Spread over the filter groups a search allows (names with one first name kept together), the
    cross products are about a fifth of that."""
    pairs = sorted(set(pairs))
    singles = sorted(set(singles))
    groups = [_in_filters(("lastname", singles))] if singles else []
    count = min(len(pairs), FILTER_GROUPS_MAX - len(groups))
    for n in range(count):
        chunk = pairs[len(pairs) * n // count : len(pairs) * (n + 1) // count]
        groups.append(
            _in_filters(("firstname", {f for f, _ in chunk}), ("lastname", {la for _, la in chunk}))
        )
    return groups


def _tokens(value: Any) -> set[str]:
    return {t for t in re.split(r"[\s,.;:()/-]+", str(value or "").casefold()) if t}


def _index(
    records: Sequence[CRMRecord], keys: Callable[[CRMRecord], Iterable[str]]
) -> dict[str, list[tuple[int, CRMRecord]]]:
    """Records (with their place in the answer) by each of their keys, empty keys left out."""
    index: dict[str, list[tuple[int, CRMRecord]]] = {}
    for place, record in enumerate(records):
        for key in keys(record):
            if key:
                index.setdefault(key, []).append((place, record))
    return index


def _matches(*found: Iterable[tuple[int, CRMRecord]]) -> list[CRMRecord]:
    """The records found under any of the keys looked up, each once, in the answer's order."""
    return [
        record
        for _, record in sorted(
            {place: (place, r) for hits in found for place, r in hits}.values(), key=lambda h: h[0]
        )
    ]


def _rounds(
    entries: Sequence[tuple[Any, Any]], unique: Callable[[Any], Iterable[Hashable]]
) -> list[list[Any]]:
    """Split entries so no two in one request share a unique value (HubSpot refuses such a batch whole)."""
    rounds: list[tuple[set[Hashable], list[Any]]] = []
    for entry in entries:
        values = set(unique(entry[1]))
        for taken, members in rounds:
            if not taken & values and len(members) < BATCH_MAX:
                taken |= values
                members.append(entry)
                break
        else:
            rounds.append((values, [entry]))
    return [members for _, members in rounds]


class HubSpotBatches:
    """Group-committed batch operations of one HubSpot account, on one event loop."""

    def __init__(
        self,
        send: Send,
        request_id: Callable[[httpx.Response, dict[str, Any]], str | None],
        forget_missing: Callable[[dict[str, Any]], list[str]] = lambda _: [],
    ) -> None:
        """`forget_missing` is told of an input refused for a property that does not exist, and names
        the callsync properties among them (the adapter re-creates those on the next attempt)."""
        self._send = send
        self._request_id = request_id
        self._forget_missing = forget_missing
        self.coalescers = Coalescers()

    # -- reads ---------------------------------------------------------------------------------

    async def read(
        self, object_type: str, record_id: str, fields: Sequence[str], id_property: str | None = None
    ) -> CRMRecord | None:
        """One record by id or by a unique property (email, the origin stamp); None when absent."""
        prop = id_property or ""

        async def run(entries: Sequence[tuple[str, Fields]]) -> Answers:
            return await self._read_batch(object_type, id_property, entries)

        key = record_id.casefold() if prop == "email" else record_id
        result: CRMRecord | None = await self.coalescers.get(
            ("read", object_type, prop), run, BATCH_MAX, lookup=True
        ).submit(key, tuple(fields))
        return result

    async def _read_batch(
        self, object_type: str, id_property: str | None, entries: Sequence[tuple[str, Fields]]
    ) -> Answers:
        ids = list(dict.fromkeys(key for key, _ in entries))
        wanted = list(
            dict.fromkeys([f for _, fields in entries for f in fields] + [id_property or "hs_object_id"])
        )
        body: dict[str, Any] = {"properties": wanted, "inputs": [{"id": i} for i in ids]}
        if id_property:
            body["idProperty"] = id_property
        response = await self._send("POST", f"/crm/v3/objects/{object_type}/batch/read", json=body, safe=True)
        data = response.json()
        request_id = self._request_id(response, data)
        answers: Answers = dict.fromkeys(ids)  # not in the results and no error: not there
        for item in data.get("results", []):
            record = to_record(object_type, item)
            if id_property is None:
                key = record.ref.record_id
            else:
                key = str(record.fields.get(id_property) or "")
                key = key.casefold() if id_property == "email" else key
            if key in answers:
                answers[key] = record
        for error in data.get("errors", []):
            if error.get("category") == "OBJECT_NOT_FOUND":
                continue
            failure = item_error(error, write=False, request_id=request_id)
            for ident in (error.get("context") or {}).get("ids", []):
                key = str(ident).casefold() if id_property == "email" else str(ident)
                if key in answers:
                    answers[key] = failure
        return answers

    async def search_phone(
        self, object_type: str, e164: str, fields: Sequence[str], variants: list[str]
    ) -> list[CRMRecord]:
        """Records whose phone or mobile phone is one of the number's shapes; many numbers, one search."""

        async def run(entries: Sequence[tuple[str, tuple[Fields, tuple[str, ...]]]]) -> Answers:
            shapes = {key: set(item[1]) for key, item in entries}
            wanted = [f for _, (fields, _) in entries for f in fields] + ["phone", "mobilephone"]
            found: list[CRMRecord] = []
            for chunk in _value_chunks(shapes):
                groups = [
                    {"filters": [{"propertyName": prop, "operator": "IN", "values": chunk}]}
                    for prop in ("phone", "mobilephone")
                ]
                found += await self._search_all(object_type, groups, wanted)
            # Each record is indexed once by its numbers' digits, so a batch's answers take one pass.
            by_digits = _index(found, lambda r: {_digits(r.fields.get(p)) for p in ("phone", "mobilephone")})
            return {
                key: _matches(*(by_digits.get(d, ()) for d in {_digits(v) for v in vs}))
                for key, vs in shapes.items()
            }

        # Six shapes a number: sixteen numbers fill one IN list.
        size = max(1, IN_VALUES_MAX // max(1, len(variants)))
        result: list[CRMRecord] = await self.coalescers.get(
            ("phone", object_type), run, size, lookup=True
        ).submit(e164, (tuple(fields), tuple(variants)))
        return result

    async def search_name(self, object_type: str, name: str, fields: Sequence[str]) -> list[CRMRecord]:
        """Contacts sharing the first or the last word of a name (the caller scores the likeness); many
        names, one search. A name of one word is looked for among last names.

        The answer grows with the CRM (every "John" shares a word with a new John Smith), and each page is
        a search against the portal's search limit, the lane that caps its calls per second. So one page
        is read, the most recently modified records first; when there are more, the records with the
        exact name (first and last word both) are read in full instead of every page: a same-name
        duplicate is always found, a misspelt one among the page's records (recent ones: a caller's
        earlier call)."""
        words = name.split()
        if not words:
            return []

        async def run(entries: Sequence[tuple[str, Fields]]) -> Answers:
            pairs: set[tuple[str, str]] = set()  # (first word, last word) of names of two words or more
            singles: set[str] = set()  # names of one word
            for key, _ in entries:
                parts = key.split()
                if len(parts) > 1:
                    pairs.add((parts[0], parts[-1]))
                else:
                    singles.add(parts[0])
            wanted = [f for _, fields in entries for f in fields] + ["firstname", "lastname"]
            groups = [
                _in_filters(("firstname", {f for f, _ in pairs})),
                _in_filters(("lastname", {la for _, la in pairs} | singles)),
            ]
            found, more = await self._search_pages(
                object_type, [g for g in groups if g["filters"]], wanted, pages=1, sorts=_RECENT_FIRST
            )
            if more:
                seen = {r.ref.record_id for r in found}
                for record in await self._search_all(object_type, exact_name_groups(pairs, singles), wanted):
                    if record.ref.record_id not in seen:
                        seen.add(record.ref.record_id)
                        found.append(record)
            # Each record is indexed once by its name words (a search answers up to 2,000 records for 16
            # names: matching every name against every record was the worker's costliest loop).
            by_first = _index(found, lambda r: _tokens(r.fields.get("firstname")))
            by_last = _index(found, lambda r: _tokens(r.fields.get("lastname")))
            answers: Answers = {}
            for key, _ in entries:
                parts = key.split()
                first = by_first.get(parts[0], []) if len(parts) > 1 else []
                answers[key] = _matches(first, by_last.get(parts[-1], []))
            return answers

        # Each word goes in three cases (HubSpot's IN compares strings): 100 values hold 16 names.
        result: list[CRMRecord] = await self.coalescers.get(
            ("name", object_type), run, 16, lookup=True
        ).submit(" ".join(w.casefold() for w in words), tuple(fields))
        return result

    async def _search_all(
        self, object_type: str, groups: list[dict[str, Any]], fields: Sequence[str]
    ) -> list[CRMRecord]:
        records, _ = await self._search_pages(object_type, groups, fields)
        return records

    async def _search_pages(
        self,
        object_type: str,
        groups: list[dict[str, Any]],
        fields: Sequence[str],
        *,
        pages: int = _MAX_PAGES,
        sorts: Sequence[Mapping[str, str]] = (),
    ) -> tuple[list[CRMRecord], bool]:
        """Up to `pages` pages of 200 records, and whether the search had more."""
        body: dict[str, Any] = {
            "filterGroups": groups,
            "properties": list(dict.fromkeys(fields)),
            "limit": 200,
        }
        if sorts:
            body["sorts"] = list(sorts)
        records: list[CRMRecord] = []
        for _ in range(pages):
            response = await self._send(
                "POST", f"/crm/v3/objects/{object_type}/search", json=body, search=True
            )
            data = response.json()
            records += [to_record(object_type, item) for item in data.get("results", [])]
            after = ((data.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return records, False
            body = {**body, "after": after}
        return records, True

    # -- writes --------------------------------------------------------------------------------

    async def write(
        self, request: WriteRequest, single: Callable[[WriteRequest], Awaitable[WriteResult]]
    ) -> WriteResult:
        """A create (traced by the request's idempotency key) or an update, in the next batch of its kind.
        `single` sends one request alone: the fallback when HubSpot refuses a batch as a whole."""
        kind = "create" if request.record_id is None else "update"

        async def run(entries: Sequence[tuple[str, WriteRequest]]) -> Answers:
            if kind == "create":
                rounds = _rounds(entries, lambda r: [f"trace:{r.idempotency_key}", *_unique_values(r)])
            else:
                rounds = _rounds(entries, lambda r: [f"id:{r.record_id}"])
            answers: Answers = {}
            for members in rounds:
                answers.update(await self._write_round(members[0][1].object_type, kind, members, single))
            return answers

        key = request.idempotency_key or f"{kind}:{request.record_id}:{id(request)}"
        result: WriteResult = await self.coalescers.get((kind, request.object_type), run, BATCH_MAX).submit(
            key, request
        )
        return result

    async def _write_round(
        self,
        object_type: str,
        kind: str,
        members: Sequence[tuple[str, WriteRequest]],
        single: Callable[[WriteRequest], Awaitable[WriteResult]],
    ) -> Answers:
        inputs = [_write_input(kind, key, request) for key, request in members]
        try:
            response = await self._send(
                "POST", f"/crm/v3/objects/{object_type}/batch/{kind}", json={"inputs": inputs}
            )
        except (ConflictError, PermanentError) as exc:
            if len(members) == 1:
                raise
            # Refused whole for one input's sake: each input on its own gets its own answer.
            del exc
            return {key: await _answer(single(request)) for key, request in members}
        data = response.json()
        request_id = self._request_id(response, data)
        answers: Answers = {}
        by_trace = {str(item.get("objectWriteTraceId")): item for item in data.get("results", [])}
        by_id = {str(item.get("id")): item for item in data.get("results", [])}
        for key, request in members:
            item = by_trace.get(key) if kind == "create" else by_id.get(str(request.record_id))
            if item is not None:
                answers[key] = WriteResult(
                    RecordRef(object_type, str(item["id"])), kind == "create", request_id
                )
        for error in data.get("errors", []):
            context = error.get("context") or {}
            failure = item_error(error, write=True, request_id=request_id)
            missing = self._forget_missing(error)
            if missing:
                failure = field_gone(failure, f"callsync property {', '.join(missing)} will be re-created")
            named = {str(v) for v in [*context.get("objectWriteTraceId", []), *context.get("ids", [])]}
            for key, request in members:
                if key not in answers and (key in named or str(request.record_id) in named):
                    answers[key] = failure
        for key, _ in members:
            if key not in answers:
                answers[key] = AmbiguousWriteError(
                    f"batch/{kind} answered nothing for this input", request_id=request_id
                )
        return answers


def _value_chunks(shapes: Mapping[str, set[str]]) -> list[list[str]]:
    """The numbers' shapes in IN lists of at most IN_VALUES_MAX values, a number's shapes never split."""
    chunks: list[list[str]] = [[]]
    for values in shapes.values():
        fresh = sorted(values - set(chunks[-1]))
        if chunks[-1] and len(chunks[-1]) + len(fresh) > IN_VALUES_MAX:
            chunks.append([])
            fresh = sorted(values)
        chunks[-1] += fresh
    return [c for c in chunks if c]


def _cases(words: Iterable[str]) -> set[str]:
    return {form for w in words for form in (w, w.casefold(), w.title(), w.upper())}


def _unique_values(request: WriteRequest) -> list[str]:
    email = request.fields.get("email")
    return [f"email:{str(email).casefold()}"] if email else []


def _write_input(kind: str, key: str, request: WriteRequest) -> dict[str, Any]:
    item: dict[str, Any] = {"properties": {k: wire(v) for k, v in request.fields.items()}}
    if kind == "update":
        item["id"] = request.record_id
        return item
    item["objectWriteTraceId"] = key
    if request.associations:
        item["associations"] = association_inputs(request)
    return item


# HubSpot-defined association type ids, by (from object, to object): an inline association names the
# type of its own direction (a company's link to a contact is not a contact's link to a company).
ASSOCIATION_TYPE_IDS: dict[tuple[str, str], int] = {
    ("contacts", "companies"): 1,
    ("companies", "contacts"): 280,
    ("deals", "contacts"): 3,
    ("contacts", "deals"): 4,
    ("deals", "companies"): 341,
    ("companies", "deals"): 342,
}


def association_inputs(request: WriteRequest) -> list[dict[str, Any]]:
    """A create's inline associations (HUBSPOT_DEFINED, the type of each direction). A pair with no default
    type is left to `associate` after the create."""
    return [
        {
            "to": {"id": a.record_id},
            "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}],
        }
        for a in request.associations
        if (type_id := ASSOCIATION_TYPE_IDS.get((request.object_type, a.object_type))) is not None
    ]


async def _answer(pending: Awaitable[WriteResult]) -> WriteResult | CRMError:
    try:
        return await pending
    except CRMError as exc:
        return exc
