"""Zoho CRM search criteria: `(Field:operator:value)` joined by `and` / `or`, with parentheses.

    ((Email:equals:dana@northwind.com)or(Phone:equals:+14155550123))

Operators emulated: equals, not_equal, starts_with, in (comma-separated values), greater_than, less_than.
A value's `(`, `)`, `,` and `\\` are escaped with a backslash. Text comparisons ignore case.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

OPERATORS = frozenset({"equals", "not_equal", "starts_with", "in", "greater_than", "less_than"})
MAX_CRITERIA = 10


class CriteriaError(ValueError):
    pass


@dataclass(frozen=True)
class Term:
    field: str
    operator: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Group:
    op: str  # and | or
    parts: tuple[Term | Group, ...]


Criteria = Term | Group


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.terms = 0

    def parse(self) -> Criteria:
        result = self.expression()
        if self.pos != len(self.text):
            raise CriteriaError(f"unexpected text at {self.pos}: {self.text[self.pos :]!r}")
        return result

    def expression(self) -> Criteria:
        parts = [self.group()]
        ops: set[str] = set()
        while self.text.startswith(("and", "or"), self.pos):
            op = "and" if self.text.startswith("and", self.pos) else "or"
            self.pos += len(op)
            ops.add(op)
            parts.append(self.group())
        if len(ops) > 1:
            raise CriteriaError("mixing and/or needs parentheses")
        return parts[0] if len(parts) == 1 else Group(ops.pop(), tuple(parts))

    def group(self) -> Criteria:
        if not self.text.startswith("(", self.pos):
            raise CriteriaError(f"expected '(' at {self.pos}")
        self.pos += 1
        inner = self.expression() if self.text.startswith("(", self.pos) else self.term()
        if not self.text.startswith(")", self.pos):
            raise CriteriaError(f"expected ')' at {self.pos}")
        self.pos += 1
        return inner

    def term(self) -> Term:
        self.terms += 1
        if self.terms > MAX_CRITERIA:
            raise CriteriaError(f"at most {MAX_CRITERIA} criteria are allowed")
        raw: list[str] = []
        while self.pos < len(self.text) and self.text[self.pos] != ")":
            char = self.text[self.pos]
            if char == "\\" and self.pos + 1 < len(self.text):
                raw.append("\\" + self.text[self.pos + 1])
                self.pos += 2
                continue
            if char == "(":
                raise CriteriaError(f"unescaped '(' in a value at {self.pos}")
            raw.append(char)
            self.pos += 1
        text = "".join(raw)
        field, sep1, rest = text.partition(":")
        operator, sep2, value = rest.partition(":")
        if not (sep1 and sep2 and field):
            raise CriteriaError(f"a criterion is (field:operator:value), got ({_unescape(text)})")
        if operator not in OPERATORS:
            raise CriteriaError(f"unsupported operator {operator!r}")
        values = _split(value) if operator == "in" else (_unescape(value),)
        return Term(field, operator, tuple(values))


def _split(value: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(value):
        if value[i] == "\\" and i + 1 < len(value):
            current.append(value[i + 1])
            i += 2
            continue
        if value[i] == ",":
            parts.append("".join(current))
            current = []
        else:
            current.append(value[i])
        i += 1
    parts.append("".join(current))
    return parts


def _unescape(value: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(value):
        if value[i] == "\\" and i + 1 < len(value):
            out.append(value[i + 1])
            i += 2
            continue
        out.append(value[i])
        i += 1
    return "".join(out)


def parse(text: str) -> Criteria:
    return _Parser(text.strip()).parse()


def fields_of(criteria: Criteria) -> list[str]:
    if isinstance(criteria, Term):
        return [criteria.field]
    return [f for part in criteria.parts for f in fields_of(part)]


def fold_value(value: Any) -> str:
    """A stored value as compared: a lookup by its name or id, text without case."""
    if isinstance(value, dict):  # a lookup matches on its name or id
        value = value.get("name") or value.get("id")
    return "" if value is None else str(value).casefold()


def matches(criteria: Criteria, get: Callable[[str], Any]) -> bool:
    if isinstance(criteria, Group):
        results = (matches(p, get) for p in criteria.parts)
        return all(results) if criteria.op == "and" else any(results)
    stored = get(criteria.field)
    text = fold_value(stored)
    wanted = [v.casefold() for v in criteria.values]
    if criteria.operator == "equals":
        if isinstance(stored, dict):
            return any(w in (fold_value(stored.get("name")), fold_value(stored.get("id"))) for w in wanted)
        return text in wanted
    if criteria.operator == "in":
        return text in wanted
    if criteria.operator == "not_equal":
        return text not in wanted
    if criteria.operator == "starts_with":
        return bool(text) and text.startswith(wanted[0])
    try:
        a, b = float(text), float(wanted[0])
    except ValueError:
        a, b = text, wanted[0]  # type: ignore[assignment]
    return bool(a > b) if criteria.operator == "greater_than" else bool(a < b)
