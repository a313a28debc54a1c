"""Amount failure kinds seen on calls nobody here wrote (issue 13), written from the issue's description.

Scale words ("a quarter million", "two point five mil"); "grand" that names a street or a car, not a
thousand; "twelve thirteen hundred" as a range; a figure the caller can pay or was quoted with no cue word;
an agent read-back running into the next sentence; several payments in one call.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from callsync.capture.extract.amount import extract_amount
from callsync.capture.extract.spoken import render_cardinal
from callsync.models import FieldStatus
from tests.capture import make_call

A = FieldStatus.ACCEPTED


def amount(*turns: tuple[str, str]) -> tuple[object, FieldStatus | None]:
    fv = extract_amount(make_call(*turns)).get("amount")
    return (fv.value, fv.status) if fv is not None else (None, None)


@given(
    phrase=st.sampled_from(
        [
            ("a quarter million", 250_000),
            ("a quarter of a million", 250_000),
            ("half a million", 500_000),
            ("three quarters of a million", 750_000),
            ("two point five mil", 2_500_000),
            ("one point two million", 1_200_000),
            ("a million and a half", 1_500_000),
        ]
    )
)
@settings(max_examples=20, deadline=None)
def test_scale_words_give_the_figure_they_say(phrase: tuple[str, int]) -> None:
    words, value = phrase
    got = amount(("agent", "What's your budget?"), ("caller", f"we're thinking {words} dollars"))
    assert got[0] in (value, None)
    assert got[1] is not A or got[0] == value


@given(
    n=st.integers(min_value=100, max_value=9999),
    frame=st.sampled_from(
        ["I live at {n} Grand Avenue", "it's {n} grand street apartment two", "I drive a {y} grand caravan"]
    ),
)
@settings(max_examples=40, deadline=None)
def test_grand_in_a_street_or_a_car_name_is_not_a_thousand(n: int, frame: str) -> None:
    text = frame.format(n=render_cardinal(n), y="twenty nineteen")
    got = amount(("agent", "How can I help?"), ("caller", f"hi {text} and I need a quote"))
    assert got[0] is None or got[0] < 1000 * 100


def test_twelve_thirteen_hundred_is_a_range_not_a_figure() -> None:
    fields = extract_amount(
        make_call(("agent", "What's the budget?"), ("caller", "about twelve thirteen hundred a month"))
    )
    assert "amount" not in fields or fields["amount"].status is not A
    if "amount_range" in fields:
        assert fields["amount_range"].value == [1200, 1300]


@given(
    n=st.sampled_from([150, 200, 300, 450, 800, 1200]),
    frame=st.sampled_from(
        [
            "I can do {w} today",
            "I can pay {w} today",
            "I could put down {w} right now",
            "I can send {w} on friday",
        ]
    ),
)
@settings(max_examples=30, deadline=None)
def test_an_amount_the_caller_can_pay_needs_no_cue_word(n: int, frame: str) -> None:
    got = amount(
        ("agent", "Your balance is overdue. How would you like to handle it?"),
        ("caller", frame.format(w=render_cardinal(n))),
    )
    assert got[0] == n


def test_a_yearly_quote_said_in_shorthand_is_the_figure() -> None:
    got = amount(
        ("agent", "What are you paying now for your insurance?"),
        ("caller", "they quoted us nineteen sixty a year"),
    )
    assert got[0] == 1960


def test_an_agent_read_back_running_into_the_next_sentence_reads_only_the_amount() -> None:
    got = amount(
        ("agent", "How much can you pay today?"),
        ("caller", "three hundred"),
        ("agent", "okay three hundred dollars and your card ends in forty two is that right"),
        ("caller", "yes"),
    )
    assert got[0] == 300


@given(
    a=st.sampled_from([120, 200, 250]),
    b=st.sampled_from([300, 350, 400]),
)
@settings(max_examples=10, deadline=None)
def test_several_payments_in_one_call_are_not_accepted_as_one_figure(a: int, b: int) -> None:
    got = amount(
        ("agent", "How can I help?"),
        ("caller", f"I paid {render_cardinal(a)} dollars in march and {render_cardinal(b)} dollars in april"),
    )
    assert got[1] is not A


@given(
    phrase=st.sampled_from(
        [
            ("a quarter million", 250_000),
            ("a quarter of a million", 250_000),
            ("half a million", 500_000),
            ("three quarters of a million", 750_000),
            ("a million and a half", 1_500_000),
        ]
    ),
    frame=st.sampled_from(["our budget is {w}", "{w} dollars", "we have about {w} to spend"]),
)
@settings(max_examples=30, deadline=None)
def test_a_fraction_of_a_scale_alone_in_a_turn_is_read(phrase: tuple[str, int], frame: str) -> None:
    # The turn holds no number the number reader sees: the fraction must still be found.
    words, value = phrase
    got = amount(("agent", "What budget do you have in mind?"), ("caller", frame.format(w=words)))
    assert got == (value, A)


@given(
    charged=st.integers(min_value=21, max_value=900),
    expected=st.integers(min_value=5, max_value=20),
)
@settings(max_examples=30, deadline=None)
def test_instead_of_names_the_figure_replaced_not_a_correction(charged: int, expected: int) -> None:
    # "I was charged $30 instead of $20": two figures, neither corrects the other.
    got = amount(("agent", "How can I help?"), ("caller", f"I was charged ${charged} instead of ${expected}"))
    assert got[1] is not A


@given(
    pair=st.sampled_from(
        [("seventy five", "$75,000"), ("one fifty two", "$150,000"), ("twenty eight hundred", "$2,600")]
    ),
    ack=st.sampled_from(["Got it, {}.", "Okay, {}. I'll note that.", "Just to confirm, that's {}?"]),
)
@settings(max_examples=20, deadline=None)
def test_the_agents_echo_of_a_figure_we_read_differently_is_offered_in_ours_place(
    pair: tuple[str, str], ack: str
) -> None:
    heard, echoed = pair
    call = make_call(
        ("agent", "What salary range are you looking for?"),
        ("caller", f"hadley {heard} a day"),
        ("agent", ack.format(echoed)),
    )
    fv = extract_amount(call)["amount"]
    assert fv.value == float(echoed.strip("$").replace(",", "")) and fv.status is FieldStatus.NEEDS_REVIEW


@given(
    reply=st.sampled_from(
        [
            "Got it. Our packages start at $28 per person.",
            "Got it, 2 bedrooms.",
            "Thanks. That's $45 for the visit.",
        ]
    )
)
@settings(max_examples=10, deadline=None)
def test_a_price_the_agent_quotes_or_a_count_is_no_echo_of_the_callers_figure(reply: str) -> None:
    call = make_call(
        ("agent", "What's your budget for the event?"),
        ("caller", "about three thousand dollars"),
        ("agent", reply),
    )
    fv = extract_amount(call)["amount"]
    assert fv.value == 3000
