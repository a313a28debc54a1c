"""Domain types shared by every stage.

These are plain frozen dataclasses: the pure stages (capture, structure, reconcile) take and return them,
and only the boundaries (platform payloads, mapping documents, CLI output) use pydantic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Speaker(StrEnum):
    CALLER = "caller"
    AGENT = "agent"


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class FieldStatus(StrEnum):
    ACCEPTED = "accepted"
    NEEDS_REVIEW = "needs_review"
    REJECTED = "rejected"


# The canonical field names a mapping document may refer to. Extractors may only emit these.
CANONICAL_FIELDS: tuple[str, ...] = (
    "full_name",
    "first_name",
    "last_name",
    "email",
    "phone",
    "phone_extension",
    "company",
    "job_title",
    "amount",
    "amount_range",  # [low, high] when the caller gave a range instead of one figure (then no `amount`)
    "currency",
    "date",
    "time",
    "address",
    "zip",
    "reference_id",
    "callback_phone",
    # Call-level facts, always known from the CallRecord itself.
    "intent",
    "outcome",
    "sentiment",
    "summary",
    "call_id",
    "call_started_at",
    "call_direction",
    "caller_line",
    # The caller's own line as a contact value: vetted (withheld, anonymous and the tenant's own numbers are
    # never used), E.164, with evidence whose source is `caller_id` (capture/extract/caller_id.py).
    "caller_id",
)


@dataclass(frozen=True, slots=True)
class Turn:
    speaker: Speaker
    text: str
    start: float | None = None
    end: float | None = None


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One finished call, platform-independent. `raw` is the payload exactly as received."""

    tenant: str
    platform: str
    call_id: str
    direction: Direction
    from_number: str | None
    to_number: str | None
    started_at: datetime | None
    ended_at: datetime | None
    turns: tuple[Turn, ...]
    timezone: str | None = None
    recording_url: str | None = None
    analysis: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def caller_line(self) -> str | None:
        """The customer's own line: `from` on inbound calls, `to` on outbound ones."""
        return self.from_number if self.direction is Direction.INBOUND else self.to_number


class EvidenceSource(StrEnum):
    """Where a value comes from. Only `transcript` evidence points at words; the others point at the call."""

    TRANSCRIPT = "transcript"  # words spoken in a turn: `turn`, `start`, `end` locate them
    CALLER_ID = "caller_id"  # the caller's line as the telephone network gave it (`from`, or `to` outbound)
    PLATFORM = "platform"  # a fact the voice platform reported about the call (not its analysis)
    REVIEWER = "reviewer"  # a value a person supplied for the call in review (who: the ledger row's reviewer)


# `turn` of evidence that points at no turn (caller ID, platform facts): never a valid turn index.
NO_TURN = -1


@dataclass(frozen=True, slots=True)
class Evidence:
    """Where a value was found. Transcript evidence (the default) is a turn index and a character span
    [start, end) inside that turn's text; other sources carry `turn` NO_TURN and an empty span."""

    turn: int
    start: int
    end: int
    source: EvidenceSource = EvidenceSource.TRANSCRIPT

    @classmethod
    def caller_id(cls) -> Evidence:
        """The value is the caller's line, not something said."""
        return cls(NO_TURN, 0, 0, EvidenceSource.CALLER_ID)

    @property
    def in_transcript(self) -> bool:
        return self.source is EvidenceSource.TRANSCRIPT

    def to_json(self) -> dict[str, Any]:
        """Transcript evidence keeps its original shape ({turn, start, end}); other sources add `source`."""
        out: dict[str, Any] = {"turn": self.turn, "start": self.start, "end": self.end}
        if self.source is not EvidenceSource.TRANSCRIPT:
            out["source"] = self.source.value
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Evidence:
        """Read stored evidence; rows written before sources existed have none and mean the transcript."""
        source = EvidenceSource(data.get("source") or EvidenceSource.TRANSCRIPT.value)
        turn = data.get("turn")
        return cls(
            int(turn) if turn is not None else NO_TURN,
            int(data.get("start", 0)),
            int(data.get("end", 0)),
            source,
        )


@dataclass(frozen=True, slots=True)
class FieldValue:
    value: Any
    confidence: float
    evidence: tuple[Evidence, ...]
    extractor: str
    status: FieldStatus = FieldStatus.ACCEPTED
    reason: str | None = None
    # Values the caller said first and later corrected; kept so the trace can show them.
    superseded: tuple[tuple[Any, tuple[Evidence, ...]], ...] = ()

    @property
    def sources(self) -> tuple[EvidenceSource, ...]:
        """Where the value comes from, in evidence order, each once (transcript when there is no evidence)."""
        found = tuple(dict.fromkeys(e.source for e in self.evidence))
        return found or (EvidenceSource.TRANSCRIPT,)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "value": self.value,
            "confidence": round(self.confidence, 3),
            "status": self.status.value,
            "evidence": [e.to_json() for e in self.evidence],
            "extractor": self.extractor,
        }
        if self.reason:
            out["reason"] = self.reason
        if self.superseded:
            out["superseded"] = [
                {"value": v, "evidence": [e.to_json() for e in ev]} for v, ev in self.superseded
            ]
        return out


@dataclass(frozen=True, slots=True)
class Label:
    """A call-level classification (intent, outcome, sentiment) with the turns that support it."""

    value: str
    confidence: float
    turns: tuple[int, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"value": self.value, "confidence": round(self.confidence, 3), "turns": list(self.turns)}


@dataclass(frozen=True, slots=True)
class PlatformValue:
    """One value of the platform's own analysis, checked against the transcript (capture/extract/grounding.py).

    `said` is False when the value appears in no spoken form: such a value is never accepted (status
    needs_review, reason not_in_transcript). `field` is the canonical field the key maps to, if any;
    `effect` says what the check did to that field.
    """

    key: str
    value: Any
    field: str | None
    said: bool
    reason: str  # "said" | "not_in_transcript" | "invalid_platform_value" | "not_checkable"
    effect: str  # "raised_confidence" | "kept_ours" | "added_for_review" | "none"
    evidence: tuple[Evidence, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "value": self.value,
            "field": self.field,
            "said": self.said,
            "status": "said" if self.said else FieldStatus.NEEDS_REVIEW.value,
            "reason": self.reason,
            "effect": self.effect,
            "evidence": [e.to_json() for e in self.evidence],
        }


@dataclass(frozen=True, slots=True)
class Extraction:
    call_id: str
    fields: dict[str, FieldValue]
    intent: Label
    outcome: Label
    sentiment: Label
    # The platform's own analysis values, each checked against the transcript (empty when it sent none).
    platform_values: tuple[PlatformValue, ...] = ()

    def accepted(self) -> dict[str, FieldValue]:
        return {k: v for k, v in self.fields.items() if v.status is FieldStatus.ACCEPTED}

    def to_json(self) -> dict[str, Any]:
        """The extraction JSON contract (`callsync extract`); later stages and benchmarks read it."""
        return {
            "call_id": self.call_id,
            "fields": {name: fv.to_json() for name, fv in self.fields.items()},
            "intent": self.intent.to_json(),
            "outcome": self.outcome.to_json(),
            "sentiment": self.sentiment.to_json(),
            "platform_values": [p.to_json() for p in self.platform_values],
        }
