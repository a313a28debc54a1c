"""What every CRM connection has in common: its kind, where its token is, how long to wait.

Each CRM's own settings (crm/<kind>/settings.py) subclass `CRMConnection` with `kind: Literal[...]` and only
the settings that CRM has (`extra="forbid"`): setting another CRM's field is a configuration error. The
tenant file's `crm` section is the registry's union of them (`registry.CRMSettings`).

`CRMConnection(**settings)` called on this base class validates into the right kind's model (a missing
`kind` means the registry's default), so code that builds a connection in Python needs no CRM's class.
Each kind's model makes itself known here when it is defined; the registry imports them all and names
the default kind (`set_default_kind`), so this module needs no list of CRMs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import ValidationError

from callsync.errors import ConfigError
from callsync.secrets import read_secret

# kind -> its settings model, filled as the models are defined (crm/<kind>/settings.py).
_KINDS: dict[str, type[CRMConnection]] = {}
_DEFAULT_KIND: list[str] = []  # set once by the registry


def set_default_kind(kind: str) -> None:
    """What a connection without `kind` means (the registry says)."""
    _DEFAULT_KIND[:] = [kind]


def settings_input(data: Any) -> Any:
    """A `crm` section before validation: the default kind when it names none, and a readable error for
    a setting that belongs to another CRM (rather than pydantic's 'Extra inputs are not permitted')."""
    if not isinstance(data, Mapping):
        return data
    values = dict(data)
    if _DEFAULT_KIND:
        values.setdefault("kind", _DEFAULT_KIND[0])
    kind = values.get("kind")
    if not isinstance(kind, str) or kind not in _KINDS:
        raise ValueError(f"unknown CRM kind {kind!r} (one of: {', '.join(_KINDS)})")
    own = _KINDS[kind].model_fields
    for name in values:
        if name in own:
            continue
        owners = [k for k, model in _KINDS.items() if name in model.model_fields]
        if owners:
            raise ValueError(f"{name} applies to {' and '.join(owners)} only, not to {kind}")
        raise ValueError(f"{name} is not a {kind} setting (settings: {', '.join(own)})")
    return values


class CRMConnection(BaseModel):
    """How to reach a tenant's CRM. Secrets are never stored: `token_env` names the environment
    variable that holds the token (default `CALLSYNC_<KIND>_TOKEN`)."""

    model_config = ConfigDict(extra="forbid")

    kind: str
    token_env: str = ""
    timeout_s: float = 10.0

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        kind = cls.model_fields["kind"].default
        if isinstance(kind, str):  # a kind of its own (Literal default), not an intermediate base
            _KINDS[kind] = cls

    def __new__(cls, *args: Any, **data: Any) -> Self:
        # Built from the base class: validate into the kind's own model.
        if cls is not CRMConnection:
            return super().__new__(cls)
        try:
            values = settings_input(data)
        except ValueError as exc:
            raise ValidationError.from_exception_data(
                cls.__name__, [{"type": "value_error", "loc": (), "input": data, "ctx": {"error": exc}}]
            ) from None
        return _KINDS[values["kind"]].model_validate(values)  # type: ignore[return-value]  # a subclass

    def __init__(self, /, **data: Any) -> None:
        if type(self) is not CRMConnection and self.__dict__:
            return  # already validated by __new__ (Python calls __init__ again on what __new__ returns)
        super().__init__(**data)

    @model_validator(mode="after")
    def _default_token_env(self) -> Self:
        if not self.token_env:
            self.token_env = f"CALLSYNC_{self.kind.upper()}_TOKEN"
        return self

    def token(self) -> str:
        value = read_secret(self.token_env)
        if not value:
            raise ConfigError(f"environment variable {self.token_env} (the CRM token, or its *_FILE) is not set")
        return value


class BudgetedConnection(CRMConnection):
    """Settings of a CRM that counts API calls per rolling window (credits or requests per 24 h)."""

    # Credits or API requests kept back for urgent writes: new work waits when only the reserve is left;
    # an attempt that has already written may finish.
    credit_reserve: int = Field(default=0, ge=0)
    budget_window_s: float = Field(default=86_400.0, gt=0)
    # After the CRM says the allowance is exhausted (no Retry-After): how long to wait before trying.
    limit_retry_s: float = Field(default=900.0, gt=0)
