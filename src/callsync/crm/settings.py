"""What every CRM connection has in common: its kind, where its token is, how long to wait.

Each CRM's own settings (crm/<kind>/settings.py) subclass `CRMConnection` with `kind: Literal[...]` and only
the settings that CRM has (`extra="forbid"`): setting another CRM's field is a configuration error. The
tenant file's `crm` section is the registry's union of them (`registry.CRMSettings`).

`CRMConnection(**settings)` called on this base class validates into the right kind's model (a missing
`kind` means the registry's default), so code that builds a connection in Python needs no CRM's class.
"""

from __future__ import annotations

import os
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from callsync.errors import ConfigError


class CRMConnection(BaseModel):
    """How to reach a tenant's CRM. Secrets are never stored: `token_env` names the environment
    variable that holds the token (default `CALLSYNC_<KIND>_TOKEN`)."""

    model_config = ConfigDict(extra="forbid")

    kind: str
    token_env: str = ""
    timeout_s: float = 10.0

    def __new__(cls, *args: Any, **data: Any) -> Self:
        # Built from the base class: validate into the kind's own model through the registry.
        if cls is CRMConnection:
            from callsync.crm.registry import parse_settings

            return parse_settings(data)  # type: ignore[return-value]  # a subclass of cls
        return super().__new__(cls)

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
        value = os.environ.get(self.token_env)
        if not value:
            raise ConfigError(f"environment variable {self.token_env} (the CRM token) is not set")
        return value


class BudgetedConnection(CRMConnection):
    """Settings of a CRM that counts API calls per rolling window (credits or requests per 24 h)."""

    # Credits or API requests kept back for urgent writes: new work waits when only the reserve is left;
    # an attempt that has already written may finish.
    credit_reserve: int = Field(default=0, ge=0)
    budget_window_s: float = Field(default=86_400.0, gt=0)
    # After the CRM says the allowance is exhausted (no Retry-After): how long to wait before trying.
    limit_retry_s: float = Field(default=900.0, gt=0)
