"""Reading a named secret: tenant files name environment variables (or `*_FILE` variables naming a file,
as container secrets are mounted), never values."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["read_secret"]


def read_secret(name: str) -> str | None:
    """The value of a named secret, now: the variable's value; for `X_FILE` (or an unset X with `X_FILE`
    set) the content of the file it names, stripped. None when missing or empty; never raises."""
    candidates = [name] if name.endswith("_FILE") else [name, f"{name}_FILE"]
    for candidate in candidates:
        value = os.environ.get(candidate)
        if not value:
            continue
        if not candidate.endswith("_FILE"):
            return value
        try:
            content = Path(value).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            return None
        return content or None
    return None
