"""The per-field decision loop as one pure call: policies, protection, lost updates, what is still to send."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from callsync.delivery import FieldWrite, ObjectPlanData, PlannedField
from callsync.reconcile.fields import (
    LastWrite,
    decide_fields,
    display_name,
    new_record_writes,
    still_to_write,
)

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def planned(value: object, policy: str = "call_wins", confidence: float = 0.9) -> PlannedField:
    return PlannedField(canonical="company", value=value, confidence=confidence, policy=policy)


def test_a_human_verified_value_goes_to_review_not_to_the_crm() -> None:
    history = {"company": LastWrite("Acme", NOW, 0.9, human_verified=True)}
    out = decide_fields({"company": planned("Initech")}, {"company": "Acme Corp"}, history, NOW)
    assert out.writes == {}
    assert [r.field for r in out.reviews] == ["company"]


def test_call_wins_writes_over_a_value_callsync_wrote_itself() -> None:
    history = {"company": LastWrite("Acme", NOW, 0.9, human_verified=False)}
    out = decide_fields({"company": planned("Initech")}, {"company": "Acme"}, history, NOW)
    assert out.writes["company"].old == "Acme"
    assert out.writes["company"].new == "Initech"


def test_a_lost_update_counts_its_own_intents_as_written() -> None:
    intent = FieldWrite(old=None, new="Initech", decision="filled", policy="fill_if_empty")
    # The record already holds the value this call sent before its answer was lost: fill_if_empty now
    # sees a filled field, and only the recorded intent says the value is this call's.
    crm = {"company": "Initech"}
    plain = decide_fields({"company": planned("Initech", "fill_if_empty")}, crm, {}, NOW)
    assert "company" not in plain.writes
    lost = decide_fields(
        {"company": planned("Initech", "fill_if_empty")},
        crm,
        {},
        NOW,
        own_intents={"company": intent},
        lost_update=True,
    )
    assert lost.writes["company"] == intent


def test_new_records_get_every_planned_value_and_the_defaults_of_required_fields() -> None:
    plan = ObjectPlanData(
        object="contact",
        crm_object="contacts",
        fields={"company": planned("Initech")},
        defaults={"lastname": "(unknown)"},
    )
    writes = new_record_writes(plan)
    assert writes["company"].new == "Initech" and writes["lastname"].policy == "default"


@given(st.dictionaries(st.sampled_from(["a", "b", "c"]), st.one_of(st.none(), st.text(max_size=3))))
def test_an_own_record_only_gets_values_that_did_not_land(crm_fields: dict[str, str | None]) -> None:
    writes = {f: FieldWrite(new="v", decision="new record", policy="call_wins") for f in ("a", "b", "c")}
    sent = still_to_write(writes, crm_fields, own=True)
    for f in sent:
        assert not (crm_fields.get(f) or "").strip()  # never overwrites what someone put there since
    for f in ("a", "b", "c"):
        if not (crm_fields.get(f) or "").strip():
            assert f in sent


def test_display_name_reads_the_fields_the_mapping_names() -> None:
    assert (
        display_name({"FirstName": "Dana", "LastName": "Whitfield", "x": 1}, ("FirstName", "LastName"))
        == "Dana Whitfield"
    )
    assert display_name({"name": "Acme"}, ("name",)) == "Acme"
