"""Zoho CRM's query language (COQL, `POST /crm/v8/coql` with `{"select_query": "..."}`): the subset a
record lookup uses, parsed into the same criteria the search endpoint's `criteria` parameter gives.

    select Last_Name, Email from Leads where (First_Name in ('Dana', 'Sam') or Last_Name = 'Whitfield')
    order by Modified_Time desc limit 201

As Zoho documents it (Query API overview and limitations, v8): keywords in any case; up to 50 fields in
the SELECT column; up to 25 criteria in WHERE, and more than two must be bracketed pairwise ("(A and (B and
C))"); `in` / `not in` take up to 50 values; LIMIT defaults to 200 and is at most 2,000 a call (`limit
offset, count` or `limit count offset n`); without ORDER BY records come by id, ascending. Comparators
emulated: `=`, `!=`, `in`, `not in`, `like 'x%'` (starts with), `is null`, `is not null`. Text compares
without case, as the search endpoint's `equals` does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from callsync_sandbox.zoho.criteria import Criteria, Group, Term

SELECT_MAX = 50
CRITERIA_MAX = 25
IN_VALUES_MAX = 50
LIMIT_DEFAULT = 200
LIMIT_MAX = 2000
_TOKEN = re.compile(r"\s*(?:('(?:[^'\\]|\\.)*')|(!=|<>|[(),=])|([A-Za-z0-9_.$]+))")


class CoqlError(ValueError):
    """A query Zoho would refuse: `code` is its error code (SYNTAX_ERROR, LIMIT_EXCEEDED)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Query:
    fields: tuple[str, ...]
    module: str
    where: Criteria | None
    order_by: str | None
    descending: bool
    offset: int
    limit: int


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise CoqlError("SYNTAX_ERROR", f"unexpected character at {pos}: {text[pos : pos + 20]!r}")
        out.append(match.group(match.lastindex or 0))
        pos = match.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return out


def _string(token: str) -> str:
    if not (len(token) >= 2 and token[0] == token[-1] == "'"):
        raise CoqlError("SYNTAX_ERROR", f"expected a quoted value, got {token!r}")
    return re.sub(r"\\(.)", r"\1", token[1:-1])


class _Parser:
    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.criteria = 0

    def peek(self, offset: int = 0) -> str:
        i = self.pos + offset
        return self.tokens[i] if i < len(self.tokens) else ""

    def word(self) -> str:
        return self.peek().casefold()

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if not token or (expected is not None and token.casefold() != expected):
            raise CoqlError(
                "SYNTAX_ERROR", f"expected {expected or 'more'} at token {self.pos}, got {token!r}"
            )
        self.pos += 1
        return token

    def query(self) -> Query:
        self.take("select")
        fields = [self.take()]
        while self.peek() == ",":
            self.take(",")
            fields.append(self.take())
        if len(fields) > SELECT_MAX:
            raise CoqlError("LIMIT_EXCEEDED", f"at most {SELECT_MAX} fields in the SELECT column")
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
            first = self._number()
            if self.peek() == ",":
                self.take()
                offset, limit = first, self._number()
            else:
                limit = first
                if self.word() == "offset":
                    self.take()
                    offset = self._number()
        if self.peek():
            raise CoqlError("SYNTAX_ERROR", f"unexpected {self.peek()!r} at token {self.pos}")
        if not 1 <= limit <= LIMIT_MAX:
            raise CoqlError("LIMIT_EXCEEDED", f"LIMIT is at most {LIMIT_MAX}")
        return Query(tuple(fields), module, where, order_by, descending, offset, limit)

    def _number(self) -> int:
        token = self.take()
        if not token.isdigit():
            raise CoqlError("SYNTAX_ERROR", f"expected a number, got {token!r}")
        return int(token)

    def condition(self) -> Criteria:
        """`A`, `A op B`, where A and B are a criterion or a bracketed condition: more than two criteria
        at one level without brackets is what Zoho refuses."""
        left = self.operand()
        if self.word() not in ("and", "or"):
            return left
        op = self.take().casefold()
        right = self.operand()
        if self.word() in ("and", "or"):
            raise CoqlError("SYNTAX_ERROR", "more than two criteria must be bracketed, as (A and (B and C))")
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
            raise CoqlError("LIMIT_EXCEEDED", f"at most {CRITERIA_MAX} criteria in the WHERE clause")
        field = self.take()
        word = self.word()
        if word == "is":
            self.take()
            negated = self.word() == "not"
            if negated:
                self.take()
            self.take("null")
            return Term(field, "not_equal" if negated else "equals", ("",))
        negated = word == "not"
        if negated:
            self.take()
            word = self.word()
        if word == "in":
            self.take()
            self.take("(")
            values = [_string(self.take())]
            while self.peek() == ",":
                self.take(",")
                values.append(_string(self.take()))
            self.take(")")
            if len(values) > IN_VALUES_MAX:
                raise CoqlError("LIMIT_EXCEEDED", f"`in` takes at most {IN_VALUES_MAX} values")
            return Term(field, "not_equal" if negated else "in", tuple(values))
        if word == "like" and not negated:
            self.take()
            pattern = _string(self.take())
            if not pattern.endswith("%") or "%" in pattern[:-1]:
                raise CoqlError("SYNTAX_ERROR", "like is emulated for starts-with patterns ('x%') only")
            return Term(field, "starts_with", (pattern[:-1],))
        if negated:
            raise CoqlError("SYNTAX_ERROR", f"expected in after not, got {self.peek()!r}")
        op = self.take()
        if op not in ("=", "!=", "<>"):
            raise CoqlError("SYNTAX_ERROR", f"unsupported comparator {op!r}")
        value = self.take()
        text = _string(value) if value.startswith("'") else value
        return Term(field, "equals" if op == "=" else "not_equal", (text,))


def parse(text: str) -> Query:
    return _Parser(_tokens(text)).query()


def credits_for(limit: int) -> int:
    """What Zoho charges for a query by its LIMIT: 1 up to 200, 2 up to 1,000, 3 up to 2,000."""
    return 1 if limit <= 200 else 2 if limit <= 1000 else 3
