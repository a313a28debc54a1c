"""Money: spoken numbers, the caller's figure (never the agent's price), ranges, corrections, currency."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from callsync.capture.extract import extract_call
from callsync.capture.extract.amount import extract_amount
from callsync.capture.extract.spoken import find_numbers, render_cardinal, render_spoken_amount
from callsync.models import FieldStatus
from tests.capture import make_call, said

A = FieldStatus.ACCEPTED
R = FieldStatus.NEEDS_REVIEW


def values(text: str) -> list[float]:
    return [n.value for n in find_numbers(text)]


def amount(*turns: tuple[str, str], region: str = "US") -> tuple[object, FieldStatus, str | None] | None:
    fv = extract_amount(make_call(*turns), default_region=region).get("amount")
    return None if fv is None else (fv.value, fv.status, fv.reason)


# -- reading numbers ------------------------------------------------------------------------------------


def test_cardinals_with_and_scale_words_and_cents() -> None:
    assert values("charged me four hundred and twelve dollars") == [412]
    assert values("eighteen hundred and forty dollars") == [1840]
    assert values("two hundred and forty nine dollars and ninety nine cents") == [249.99]
    assert values("about fifteen k to start") == [15000]
    assert values("one point two million") == [1_200_000]
    assert values("we have about 50 thousand dollars") == [50000]
    assert values("a hundred and fifty a night") == [150]
    assert values("forty two pounds fifty") == [42.5]


def test_shorthand_keeps_every_reading_preferred_first() -> None:
    (six_fifty,) = find_numbers("budget is like six fifty")
    assert six_fifty.shorthand and six_fifty.readings == (650, 650_000, 6.5)
    (hourly,) = find_numbers("twenty eight fifty an hour")
    assert hourly.shorthand and hourly.readings == (28.5, 2850)
    (k,) = find_numbers("one fifty k")
    assert not k.shorthand and k.value == 150_000


def test_digit_sequences_and_phone_numbers() -> None:
    assert values("no fifteen thousand one five zero zero zero") == [15000, 15000]
    assert values("six one seven five five five oh one four eight") == []  # a phone number, not money


def test_two_numbers_said_back_to_back_are_split_where_the_speech_splits() -> None:
    assert values("three fifty three fifty each") == [350, 350]


def test_number_span_covers_its_currency_words() -> None:
    text = "i paid like four hundred and eighty dollars for this"
    (n,) = find_numbers(text)
    assert text[n.start : n.end] == "four hundred and eighty dollars" and n.currency == "USD"


@given(n=st.integers(1, 999_999_999), with_and=st.booleans(), hundreds=st.booleans())
def test_cardinal_rendered_in_words_reads_back(n: int, with_and: bool, hundreds: bool) -> None:
    assert values(render_cardinal(n, with_and=with_and, hundreds=hundreds)) == [n]


@given(
    dollars=st.integers(1, 9_999_999),
    cents=st.integers(0, 99),
    style=st.sampled_from(["words", "hundreds", "written"]),
)
def test_money_rendered_spoken_reads_back(dollars: int, cents: int, style: str) -> None:
    value = dollars + cents / 100
    (n,) = find_numbers(render_spoken_amount(value, style=style))
    assert abs(n.value - value) < 0.005 and n.currency == "USD"


@given(thousands=st.integers(1, 999), style=st.sampled_from(["k", "grand"]))
def test_thousands_said_with_k_or_grand_read_back(thousands: int, style: str) -> None:
    assert values(render_spoken_amount(thousands * 1000, style=style)) == [thousands * 1000]


# -- the caller's figure ----------------------------------------------------------------------------------


def test_budget_in_full_is_accepted_with_exact_evidence() -> None:
    call = make_call(("agent", "Do you have a budget in mind?"), ("caller", "we have about eighty k a year"))
    fields = extract_amount(call)
    assert (fields["amount"].value, fields["amount"].status) == (80000, A)
    assert said(call, fields["amount"].evidence) == [(1, "eighty k")]
    assert fields["currency"].value == "USD"


def test_shorthand_without_a_rate_waits_for_review() -> None:
    assert amount(("agent", "What's your budget?"), ("caller", "um around four twenty five")) == (
        425,
        R,
        "ambiguous_reading",
    )


def test_confirmed_read_back_settles_the_size_of_a_shorthand() -> None:
    got = amount(
        ("agent", "What's your budget?"),
        ("caller", "um around four twenty five"),
        ("agent", "Just to confirm, that's $425,000?"),
        ("caller", "yeah four twenty five"),
    )
    assert got is not None and got[:2] == (425000, A)


def test_a_rate_fixes_the_size_of_a_shorthand() -> None:
    assert amount(("agent", "What are you paying now?"), ("caller", "like two ten a month")) == (210, A, None)
    assert amount(("agent", "What pay do you want?"), ("caller", "twenty eight fifty an hour")) == (
        28.5,
        A,
        None,
    )


def test_prices_the_agent_quotes_are_not_the_callers_figure() -> None:
    call = make_call(
        ("agent", "The lockout fee is $129. Is that okay?"),
        ("caller", "yeah thats fine"),
    )
    assert extract_amount(call) == {}


def test_counts_and_years_are_not_money() -> None:
    assert amount(("agent", "What's your budget?"), ("caller", "about twelve guys")) is None
    assert amount(("agent", "Any budget?"), ("caller", "its a twenty nineteen accord")) is None


def test_range_is_kept_as_a_range_and_flagged_for_review() -> None:
    call = make_call(
        ("agent", "What's your budget?"), ("caller", "between twenty and thirty thousand a year")
    )
    fields = extract_amount(call)
    assert "amount" not in fields
    fv = fields["amount_range"]
    assert (fv.value, fv.status, fv.reason) == ([20000, 30000], R, "range")
    assert fields["currency"].value == "USD"


def test_range_low_end_takes_the_scale_of_the_high_end() -> None:
    call = make_call(
        ("agent", "Budget?"), ("caller", "somewhere between two fifty and three hundred thousand")
    )
    assert extract_amount(call)["amount_range"].value == [250000, 300000]


def test_latest_correction_wins_and_the_old_figure_is_kept() -> None:
    call = make_call(
        ("agent", "Do you have an estimate for the repair?"),
        ("caller", "the fence guy said twenty four hundred no wait it was twenty six hundred"),
    )
    fv = extract_amount(call)["amount"]
    assert (fv.value, fv.status) == (2600, A)
    assert [v for v, _ in fv.superseded] == [2400]


def test_a_bare_correction_takes_the_size_of_the_figure_it_corrects() -> None:
    call = make_call(
        ("agent", "What's your budget?"),
        ("caller", "about ten thousand actually we could probably go up to twelve"),
    )
    assert extract_amount(call)["amount"].value == 12000


def test_two_figures_without_a_correction_wait_for_review() -> None:
    got = amount(
        ("agent", "How much were you charged?"),
        ("caller", "fifty nine ninety nine each month so like a hundred eighty bucks"),
    )
    assert got is not None and got[1] is R


def test_the_business_quote_repeated_by_the_caller_is_not_their_figure() -> None:
    got = amount(
        ("agent", "How can I help?"),
        ("caller", "you guys quoted me eight hundred and now the invoice says twelve hundred what happened"),
    )
    assert got == (1200, A, None)


def test_currency_from_the_words_or_the_tenants_country() -> None:
    pounds = make_call(("agent", "Budget?"), ("caller", "around fifteen thousand pounds all in"))
    assert extract_amount(pounds)["currency"].value == "GBP"
    unsaid = make_call(("agent", "What's your monthly budget?"), ("caller", "up to twelve hundred a month"))
    assert extract_amount(unsaid, default_region="GB")["currency"].value == "GBP"
    assert extract_amount(unsaid, default_region="US")["currency"].value == "USD"


def test_amount_is_part_of_the_extraction_json() -> None:
    call = make_call(("agent", "What's your budget?"), ("caller", "fifty k"))
    fields = extract_call(call).to_json()["fields"]
    assert fields["amount"]["value"] == 50000 and fields["currency"]["value"] == "USD"
