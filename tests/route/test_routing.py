"""Routing (pure): which tenant an event goes to, and when the database is asked who holds its call."""

from __future__ import annotations

from callsync.capture.platforms import EventInfo
from tests.route.conftest import acme, globex
from tests.route.payloads import BUSINESS

TENANTS = {"acme": acme(), "globex": globex()}


def _no_lookup() -> list[str]:
    raise AssertionError("the holders of the call were looked up for an event that carries a routing key")


def test_an_event_routed_by_its_number_does_not_look_up_who_holds_the_call() -> None:
    from callsync.route.routing import route

    info = EventInfo(event_key="call", call_id="c-1", number=BUSINESS)
    assert route("generic", info, TENANTS, ["acme"], _no_lookup).tenant == TENANTS["acme"]


def test_an_event_routed_by_its_assistant_does_not_look_up_who_holds_the_call() -> None:
    from callsync.route.routing import route

    info = EventInfo(event_key="call_ended", call_id="c-1", assistant_id="agent_globex")
    assert route("retell", info, TENANTS, ["globex"], _no_lookup).tenant == TENANTS["globex"]


def test_an_event_naming_another_tenants_number_is_refused_without_a_lookup() -> None:
    from callsync.route.routing import route

    info = EventInfo(event_key="call", call_id="c-1", number=BUSINESS)
    routed = route("generic", info, TENANTS, ["globex"], _no_lookup)
    assert routed.tenant is None and routed.reason and "belongs to tenant 'acme'" in routed.reason


def test_an_event_without_routing_keys_goes_to_the_one_candidate_holding_its_call() -> None:
    from callsync.route.routing import route

    asked: list[str] = []

    def holders() -> list[str]:
        asked.append("holders")
        return ["globex"]

    info = EventInfo(event_key="transcript:GT1", call_id="CA1")
    assert route("twilio", info, TENANTS, ["acme", "globex"], holders).tenant == TENANTS["globex"]
    assert asked == ["holders"]


def test_an_event_without_routing_keys_held_by_no_candidate_is_unroutable() -> None:
    from callsync.route.routing import route

    info = EventInfo(event_key="transcript:GT1", call_id="CA1")
    routed = route("twilio", info, TENANTS, ["acme", "globex"], lambda: [])
    assert routed.tenant is None and routed.reason and routed.reason.startswith("unroutable")
