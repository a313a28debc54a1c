"""The generic call JSON (DESIGN.md): the format every platform is converted to, also accepted as input."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from callsync.errors import InputError
from callsync.models import CallRecord, Direction, Speaker, Turn


class GenericTurn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    speaker: Speaker
    text: str
    start: float | None = None
    end: float | None = None


class GenericCall(BaseModel):
    # Unknown keys (e.g. a labelled file's `gold`) are ignored here and kept in the raw payload.
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    call_id: str = Field(min_length=1, max_length=200)
    platform: str = "generic"
    direction: Literal["inbound", "outbound"] = "inbound"
    from_: str | None = Field(default=None, alias="from")
    to: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    timezone: str | None = None
    recording_url: str | None = None
    turns: list[GenericTurn]
    analysis: dict[str, Any] = Field(default_factory=dict)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value

    def to_record(self, tenant: str, raw: dict[str, Any]) -> CallRecord:
        return CallRecord(
            tenant=tenant,
            platform=self.platform,
            call_id=self.call_id,
            direction=Direction(self.direction),
            from_number=self.from_,
            to_number=self.to,
            started_at=self.started_at,
            ended_at=self.ended_at,
            turns=tuple(Turn(t.speaker, t.text, t.start, t.end) for t in self.turns),
            timezone=self.timezone,
            recording_url=self.recording_url,
            analysis=dict(self.analysis),
            raw=raw,
        )


def parse_generic_call(
    payload: Any, *, tenant: str = "demo", source: str | None = None, line: int | None = None
) -> CallRecord:
    """Validate one generic call payload; errors name the source, line and the offending field."""
    if not isinstance(payload, dict):
        raise InputError(f"expected a JSON object, got {type(payload).__name__}", source, line)
    try:
        model = GenericCall.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or None
        raise InputError(first["msg"], source, line, field) from exc
    return model.to_record(tenant, payload)
