"""HubSpot's error shapes: the single-object body, a 207 batch item, per-property validation errors."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from callsync_sandbox.hubspot.objects import PORTAL_ID, SINGULAR


class HubSpotError(Exception):
    """An error answered in HubSpot's shape; the correlation id is added when it is rendered."""

    def __init__(
        self,
        status: int,
        category: str,
        message: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        context: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.category = category
        self.message = message
        self.errors = errors
        self.context = context

    def body(self, correlation_id: str) -> dict[str, Any]:
        body: dict[str, Any] = {"status": "error", "message": self.message, "correlationId": correlation_id}
        if self.errors:
            body["errors"] = self.errors
        if self.context:
            body["context"] = self.context
        body["category"] = self.category
        return body

    def batch_item(self, context: dict[str, Any]) -> dict[str, Any]:
        """This error as one entry of a 207 response's `errors` list."""
        item: dict[str, Any] = {
            "status": "error",
            "category": self.category,
            "message": self.message,
            "context": context,
        }
        if self.errors:
            item["errors"] = self.errors
        return item


def validation_error(
    message: str, *, errors: list[dict[str, Any]] | None = None, context: dict[str, Any] | None = None
) -> HubSpotError:
    return HubSpotError(400, "VALIDATION_ERROR", message, errors=errors, context=context)


def not_found() -> HubSpotError:
    return HubSpotError(404, "OBJECT_NOT_FOUND", "resource not found")


def conflict(object_type: str, existing_id: str) -> HubSpotError:
    label = SINGULAR[object_type].capitalize()
    return HubSpotError(409, "CONFLICT", f"{label} already exists. Existing ID: {existing_id}")


def missing_ids_error(object_type: str, ids: list[str]) -> dict[str, Any]:
    message = (
        f"Could not get some {SINGULAR[object_type].upper()} objects, they may be deleted or not exist. "
        "Check that ids are valid."
    )
    return HubSpotError(404, "OBJECT_NOT_FOUND", message).batch_item({"ids": ids})


@dataclass(frozen=True)
class Problem:
    """One invalid property value; HubSpot reports all of a write's problems together."""

    name: str
    code: str
    message: str


class InvalidValue(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def property_values_error(problems: Sequence[Problem]) -> HubSpotError:
    details = [
        {
            "isValid": False,
            "message": problem.message,
            "error": problem.code,
            "name": problem.name,
            "localizedErrorMessage": problem.message,
            "portalId": PORTAL_ID,
        }
        for problem in problems
    ]
    return validation_error(
        "Property values were not valid: " + json.dumps(details, separators=(",", ":")),
        errors=[
            {"message": problem.message, "code": problem.code, "context": {"propertyName": [problem.name]}}
            for problem in problems
        ],
    )
