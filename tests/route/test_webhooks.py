"""The ingest endpoints' contract: answers, bad input, routing, quarantine, later events of one call."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from callsync.store.tables import CallRow
from tests.route.conftest import ACME_SECRET, GLOBEX_SECRET, Ingest
from tests.route.payloads import (
    CALLER,
    generic,
    retell,
    signed,
    twilio_recording,
    twilio_status,
    twilio_transcript,
    vapi,
)

# -- the generic contract --------------------------------------------------------------------------------


def test_generic_answers_202_queued_then_duplicate_with_the_call_id(ingest: Ingest) -> None:
    first = ingest.post("generic", generic("c-1"))
    again = ingest.post("generic", generic("c-1"))
    assert (first.status_code, first.json()) == (202, {"call_id": "c-1", "status": "queued"})
    assert (again.status_code, again.json()) == (202, {"call_id": "c-1", "status": "duplicate"})
    assert ingest.count() == 1
    assert ingest.workflows() == ["sync:acme:c-1"]


def test_the_call_row_and_its_workflow_exist_when_the_202_is_sent(ingest: Ingest) -> None:
    r = ingest.post("generic", generic("c-2"))
    assert r.status_code == 202
    (row,) = ingest.calls()
    assert (row.call_id, row.sync_state, row.workflow_id) == ("c-2", "queued", "sync:acme:c-2")
    assert ingest.workflows() == ["sync:acme:c-2"]


# -- bad input: clear 4xx, nothing stored ----------------------------------------------------------------


def test_malformed_json_is_400(ingest: Ingest) -> None:
    r = ingest.post("generic", b'{"call_id": "c-1", ')
    assert r.status_code == 400 and r.json()["error"] == "malformed_body"
    assert ingest.count() == 0 and ingest.quarantined() == []


def test_a_json_value_that_is_not_an_object_is_400(ingest: Ingest) -> None:
    assert ingest.post("vapi", b"[1, 2]").status_code == 400


def test_a_body_that_is_not_utf8_is_400(ingest: Ingest) -> None:
    assert ingest.post("generic", b'{"call_id": "\xff"}').status_code == 400


def test_wrong_content_type_is_415(ingest: Ingest) -> None:
    body = json.dumps(generic()).encode()
    r = ingest.post("generic", body, content_type="text/plain")
    assert r.status_code == 415 and r.json()["error"] == "unsupported_media_type"
    assert ingest.count() == 0


def test_an_oversized_body_is_413_before_any_work(ingest: Ingest) -> None:
    big = json.dumps(generic(transcript="x" * (3 * 1024 * 1024))).encode()
    r = ingest.post("generic", big)
    assert r.status_code == 413 and r.json()["error"] == "body_too_large"
    assert ingest.count() == 0


def test_an_unknown_event_type_is_422(ingest: Ingest) -> None:
    r = ingest.post("vapi", {"message": {"type": "something-new"}})
    assert r.status_code == 422 and r.json() == {
        "error": "unknown_event",
        "detail": "unknown Vapi message type 'something-new'",
    }
    assert ingest.post("retell", {"event": "call_exploded", "call": {}}).status_code == 422
    assert ingest.post("elevenlabs", {"type": "nope", "data": {}}).status_code == 422
    assert ingest.count() == 0


def test_known_events_that_are_not_finished_calls_are_acknowledged_and_not_stored(ingest: Ingest) -> None:
    r = ingest.post("vapi", {"message": {"type": "status-update", "status": "ringing"}})
    assert r.status_code == 200 and r.json()["status"] == "ignored"
    assert (
        ingest.post("retell", {"event": "call_started", "call": {"call_id": "x"}}).json()["status"]
        == "ignored"
    )
    assert ingest.post("twilio", twilio_status(status="ringing")).json()["status"] == "ignored"
    assert ingest.count() == 0 and ingest.quarantined() == []


def test_unknown_paths_and_methods_answer_json_errors(ingest: Ingest) -> None:
    assert ingest.client.post("/v1/webhooks/nope").json()["error"] == "not_found"
    assert ingest.client.get("/v1/webhooks/generic").status_code == 405


# -- validation after receipt: 202 + quarantine ----------------------------------------------------------


def test_a_signed_payload_that_fails_validation_is_quarantined_whole(ingest: Ingest) -> None:
    bad = generic("c-9", turns=[{"speaker": "robot", "text": "beep"}])
    r = ingest.post("generic", bad)
    assert r.status_code == 202
    body = r.json()
    assert body["status"] == "quarantined" and body["quarantine_id"] >= 1
    assert "turns.0.speaker" in body["reason"]
    (q,) = ingest.quarantined()
    assert q.payload == json.dumps(bad) and q.platform == "generic" and q.tenant == "acme"
    assert ingest.count() == 0


def test_a_platform_payload_without_a_call_id_is_quarantined(ingest: Ingest) -> None:
    payload = vapi()
    del payload["message"]["call"]["id"]
    r = ingest.post("vapi", payload)
    assert r.json()["status"] == "quarantined"
    assert "message.call.id" in r.json()["reason"]


# -- routing ---------------------------------------------------------------------------------------------


def test_calls_route_by_the_business_number(ingest: Ingest) -> None:
    ingest.post("generic", generic("a-1"))  # to acme's number
    ingest.post("generic", generic("g-1", to="+1 (617) 555-0100"), secret=GLOBEX_SECRET)  # formatted
    assert sorted((c.tenant, c.call_id) for c in ingest.calls()) == [("acme", "a-1"), ("globex", "g-1")]


def test_outbound_calls_route_by_the_number_they_came_from(ingest: Ingest) -> None:
    r = ingest.post("generic", generic("o-1", direction="outbound", **{"from": "+16175550100", "to": CALLER}),
                    secret=GLOBEX_SECRET)  # fmt: skip
    assert r.json()["status"] == "queued"
    assert [c.tenant for c in ingest.calls()] == ["globex"]


def test_calls_route_by_assistant_id(ingest: Ingest) -> None:
    payload = vapi("v-g", assistant="asst_globex")
    payload["message"]["phoneNumber"] = {"number": "+19995550100"}
    assert ingest.post("vapi", payload, secret=GLOBEX_SECRET).json()["status"] == "queued"
    assert [c.tenant for c in ingest.calls()] == ["globex"]


def test_an_unroutable_call_is_quarantined_with_the_reason_never_dropped(ingest: Ingest) -> None:
    r = ingest.post("generic", generic("u-1", to="+13125550100"))
    assert r.status_code == 202 and r.json()["status"] == "quarantined"
    assert r.json()["reason"] == "unroutable: no tenant has number +13125550100"
    (q,) = ingest.quarantined()
    assert q.tenant is None and json.loads(q.payload)["call_id"] == "u-1"
    assert ingest.count() == 0


def test_a_call_for_another_tenant_is_never_given_to_it_or_to_the_signer(ingest: Ingest) -> None:
    # Signed with acme's secret, but names globex's number: whose call is it? Nobody decides silently.
    r = ingest.post("generic", generic("x-1", to="+16175550100"), secret=ACME_SECRET)
    assert r.json()["status"] == "quarantined"
    assert "belongs to tenant 'globex'" in r.json()["reason"] and "'acme'" in r.json()["reason"]
    assert ingest.count() == 0


def test_assistant_and_number_pointing_at_different_tenants_is_quarantined(ingest: Ingest) -> None:
    payload = vapi("v-x", assistant="asst_globex")  # globex's assistant, acme's number
    r = ingest.post("vapi", payload, secret=GLOBEX_SECRET)
    assert r.json()["status"] == "quarantined"
    assert "belongs to globex but number +14155550100 to acme" in r.json()["reason"]


# -- later events of one call ----------------------------------------------------------------------------


def test_retell_call_analyzed_after_call_ended_updates_the_call_and_replans_once(ingest: Ingest) -> None:
    statuses = [ingest.post("retell", retell("r-1", event)).json()["status"]
                for event in ("call_ended", "call_analyzed", "call_analyzed", "call_ended")]  # fmt: skip
    assert statuses == ["queued", "updated", "duplicate", "duplicate"]
    (row,) = ingest.calls()
    assert (row.revision, row.workflow_id, row.sync_state) == (1, "sync:acme:r-1:1", "queued")
    assert json.loads(row.raw_payload)["event"] == "call_ended"  # the first delivery, never rewritten
    (event,) = ingest.events()
    assert (event.event_key, event.revision) == ("call_analyzed", 1)
    assert ingest.workflows() == ["sync:acme:r-1", "sync:acme:r-1:1"]


def test_the_engine_reads_the_richest_event_of_a_call(ingest: Ingest) -> None:
    from callsync.pipeline.engine import load_call

    ingest.post("retell", retell("r-2", "call_analyzed"))
    ingest.post("retell", retell("r-2", "call_ended"))  # late and poorer: stored, but analysis wins
    call = load_call(ingest.db, "acme", "r-2")
    assert call.platform == "retell" and call.analysis["summary"] == "Dana wants a demo."
    assert call.analysis["structured_data"] == {"company": "Northwind", "budget": "10-20k"}


def test_twilio_callbacks_assemble_one_call(ingest: Ingest) -> None:
    from callsync.pipeline.engine import load_call

    assert ingest.post("twilio", twilio_status()).json() == {"call_id": "CA7d3b42", "status": "queued"}
    assert ingest.post("twilio", twilio_recording()).json()["status"] == "updated"
    # The Intelligence transcript carries no number: it reaches the tenant that holds the call.
    assert ingest.post("twilio", twilio_transcript()).json()["status"] == "updated"
    assert ingest.post("twilio", twilio_transcript()).json()["status"] == "duplicate"
    call = load_call(ingest.db, "acme", "CA7d3b42")
    assert (call.from_number, call.to_number) == (CALLER, "+14155550100")
    assert call.recording_url and call.recording_url.endswith("RE55a")
    assert [t.speaker.value for t in call.turns] == ["agent", "caller"]
    with ingest.db.session() as session:
        revision = session.scalar(select(CallRow.revision).where(CallRow.call_id == "CA7d3b42"))
    assert revision == 2 and ingest.count() == 1


def test_a_generic_row_stored_by_ingest_is_still_read_as_generic(ingest: Ingest) -> None:
    from callsync.capture.platforms.generic import parse_generic_call
    from callsync.pipeline.engine import load_call
    from callsync.pipeline.intake import receive_call

    payload = generic("cli-1", platform="vapi")  # a generic file may name the original platform
    receive_call(ingest.db, parse_generic_call(payload, tenant="acme"), json.dumps(payload), "file:1")
    call = load_call(ingest.db, "acme", "cli-1")
    assert call.platform == "vapi" and len(call.turns) == 2
    # The same call arriving by the generic webhook is a duplicate, not a later event.
    assert ingest.post("generic", payload).json()["status"] == "duplicate"


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "Application/JSON"])
def test_content_type_parameters_and_case_are_accepted(ingest: Ingest, content_type: str) -> None:
    body = json.dumps(generic("ct")).encode()
    headers = signed("generic", body, ACME_SECRET) | {"content-type": content_type}
    assert ingest.client.post("/v1/webhooks/generic", content=body, headers=headers).status_code == 202


def test_health(ingest: Ingest) -> None:
    assert ingest.client.get("/healthz").json()["status"] == "ok"


def test_openapi_describes_every_platform_endpoint(ingest: Ingest) -> None:
    spec = ingest.client.get("/openapi.json").json()
    paths = {p for p in spec["paths"] if p.startswith("/v1/webhooks/")}
    assert paths == {
        f"/v1/webhooks/{p}" for p in ("generic", "vapi", "retell", "twilio", "bland", "elevenlabs")
    }
    generic_op = spec["paths"]["/v1/webhooks/generic"]["post"]
    assert {p["name"] for p in generic_op["parameters"]} == {"X-Callsync-Timestamp", "X-Callsync-Signature"}
    assert set(generic_op["responses"]) >= {"202", "400", "401", "413", "415", "422"}


def test_calls_table_keeps_the_format_of_each_row(ingest: Ingest) -> None:
    ingest.post("vapi", vapi("v-1"))
    with ingest.db.session() as s:
        row = s.query(CallRow).one()
    assert (row.platform, row.payload_format, row.event_key) == ("vapi", "vapi", "end-of-call-report")
