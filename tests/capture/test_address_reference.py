"""Street address and ZIP, and account / order / claim numbers: read from the caller's words, never the agent's."""

from __future__ import annotations

from hypothesis import assume, given
from hypothesis import strategies as st

from callsync.capture.extract.address import extract_address, find_street_addresses, render_house_number
from callsync.capture.extract.reference import extract_reference, ids_in, render_spoken_id
from callsync.models import FieldStatus
from tests.capture import make_call, said

A = FieldStatus.ACCEPTED
R = FieldStatus.NEEDS_REVIEW


def streets(text: str) -> list[str]:
    return [a.value for a in find_street_addresses(text)]


# -- address ------------------------------------------------------------------------------------------


def test_house_numbers_said_in_pairs_and_ordinal_streets() -> None:
    assert streets("its forty one eighteen north ashland avenue apartment two b") == [
        "4118 North Ashland Avenue Apt 2B"
    ]
    assert streets("fifty two fifty west thirty second avenue denver") == ["5250 West 32nd Avenue"]
    assert streets("eighty eight oh one east mcdowell road") == ["8801 East McDowell Road"]
    assert streets("fifteen hundred pearl street") == ["1500 Pearl Street"]


def test_a_unit_said_before_the_address_belongs_to_it() -> None:
    assert streets("angela wu unit four c at two ten riverside drive") == ["210 Riverside Drive Unit 4C"]


def test_numbers_that_are_not_followed_by_a_street_are_not_an_address() -> None:
    assert streets("i saw the listing on maple street") == []
    assert streets("six one seven five five five oh one four eight") == []


@given(
    number=st.integers(1, 99999),
    street=st.sampled_from(["maple street", "east palm lane", "ocean view drive"]),
)
def test_house_number_rendered_spoken_reads_back(number: int, street: str) -> None:
    (address,) = find_street_addresses(f"{render_house_number(number)} {street}")
    assert address.value.split()[0] == str(number)


def test_address_given_when_asked_is_accepted_with_its_zip() -> None:
    call = make_call(
        ("agent", "What's the address?"),
        ("caller", "thirty six twelve south rural road tempe eight five two eight two"),
    )
    fields = extract_address(call)
    assert (fields["address"].value, fields["address"].status) == ("3612 South Rural Road", A)
    assert (fields["zip"].value, fields["zip"].status) == ("85282", A)
    assert said(call, fields["zip"].evidence) == [(1, "eight five two eight two")]


def test_zip_code_answered_on_its_own() -> None:
    call = make_call(("agent", "And the zip code?"), ("caller", "six oh six one three"))
    assert extract_address(call)["zip"].value == "60613"


def test_someone_elses_address_is_not_the_callers() -> None:
    call = make_call(
        ("agent", "What's the delivery address?"),
        ("caller", "its my moms place one twelve willow lane montclair oh seven oh four two"),
    )
    assert extract_address(call) == {}


def test_the_agents_listing_address_is_not_caller_data() -> None:
    call = make_call(("agent", "That's the colonial at 42 Maple Street."), ("caller", "yes that one"))
    assert extract_address(call) == {}


def test_correction_of_the_agents_address_read_back_wins() -> None:
    call = make_call(
        ("agent", "And the address is 2207 West Cactus Road?"),
        ("caller", "no we moved its eighty eight oh one east mcdowell road"),
    )
    fv = extract_address(call)["address"]
    assert (fv.value, fv.status) == ("8801 East McDowell Road", A)


def test_unprompted_street_address_waits_for_review() -> None:
    call = make_call(
        ("agent", "How can I help?"), ("caller", "theres a leak at two forty seven president street")
    )
    assert extract_address(call)["address"].status is R


# -- reference ids ----------------------------------------------------------------------------------------


def test_letters_and_digits_of_an_order_number() -> None:
    call = make_call(
        ("agent", "Do you have your order number?"), ("caller", "yeah its b c seven seven four one nine two")
    )
    fv = extract_reference(call)
    assert fv is not None and (fv.value, fv.status) == ("BC774192", A)
    assert said(call, fv.evidence) == [(1, "b c seven seven four one nine two")]


def test_oh_is_a_letter_next_to_letters_and_a_zero_among_digits() -> None:
    assert ids_in("h o four four two nine one seven") == [("HO442917", 0, 32)]
    assert ids_in("r m c dash three three oh eight one")[0][0] == "RMC33081"


def test_id_named_by_the_caller_without_a_question() -> None:
    call = make_call(
        ("agent", "How can I help?"), ("caller", "the claim number is c l four four oh nine two eight")
    )
    fv = extract_reference(call)
    assert fv is not None and fv.value == "CL440928"


def test_card_and_social_security_digits_are_never_captured() -> None:
    call = make_call(
        ("agent", "For verification, what are the last four digits of your social security number?"),
        ("caller", "four four one nine"),
    )
    assert extract_reference(call) is None


def test_a_number_the_agent_made_up_is_not_the_callers() -> None:
    call = make_call(("agent", "I've opened ticket 48213 for you."), ("caller", "ok thanks"))
    assert extract_reference(call) is None


def test_short_ids_wait_unless_read_back() -> None:
    call = make_call(("agent", "What's the order number?"), ("caller", "its one oh four seven"))
    fv = extract_reference(call)
    assert fv is not None and (fv.value, fv.status) == ("1047", R)


@given(
    letters=st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", max_size=4),
    digits=st.text(alphabet="0123456789", min_size=3, max_size=8),
    zero=st.sampled_from(["oh", "zero"]),
)
def test_id_rendered_spoken_reads_back(letters: str, digits: str, zero: str) -> None:
    # Letters that are all O's before digits ("o one two") sound like zeros: speech cannot tell them apart.
    assume(letters.strip("O") or not letters)
    value = letters + digits
    ((read, _, _),) = ids_in(render_spoken_id(value, zero=zero))
    assert read == value
