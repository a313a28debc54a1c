"""Deterministic fault plans shared by every CRM emulator.

A `FaultPlan` says *which* requests go wrong; `FaultInjector.act` decides, for one request, what happens
to it: a `FaultAction` (a delay, and at most one fault). What a fault *looks like* on the wire is the
emulator's job, because each CRM shapes its errors differently (a 429 carries that vendor's limit
headers, a batch failure that vendor's multi-status body).

Kinds of fault (`FaultRule.fault`):

- `status`: answer with an error status without doing the work (5xx, a 429 with the vendor's headers, ...).
- `drop_response_after_commit`: do the work, then cut the connection before the answer.
- `timeout_after_commit`: do the work, hold the answer past the client's timeout (`latency`, default
  30 s), then cut the connection.
- `connection_reset`: cut the connection without doing anything.
- `partial_batch`: a batch request fails for `fail_ratio` of its inputs (multi-status); the rest is done.
- `latency`: delay the request by a draw from `latency`. Latency rules are *additive*: every latency rule
  that fires adds its delay, and the request then goes on to the other rules.

Which requests a rule selects: method and path (a regular expression matched against the whole path),
`skip` (let the first N matching requests through), `times` (fire at most N times; null = no limit),
`probability` (drawn from the plan's seeded random sequence), and a time window `start_s`/`end_s`,
in seconds since the plan's clock started (the first request the injector sees, or `start_clock()`).
An outage is a rule with a window; `FaultPlan.outages` is shorthand for one. A window by request count
is `skip` + `times`.

Rules are tried in plan order: every firing latency rule adds its delay, and the first other rule that
fires decides the fault; rules after it do not see the request, so their `skip` and `times` counters are
not consumed by it. The same plan and seed give the same decisions for the same sequence of requests.

Plans load from YAML or JSON (`load_fault_plan`: a file path, inline text, or `$CALLSYNC_FAULT_PLAN`).

The one wire behaviour that is the same for every CRM — cutting the connection — lives here too
(`drop_response`).
"""

from __future__ import annotations

import math
import os
import random
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NoReturn, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator
from starlette.types import Send

FaultKind = Literal[
    "status",
    "drop_response_after_commit",
    "timeout_after_commit",
    "connection_reset",
    "partial_batch",
    "latency",
]
# Faults after which the CRM has done the work (the client cannot tell which happened).
COMMITTING_FAULTS: frozenset[str] = frozenset({"drop_response_after_commit", "timeout_after_commit"})
ENV_FAULT_PLAN = "CALLSYNC_FAULT_PLAN"
_DEFAULT_HOLD_S = 30.0
_Z99 = 2.3263478740408408  # the standard normal's 99th percentile


class Latency(BaseModel):
    """A delay distribution, in milliseconds.

    `fixed`: `ms`. `uniform`: between `min_ms` and `max_ms`. `exponential`: mean `mean_ms`.
    `lognormal`: median `p50_ms` and 99th percentile `p99_ms` (a long tail, like real APIs). `max_ms`
    caps every draw when given.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    distribution: Literal["fixed", "uniform", "exponential", "lognormal"] = "fixed"
    ms: float = Field(default=0.0, ge=0)
    min_ms: float = Field(default=0.0, ge=0)
    max_ms: float | None = Field(default=None, ge=0)
    mean_ms: float = Field(default=0.0, ge=0)
    p50_ms: float = Field(default=0.0, ge=0)
    p99_ms: float = Field(default=0.0, ge=0)

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if self.distribution == "uniform" and (self.max_ms is None or self.max_ms < self.min_ms):
            raise ValueError("a uniform latency needs max_ms >= min_ms")
        if self.distribution == "exponential" and self.mean_ms <= 0:
            raise ValueError("an exponential latency needs mean_ms > 0")
        if self.distribution == "lognormal" and not 0 < self.p50_ms <= self.p99_ms:
            raise ValueError("a lognormal latency needs 0 < p50_ms <= p99_ms")
        return self

    def draw_s(self, rng: random.Random) -> float:
        if self.distribution == "fixed":
            ms = self.ms
        elif self.distribution == "uniform":
            ms = rng.uniform(self.min_ms, self.max_ms or self.min_ms)
        elif self.distribution == "exponential":
            ms = rng.expovariate(1.0 / self.mean_ms)
        else:
            sigma = math.log(self.p99_ms / self.p50_ms) / _Z99
            ms = rng.lognormvariate(math.log(self.p50_ms), sigma)
        if self.max_ms is not None and self.distribution != "uniform":
            ms = min(ms, self.max_ms)
        return ms / 1000.0


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
    # Time window in seconds since the plan's clock started; open-ended when a bound is None.
    start_s: float | None = Field(default=None, ge=0)
    end_s: float | None = Field(default=None, ge=0)
    # `latency`: the delay; `timeout_after_commit`: how long the answer is held before the cut.
    latency: Latency | None = None
    # `partial_batch`: the share of a batch's inputs that fail (at least one input when the rule fires).
    fail_ratio: float = Field(default=0.5, gt=0.0, le=1.0)

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

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.fault == "latency" and self.latency is None:
            raise ValueError("a latency rule needs `latency` (a distribution)")
        if self.start_s is not None and self.end_s is not None and self.end_s <= self.start_s:
            raise ValueError("end_s must be after start_s")
        return self

    def model_post_init(self, context: object, /) -> None:
        self._pattern = re.compile(self.path)

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method.upper()) and bool(self._pattern.fullmatch(path))

    def in_window(self, elapsed_s: float) -> bool:
        return (self.start_s is None or elapsed_s >= self.start_s) and (
            self.end_s is None or elapsed_s < self.end_s
        )


class Outage(BaseModel):
    """Shorthand for a rule that fails every request for a while: the CRM answers `status` (a 503 by
    default), or with `reset: true` nothing answers at all."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start_s: float = Field(ge=0)
    duration_s: float = Field(gt=0)
    status: int = Field(default=503, ge=400, le=599)
    reset: bool = False
    path: str = ".*"

    def rule(self) -> FaultRule:
        return FaultRule(
            path=self.path,
            fault="connection_reset" if self.reset else "status",
            status=self.status,
            times=None,
            start_s=self.start_s,
            end_s=self.start_s + self.duration_s,
        )


class FaultPlan(BaseModel):
    """An ordered list of rules plus the seed that makes `probability` (and latency draws) reproducible.
    Outages come before the rules: while the CRM is down nothing else happens to a request."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    seed: int = 0
    outages: list[Outage] = Field(default_factory=list)
    rules: list[FaultRule] = Field(default_factory=list)

    def all_rules(self) -> list[FaultRule]:
        return [outage.rule() for outage in self.outages] + list(self.rules)

    @classmethod
    def from_text(cls, text: str) -> FaultPlan:
        """YAML or JSON (JSON is YAML)."""
        data = yaml.safe_load(text)
        return cls.model_validate(data or {})

    @classmethod
    def from_file(cls, path: str | Path) -> FaultPlan:
        return cls.from_text(Path(path).read_text(encoding="utf-8"))


def load_fault_plan(spec: str | Path | None = None, *, env: str = ENV_FAULT_PLAN) -> FaultPlan | None:
    """A plan from a file path or inline YAML/JSON text; without `spec`, from the environment variable
    (`$CALLSYNC_FAULT_PLAN`, holding either). None when neither is given."""
    if spec is None:
        spec = os.environ.get(env) or None
        if spec is None:
            return None
    if isinstance(spec, Path):
        return FaultPlan.from_file(spec)
    text = spec.strip()
    if text.startswith(("{", "[")) or "\n" in text or (":" in text and not Path(text).exists()):
        return FaultPlan.from_text(text)
    return FaultPlan.from_file(text)


@dataclass(frozen=True)
class FaultAction:
    """What to do to one request: wait `delay_s`, then apply `rule` (None: handle it normally)."""

    delay_s: float = 0.0
    rule: FaultRule | None = None
    # Seeds the choice of failing inputs for a `partial_batch`, so it is reproducible per firing.
    batch_seed: int = 0

    @property
    def fault(self) -> FaultKind | None:
        return None if self.rule is None else self.rule.fault

    @property
    def status(self) -> int:
        return 503 if self.rule is None else self.rule.status

    @property
    def hold_s(self) -> float:
        """How long a `timeout_after_commit` keeps the client waiting before the cut."""
        latency = self.rule.latency if self.rule is not None else None
        return latency.draw_s(random.Random(self.batch_seed)) if latency else _DEFAULT_HOLD_S

    def failing_inputs(self, count: int) -> list[int]:
        """Indexes of a batch's inputs that fail (`partial_batch`): `fail_ratio` of them, at least one."""
        if self.rule is None or count <= 0:
            return []
        n = min(count, max(1, round(count * self.rule.fail_ratio)))
        return sorted(random.Random(self.batch_seed).sample(range(count), n))


NO_FAULT = FaultAction()


class FaultInjector:
    """Applies a plan to a stream of requests; safe to call from several threads."""

    def __init__(self, plan: FaultPlan | None = None) -> None:
        self.plan = plan or FaultPlan()
        self._rules = self.plan.all_rules()
        self._random = random.Random(self.plan.seed)
        # Latency draws use their own sequence, so adding a latency rule never shifts which requests the
        # probabilistic rules pick.
        self._latency_random = random.Random(self.plan.seed ^ 0x5EED)
        self._seen = [0] * len(self._rules)
        self._fired = [0] * len(self._rules)
        self._requests = 0
        self._faulted = 0
        self._started_at: float | None = None
        self._lock = threading.Lock()

    def start_clock(self, at: float | None = None) -> None:
        """Start (or restart) the clock that time windows count from (`time.monotonic()` seconds)."""
        with self._lock:
            self._started_at = time.monotonic() if at is None else at

    def elapsed_s(self) -> float:
        with self._lock:
            return 0.0 if self._started_at is None else time.monotonic() - self._started_at

    def act(self, method: str, path: str) -> FaultAction:
        """Everything the plan does to this request."""
        with self._lock:
            now = time.monotonic()
            if self._started_at is None:
                self._started_at = now
            elapsed = now - self._started_at
            self._requests += 1
            delay = 0.0
            for index, rule in enumerate(self._rules):
                if not (rule.matches(method, path) and rule.in_window(elapsed)):
                    continue
                if not self._fires(index, rule):
                    continue
                if rule.fault == "latency":
                    assert rule.latency is not None  # checked by the model
                    delay += rule.latency.draw_s(self._latency_random)
                    continue
                self._faulted += 1
                seed = hash((self.plan.seed, index, self._fired[index])) & 0xFFFFFFFF
                return FaultAction(delay, rule, seed)
            return FaultAction(delay) if delay else NO_FAULT

    def decide(self, method: str, path: str) -> FaultRule | None:
        """The fault (not the latency) for this request, for emulators that apply only `status` and
        `drop_response_after_commit`. Prefer `act`, which also carries the delay."""
        return self.act(method, path).rule

    def stats(self) -> dict[str, Any]:
        """Requests seen, requests given a fault (latency aside), and firings per rule (plan order,
        outages first)."""
        with self._lock:
            return {
                "requests": self._requests,
                "faulted": self._faulted,
                "fired": [
                    {"fault": rule.fault, "path": rule.path, "status": rule.status, "fired": n}
                    for rule, n in zip(self._rules, self._fired, strict=True)
                ],
            }

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
    into a reset) rather than as any response. Used both after the work (a lost answer) and instead of
    it (a connection reset): the client cannot tell the two apart, which is the point.
    The head is a placeholder: a client never gets to read it as a complete response.
    """
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1")]})
    raise ResponseDropped("response dropped by the fault plan")
