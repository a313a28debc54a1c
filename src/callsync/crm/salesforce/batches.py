"""Salesforce's many-record requests behind group commit: the lookups and writes of concurrent write
attempts go out together (one SOQL query for many callers' keys, names or ids; one sObject Collections
request for many creates or updates).

Each input still gets its own answer. A query's rows are matched back to each lookup by the values it
asked for (SOQL compares text without case, so the match does too), through per-field indexes of the rows:
linear in rows and values. A collection answers per record in input order (allOrNone=false, so one
record's failure saves the others): a refused record gets its own error, a request refused whole (400:
the body could not be read) is split and each record sent alone, and a lost answer is ambiguous for every
record in it. Creates are upserts on the origin-call stamp (an External ID), so a create re-sent after a
lost answer updates what the first made, and the engine's stamp lookup finds it either way.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping, Sequence
from typing import Any, Protocol
from urllib.parse import quote_plus

import httpx

from callsync.crm.http.coalesce import Coalescers
from callsync.crm.http.transport import Attempt
from callsync.crm.protocol import (
    AmbiguousWriteError,
    CRMError,
    PermanentError,
    RecordRef,
    WriteResult,
)
from callsync.crm.salesforce.wire import record_error

COLLECTION_LIMIT = 200  # records in one sObject Collections request
LOOKUPS_MAX = 200  # lookups answered by one query (its length is what really bounds it)
# The URI and headers of one REST call may not exceed 16,384 bytes (414 / 431 beyond); a query in the URL
# keeps well under it, leaving room for the path and headers. A longer batch is split into several queries.
QUERY_BYTES_MAX = 8_000

# (field, values): a lookup's clauses; a row answers it when one of its fields equals one of the values.
Clauses = tuple[tuple[str, tuple[str, ...]], ...]
Row = dict[str, Any]


class Send(Protocol):
    def __call__(
        self, method: str, path: str, *, json: Any = None, params: dict[str, str] | None = None,
        attempt: Attempt | None = None,
    ) -> Awaitable[httpx.Response]: ...  # fmt: skip


def soql_quote(value: str) -> str:
    """A SOQL string literal: backslash-escape quotes, backslashes and control characters."""
    control = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}
    return "'" + "".join("\\" + c if c in "\\'\"" else control.get(c, c) for c in value) + "'"


def condition(field: str, values: Sequence[str]) -> str:
    quoted = [soql_quote(v) for v in values]
    return f"{field} = {quoted[0]}" if len(quoted) == 1 else f"{field} IN ({', '.join(quoted)})"


def where_of(clauses: Clauses, also: str = "") -> str:
    """`a = 'x' OR b IN ('y', 'z')`, ANDed with `also` when given."""
    either = " OR ".join(condition(f, vs) for f, vs in clauses if vs)
    return f"({either}) AND {also}" if also else either


def exact_where(lookups: Sequence[Clauses], also: str = "") -> str:
    """`(a = 'x' AND b = 'y') OR ...`: the rows matching every clause of a lookup (a whole name, where the
    look-alike query asks for any of its words), ANDed with `also` when given."""
    either = " OR ".join(
        "(" + " AND ".join(condition(f, vs) for f, vs in clauses if vs) + ")"
        for clauses in lookups
        if clauses
    )
    return f"({either}) AND {also}" if also else either


def most_recent(soql: str, recent: int) -> str:
    """The query's most recently modified rows, one more than `recent` (so a fuller answer shows)."""
    return f"{soql} ORDER BY LastModifiedDate DESC LIMIT {recent + 1}"


async def recent_then_exact(
    query: Callable[[str], Awaitable[list[Row]]],
    queries: Sequence[str],
    head: str,
    lookups: Sequence[Clauses],
    also: str,
    recent: int,
) -> list[list[Row]]:
    """The answers of `queries` (`head WHERE ...`), each bounded to its `recent` most recently modified
    rows, and where one matched more, the answer of one query for the rows matching every clause of a
    lookup (its whole name): a look-alike name search stays bounded as the org grows."""
    answers = list(await asyncio.gather(*(query(most_recent(soql, recent)) for soql in queries)))
    if any(len(rows) > recent for rows in answers):
        answers.append(await query(f"{head} WHERE {exact_where(lookups, also)}"))
    return answers


def each_row_once(answers: Iterable[Sequence[Row]]) -> list[Row]:
    """The rows of several queries' answers, a row two of them return (by Id) once."""
    found: dict[str, Row] = {}
    for rows in answers:
        for row in rows:
            found.setdefault(str(row.get("Id")), row)
    return list(found.values())


def match_key(field: str, value: Any) -> str | None:
    """What a row's value is compared on: an id by its case-sensitive 15-character form (a query may name
    either form), any other text without case."""
    if value is None or value == "":
        return None
    text = str(value)
    return text[:15] if field.casefold() == "id" else text.casefold()


def matched(rows: Sequence[Row], lookups: Mapping[Hashable, Clauses]) -> dict[Hashable, list[Row]]:
    """Each lookup's rows, in the query's order: the rows holding one of the values it asked for."""
    fields = {f for clauses in lookups.values() for f, _ in clauses}
    index: dict[tuple[str, str], list[int]] = {}
    for position, row in enumerate(rows):
        for field in fields:
            key = match_key(field, row.get(field))
            if key is not None:
                index.setdefault((field, key), []).append(position)
    out: dict[Hashable, list[Row]] = {}
    for name, clauses in lookups.items():
        hits = {
            p
            for field, values in clauses
            for v in values
            if (k := match_key(field, v)) is not None
            for p in index.get((field, k), ())
        }
        out[name] = [rows[p] for p in sorted(hits)]
    return out


def query_chunks(
    head: str, lookups: Mapping[Hashable, Clauses], also: str = "", limit: int = QUERY_BYTES_MAX
) -> tuple[list[str], list[Hashable]]:
    """SOQL queries asking together for every lookup's values, each no longer than `limit` bytes once
    URL-encoded (a lookup's values are never split between two queries), and the lookups too long for
    any query on their own."""
    fixed = len(quote_plus(f"{head} WHERE () AND {also}" if also else f"{head} WHERE "))
    queries: list[str] = []
    too_long: list[Hashable] = []
    current: dict[str, dict[str, None]] = {}
    size = fixed

    def flush() -> None:
        nonlocal current, size
        if current:
            clauses = tuple((f, tuple(vs)) for f, vs in current.items())
            queries.append(f"{head} WHERE {where_of(clauses, also)}")
        current, size = {}, fixed

    for name, clauses in lookups.items():
        if fixed + _cost(clauses, {}) > limit:
            too_long.append(name)
            continue
        cost = _cost(clauses, current)
        if current and size + cost > limit:
            flush()
            cost = _cost(clauses, current)
        for field, values in clauses:
            current.setdefault(field, {}).update(dict.fromkeys(values))
        size += cost
    flush()
    return queries, too_long


def _cost(clauses: Clauses, current: Mapping[str, Mapping[str, None]]) -> int:
    """Bytes (URL-encoded) that adding these clauses' new values adds to a query, an upper bound."""
    cost = 0
    for field, values in clauses:
        have = current.get(field, {})
        fresh = [v for v in values if v not in have]
        if fresh and not have:
            cost += len(quote_plus(f" OR {field} IN ()"))
        cost += sum(len(quote_plus(soql_quote(v) + ", ")) for v in fresh)
    return cost


def rounds(entries: Sequence[Any], unique: Callable[[Any], Hashable]) -> list[list[Any]]:
    """Entries in requests of at most COLLECTION_LIMIT where no two share a unique value (a record id or
    an external id named twice in one request is refused for both)."""
    out: list[tuple[set[Hashable], list[Any]]] = []
    for entry in entries:
        value = unique(entry)
        for taken, members in out:
            if value not in taken and len(members) < COLLECTION_LIMIT:
                taken.add(value)
                members.append(entry)
                break
        else:
            out.append(({value}, [entry]))
    return [members for _, members in out]


class SalesforceBatches:
    """Group-committed queries and collections of one org, on one event loop."""

    def __init__(self, send: Send, prefix: str) -> None:
        """`send`: one request through the org's shared transport; `prefix`: the version path
        (`/services/data/vXX.X`) a query's `nextRecordsUrl` starts with."""
        self._send = send
        self._prefix = prefix
        self.coalescers = Coalescers()
        self._serial = itertools.count()
        # Attempts starting together describe an object once, not once each.
        self.describing: dict[str, asyncio.Lock] = {}

    # -- reads ---------------------------------------------------------------------------------------

    async def rows(
        self,
        sobject: str,
        columns: Sequence[str],
        clauses: Clauses,
        *,
        kind: str,
        also: str = "",
        recent: int | None = None,
    ) -> list[Row]:
        """The rows of `sobject` whose field equals one of the values of one clause (and `also` holds),
        asked together with the other lookups of the same kind waiting now. `kind` keeps lookups of one
        purpose (ids, identity keys, names) in their own queries. With `recent`, a query answers with at
        most that many rows, the most recently modified; where more matched, the rows matching every
        clause of a lookup are asked for as well (a look-alike name search stays bounded as the org grows:
        the records sharing a word of the name, and all of those with the whole name)."""

        async def run(entries: Sequence[tuple[Clauses, tuple[str, ...]]]) -> dict[Hashable, Any]:
            wanted = _columns(c for _, cs in entries for c in cs)
            lookups: dict[Hashable, Clauses] = {key: key for key, _ in entries}
            head = f"SELECT {', '.join(wanted)} FROM {sobject}"
            queries, too_long = query_chunks(head, lookups, also)
            # A batch split for length is one round trip, not one per query.
            if recent is None:
                answers_of = await asyncio.gather(*(self._query(soql) for soql in queries))
            else:
                exact = [c for name, c in lookups.items() if name not in too_long]
                answers_of = await recent_then_exact(self._query, queries, head, exact, also, recent)
            answers: dict[Hashable, Any] = dict(matched(each_row_once(answers_of), lookups))
            for name in too_long:  # its own failure, not its batch's
                answers[name] = PermanentError(f"a Salesforce lookup too long for one query: {name}")
            return answers

        key = tuple((f, tuple(vs)) for f, vs in clauses if vs)
        if not key:
            return []
        coalescer = self.coalescers.get(
            ("query", sobject, kind, also, str(recent)), run, LOOKUPS_MAX, lookup=True
        )
        result: list[Row] = await coalescer.submit(key, tuple(columns))
        return result

    async def _query(self, soql: str) -> list[Row]:
        # A lookup is where an attempt starts: it checks the org's budget (a fresh standing).
        response = await self._send("GET", "/query", params={"q": soql}, attempt=Attempt())
        data = response.json()
        records: list[Row] = list(data.get("records", []))
        while not data.get("done", True) and data.get("nextRecordsUrl"):
            path = str(data["nextRecordsUrl"]).removeprefix(self._prefix)
            response = await self._send("GET", path, attempt=Attempt(started=True))
            data = response.json()
            records += data.get("records", [])
        return records

    # -- writes --------------------------------------------------------------------------------------

    async def upsert(
        self,
        sobject: str,
        key_field: str,
        body: Mapping[str, Any],
        single: Callable[[], Awaitable[WriteResult]],
    ) -> WriteResult:
        """A create as an upsert on its External ID `key_field` (the origin stamp, which `body` holds), in
        the next collection of its object; `single` sends it alone (a lone record, or a split batch)."""
        path = f"/composite/sobjects/{sobject}/{key_field}"
        value = str(body.get(key_field) or "").casefold()
        return await self._write(("upsert", sobject, key_field), "PATCH", path, sobject, body, value, single)

    async def update(
        self,
        sobject: str,
        record_id: str,
        body: Mapping[str, Any],
        single: Callable[[], Awaitable[WriteResult]],
    ) -> WriteResult:
        """An update in the next collection of updates (any objects; a record named once a request)."""
        record = {"id": record_id, **body}
        return await self._write(
            ("update",), "PATCH", "/composite/sobjects", sobject, record, record_id, single
        )

    async def _write(
        self,
        operation: tuple[str, ...],
        method: str,
        path: str,
        sobject: str,
        record: Mapping[str, Any],
        unique: Hashable,
        single: Callable[[], Awaitable[WriteResult]],
    ) -> WriteResult:
        async def run(entries: Sequence[tuple[int, _Write]]) -> dict[int, Any]:
            answers: dict[int, Any] = {}
            for members in rounds(entries, lambda entry: entry[1].unique):
                answers.update(await self._collection(method, path, members))
            return answers

        coalescer = self.coalescers.get(operation, run, COLLECTION_LIMIT)
        result: WriteResult = await coalescer.submit(
            next(self._serial), _Write(sobject, dict(record), unique, single)
        )
        return result

    async def _collection(
        self, method: str, path: str, members: Sequence[tuple[int, _Write]]
    ) -> dict[int, WriteResult | CRMError]:
        if len(members) == 1:  # one record costs one request either way: the record's own resource
            (n, write), = members  # fmt: skip
            return {n: await _answer(write.single())}
        # By object, so a mixed update is read in as few chunks as possible (Salesforce allows ten).
        members = sorted(members, key=lambda m: m[1].sobject)
        records = [{"attributes": {"type": w.sobject}, **w.record} for _, w in members]
        try:
            # A write is never stopped by the budget once its attempt has looked (started).
            response = await self._send(
                method, path, json={"allOrNone": False, "records": records}, attempt=Attempt(started=True)
            )
        except CRMError as exc:
            if exc.status != 400:  # a lost answer, a limit, an outage: the same for every record
                raise
            # The body could not be read for one record's sake: each alone gets its own answer.
            alone = await asyncio.gather(*(_answer(w.single()) for _, w in members))
            return {n: answer for (n, _), answer in zip(members, alone, strict=True)}
        results = response.json()
        results = results if isinstance(results, list) else []
        out: dict[int, WriteResult | CRMError] = {}
        for position, (n, write) in enumerate(members):
            item = results[position] if position < len(results) else None
            if not isinstance(item, dict):
                # Saved or not, nothing says: the engine looks for the stamp before writing again.
                out[n] = AmbiguousWriteError(f"{method} {path}: no result for record {position}")
            elif item.get("success"):
                record_id = str(item.get("id") or write.record.get("id"))
                out[n] = WriteResult(RecordRef(write.sobject, record_id), bool(item.get("created", False)))
            else:
                error = (item.get("errors") or [{}])[0]
                out[n] = record_error(f"{method} {path} record {position}", error)
        return out


class _Write:
    __slots__ = ("record", "single", "sobject", "unique")

    def __init__(
        self,
        sobject: str,
        record: dict[str, Any],
        unique: Hashable,
        single: Callable[[], Awaitable[WriteResult]],
    ) -> None:
        self.sobject = sobject
        self.record = record
        self.unique = unique
        self.single = single


def _columns(columns: Iterable[str]) -> list[str]:
    """Columns once each (SOQL names ignore case), Id first."""
    seen: dict[str, str] = {"id": "Id"}
    for column in columns:
        seen.setdefault(column.casefold(), column)
    return list(seen.values())


async def _answer(pending: Awaitable[WriteResult]) -> WriteResult | CRMError:
    try:
        return await pending
    except CRMError as exc:
        return exc
