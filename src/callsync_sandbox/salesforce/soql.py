"""The SOQL subset the emulator understands: enough for identity lookups and read-backs.

    SELECT field[, field | Parent.field]* | COUNT() FROM Object
      [WHERE condition] [ORDER BY field [ASC|DESC] [NULLS FIRST|LAST][, ...]] [LIMIT n] [OFFSET n]

Conditions: = != <> < <= > >=, IN (...), NOT IN (...), LIKE, AND, OR, NOT, parentheses; literals are
'quoted strings' (backslash escapes), numbers, true/false/null, and date / datetime literals. As in
Salesforce, keywords and field names are case-insensitive and so are text comparisons. Anything else is
a MALFORMED_QUERY, as the real parser would answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_UNSUPPORTED = frozenset({"INCLUDES", "EXCLUDES", "GROUP", "HAVING", "WITH", "FOR", "USING", "TYPEOF"})
_KEYWORDS = _UNSUPPORTED | {
    "SELECT",
    "FROM",
    "WHERE",
    "AND",
    "OR",
    "NOT",
    "IN",
    "LIKE",
    "ORDER",
    "BY",
    "ASC",
    "DESC",
    "NULLS",
    "FIRST",
    "LAST",
    "LIMIT",
    "OFFSET",
    "TRUE",
    "FALSE",
    "NULL",
}
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", '"': '"', "'": "'", "\\": "\\"}
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^'\\]|\\.)*')
      | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2}))
      | (?P<date>\d{4}-\d{2}-\d{2})
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<op><=|>=|!=|<>|=|<|>)
      | (?P<punct>[(),])
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
    )""",
    re.VERBOSE,
)


class SoqlError(Exception):
    def __init__(self, message: str, code: str = "MALFORMED_QUERY") -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    value: Any
    column: int


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None or match.lastgroup is None:
            raise SoqlError(
                f"\n{text}\nERROR at Row:1:Column:{pos + 1}\nunexpected token: {text[pos:].split()[0]!r}"
            )
        kind, raw = match.lastgroup, match.group(match.lastgroup)
        column = match.start(kind) + 1
        value: Any = raw
        if kind == "string":
            value = _unquote(raw, text, column)
        elif kind == "number":
            value = float(raw) if "." in raw else int(raw)
        elif kind == "name" and raw.upper() in _KEYWORDS:
            kind, value = "keyword", raw.upper()
        tokens.append(Token(kind, raw, value, column))
        pos = match.end()
    return tokens


def _unquote(raw: str, text: str, column: int) -> str:
    out: list[str] = []
    body = raw[1:-1]
    i = 0
    while i < len(body):
        char = body[i]
        if char == "\\":
            nxt = body[i + 1]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
            elif nxt in "%_":  # only meaningful in LIKE patterns: kept escaped for the matcher
                out.append("\\" + nxt)
            else:
                raise SoqlError(f"\n{text}\nERROR at Row:1:Column:{column}\nInvalid string literal {raw}")
            i += 2
            continue
        out.append(char)
        i += 1
    return "".join(out)


# -- syntax tree -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Compare:
    field: str
    op: str
    value: Any


@dataclass(frozen=True)
class InList:
    field: str
    values: tuple[Any, ...]
    negate: bool


@dataclass(frozen=True)
class Like:
    field: str
    pattern: str


@dataclass(frozen=True)
class BoolOp:
    op: str  # AND | OR
    parts: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    part: Condition


Condition = Compare | InList | Like | BoolOp | Not


@dataclass(frozen=True)
class Order:
    field: str
    descending: bool
    nulls_last: bool


@dataclass(frozen=True)
class Query:
    fields: tuple[str, ...]
    count: bool
    sobject: str
    where: Condition | None
    order: tuple[Order, ...]
    limit: int | None
    offset: int


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.pos = 0

    def error(self, token: Token | None = None) -> SoqlError:
        token = token or self.peek()
        if token is None:
            return SoqlError(
                f"\n{self.text}\nERROR at Row:1:Column:{len(self.text) + 1}\nunexpected token: <EOF>"
            )
        return SoqlError(
            f"\n{self.text}\nERROR at Row:1:Column:{token.column}\nunexpected token: {token.text}"
        )

    def peek(self) -> Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def next(self) -> Token:
        token = self.peek()
        if token is None:
            raise self.error()
        self.pos += 1
        return token

    def accept(self, keyword: str) -> bool:
        token = self.peek()
        if token is not None and token.kind == "keyword" and token.value == keyword:
            self.pos += 1
            return True
        return False

    def expect(self, keyword: str) -> None:
        if not self.accept(keyword):
            raise self.error()

    def punct(self, char: str) -> bool:
        token = self.peek()
        if token is not None and token.kind == "punct" and token.text == char:
            self.pos += 1
            return True
        return False

    def name(self) -> str:
        token = self.next()
        if token.kind != "name":
            raise self.error(token)
        return token.text

    def query(self) -> Query:
        self.expect("SELECT")
        fields: list[str] = []
        count = False
        while True:
            token = self.peek()
            if token is not None and token.kind == "name" and token.text.upper() == "COUNT":
                self.pos += 1
                if not (self.punct("(") and self.punct(")")):
                    raise self.error()
                count = True
            else:
                fields.append(self.name())
            if not self.punct(","):
                break
        if count and fields:
            raise SoqlError("COUNT() cannot be combined with other fields in this emulator")
        self.expect("FROM")
        sobject = self.name()
        where = None
        if self.accept("WHERE"):
            where = self.condition()
        order: list[Order] = []
        if self.accept("ORDER"):
            self.expect("BY")
            while True:
                field = self.name()
                descending = self.accept("DESC")
                if not descending:
                    self.accept("ASC")
                nulls_last = descending
                if self.accept("NULLS"):
                    if self.accept("LAST"):
                        nulls_last = True
                    else:
                        self.expect("FIRST")
                        nulls_last = False
                order.append(Order(field, descending, nulls_last))
                if not self.punct(","):
                    break
        limit = self._integer() if self.accept("LIMIT") else None
        offset = self._integer() if self.accept("OFFSET") else 0
        token = self.peek()
        if token is not None:
            if token.kind == "keyword" and token.value in _UNSUPPORTED:
                raise SoqlError(f"{token.value} is not supported by the Salesforce emulator")
            raise self.error(token)
        return Query(tuple(fields), count, sobject, where, tuple(order), limit, offset)

    def _integer(self) -> int:
        token = self.next()
        if token.kind != "number" or not isinstance(token.value, int) or token.value < 0:
            raise self.error(token)
        return int(token.value)

    def condition(self) -> Condition:
        parts = [self.conjunction()]
        while self.accept("OR"):
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else BoolOp("OR", tuple(parts))

    def conjunction(self) -> Condition:
        parts = [self.negation()]
        while self.accept("AND"):
            parts.append(self.negation())
        return parts[0] if len(parts) == 1 else BoolOp("AND", tuple(parts))

    def negation(self) -> Condition:
        if self.accept("NOT"):
            return Not(self.negation())
        if self.punct("("):
            inner = self.condition()
            if not self.punct(")"):
                raise self.error()
            return inner
        return self.comparison()

    def comparison(self) -> Condition:
        field = self.name()
        if self.accept("NOT"):
            self.expect("IN")
            return InList(field, self.values(), True)
        if self.accept("IN"):
            return InList(field, self.values(), False)
        if self.accept("LIKE"):
            token = self.next()
            if token.kind != "string":
                raise self.error(token)
            return Like(field, token.value)
        token = self.next()
        if token.kind != "op":
            raise self.error(token)
        return Compare(field, "!=" if token.text == "<>" else token.text, self.literal())

    def values(self) -> tuple[Any, ...]:
        if not self.punct("("):
            raise self.error()
        values = [self.literal()]
        while self.punct(","):
            values.append(self.literal())
        if not self.punct(")"):
            raise self.error()
        return tuple(values)

    def literal(self) -> Any:
        token = self.next()
        if token.kind in ("string", "number", "date", "datetime"):
            return token.value
        if token.kind == "keyword" and token.value in ("TRUE", "FALSE", "NULL"):
            return {"TRUE": True, "FALSE": False, "NULL": None}[token.value]
        raise self.error(token)


def parse(text: str) -> Query:
    return _Parser(text).query()


# -- evaluation ------------------------------------------------------------------------------------------


def _key(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def _compare(stored: Any, op: str, wanted: Any) -> bool:
    if op == "=":
        return bool(_key(stored) == _key(wanted)) if stored is not None or wanted is None else False
    if op == "!=":
        return bool(_key(stored) != _key(wanted))
    if stored is None or wanted is None:
        return False
    a, b = _key(stored), _key(wanted)
    if isinstance(a, str) != isinstance(b, str):
        a, b = str(a), str(b)
    try:
        return bool({"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op])
    except TypeError:
        return False


def _like(stored: Any, pattern: str) -> bool:
    if stored is None:
        return False
    regex = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            regex.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        regex.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
        i += 1
    return re.fullmatch("".join(regex), str(stored), re.IGNORECASE | re.DOTALL) is not None


def matches(condition: Condition | None, get: Callable[[str], Any]) -> bool:
    """Does a record (read through `get(field path)`) satisfy the condition?"""
    if condition is None:
        return True
    if isinstance(condition, Compare):
        return _compare(get(condition.field), condition.op, condition.value)
    if isinstance(condition, InList):
        stored = _key(get(condition.field))
        found = stored is not None and any(stored == _key(v) for v in condition.values)
        return found != condition.negate
    if isinstance(condition, Like):
        return _like(get(condition.field), condition.pattern)
    if isinstance(condition, Not):
        return not matches(condition.part, get)
    results = (matches(part, get) for part in condition.parts)
    return all(results) if condition.op == "AND" else any(results)


def referenced_fields(condition: Condition | None) -> list[str]:
    if condition is None:
        return []
    if isinstance(condition, Compare | InList | Like):
        return [condition.field]
    if isinstance(condition, Not):
        return referenced_fields(condition.part)
    return [f for part in condition.parts for f in referenced_fields(part)]
