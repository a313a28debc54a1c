"""Reading call files: one JSON object, a JSON list, or JSON Lines; every problem names file and line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from callsync.errors import InputError


@dataclass(frozen=True)
class RawCall:
    """One call as it stands in the file: its text (kept verbatim), where it starts, and its JSON."""

    source: str
    line: int
    text: str
    payload: Any = None
    error: InputError | None = None


def _line_at(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _json_error(source: str, base_line: int, exc: json.JSONDecodeError) -> InputError:
    return InputError(f"malformed JSON: {exc.msg} (column {exc.colno})", source, base_line + exc.lineno - 1)


def _list_items(text: str, source: str) -> Iterator[RawCall]:
    decoder = json.JSONDecoder()
    pos = text.index("[") + 1
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(text) or text[pos] == "]":
            return
        try:
            payload, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            line = _line_at(text, exc.pos)
            yield RawCall(
                source, line, text[pos:], error=InputError(f"malformed JSON: {exc.msg}", source, line)
            )
            return
        yield RawCall(source, _line_at(text, pos), text[pos:end], payload)
        pos = end


@dataclass(frozen=True)
class CallFile:
    """A call file's calls and its shape, so output can mirror input (object, list, or lines)."""

    shape: Literal["object", "list", "lines"]
    items: list[RawCall]


def read_call_file(path: str | Path) -> CallFile:
    """Read every call in the file; a malformed one carries its error so the rest go on."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        return CallFile(
            "object", [RawCall(source, 0, "", error=InputError(f"cannot read file: {exc.strerror}", source))]
        )
    except UnicodeDecodeError:
        return CallFile("object", [RawCall(source, 0, "", error=InputError("not UTF-8 text", source))])
    stripped = text.lstrip()
    if not stripped:
        return CallFile(
            "object", [RawCall(source, 1, text, error=InputError("empty file: no calls", source, 1))]
        )
    if stripped.startswith("["):
        return CallFile("list", list(_list_items(text, source)))
    try:
        whole = json.loads(text)
    except json.JSONDecodeError:
        whole = None
    if isinstance(whole, dict):
        return CallFile("object", [RawCall(source, _line_at(text, len(text) - len(stripped)), text, whole)])
    return CallFile("lines", list(_lines(text, source)))


def _lines(text: str, source: str) -> Iterator[RawCall]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield RawCall(source, number, line, json.loads(line))
        except json.JSONDecodeError as exc:
            yield RawCall(source, number, line, error=_json_error(source, number, exc))


def read_calls(path: str | Path) -> Iterator[RawCall]:
    yield from read_call_file(path).items
