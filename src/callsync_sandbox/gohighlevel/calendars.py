"""GoHighLevel calendars: a location's calendars and the appointments booked in them (LeadConnector API v2).

`POST /calendars/events/appointments` books one (`calendarId`, `locationId`, `contactId`, `startTime`
required; `endTime`, `title`, `appointmentStatus`, `assignedUserId`, `address`, `description`, ...);
`GET /calendars/events/appointments/{eventId}` answers `{"event": ...}`, `PUT` the same path updates it;
`GET /contacts/{contactId}/appointments` answers `{"events": [...]}` (GetEventsSuccessfulResponseDto in
crm-specs/gohighlevel/apps/contacts.json: the appointment's text is read back as `notes`). `GET /calendars/`
lists the location's calendars. The calendars app's own spec is not in crm-specs: the create body follows
HighLevel's public docs [U]. Each location has one calendar, id `<location id>-calendar`, so a mapping
written for the emulator can name it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from callsync_sandbox.gohighlevel.location import GhlError, Location, new_id, now_iso, output, refuse_unknown

APPOINTMENT = frozenset(
    {"calendarId", "locationId", "contactId", "startTime", "endTime", "title", "appointmentStatus",
     "assignedUserId", "address", "description", "meetingLocationType", "ignoreDateRange", "toNotify",
     "ignoreFreeSlotValidation"}
)  # fmt: skip
STATUSES = ("new", "confirmed", "cancelled", "showed", "noshow", "invalid")


def calendar_id(place: Location) -> str:
    return f"{place.id}-calendar"


def calendars(place: Location) -> list[dict[str, Any]]:
    return [{"id": calendar_id(place), "locationId": place.id, "name": "Consultations", "isActive": True}]


def _moment(value: Any, name: str) -> datetime:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise GhlError(422, [f"{name} must be a valid ISO 8601 date string"]) from None


def book(place: Location, body: Mapping[str, Any]) -> dict[str, Any]:
    refuse_unknown(body, APPOINTMENT)
    missing = [
        f"{k} should not be empty" for k in ("calendarId", "contactId", "startTime") if not body.get(k)
    ]
    if missing:
        raise GhlError(422, missing)
    if body["calendarId"] != calendar_id(place):
        raise GhlError(400, "Calendar not found")
    if body["contactId"] not in place.contacts:
        raise GhlError(400, "Contact not found")
    start = _moment(body["startTime"], "startTime")
    if body.get("endTime") and _moment(body["endTime"], "endTime") <= start:
        raise GhlError(422, ["endTime must be after startTime"])
    status = body.get("appointmentStatus", "confirmed")
    if status not in STATUSES:
        raise GhlError(422, [f"appointmentStatus must be one of the following values: {', '.join(STATUSES)}"])
    stamp = now_iso()
    row: dict[str, Any] = {
        "id": new_id(), "locationId": place.id, "calendarId": body["calendarId"], "contactId": body["contactId"],
        "startTime": body["startTime"], "endTime": body.get("endTime") or body["startTime"],
        "title": body.get("title", ""), "appointmentStatus": status, "status": status,
        "assignedUserId": body.get("assignedUserId"), "address": body.get("address", ""),
        "notes": body.get("description", ""), "dateAdded": stamp, "dateUpdated": stamp,
    }  # fmt: skip
    place.appointments[row["id"]] = row
    return row


def route(place: Location, method: str, rest: list[str], body: Any) -> tuple[int, dict[str, Any]]:
    """`/calendars/...` below the location check: (status, answer)."""
    if rest == [] and method == "GET":
        return 200, {"calendars": calendars(place)}
    if rest == ["events", "appointments"] and method == "POST":
        return 201, output(book(place, body if isinstance(body, dict) else {}))
    if len(rest) == 3 and rest[:2] == ["events", "appointments"] and method in ("GET", "PUT"):
        row = place.appointments.get(rest[2])
        if row is None:
            raise GhlError(400, "Appointment not found")
        if method == "PUT":
            data = body if isinstance(body, dict) else {}
            refuse_unknown(data, APPOINTMENT)
            for key, value in data.items():
                row["notes" if key == "description" else key] = value
            row["dateUpdated"] = now_iso()
        return 200, {"event": output(row)}
    raise GhlError(404, f"Cannot {method} /calendars/{'/'.join(rest)}", error="Not Found")


def of_contact(place: Location, contact_id: str) -> dict[str, Any]:
    return {"events": [output(r) for r in place.appointments.values() if r["contactId"] == contact_id]}
