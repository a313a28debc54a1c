"""REST routes of the emulated org (`/services/data/vXX.X/...`), as plain functions of a request.

Covered: versions, limits, describe global / describe, sObject rows (create, read, update, delete),
upsert by external id (201 created / 200 updated / 300 several / `updateOnly`), SOQL query, sObject
Collections (create, update, upsert by external id, retrieve, delete; `allOrNone`; 200 records), Composite
(`@{ref.path}` references, `allOrNone`, 25 sub-requests) and Composite Batch (25 sub-requests, each counted).
Request templates: the Salesforce Platform APIs Postman collection (crm-specs/salesforce, CC0).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from callsync_sandbox.jsonapi import ApiReply, ApiRequest, BadJson
from callsync_sandbox.salesforce.org import Org, SfError, not_found
from callsync_sandbox.salesforce.schema import KEY_PREFIXES

MIN_VERSION = 31.0
MAX_VERSION = 62.0
COLLECTION_LIMIT = 200
COMPOSITE_LIMIT = 25
_PREFIX = re.compile(r"^/services/data/v(\d+\.\d)(/.*)?$")
_REFERENCE = re.compile(r"@\{([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_]+|\[\d+\])*)\}")


def versions() -> list[dict[str, str]]:
    out = []
    for major in range(int(MIN_VERSION), int(MAX_VERSION) + 1):
        out.append({"label": f"v{major}", "url": f"/services/data/v{major}.0", "version": f"{major}.0"})
    return out


class Api:
    """Routes one request (already authenticated and admitted) against the org."""

    def __init__(
        self, org: Org, *, count: Callable[[int], None], usage: Callable[[], tuple[int, int]]
    ) -> None:
        self._failing: frozenset[int] = frozenset()
        self.org = org
        self._count = count  # extra API calls a request costs (composite batch: one per sub-request)
        self._usage = usage  # (used, max) of the daily allocation

    def handle(self, request: ApiRequest, *, failing: frozenset[int] = frozenset()) -> ApiReply:
        """`failing`: indexes of a collection's records to fail with UNABLE_TO_LOCK_ROW (a fault plan's
        partial_batch: the others are saved)."""
        self._failing = failing
        try:
            return self._route(request)
        except SfError as exc:
            if exc.status == 300:
                return ApiReply(300, exc.extra.get("urls", []))
            return ApiReply(exc.status, exc.body())
        except BadJson as exc:
            return ApiReply(
                400, [{"message": f"Unexpected character: {exc}", "errorCode": "JSON_PARSER_ERROR"}]
            )

    def _route(self, request: ApiRequest) -> ApiReply:
        path = request.path.rstrip("/") or "/"
        if path == "/services/data":
            return ApiReply(200, versions())
        match = _PREFIX.match(path)
        if match is None:
            raise not_found()
        version = match.group(1)
        if not MIN_VERSION <= float(version) <= MAX_VERSION:
            raise not_found()
        parts = [unquote(p) for p in (match.group(2) or "").split("/") if p]
        method = request.method
        if not parts:
            return ApiReply(
                200,
                {
                    n: f"/services/data/v{version}/{n}"
                    for n in ("sobjects", "query", "limits", "composite", "search")
                },
            )
        head = parts[0]
        if head == "limits" and method == "GET":
            return ApiReply(200, self._limits())
        if head == "query" and method == "GET" and len(parts) == 1:
            q = request.param("q")
            if not q:
                raise SfError(400, "MALFORMED_QUERY", "A query string has to be specified")
            return ApiReply(200, self.org.query(q, version))
        if head == "sobjects":
            return self._sobjects(request, parts[1:], version)
        if head == "composite":
            return self._composite(request, parts[1:], version)
        raise not_found()

    def _limits(self) -> dict[str, Any]:
        used, limit = self._usage()
        return {"DailyApiRequests": {"Max": limit, "Remaining": max(0, limit - used)}}

    # -- sObjects --------------------------------------------------------------------------------------

    def _sobjects(self, request: ApiRequest, parts: list[str], version: str) -> ApiReply:
        org, method = self.org, request.method
        if not parts:
            if method != "GET":
                raise not_found()
            return ApiReply(
                200,
                {
                    "encoding": "UTF-8",
                    "maxBatchSize": 200,
                    "sobjects": [
                        {
                            "name": n,
                            "label": n,
                            "keyPrefix": KEY_PREFIXES[n],
                            "createable": True,
                            "updateable": True,
                            "queryable": True,
                            "urls": {"sobject": f"/services/data/v{version}/sobjects/{n}"},
                        }
                        for n in org.schema
                    ],
                },
            )
        sobject = org.sobject(parts[0])
        allow = _allow_save(request)
        if len(parts) == 1:
            if method == "GET":
                return ApiReply(
                    200, {"objectDescribe": self._describe(sobject, version, full=False), "recentItems": []}
                )
            if method == "POST":
                body = _object(request.json())
                record_id = org.create(sobject, body, allow_duplicates=allow)
                return ApiReply(
                    201,
                    {"id": record_id, "success": True, "errors": []},
                    {"Location": f"/services/data/v{version}/sobjects/{sobject}/{record_id}"},
                )
            raise _method_not_allowed(method)
        if len(parts) == 2 and parts[1] == "describe" and method == "GET":
            return ApiReply(200, self._describe(sobject, version, full=True))
        if len(parts) == 2:
            record_id = parts[1]
            with org.lock:
                if method == "GET":
                    fields = request.param("fields")
                    record = org.get(sobject, record_id)
                    return ApiReply(200, org.output(sobject, record, _csv(fields), version))
                if method == "PATCH":
                    org.update(sobject, record_id, _object(request.json()), allow_duplicates=allow)
                    return ApiReply(204)
                if method == "DELETE":
                    org.delete(sobject, record_id)
                    return ApiReply(204)
            raise _method_not_allowed(method)
        if len(parts) == 3:
            ext_field, value = parts[1], parts[2]
            with org.lock:
                if method == "GET":
                    definition = org.field(sobject, ext_field)
                    hits = org.find(sobject, definition.name, value)
                    if not hits:
                        raise not_found()
                    if len(hits) > 1:
                        return ApiReply(
                            300, [f"/services/data/v{version}/sobjects/{sobject}/{h}" for h in hits]
                        )
                    return ApiReply(
                        200,
                        org.output(
                            sobject, org.get(sobject, hits[0]), _csv(request.param("fields")), version
                        ),
                    )
                if method in ("PATCH", "POST"):
                    update_only = (request.param("updateOnly") or "").lower() == "true"
                    record_id, created = org.upsert(
                        sobject,
                        ext_field,
                        value,
                        _object(request.json()),
                        allow_duplicates=allow,
                        update_only=update_only,
                    )
                    body = {"id": record_id, "success": True, "errors": [], "created": created}
                    return ApiReply(201 if created else 200, body)
            raise _method_not_allowed(method)
        raise not_found()

    def _describe(self, sobject: str, version: str, *, full: bool) -> dict[str, Any]:
        base = {
            "name": sobject,
            "label": sobject,
            "keyPrefix": KEY_PREFIXES[sobject],
            "createable": True,
            "updateable": True,
            "queryable": True,
            "custom": False,
            "urls": {
                "sobject": f"/services/data/v{version}/sobjects/{sobject}",
                "describe": f"/services/data/v{version}/sobjects/{sobject}/describe",
            },
        }
        if full:
            base["fields"] = [f.describe() for f in self.org.schema[sobject].values()]
        return base

    # -- composite -------------------------------------------------------------------------------------

    def _composite(self, request: ApiRequest, parts: list[str], version: str) -> ApiReply:
        method = request.method
        if not parts and method == "POST":
            return self._composite_graph_free(request, version)
        if parts == ["batch"] and method == "POST":
            return self._batch(request, version)
        if parts and parts[0] == "sobjects":
            if float(version) < 42.0:
                raise not_found()
            return self._collections(request, parts[1:], version)
        raise not_found()

    def _collections(self, request: ApiRequest, parts: list[str], version: str) -> ApiReply:
        org, method = self.org, request.method
        allow = _allow_save(request)
        if method == "GET" and len(parts) == 1:
            sobject = org.sobject(parts[0])
            ids = _csv(request.param("ids")) or []
            fields = _csv(request.param("fields"))
            if not fields:
                raise SfError(400, "MALFORMED_QUERY", "fields parameter is required")
            _check_size(ids)
            with org.lock:
                out: list[Any] = []
                for record_id in ids:
                    try:
                        out.append(org.output(sobject, org.get(sobject, record_id), fields, version))
                    except SfError:
                        out.append(None)
            return ApiReply(200, out)
        if method == "DELETE" and not parts:
            ids = _csv(request.param("ids")) or []
            _check_size(ids)
            all_or_none = (request.param("allOrNone") or "").lower() == "true"

            def delete(record_id: str) -> str:
                org.delete(org.type_of(record_id), record_id)
                return record_id

            return ApiReply(200, self._each(ids, delete, all_or_none))
        body = _object(request.json())
        records = body.get("records")
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise SfError(400, "INVALID_FIELD", "records: expected an array of sObjects")
        _check_size(records)
        _check_columns(org, records)
        all_or_none = bool(body.get("allOrNone", False))
        if method == "POST" and not parts:

            def create(record: dict[str, Any]) -> str:
                if "id" in record or "Id" in record:
                    raise SfError(400, "INVALID_FIELD", "cannot specify Id in an insert call", ["Id"])
                return org.create(org.sobject(_type(record)), record, allow_duplicates=allow)

            return ApiReply(200, self._each(records, create, all_or_none))
        if method == "PATCH" and not parts:

            def update(record: dict[str, Any]) -> str:
                record_id = str(record.get("id") or record.get("Id") or "")
                if not record_id:
                    raise SfError(400, "MISSING_ARGUMENT", "Id not specified in an update call", ["Id"])
                rest = {k: v for k, v in record.items() if k not in ("id", "Id")}
                return org.update(org.sobject(_type(record)), record_id, rest, allow_duplicates=allow)

            return ApiReply(200, self._each(records, update, all_or_none))
        if method == "PATCH" and len(parts) == 2:
            if float(version) < 46.0:
                raise not_found()
            sobject = org.sobject(parts[0])
            ext = org.field(sobject, parts[1]).name

            def key(record: dict[str, Any]) -> Any:
                return next((v for k, v in record.items() if k.casefold() == ext.casefold()), None)

            # A key named twice in one request: neither record is saved (an upsert cannot tell which wins).
            seen = Counter(str(key(r)).casefold() for r in records if key(r) not in (None, ""))

            def upsert(record: dict[str, Any]) -> tuple[str, bool]:
                if org.sobject(_type(record)) != sobject:
                    raise SfError(400, "INVALID_TYPE", f"all records must be of type {sobject}")
                value = key(record)
                if value is None or value == "":
                    raise SfError(400, "MISSING_ARGUMENT", f"{ext} not specified", [ext])
                if seen[str(value).casefold()] > 1:
                    raise SfError(400, "DUPLICATE_VALUE", f"Duplicate external id specified: {value}", [ext])
                return org.upsert(sobject, ext, str(value), record, allow_duplicates=allow)

            return ApiReply(200, self._each(records, upsert, all_or_none))
        raise not_found()

    def _each(self, items: list[Any], work: Callable[[Any], Any], all_or_none: bool) -> list[dict[str, Any]]:
        """Per-record results in input order; with allOrNone, one failure rolls every record back."""
        org = self.org
        with org.lock:
            saved = org.snapshot() if all_or_none else None
            results: list[dict[str, Any]] = []
            failed = False
            for index, item in enumerate(items):
                if index in self._failing:
                    failed = True
                    results.append({"success": False, "errors": [_LOCKED]})
                    continue
                try:
                    done = work(item)
                except SfError as exc:
                    failed = True
                    results.append({"success": False, "errors": [exc.item()]})
                    continue
                if isinstance(done, tuple):
                    results.append({"id": done[0], "success": True, "errors": [], "created": done[1]})
                else:
                    results.append({"id": done, "success": True, "errors": []})
            if failed and saved is not None:
                org.restore(saved)
                rolled = {
                    "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                    "message": "Record rolled back because not all records were valid and the request was "
                    "using AllOrNone header",
                    "fields": [],
                }
                results = [
                    r if not r["success"] else {"id": None, "success": False, "errors": [rolled]}
                    for r in results
                ]
            return results

    def _composite_graph_free(self, request: ApiRequest, version: str) -> ApiReply:
        body = _object(request.json())
        subrequests = body.get("compositeRequest")
        if not isinstance(subrequests, list) or not subrequests:
            raise SfError(400, "INVALID_FIELD", "compositeRequest: expected a non-empty array")
        if len(subrequests) > COMPOSITE_LIMIT:
            raise SfError(
                400,
                "LIMIT_EXCEEDED",
                f"Composite request cannot have more than {COMPOSITE_LIMIT} subrequests",
            )
        all_or_none = bool(body.get("allOrNone", False))
        org = self.org
        with org.lock:
            saved = org.snapshot() if all_or_none else None
            bodies: dict[str, Any] = {}
            out: list[dict[str, Any]] = []
            failed = False
            for sub in subrequests:
                reference = str(sub.get("referenceId", ""))
                if failed and all_or_none:
                    out.append(_halted(reference))
                    continue
                try:
                    url = _substitute(str(sub.get("url", "")), bodies)
                    sub_body = _substitute_json(sub.get("body"), bodies)
                except KeyError as exc:
                    out.append(
                        {
                            "body": [
                                {
                                    "errorCode": "PROCESSING_HALTED",
                                    "message": f"Invalid reference specified. No value for {exc.args[0]} found",
                                }
                            ],
                            "httpHeaders": {},
                            "httpStatusCode": 400,
                            "referenceId": reference,
                        }
                    )
                    failed = True
                    continue
                reply = self.handle(_sub_request(str(sub.get("method", "GET")), url, sub_body, request))
                bodies[reference] = reply.body
                if reply.status >= 400:
                    failed = True
                out.append(
                    {
                        "body": reply.body,
                        "httpHeaders": reply.headers,
                        "httpStatusCode": reply.status,
                        "referenceId": reference,
                    }
                )
            if failed and saved is not None:
                org.restore(saved)
                out = [o if o["httpStatusCode"] >= 400 else _halted(o["referenceId"]) for o in out]
        return ApiReply(200, {"compositeResponse": out})

    def _batch(self, request: ApiRequest, version: str) -> ApiReply:
        body = _object(request.json())
        subrequests = body.get("batchRequests")
        if not isinstance(subrequests, list) or not subrequests:
            raise SfError(400, "INVALID_FIELD", "batchRequests: expected a non-empty array")
        if len(subrequests) > COMPOSITE_LIMIT:
            raise SfError(
                400, "LIMIT_EXCEEDED", f"A batch cannot have more than {COMPOSITE_LIMIT} subrequests"
            )
        halt = bool(body.get("haltOnError", False))
        results: list[dict[str, Any]] = []
        errors = False
        self._count(len(subrequests) - 1)  # the batch itself was counted once; each sub-request counts
        for sub in subrequests:
            if errors and halt:
                results.append(
                    {
                        "statusCode": 412,
                        "result": [
                            {
                                "errorCode": "BATCH_PROCESSING_HALTED",
                                "message": "Batch processing halted per request",
                            }
                        ],
                    }
                )
                continue
            url = (
                "/services/data/v"
                + version
                + "/"
                + str(sub.get("url", "")).split(f"v{version}/", 1)[-1].lstrip("/")
            )
            reply = self.handle(
                _sub_request(str(sub.get("method", "GET")), url, sub.get("richInput"), request)
            )
            errors = errors or reply.status >= 400
            results.append({"statusCode": reply.status, "result": reply.body})
        return ApiReply(200, {"hasErrors": errors, "results": results})


_LOCKED = {
    "statusCode": "UNABLE_TO_LOCK_ROW",
    "message": "unable to obtain exclusive access to this record or 1 records",
    "fields": [],
}


def _halted(reference: str) -> dict[str, Any]:
    return {
        "body": [
            {
                "errorCode": "PROCESSING_HALTED",
                "message": "The transaction was rolled back since another operation in the same transaction failed.",
            }
        ],
        "httpHeaders": {},
        "httpStatusCode": 400,
        "referenceId": reference,
    }


def _sub_request(method: str, url: str, body: Any, parent: ApiRequest) -> ApiRequest:
    split = urlsplit(url)
    return ApiRequest(
        method.upper(),
        split.path,
        parse_qs(split.query, keep_blank_values=True),
        parent.headers,
        b"" if body is None else json.dumps(body).encode(),
    )


def _resolve(reference: str, path: str, bodies: dict[str, Any]) -> Any:
    if reference not in bodies:
        raise KeyError(f"{reference}{path}")
    value = bodies[reference]
    for step in re.findall(r"\.([A-Za-z0-9_]+)|\[(\d+)\]", path):
        name, index = step
        try:
            value = value[int(index)] if index else value[name]
        except (KeyError, IndexError, TypeError):
            raise KeyError(f"{reference}{path}") from None
    return value


def _substitute(text: str, bodies: dict[str, Any]) -> str:
    return _REFERENCE.sub(lambda m: str(_resolve(m.group(1), m.group(2), bodies)), text)


def _substitute_json(value: Any, bodies: dict[str, Any]) -> Any:
    if isinstance(value, str):
        whole = _REFERENCE.fullmatch(value)
        return _resolve(whole.group(1), whole.group(2), bodies) if whole else _substitute(value, bodies)
    if isinstance(value, list):
        return [_substitute_json(v, bodies) for v in value]
    if isinstance(value, dict):
        return {k: _substitute_json(v, bodies) for k, v in value.items()}
    return value


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise SfError(400, "JSON_PARSER_ERROR", "The request body must be a JSON object")
    return body


def _type(record: dict[str, Any]) -> str:
    attributes = record.get("attributes")
    if not isinstance(attributes, dict) or not attributes.get("type"):
        raise SfError(400, "INVALID_TYPE", "Must send a concrete entity type.")
    return str(attributes["type"])


def _csv(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [v.strip() for v in value.split(",") if v.strip()]


def _check_columns(org: Org, records: list[dict[str, Any]]) -> None:
    """The request body is read into sObjects before any record is saved: a field the object does not
    have refuses the whole request (400 INVALID_FIELD), not just its record."""
    for record in records:
        try:
            sobject = org.sobject(_type(record))
        except SfError:
            continue  # a record without a usable type fails on its own
        for name in record:
            if name not in ("attributes", "id", "Id"):
                org.field(sobject, name)


def _check_size(items: list[Any]) -> None:
    if len(items) > COLLECTION_LIMIT:
        raise SfError(
            400,
            "EXCEEDED_ID_LIMIT",
            f"record limit reached. cannot submit more than {COLLECTION_LIMIT} records into this call",
        )


def _allow_save(request: ApiRequest) -> bool:
    header = request.header("Sforce-Duplicate-Rule-Header") or ""
    settings = dict(
        (k.strip().lower(), v.strip().lower())
        for k, _, v in (p.partition("=") for p in header.split(";"))
        if k
    )
    return settings.get("allowsave") == "true"


def _method_not_allowed(method: str) -> SfError:
    return SfError(
        405, "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed. Allowed are GET,PATCH,DELETE"
    )
