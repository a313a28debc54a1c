"""Deterministic fault plans shared by every CRM emulator.

A `FaultPlan` says *which* requests go wrong; `FaultInjector.decide` picks the rule (if any) that fires
for one request. What a fault *looks like* on the wire is the emulator's job, because each CRM shapes
its errors differently. So a new kind (latency, connection reset, partial batch failure, ...) means
extending `FaultKind`, giving `FaultRule` any fields it needs (a delay, a failure ratio), and teaching
each emulator to act on it; a new way of *selecting* requests (an outage window in time) belongs in
`FaultRule.matches` / `FaultInjector._fires`. Matching, `skip`, `times` and `probability` work
unchanged for every kind.

The one wire behaviour that is the same for every CRM — cutting the connection after the work is done —
lives here too (`drop_response`).
"""

from __future__ import annotations

import random
import re
import threading
from typing import Literal, NoReturn

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator
from starlette.types import Send

FaultKind = Literal["status", "drop_response_after_commit"]


class FaultRule(BaseModel):
    """One kind of failure for the requests whose method and path match."""

    # Unknown keys are almost always typos in a hand-written plan; failing loudly beats a silent no-op.
    model_config = ConfigDict(extra="forbid", frozen=True)

    method: str | None = None
    path: str
    fault: FaultKind
    status: int = Field(default=503, ge=400, le=599)
    times: int | None = Field(default=1, ge=0)
    skip: int = Field(default=0, ge=0)
    probability: float = Field(default=1.0, ge=0.0, le=1.0)

    _pattern: re.Pattern[str] = PrivateAttr()

    @field_validator("method")
    @classmethod
    def _upper_method(cls, value: str | None) -> str | None:
        return None if value is None else value.upper()

    @field_validator("path")
    @classmethod
    def _valid_regex(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"path is not a valid regular expression: {exc}") from exc
        return value

    def model_post_init(self, context: object, /) -> None:
        self._pattern = re.compile(self.path)

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method.upper()) and bool(self._pattern.fullmatch(path))


class FaultPlan(BaseModel):
    """An ordered list of rules plus the seed that makes `probability` reproducible."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    seed: int = 0
    rules: list[FaultRule] = Field(default_factory=list)


class FaultInjector:
    """Applies a plan to a stream of requests; safe to call from several threads.

    Rules are tried in plan order and the first one that fires wins; rules after it do not see that
    request, so their `skip` and `times` counters are not consumed by it.
    """

    def __init__(self, plan: FaultPlan | None = None) -> None:
        self.plan = plan or FaultPlan()
        self._random = random.Random(self.plan.seed)
        self._seen = [0] * len(self.plan.rules)
        self._fired = [0] * len(self.plan.rules)
        self._lock = threading.Lock()

    def decide(self, method: str, path: str) -> FaultRule | None:
        with self._lock:
            for index, rule in enumerate(self.plan.rules):
                if rule.matches(method, path) and self._fires(index, rule):
                    return rule
            return None

    def _fires(self, index: int, rule: FaultRule) -> bool:
        self._seen[index] += 1
        if self._seen[index] <= rule.skip:
            return False
        if rule.times is not None and self._fired[index] >= rule.times:
            return False
        # Draw only for partial probabilities so adding a probability-1 rule never shifts the
        # random sequence (and therefore the outcome) of the other rules in the plan.
        if rule.probability < 1.0 and self._random.random() >= rule.probability:
            return False
        self._fired[index] += 1
        return True


class ResponseDropped(Exception):
    """Raised by `drop_response` so the ASGI server cuts the connection instead of finishing it."""


async def drop_response(send: Send) -> NoReturn:
    """Start a response that promises a body, then abort it, so the client sees a broken connection.

    ASGI gives an application no way to close a connection without answering, and a server answers
    500 to an application that fails before starting its response. Failing *after* the start makes
    the server close the transport mid-response instead (uvicorn does exactly that), which an HTTP
    client reports as a transport error (httpx: `RemoteProtocolError`, or `ReadError` if the close turns
    into a reset) rather than as any response.
    The head is a placeholder: a client never gets to read it as a complete response.
    """
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1")]})
    raise ResponseDropped("response dropped by the fault plan after the request was committed")
