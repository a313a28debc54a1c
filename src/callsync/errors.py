"""Errors that reach a user carry enough to act on: which file, which line, which field."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class InputError(Exception):
    """A call file or document that cannot be used. Rendered as `file:line: field: message`."""

    message: str
    source: str | None = None
    line: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = self.source or "<input>"
        if self.line is not None:
            where += f":{self.line}"
        what = f"{self.field}: " if self.field else ""
        return f"{where}: {what}{self.message}"


class ConfigError(InputError):
    """A mapping document, tenant file or setting that cannot be used."""
