"""Spoken-form normalizers: digits, spelled letters, emails; their spans; and render → normalize round trips."""

from __future__ import annotations

import phonenumbers
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from callsync.capture.extract import extract_call, spoken
from callsync.capture.extract.phone import find_phones
from callsync.capture.extract.spoken import (
    PROVIDER_SPLITS,
    TLDS,
    find_digit_runs,
    find_emails,
    find_spelled_runs,
    render_spoken_digits,
    render_spoken_email,
    tokenize,
)
from tests.capture import make_call


def digits(text: str) -> list[str]:
    return [r.digits for r in find_digit_runs(text)]


def test_shared_analysis_memo_does_not_outlive_the_extraction() -> None:
    call = make_call(("agent", "Your number?"), ("caller", "six one seven five five five oh one four eight"))
    extract_call(call)
    assert spoken._MEMO.get() is None  # no caller's words are kept between calls
    with spoken.shared_analysis():
        assert tokenize("a b") is tokenize("a b")  # within one extraction, each turn is read once
    assert spoken._MEMO.get() is None


def test_tokens_keep_exact_spans_and_drop_apostrophes() -> None:
    text = "It's Dana, I'm calling"
    tokens = tokenize(text)
    assert [t.text for t in tokens] == ["its", "dana", "im", "calling"]
    assert [text[t.start : t.end] for t in tokens] == ["It's", "Dana", "I'm", "calling"]


def test_oh_and_o_are_zero_inside_digits() -> None:
    assert digits("six one seven five five five oh one four eight") == ["6175550148"]
    assert digits("two o six five five five o one nine six") == ["2065550196"]


def test_lone_oh_is_an_interjection_not_a_digit() -> None:
    assert digits("oh yes hi thanks for calling back") == []


def test_double_and_triple_repeat_the_digit() -> None:
    assert digits("nine one seven triple five oh one double one") == ["9175550111"]
    assert digits("four one two five five five oh one double four") == ["4125550144"]
    assert digits("double oh seven") == ["007"]


def test_tens_teens_and_hundreds_in_digit_sequences() -> None:
    assert digits("six seventeen five five five oh one forty eight") == ["61755501" + "48"]
    assert digits("one eight hundred five five five oh one one two") == ["18005550112"]
    assert digits("twenty") == ["20"]


def test_written_digits_join_across_dashes_but_not_sentences() -> None:
    assert digits("So that's 602-555-0176?") == ["6025550176"]
    assert digits("(617) 555-0148") == ["6175550148"]
    assert digits("It's at 2. Call 555 0148") == ["2", "5550148"]


def test_plus_marks_an_international_number_and_its_span() -> None:
    text = "sure its plus four four two oh seven nine four six oh one two three"
    (run,) = find_digit_runs(text)
    assert run.plus and run.digits == "442079460123"
    assert text[run.start : run.end].startswith("plus four four")


def test_spelled_letters_join_into_a_word() -> None:
    text = "sure its s i o b h a n and mcgrath is m c g r a t h"
    assert [r.letters for r in find_spelled_runs(text)] == ["siobhan", "mcgrath"]
    assert [r.letters for r in find_spelled_runs("So that's S-M-Y-T-H?")] == ["smyth"]
    assert [r.letters for r in find_spelled_runs("o d o double n e double l")] == ["odonnell"]


def test_two_letters_are_not_a_spelling_by_default() -> None:
    assert find_spelled_runs("with a y") == ()


def email(text: str) -> str:
    (found,) = find_emails(text)
    return found.value


def test_spoken_email_forms() -> None:
    assert email("priya dot raman at gmail dot com") == "priya.raman@gmail.com"
    assert email("its j smyth eighty eight at yahoo dot com") == "jsmyth88@yahoo.com"
    assert email("omar underscore haddad at hot mail dot com") == "omar_haddad@hotmail.com"
    assert email("mary dash kate dot quinn at icloud dot com") == "mary-kate.quinn@icloud.com"
    assert email("mary hyphen kate at out look dot com") == "mary-kate@outlook.com"
    assert email("rosa d eighty one at g mail dot com") == "rosad81@gmail.com"
    assert email("its jane at a o l dot com") == "jane@aol.com"


def test_spelled_letters_in_an_email_including_a_and_i() -> None:
    assert email("sure its f c a s t e l l a n o at comcast dot net") == "fcastellano@comcast.net"
    assert email("its c h l o e dot b at veridian health dot org") == "chloe.b@veridianhealth.org"


def test_domain_words_join_and_second_level_tlds() -> None:
    assert email("kevin dot odonnell at tallgrass freight dot com") == "kevin.odonnell@tallgrassfreight.com"
    assert email("n okafor at greenfield p k g dot com") == "nokafor@greenfieldpkg.com"
    assert email("x at acme dot co dot uk ok") == "x@acme.co.uk"


def test_webmail_without_dot_com_is_completed_and_marked() -> None:
    (found,) = find_emails("yeah its jane at gmail thanks")
    assert found.value == "jane@gmail.com" and not found.tld_spoken


def test_at_without_a_domain_is_not_an_email() -> None:
    assert find_emails("saturday at eleven works") == ()
    assert find_emails("call me at the bakery four oh two") == ()


def test_glued_words_give_every_reading() -> None:
    (found,) = find_emails("brendan walsh b walsh at gmail dot com")
    assert found.glued
    assert [r.value for r in found.readings] == [
        "brendanwalshbwalsh@gmail.com",
        "walshbwalsh@gmail.com",
        "bwalsh@gmail.com",
        "walsh@gmail.com",
    ]


def test_letters_and_digits_glue_to_a_word_without_ambiguity() -> None:
    (found,) = find_emails("its m o gallagher at aol dot com")
    assert found.value == "mogallagher@aol.com" and not found.glued


def test_written_email_is_lower_cased_with_exact_span() -> None:
    text = "Got it, Devon_Price@Gmail.com. See you."
    (found,) = find_emails(text)
    assert found.value == "devon_price@gmail.com" and found.written
    assert text[found.start : found.end] == "Devon_Price@Gmail.com"


def test_email_span_covers_the_spoken_words_only() -> None:
    text = "sure its priya dot raman at gmail dot com thanks"
    (found,) = find_emails(text)
    assert text[found.start : found.end] == "priya dot raman at gmail dot com"


def test_render_spoken_digits_styles() -> None:
    assert render_spoken_digits("9175550111", repeats=True) == "nine one seven triple five oh triple one"
    assert render_spoken_digits("4125550144", repeats=True) == "four one two triple five oh one double four"
    assert render_spoken_digits("6175550148", groups=(3, 3, 4), separator=", ") == (
        "six one seven, five five five, oh one four eight"
    )
    assert render_spoken_digits("2319", pairs=True) == "twenty three nineteen"
    assert render_spoken_digits("20", pairs=True) == "two oh"  # never "twenty" before a digit word


def test_render_spoken_email_spells_words_the_reader_would_misread() -> None:
    assert render_spoken_email("at.no@x.com") == "a t dot n o at x dot com"
    assert (
        render_spoken_email("jane88@gmail.com", split_provider=True) == "jane eight eight at g mail dot com"
    )


# -- properties ------------------------------------------------------------------------------------

_segment = st.from_regex(r"[a-z0-9]{1,8}", fullmatch=True)
_local = st.tuples(_segment, st.lists(st.tuples(st.sampled_from("._-"), _segment), max_size=2)).map(
    lambda t: t[0] + "".join(sep + seg for sep, seg in t[1])
)
_label = st.from_regex(r"[a-z]{2,10}(-[a-z]{2,6})?", fullmatch=True)
_domain = st.one_of(
    st.sampled_from(sorted(f"{p}.com" for p in PROVIDER_SPLITS)),
    st.tuples(st.lists(_label, min_size=1, max_size=2), st.sampled_from(sorted(TLDS))).map(
        lambda t: ".".join([*t[0], t[1]])
    ),
)


@settings(max_examples=300, deadline=None)
@given(local=_local, domain=_domain, spell=st.booleans(), split=st.booleans(), pairs=st.booleans())
def test_email_rendered_spoken_normalizes_back(
    local: str, domain: str, spell: bool, split: bool, pairs: bool
) -> None:
    address = f"{local}@{domain}"
    spoken = render_spoken_email(address, spell=spell, split_provider=split, pairs=pairs)
    text = f"sure my email is {spoken} thanks"
    found = find_emails(text)
    assert [e.value for e in found] == [address], spoken
    assert text[found[0].start : found[0].end] == spoken


_area = st.sampled_from(["212", "312", "415", "617", "646", "720", "773", "917", "206", "480", "602", "404"])
_style = st.fixed_dictionaries(
    {
        "zero": st.sampled_from(["oh", "zero", "o"]),
        "repeats": st.booleans(),
        "pairs": st.booleans(),
        "groups": st.sampled_from([(), (3, 3, 4), (3, 3, 2, 2)]),
        "separator": st.sampled_from([" ", ", "]),
    }
)


@settings(max_examples=300, deadline=None)
@given(area=_area, exchange=st.integers(200, 999), line=st.integers(0, 9999), style=_style)
def test_us_phone_rendered_spoken_normalizes_back_to_e164(
    area: str, exchange: int, line: int, style: dict[str, object]
) -> None:
    national = f"{area}{exchange:03d}{line:04d}"
    e164 = f"+1{national}"
    assume(phonenumbers.is_valid_number(phonenumbers.parse(e164)))
    spoken = render_spoken_digits(national, **style)  # type: ignore[arg-type]
    text = f"you can reach me at {spoken} thanks"
    found = find_phones(text, "US")
    assert [p.e164 for p in found] == [e164], spoken
    assert text[found[0].start : found[0].end] == spoken


@settings(max_examples=100, deadline=None)
@given(line=st.integers(0, 9999), style=_style)
def test_uk_phone_with_plus_normalizes_back_to_e164(line: int, style: dict[str, object]) -> None:
    national = f"207946{line:04d}"
    e164 = f"+44{national}"
    assume(phonenumbers.is_valid_number(phonenumbers.parse(e164)))
    spoken = "plus four four " + render_spoken_digits(national, **style)  # type: ignore[arg-type]
    found = find_phones(f"sure its {spoken}", "US")
    assert [p.e164 for p in found] == [e164], spoken


def test_letter_names_double_u_and_as_in_inside_a_spelling() -> None:
    assert [r.letters for r in find_spelled_runs("its ben woo thats double u o o")] == ["woo"]
    assert [r.letters for r in find_spelled_runs("greer g as in george r e e r")] == ["greer"]
    assert [r.letters for r in find_spelled_runs("s m i t aitch")] == ["smith"]
    assert find_spelled_runs("em") == ()  # a letter name alone is a word or a filler


# "u" and "w" are left out: "double u" is the letter w, so "uu" is not spelled that way.
@given(word=st.text(alphabet="abcdefghijklmnopqrstvxyz", min_size=3, max_size=12), repeats=st.booleans())
def test_spelled_word_reads_back(word: str, repeats: bool) -> None:
    assert [r.letters for r in find_spelled_runs(spoken.render_spelled(word, repeats=repeats))] == [word]


_hyphenated_domain = st.tuples(
    st.lists(st.from_regex(r"[a-z]{2,10}-[a-z]{2,6}", fullmatch=True), min_size=1, max_size=2),
    st.sampled_from(sorted(TLDS)),
).map(lambda t: ".".join([*t[0], t[1]]))


@settings(max_examples=300, deadline=None)
@given(local=_local, domain=_hyphenated_domain, spell=st.booleans())
def test_hyphen_written_into_a_spoken_domain_is_kept(local: str, domain: str, spell: bool) -> None:
    # ASR writes "acme-corp" for a hyphen it heard; dropping it would name somebody else's domain.
    head, _, tail = render_spoken_email(f"{local}@{domain}", spell=spell).rpartition(" at ")
    text = f"sure my email is {head} at {tail.replace(' dash ', '-')} thanks"
    (found,) = find_emails(text)
    assert found.value == f"{local}@{domain}", text
    assert not found.dash_guessed


@settings(max_examples=200, deadline=None)
@given(local=_local, domain=_hyphenated_domain, dash=st.sampled_from([" - ", " – ", "–"]))
def test_spaced_dash_in_a_spoken_domain_is_a_guess_with_both_readings(
    local: str, domain: str, dash: str
) -> None:
    head, _, tail = render_spoken_email(f"{local}@{domain}").rpartition(" at ")
    text = f"sure my email is {head} at {tail.replace(' dash ', dash)} thanks"
    (found,) = find_emails(text)
    assert found.dash_guessed, text
    values = [r.value for r in found.readings]
    assert f"{local}@{domain}" in values
    assert f"{local}@{domain.replace('-', '')}" in values


def test_separators_written_between_spoken_words_are_kept() -> None:
    assert email("carla at acme-corp dot co dot uk") == "carla@acme-corp.co.uk"
    assert email("its jane.doe at gmail dot com") == "jane.doe@gmail.com"
    assert email("its mary-jane at gmail dot com") == "mary-jane@gmail.com"
    assert email("its jo_smith at outlook dot com") == "jo_smith@outlook.com"
    assert email("email support at acme.co.uk") == "support@acme.co.uk"
