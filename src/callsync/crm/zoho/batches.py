"""Zoho CRM's multi-record endpoints behind group commit: the lookups and writes of concurrent write
attempts go out together (`GET /{module}?ids=`, one criteria search for many callers' keys or an Account's
name, one COQL query for their look-alike names,
`POST /{module}/upsert` on the origin stamp, `PUT /{module}`), each up to Zoho's per-request caps.

Each request answers per input, so one caller's failure is never another's: a write answers one `data`
item per record in input order (a record refused gets its own error); a batch whose answer was lost is
ambiguous for every input in it (the engine then looks for each call's stamp, and a retried create is an
upsert on that stamp, so it cannot double); a batch refused as a whole is split and sent one by one.

Credits: Zoho charges a write 1 credit per 10 records (so 100 records cost 10, not 100) and any other call
1 credit. A batch spends what Zoho will charge for it, once, from the account's shared budget. Whether it
may spend the reserve follows its callers: urgent when one of them must confirm a write it made. Each
attempt is admitted once, before its first batched request, with room for a whole attempt (the budget's
rule that no attempt starts that cannot finish), so admission costs nothing and the count stays Zoho's.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import quote

import httpx

from callsync.crm.http.coalesce import Coalescers
from callsync.crm.http.transport import Attempt, CRMTransport, parse_json
from callsync.crm.protocol import (
    AmbiguousWriteError,
    AuthenticationError,
    ConflictError,
    CRMError,
    PermanentError,
)
from callsync.crm.zoho.wire import record_error
from callsync.reconcile.identity import normalize_phone

WRITE_MAX = 100  # records per insert / update / upsert request
IDS_MAX = 100  # record ids per `GET /{module}?ids=` (Zoho documents 100 ids per request)
MAX_CRITERIA = 10  # criteria per search
# Values per `in` criterion. Zoho documents no number we could confirm, so a modest one: 10 criteria of 50
# values still hold the keys of 25 callers (an email, a stamp, six shapes of a number in two phone fields).
IN_VALUES_MAX = 50
# A search's criteria once URL-encoded: the whole request line stays well under the 8 KB a front end
# commonly accepts (25 callers' keys are ~8 KB, so they go in two searches).
CRITERIA_CHARS_MAX = 4000
PER_PAGE = 200
MAX_PAGES = 10  # search pages reachable by `page` (2,000 records)
KEY_SEARCH_CALLERS = 25  # callers whose keys share one search
NAME_SEARCH_CALLERS = 100  # callers whose names share one search (two criteria per 50 names)
CREDITS_PER_WRITE_RECORDS = 10  # Zoho: insert / update / upsert cost 1 credit per 10 records


def write_credits(records: int) -> int:
    """What Zoho charges for one insert / update / upsert request of `records` records."""
    return max(1, -(-records // CREDITS_PER_WRITE_RECORDS))


def criteria_value(value: str) -> str:
    """A value inside `(field:operator:value)`: backslash-escape the characters criteria syntax uses."""
    return re.sub(r"([\\(),])", r"\\\1", value)


def _encoded(text: str) -> int:
    return len(quote(text, safe=""))


def criteria_terms(field: str, values: Iterable[str]) -> list[str]:
    """`(field:in:a,b,...)` criteria covering `values` (`equals` for a single one), IN_VALUES_MAX values
    and a part of CRITERIA_CHARS_MAX each."""
    chunks: list[list[str]] = [[]]
    size = 0
    for value in dict.fromkeys(v for v in values if v):
        escaped = criteria_value(value)
        if chunks[-1] and (
            len(chunks[-1]) >= IN_VALUES_MAX or size + _encoded(escaped) > CRITERIA_CHARS_MAX // 4
        ):
            chunks.append([])
            size = 0
        chunks[-1].append(escaped)
        size += _encoded(escaped) + 3  # and its comma
    return [
        f"({field}:{'equals' if len(chunk) == 1 else 'in'}:{','.join(chunk)})" for chunk in chunks if chunk
    ]


def join_or(terms: Sequence[str]) -> str:
    return terms[0] if len(terms) == 1 else "(" + "or".join(terms) + ")"


def pack(terms: Sequence[str]) -> list[list[str]]:
    """The terms in searches of at most MAX_CRITERIA terms and CRITERIA_CHARS_MAX encoded characters."""
    searches: list[list[str]] = [[]]
    size = 0
    for term in terms:
        if searches[-1] and (
            len(searches[-1]) >= MAX_CRITERIA or size + _encoded(term) + 10 > CRITERIA_CHARS_MAX
        ):
            searches.append([])
            size = 0
        searches[-1].append(term)
        size += _encoded(term) + 10  # its share of the parentheses and `or`s
    return [s for s in searches if s]


def _fold(value: Any) -> str:
    return str(value or "").casefold()


# -- look-alike names through COQL --------------------------------------------------------------
# The search endpoint cannot sort, so a look-alike name search read every record sharing a first or a
# last name (up to 2,000, ten pages) and grew with the CRM. COQL can: one query reads the most recently
# modified page of them (a repeat caller's record, made by an earlier call, is among the newest), and only
# where more matched, one query per few names reads the records with the whole name, which a same-name
# duplicate always is. COQL: at most 25 criteria, more than two bracketed pairwise; `in` up to 50 values;
# LIMIT up to 200 costs 1 credit.
COQL_CRITERIA_MAX = 25
RECENT_NAMES = 200  # look-alike candidates a name query reads, the most recently modified first
EXACT_NAMES_PER_QUERY = 12  # whole names per query: two criteria each


def coql_value(value: str) -> str:
    """A quoted COQL value: backslash and quote escaped."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def coql_in(field: str, values: Iterable[str]) -> list[str]:
    """`field in ('a', 'b')` criteria covering `values` (`=` for a single one), IN_VALUES_MAX each."""
    unique = list(dict.fromkeys(v for v in values if v))
    out = []
    for i in range(0, len(unique), IN_VALUES_MAX):
        chunk = unique[i : i + IN_VALUES_MAX]
        quoted = ", ".join(coql_value(v) for v in chunk)
        out.append(f"{field} = {quoted}" if len(chunk) == 1 else f"{field} in ({quoted})")
    return out


def coql_join(op: str, criteria: Sequence[str]) -> str:
    """The criteria joined by `op`, bracketed pairwise as COQL requires: (a or (b or c))."""
    if len(criteria) == 1:
        return criteria[0]
    return f"({criteria[0]} {op} {coql_join(op, criteria[1:])})"


def name_words(name: str, fields: Sequence[str]) -> list[tuple[str, str]]:
    """The (field, word) pairs a person's name is looked up by: its first word as first name and its last
    as last name; a one-word name as a last name."""
    parts = name.split()
    if not parts:
        return []
    if len(fields) == 1:
        return [(fields[0], name)]
    last = [(fields[1], parts[-1])]
    return [(fields[0], parts[0]), *last] if len(parts) > 1 else last


def look_alike_queries(
    module: str, columns: Sequence[str], names: Sequence[str], fields: Sequence[str]
) -> tuple[list[str], list[str]]:
    """(the recent-first queries for records sharing a word of the names, the whole-name queries to send
    only when one of those matched more than a page)."""
    select = f"select {', '.join(dict.fromkeys(['id', *columns]))} from {module} where "
    words: dict[str, list[str]] = {f: [] for f in fields}
    for name in names:
        for field, word in name_words(name, fields):
            words[field].append(word)
    criteria = [c for field, values in words.items() for c in coql_in(field, values)]
    recent = [
        f"{select}{coql_join('or', criteria[i : i + COQL_CRITERIA_MAX])} "
        f"order by Modified_Time desc limit {RECENT_NAMES}"
        for i in range(0, len(criteria), COQL_CRITERIA_MAX)
    ]
    wholes = [
        coql_join("and", [f"{field} = {coql_value(word)}" for field, word in name_words(name, fields)])
        for name in dict.fromkeys(names)
        if name.split()
    ]
    exact = [
        f"{select}{coql_join('or', wholes[i : i + EXACT_NAMES_PER_QUERY])} limit {RECENT_NAMES}"
        for i in range(0, len(wholes), EXACT_NAMES_PER_QUERY)
    ]
    return recent, exact


async def look_alikes(
    query: Callable[[str], Awaitable[tuple[list[Row], bool]]],
    module: str,
    columns: Sequence[str],
    names: Sequence[str],
    fields: Sequence[str],
) -> list[Row]:
    """The records a look-alike check compares the names with: the most recently modified page of those
    sharing a word of a name, and, where more matched, every record with a whole name (up to a page per
    query); each record once. `query` sends one COQL query: (rows, more matched)."""
    recent, exact = look_alike_queries(module, columns, names, fields)
    answers = list(await asyncio.gather(*(query(q) for q in recent)))
    if any(more for _, more in answers):
        answers += await asyncio.gather(*(query(q) for q in exact))
    rows: dict[str, Row] = {}
    for found, _ in answers:
        for row in found:
            rows.setdefault(str(row["id"]), row)
    return list(rows.values())


@dataclass(frozen=True, slots=True)
class KeyLookup:
    """One caller's keys, searched in one module together with other callers'."""

    email: str | None
    phone: str | None
    stamp: str | None
    variants: tuple[str, ...]  # the phone's shapes, as stored strings are compared
    columns: tuple[str, ...]  # api names the caller wants back
    urgent: bool = False


@dataclass(frozen=True, slots=True)
class Lookup:
    """A read by id or a name search: the api names wanted back, and whether the caller is urgent."""

    columns: tuple[str, ...]
    urgent: bool = False


@dataclass(frozen=True, slots=True)
class RecordWrite:
    """One record of a multi-record write: its body in api names (an update's carries its `id`)."""

    body: dict[str, Any]
    urgent: bool = False


Row = dict[str, Any]
WriteAnswer = tuple[str, str | None]  # (record id, upsert action)


class ZohoBatches:
    """Group-committed multi-record requests of one Zoho account, on one event loop."""

    def __init__(self, http: CRMTransport) -> None:
        self.http = http
        self.coalescers = Coalescers()
        self._serial = itertools.count()

    async def _send(
        self,
        method: str,
        path: str,
        *,
        urgent: bool,
        json: Any = None,
        params: dict[str, str] | None = None,
        cost: int = 1,
        safe: bool = False,
    ) -> httpx.Response:
        # Every caller of the batch was admitted already (ZohoAdapter._admit): the batch spends Zoho's
        # charge for it, from the reserve only when one of its callers must confirm a write.
        return await self.http.request(
            method,
            path,
            json=json,
            params=params,
            cost=cost,
            attempt=Attempt(started=True, urgent=urgent),
            safe=safe,
        )

    # -- reads ---------------------------------------------------------------------------------

    async def read(self, module: str, record_id: str, columns: Sequence[str], urgent: bool) -> Row | None:
        """One record by id (a Lead converted or not: `$converted` says), None when absent."""

        async def run(entries: Sequence[tuple[str, Lookup]]) -> dict[str, Row | None]:
            ids = list(dict.fromkeys(key for key, _ in entries))
            wanted = list(dict.fromkeys(c for _, lookup in entries for c in lookup.columns)) or ["id"]
            params = {"ids": ",".join(ids), "fields": ",".join(wanted)}
            if module == "Leads":
                params["converted"] = "both"  # a converted lead is followed to its Contact by the caller
            response = await self._send(
                "GET", f"/{module}", params=params, urgent=any(lookup.urgent for _, lookup in entries)
            )
            answers: dict[str, Row | None] = dict.fromkeys(ids)
            for row in _rows(response):
                if str(row.get("id")) in answers:
                    answers[str(row["id"])] = row
            return answers

        row: Row | None = await self.coalescers.get(("read", module), run, IDS_MAX, lookup=True).submit(
            record_id, Lookup(tuple(columns), urgent)
        )
        return row

    async def _search(
        self, module: str, terms: Sequence[str], columns: Sequence[str], urgent: bool, converted: bool
    ) -> list[Row]:
        """Every record matching any of `terms` (as few searches as `pack` allows, sent together),
        paged; each record once, in the searches' order."""
        base = {"fields": ",".join(dict.fromkeys(columns)), "per_page": str(PER_PAGE)}
        if converted:
            base["converted"] = "both"

        async def one(criteria: str) -> list[Row]:
            found: list[Row] = []
            for page in range(1, MAX_PAGES + 1):
                params = {**base, "criteria": criteria, "page": str(page)}
                response = await self._send("GET", f"/{module}/search", params=params, urgent=urgent)
                data = parse_json(response)
                found += _rows(response, data)
                info = data.get("info") if isinstance(data, dict) else None
                if not (isinstance(info, dict) and info.get("more_records")):
                    break
            return found

        rows: dict[str, Row] = {}
        for found in await asyncio.gather(*(one(join_or(group)) for group in pack(terms))):
            for row in found:
                rows.setdefault(str(row["id"]), row)
        return list(rows.values())

    async def coql(self, query: str, *, urgent: bool) -> tuple[list[Row], bool]:
        """One COQL query's rows and whether more matched (`info.more_records`)."""
        return coql_answer(
            await self._send("POST", "/coql", json={"select_query": query}, urgent=urgent, safe=True)
        )

    async def search_keys(
        self,
        module: str,
        lookup: KeyLookup,
        stamp_field: str | None,
        phone_fields: Sequence[str],
    ) -> list[Row]:
        """The records holding one of the caller's keys (email, a shape of the phone, the origin stamp),
        from one search for many callers' keys; a Leads search includes converted leads."""
        phones = tuple(phone_fields)

        async def run(entries: Sequence[tuple[Hashable, KeyLookup]]) -> dict[Hashable, list[Row]]:
            lookups = [item for _, item in entries]
            terms = criteria_terms("Email", (lk.email for lk in lookups if lk.email))
            if stamp_field:
                terms += criteria_terms(stamp_field, (lk.stamp for lk in lookups if lk.stamp))
            variants = [v for lk in lookups if lk.phone for v in lk.variants]
            for field in phones:
                terms += criteria_terms(field, variants)
            columns = [c for lk in lookups for c in lk.columns] + ["Email", *phones]
            columns += [stamp_field] if stamp_field else []
            urgent = any(lk.urgent for lk in lookups)
            rows = await self._search(module, terms, columns, urgent, converted=module == "Leads")
            # Each record is indexed once by each of its keys, so matching a batch's callers takes one pass.
            by_email = _index(rows, lambda r: [_fold(r.get("Email"))])
            by_stamp = _index(rows, lambda r: [str(r.get(stamp_field) or "")] if stamp_field else [])
            by_phone = _index(rows, lambda r: [normalize_phone(str(r.get(f) or "")) or "" for f in phones])
            answers: dict[Hashable, list[Row]] = {}
            for key, lk in entries:
                hits = [
                    by_email.get(_fold(lk.email), []) if lk.email else [],
                    by_stamp.get(lk.stamp, []) if lk.stamp else [],
                    by_phone.get(lk.phone, []) if lk.phone else [],
                ]
                answers[key] = _matches(*hits)
            return answers

        key = (_fold(lookup.email), lookup.phone or "", lookup.stamp or "", lookup.columns)
        coalescer = self.coalescers.get(
            ("keys", module, stamp_field or "", *phones), run, KEY_SEARCH_CALLERS, lookup=True
        )
        result: list[Row] = await coalescer.submit(key, lookup)
        return result

    async def search_names(
        self, module: str, name: str, name_fields: Sequence[str], lookup: Lookup
    ) -> list[Row]:
        """Records whose name fields equal the name's words (Zoho's `equals` ignores case): for a person
        (`name_fields` first, last) the first *or* the last word, a one-word name among last names; for an
        Account or a Deal (one name field) the whole name. Many callers' names, one search."""
        words = name.split()
        if not words:
            return []
        fields = tuple(name_fields)

        async def run(entries: Sequence[tuple[str, Lookup]]) -> dict[str, list[Row]]:
            names = [key for key, _ in entries]
            columns = [c for _, lk in entries for c in lk.columns] + list(fields)
            urgent = any(lk.urgent for _, lk in entries)
            if len(fields) > 1:  # a person's look-alikes: bounded, the most recent first
                rows = await look_alikes(partial(self.coql, urgent=urgent), module, columns, names, fields)
            else:  # an Account's or a Deal's whole name
                terms = criteria_terms(fields[0], names)
                rows = await self._search(module, terms, columns, urgent, converted=False)
            index = {f: _index(rows, _field_key(f)) for f in fields}
            return {
                key: _matches(*(index[f].get(_fold(v), []) for f, v in name_words(key, fields)))
                for key in names
            }

        key = " ".join(w.casefold() for w in words)
        coalescer = self.coalescers.get(("names", module, *fields), run, NAME_SEARCH_CALLERS, lookup=True)
        result: list[Row] = await coalescer.submit(key, lookup)
        return result

    # -- writes --------------------------------------------------------------------------------

    async def write(
        self, kind: str, module: str, record: RecordWrite, key: str | None = None, check: str | None = None
    ) -> WriteAnswer:
        """One record in the next multi-record write of its kind: `upsert` (on the `check` field: the
        origin stamp, or an Account's name), `insert`, or `update` (the body carries the id). Callers
        sharing a `key` (one stamp, one Account name) share one record and its answer."""

        async def run(entries: Sequence[tuple[str, RecordWrite]]) -> dict[str, WriteAnswer | CRMError]:
            unique = list({k: (k, w) for k, w in entries}.values())
            answers: dict[str, WriteAnswer | CRMError] = {}
            for members in _rounds(unique, kind):
                answers.update(await self._write_round(kind, module, check, members))
            return answers

        ident = key if key is not None else f"{kind}:{next(self._serial)}"
        result: WriteAnswer = await self.coalescers.get((kind, module, check or ""), run, WRITE_MAX).submit(
            ident, record
        )
        return result

    async def _write_round(
        self, kind: str, module: str, check: str | None, members: Sequence[tuple[str, RecordWrite]]
    ) -> dict[str, WriteAnswer | CRMError]:
        method, path = ("PUT", f"/{module}") if kind == "update" else ("POST", f"/{module}")
        body: dict[str, Any] = {"data": [w.body for _, w in members]}
        if kind == "upsert":
            path += "/upsert"
            body["duplicate_check_fields"] = [check]
        urgent = any(w.urgent for _, w in members)
        try:
            response = await self._send(
                method, path, json=body, urgent=urgent, cost=write_credits(len(members))
            )
        except AuthenticationError:
            raise  # the token, not a record: splitting would only send it N times more
        except (ConflictError, PermanentError):
            if len(members) == 1:
                raise
            # Refused whole for one record's sake: each record on its own gets its own answer.
            answers: dict[str, WriteAnswer | CRMError] = {}
            for member in members:
                try:
                    answers.update(await self._write_round(kind, module, check, [member]))
                except CRMError as exc:
                    answers[member[0]] = exc
            return answers
        request_id = self.http.request_id(response)
        items = _items(response)
        answers = {}
        # Zoho answers one item per record, in the order the records were sent.
        for index, ((key, _), item) in enumerate(zip(members, items, strict=False)):
            if item.get("status") == "success":
                details = item.get("details") or {}
                answers[key] = (str(details["id"]), item.get("action"))
            else:
                error = record_error(f"{method} {path} record {index}", item)
                error.request_id = error.request_id or request_id
                answers[key] = error
        for key, _ in members:
            if key not in answers:
                answers[key] = AmbiguousWriteError(
                    f"{method} {path} answered nothing for this record", request_id=request_id
                )
        return answers


def coql_answer(response: httpx.Response) -> tuple[list[Row], bool]:
    """A COQL answer's rows (none for a 204) and whether more matched (`info.more_records`)."""
    data = parse_json(response)
    info = data.get("info") if isinstance(data, dict) else None
    return _rows(response, data), bool(isinstance(info, dict) and info.get("more_records"))


def _rows(response: httpx.Response, data: Any = None) -> list[Row]:
    data = parse_json(response) if data is None else data
    rows = data.get("data") if isinstance(data, dict) else None  # a 204: nothing
    return (
        [r for r in rows if isinstance(r, dict) and r.get("id") is not None] if isinstance(rows, list) else []
    )


def _items(response: httpx.Response) -> list[dict[str, Any]]:
    data = parse_json(response)
    items = data.get("data") if isinstance(data, dict) else None
    return [i if isinstance(i, dict) else {} for i in items] if isinstance(items, list) else []


def _index(rows: Sequence[Row], keys: Callable[[Row], Iterable[str]]) -> dict[str, list[tuple[int, Row]]]:
    """Rows (with their place in the answer) by each of their keys, empty keys left out."""
    index: dict[str, list[tuple[int, Row]]] = {}
    for place, row in enumerate(rows):
        for key in set(keys(row)):
            if key:
                index.setdefault(key, []).append((place, row))
    return index


def _field_key(field: str) -> Callable[[Row], list[str]]:
    return lambda row: [_fold(row.get(field))]


def _matches(*found: Iterable[tuple[int, Row]]) -> list[Row]:
    """The rows found under any of the keys looked up, each once, in the answer's order."""
    unique = {place: row for hits in found for place, row in hits}
    return [unique[place] for place in sorted(unique)]


def _rounds(entries: Sequence[tuple[str, RecordWrite]], kind: str) -> list[list[tuple[str, RecordWrite]]]:
    """Updates of one record never share a request (each lands, in the order asked); WRITE_MAX a request."""
    rounds: list[tuple[set[str], list[tuple[str, RecordWrite]]]] = []
    for entry in entries:
        ident = str(entry[1].body.get("id") or "") if kind == "update" else ""
        for taken, members in rounds:
            if (not ident or ident not in taken) and len(members) < WRITE_MAX:
                taken.add(ident)
                members.append(entry)
                break
        else:
            rounds.append(({ident}, [entry]))
    return [members for _, members in rounds]
