"""Zoho CRM's query language (COQL, `POST /crm/v8/coql` with `{"select_query": "..."}`): the subset a
record lookup uses, parsed into the same criteria the search endpoint's `criteria` parameter gives.

    select Last_Name, Email from Leads where (First_Name in ('Dana', 'Sam') or Last_Name = 'Whitfield')
    order by Modified_Time desc limit 201

As Zoho documents it (Query API overview and limitations, v8): keywords in any case; up to 50 fields in
the SELECT column; up to 25 criteria in WHERE, and more than two must be bracketed pairwise ("(A and (B and
C))"); `in` / `not in` take up to 50 values; LIMIT defaults to 200 and is at most 2,000 a call (`limit
offset, count` or `limit count offset n`); without ORDER BY records come by id, ascending. Comparators
emulated: `=`, `!=`, `in`, `not in`, `like 'x%'` (starts with), `is null`, `is not null`. Text compares
without case, as the search endpoint's `equals` does. Errors carry the spec's details: a parse error's
line, column and the text near it (`Parse_Error_Details`), a limit's clause and number.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from callsync_sandbox.zoho.criteria import Criteria, Group, Term

SELECT_MAX = 50
CRITERIA_MAX = 25
IN_VALUES_MAX = 50
LIMIT_DEFAULT = 200
LIMIT_MAX = 2000
_TOKEN = re.compile(r"('(?:[^'\\]|\\.)*')|(!=|<>|[(),=])|([A-Za-z0-9_.$]+)")


class CoqlError(ValueError):
    """A query Zoho would refuse: `code` is its error code (SYNTAX_ERROR, LIMIT_EXCEEDED), `details` as
    the spec shapes them."""

    def __init__(self, code: str, message: str, details: dict[str, Any]) -> None:
        super().__init__(message)
        self.code = code
        self.details = details


def _limit(clause: str, limit: int, message: str) -> CoqlError:
    return CoqlError("LIMIT_EXCEEDED", message, {"clause": clause, "limit": limit})


@dataclass(frozen=True)
class Query:
    fields: tuple[str, ...]
    module: str
    where: Criteria | None
    order_by: str | None
    descending: bool
    offset: int
    limit: int


def _tokens(text: str) -> list[tuple[str, int]]:
    """The query's tokens, each with the column it starts at (0-based)."""
    out: list[tuple[str, int]] = []
    pos = 0
    while pos < len(text):
        if text[pos].isspace():
            pos += 1
            continue
        match = _TOKEN.match(text, pos)
        if match is None:
            raise CoqlError(
                "SYNTAX_ERROR",
                "unexpected character",
                {"line": 1, "column": pos + 1, "near": text[pos : pos + 20]},
            )
        out.append((match.group(0), pos))
        pos = match.end()
    return out


class _Parser:
    def __init__(self, tokens: list[tuple[str, int]]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.criteria = 0

    def peek(self) -> str:
        return self.tokens[self.pos][0] if self.pos < len(self.tokens) else ""

    def word(self) -> str:
        return self.peek().casefold()

    def error(self, message: str) -> CoqlError:
        """A syntax error at the current token, or at the query's end."""
        if self.pos < len(self.tokens):
            near, column = self.tokens[self.pos]
        else:
            last, start = self.tokens[-1] if self.tokens else ("", 0)
            near, column = "", start + len(last)
        return CoqlError("SYNTAX_ERROR", message, {"line": 1, "column": column + 1, "near": near})

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if not token or (expected is not None and token.casefold() != expected):
            raise self.error(f"expected {expected or 'more'}, got {token!r}")
        self.pos += 1
        return token

    def string(self) -> str:
        token = self.peek()
        if not (len(token) >= 2 and token[0] == token[-1] == "'"):
            raise self.error(f"expected a quoted value, got {token!r}")
        self.pos += 1
        return re.sub(r"\\(.)", r"\1", token[1:-1])

    def number(self) -> int:
        if not self.peek().isdigit():
            raise self.error(f"expected a number, got {self.peek()!r}")
        return int(self.take())

    def query(self) -> Query:
        self.take("select")
        fields = [self.take()]
        while self.peek() == ",":
            self.take(",")
            fields.append(self.take())
        if len(fields) > SELECT_MAX:
            raise _limit("select", SELECT_MAX, f"at most {SELECT_MAX} fields in the SELECT column")
        self.take("from")
        module = self.take()
        where: Criteria | None = None
        if self.word() == "where":
            self.take()
            where = self.condition()
        order_by, descending = None, False
        if self.word() == "order":
            self.take()
            self.take("by")
            order_by = self.take()
            if self.word() in ("asc", "desc"):
                descending = self.take().casefold() == "desc"
        offset, limit = 0, LIMIT_DEFAULT
        if self.word() == "limit":
            self.take()
            first = self.number()
            if self.peek() == ",":
                self.take()
                offset, limit = first, self.number()
            else:
                limit = first
                if self.word() == "offset":
                    self.take()
                    offset = self.number()
        if self.peek():
            raise self.error(f"unexpected {self.peek()!r}")
        if not 1 <= limit <= LIMIT_MAX:
            raise _limit("limit", LIMIT_MAX, f"LIMIT is at most {LIMIT_MAX}")
        return Query(tuple(fields), module, where, order_by, descending, offset, limit)

    def condition(self) -> Criteria:
        """`A` or `A op B`, each a criterion or a bracketed condition: more than two criteria at one level
        without brackets is what Zoho refuses."""
        left = self.operand()
        if self.word() not in ("and", "or"):
            return left
        op = self.take().casefold()
        right = self.operand()
        if self.word() in ("and", "or"):
            raise self.error("more than two criteria must be bracketed, as (A and (B and C))")
        return Group(op, (left, right))

    def operand(self) -> Criteria:
        if self.peek() == "(":
            self.take("(")
            inner = self.condition()
            self.take(")")
            return inner
        return self.criterion()

    def criterion(self) -> Term:
        self.criteria += 1
        if self.criteria > CRITERIA_MAX:
            raise _limit("where", CRITERIA_MAX, f"at most {CRITERIA_MAX} criteria in the WHERE clause")
        field = self.take()
        if self.word() == "is":
            self.take()
            negated = self.word() == "not"
            if negated:
                self.take()
            self.take("null")
            return Term(field, "not_equal" if negated else "equals", ("",))
        negated = self.word() == "not"
        if negated:
            self.take()
        if self.word() == "in":
            self.take()
            self.take("(")
            values = [self.string()]
            while self.peek() == ",":
                self.take(",")
                values.append(self.string())
            self.take(")")
            if len(values) > IN_VALUES_MAX:
                raise _limit("where", IN_VALUES_MAX, f"`in` takes at most {IN_VALUES_MAX} values")
            return Term(field, "not_equal" if negated else "in", tuple(values))
        if negated:
            raise self.error(f"expected in after not, got {self.peek()!r}")
        if self.word() == "like":
            self.take()
            pattern = self.string()
            if not pattern.endswith("%") or "%" in pattern[:-1]:
                raise self.error("like is emulated for starts-with patterns ('x%') only")
            return Term(field, "starts_with", (pattern[:-1],))
        if self.peek() not in ("=", "!=", "<>"):
            raise self.error(f"unsupported comparator {self.peek()!r}")
        op = self.take()
        value = self.string() if self.peek().startswith("'") else self.take()
        return Term(field, "equals" if op == "=" else "not_equal", (value,))


# Cached: the emulator reads each query twice (its credits as the request arrives, then its answer), and a
# worker's lookups repeat a few shapes. A Query is immutable; a refused query raises again (nothing cached).
@functools.lru_cache(maxsize=256)
def parse(text: str) -> Query:
    return _Parser(_tokens(text)).query()


def credits_for(limit: int) -> int:
    """What Zoho charges for a query by its LIMIT: 1 up to 200, 2 up to 1,000, 3 up to 2,000."""
    return 1 if limit <= 200 else 2 if limit <= 1000 else 3
