from __future__ import annotations

import phonenumbers
from hypothesis import given
from hypothesis import strategies as st

from callsync.reconcile.identity import (
    IdentityKeys,
    MatchKind,
    normalize_email,
    normalize_phone,
    resolve_identity,
)


def test_email_normalization_is_case_and_space_only() -> None:
    assert normalize_email("  Jane.Doe+tag@GMAIL.com ") == "jane.doe+tag@gmail.com"
    assert normalize_email("not-an-email") is None
    assert normalize_email("a@b@c") is None


def test_phone_normalizes_to_e164_with_default_region() -> None:
    assert normalize_phone("(415) 555-0123") == "+14155550123"
    assert normalize_phone("+44 20 7946 0958") == "+442079460958"
    assert normalize_phone("020 7946 0958", "GB") == "+442079460958"
    assert normalize_phone("12345") is None


@given(st.integers(min_value=2012000000, max_value=9899999999))
def test_phone_normalization_is_idempotent(n: int) -> None:
    first = normalize_phone(str(n))
    if first is not None:
        assert normalize_phone(first) == first
        assert phonenumbers.is_valid_number(phonenumbers.parse(first))


def test_name_alone_never_matches() -> None:
    assert resolve_identity(IdentityKeys(), [], []).kind is MatchKind.NO_KEYS


def test_single_record_found_by_either_key_matches() -> None:
    m = resolve_identity(IdentityKeys("a@x.com", "+14155550123"), ["7"], ["7"])
    assert (m.kind, m.record_id, m.matched_on) == (MatchKind.MATCHED, "7", ("email", "phone"))
    assert resolve_identity(IdentityKeys("a@x.com", "+14155550123"), [], ["9"]).record_id == "9"


def test_email_and_phone_pointing_to_different_records_is_a_conflict() -> None:
    m = resolve_identity(IdentityKeys("a@x.com", "+14155550123"), ["7"], ["9"])
    assert m.kind is MatchKind.CONFLICT
    assert m.record_id is None
    assert m.candidates == ("7", "9")


def test_record_stamped_with_this_call_wins_over_everything() -> None:
    m = resolve_identity(IdentityKeys("a@x.com"), ["7"], ["9"], by_origin=["12"])
    assert (m.kind, m.record_id) == (MatchKind.MATCHED, "12")


def test_nothing_found_means_new() -> None:
    assert resolve_identity(IdentityKeys("a@x.com"), [], []).kind is MatchKind.NEW


def test_possible_duplicates_catch_spelling_variants_not_different_people() -> None:
    from callsync.reconcile.identity import possible_duplicates

    candidates = [
        ("1", "Dana Whitfield"),
        ("2", "Whitfield Dana"),
        ("3", "Dan Whitman"),
        ("4", "Priya Raman"),
    ]
    assert [rid for rid, _ in possible_duplicates("dana whitfeld", candidates)] == ["1", "2"]
    assert possible_duplicates("", candidates) == []
