"""The HTTP routes of the v3 objects, properties and v4 associations APIs."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from callsync_sandbox.hubspot.bodies import list_of_objects, string_list
from callsync_sandbox.hubspot.errors import missing_ids_error, validation_error
from callsync_sandbox.hubspot.objects import now_iso
from callsync_sandbox.hubspot.portal import Portal
from callsync_sandbox.hubspot.properties import resolve_type
from callsync_sandbox.hubspot.records import record_json

router = APIRouter()
_PropertiesParam = Annotated[list[str] | None, Query()]
_IdPropertyParam = Annotated[str | None, Query(alias="idProperty")]


def _portal(request: Request) -> Portal:
    portal: Portal = request.app.state.portal
    return portal


async def _json_object(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = json.loads(raw) if raw else None
    except json.JSONDecodeError as exc:
        raise validation_error(
            f"Invalid input JSON on line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from exc
    except ValueError as exc:  # undecodable bytes
        raise validation_error(f"Invalid input JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise validation_error("Invalid input JSON: the request body must be a JSON object.")
    return body


def _requested(properties: Sequence[str] | None) -> list[str] | None:
    """`properties` may be repeated or comma-separated, as HubSpot accepts both."""
    if properties is None:
        return None
    return [name.strip() for value in properties for name in value.split(",") if name.strip()]


def _batch_inputs(portal: Portal, body: Mapping[str, Any]) -> list[dict[str, Any]]:
    inputs = list_of_objects(body.get("inputs"), "inputs")
    if len(inputs) > portal.batch_limit:
        raise validation_error(
            f"Too many inputs: {len(inputs)}. A batch accepts at most {portal.batch_limit}."
        )
    return inputs


def _batch_response(
    results: list[dict[str, Any]], errors: list[dict[str, Any]], started_at: str, ok_status: int
) -> Response:
    body: dict[str, Any] = {"status": "COMPLETE", "results": results}
    if errors:
        body["numErrors"] = len(errors)
        body["errors"] = errors
    body["startedAt"] = started_at
    body["completedAt"] = now_iso()
    return JSONResponse(body, status_code=207 if errors else ok_status)


@router.get("/crm/v3/objects/{object_type}")
async def _list_objects(
    request: Request,
    object_type: str,
    properties: _PropertiesParam = None,
    limit: Annotated[int, Query()] = 10,
    after: Annotated[str | None, Query()] = None,
    archived: Annotated[bool, Query()] = False,
) -> Response:
    """HubSpot's basic list endpoint: one page of records in id order, `paging.next.after` if more."""
    portal, kind = _portal(request), resolve_type(object_type)
    records, next_after = portal.page(kind, limit=limit, after=after, archived=archived)
    wanted = portal.wanted(kind, _requested(properties))
    body: dict[str, Any] = {"results": [record_json(record, wanted) for record in records]}
    if next_after is not None:
        link = f"{request.url.remove_query_params('after').include_query_params(after=next_after)}"
        body["paging"] = {"next": {"after": next_after, "link": link}}
    return JSONResponse(body)


@router.get("/crm/v3/objects/{object_type}/{record_id}")
async def _read_object(
    request: Request,
    object_type: str,
    record_id: str,
    properties: _PropertiesParam = None,
    id_property: _IdPropertyParam = None,
) -> Response:
    portal, kind = _portal(request), resolve_type(object_type)
    record = portal.read(kind, record_id, id_property)
    return JSONResponse(record_json(record, portal.wanted(kind, _requested(properties))))


@router.post("/crm/v3/objects/{object_type}")
async def _create_object(request: Request, object_type: str) -> Response:
    portal, kind = _portal(request), resolve_type(object_type)
    record = portal.create(kind, await _json_object(request))
    return JSONResponse(record_json(record, portal.wanted(kind, None, record.properties)), status_code=201)


@router.patch("/crm/v3/objects/{object_type}/{record_id}")
async def _update_object(
    request: Request, object_type: str, record_id: str, id_property: _IdPropertyParam = None
) -> Response:
    portal, kind = _portal(request), resolve_type(object_type)
    record = portal.update(kind, record_id, id_property, await _json_object(request))
    return JSONResponse(record_json(record, portal.wanted(kind, None, record.properties)))


@router.delete("/crm/v3/objects/{object_type}/{record_id}")
async def _archive_object(request: Request, object_type: str, record_id: str) -> Response:
    _portal(request).archive(resolve_type(object_type), record_id)
    return Response(status_code=204)


@router.post("/crm/v3/objects/{object_type}/search")
async def _search(request: Request, object_type: str) -> Response:
    return JSONResponse(_portal(request).search(resolve_type(object_type), await _json_object(request)))


@router.post("/crm/v3/objects/{object_type}/batch/read")
async def _batch_read(request: Request, object_type: str) -> Response:
    portal, kind, started = _portal(request), resolve_type(object_type), now_iso()
    body = await _json_object(request)
    id_property = body.get("idProperty")
    if id_property is not None and not isinstance(id_property, str):
        raise validation_error("`idProperty` must be a string")
    found, missing = portal.batch_read(kind, _batch_inputs(portal, body), id_property)
    wanted = portal.wanted(kind, string_list(body.get("properties"), "properties"))
    errors = [missing_ids_error(kind, missing)] if missing else []
    return _batch_response([record_json(record, wanted) for record in found], errors, started, 200)


@router.post("/crm/v3/objects/{object_type}/batch/create")
async def _batch_create(request: Request, object_type: str) -> Response:
    portal, kind, started = _portal(request), resolve_type(object_type), now_iso()
    created, errors = portal.batch_create(kind, _batch_inputs(portal, await _json_object(request)))
    results = []
    for record, trace in created:
        result = record_json(record, portal.wanted(kind, None, record.properties))
        if trace is not None:
            result["objectWriteTraceId"] = trace
        results.append(result)
    return _batch_response(results, errors, started, 201)


@router.post("/crm/v3/objects/{object_type}/batch/update")
async def _batch_update(request: Request, object_type: str) -> Response:
    portal, kind, started = _portal(request), resolve_type(object_type), now_iso()
    updated, missing = portal.batch_update(kind, _batch_inputs(portal, await _json_object(request)))
    results = [record_json(record, portal.wanted(kind, None, record.properties)) for record in updated]
    return _batch_response(results, [missing_ids_error(kind, missing)] if missing else [], started, 200)


@router.post("/crm/v3/objects/{object_type}/batch/upsert")
async def _batch_upsert(request: Request, object_type: str) -> Response:
    portal, kind, started = _portal(request), resolve_type(object_type), now_iso()
    upserted = portal.batch_upsert(kind, _batch_inputs(portal, await _json_object(request)))
    results = [
        {**record_json(record, portal.wanted(kind, None, record.properties)), "new": new}
        for record, new in upserted
    ]
    return _batch_response(results, [], started, 200)


@router.post("/crm/v3/objects/{object_type}/batch/archive")
async def _batch_archive(request: Request, object_type: str) -> Response:
    portal = _portal(request)
    portal.batch_archive(resolve_type(object_type), _batch_inputs(portal, await _json_object(request)))
    return Response(status_code=204)


@router.get("/crm/v3/properties/{object_type}")
async def _list_properties(request: Request, object_type: str) -> Response:
    definitions = _portal(request).property_definitions(resolve_type(object_type))
    return JSONResponse({"results": [definition.to_json() for definition in definitions]})


@router.get("/crm/v3/properties/{object_type}/{name}")
async def _read_property(request: Request, object_type: str, name: str) -> Response:
    return JSONResponse(_portal(request).property_definition(resolve_type(object_type), name).to_json())


@router.post("/crm/v3/properties/{object_type}")
async def _create_property(request: Request, object_type: str) -> Response:
    definition = _portal(request).create_property(resolve_type(object_type), await _json_object(request))
    return JSONResponse(definition.to_json(), status_code=201)


@router.delete("/crm/v3/properties/{object_type}/{name}")
async def _archive_property(request: Request, object_type: str, name: str) -> Response:
    _portal(request).archive_property(resolve_type(object_type), name)
    return Response(status_code=204)


@router.put("/crm/v4/objects/{from_type}/{from_id}/associations/default/{to_type}/{to_id}")
async def _associate_default(
    request: Request, from_type: str, from_id: str, to_type: str, to_id: str
) -> Response:
    started = now_iso()
    links = _portal(request).associate_default(resolve_type(from_type), from_id, resolve_type(to_type), to_id)
    results = [
        {
            "from": {"id": source},
            "to": {"id": target},
            "associationSpec": {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id},
        }
        for source, target, type_id in links
    ]
    return _batch_response(results, [], started, 200)


@router.get("/crm/v4/objects/{from_type}/{from_id}/associations/{to_type}")
async def _list_associations(request: Request, from_type: str, from_id: str, to_type: str) -> Response:
    results = _portal(request).associations(resolve_type(from_type), from_id, resolve_type(to_type))
    return JSONResponse({"results": results})
