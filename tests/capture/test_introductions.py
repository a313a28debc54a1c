"""Introductions that carry a title and an organisation: the name stops where the title starts, and the
title's organisation is the caller's company (issue 12 item 9)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from callsync.capture.extract import extract_call
from callsync.capture.extract.company import extract_company
from callsync.capture.extract.job_title import extract_job_title
from callsync.capture.extract.name import extract_names
from callsync.models import CallRecord, FieldStatus
from tests.capture import make_call, said

A = FieldStatus.ACCEPTED
WHO = "Thanks for calling, who am I speaking with?"
ROLE = "And what do you do there?"


def accepted(call: CallRecord) -> dict[str, str]:
    return {
        k: str(v.value) for k, v in extract_call(call).fields.items() if v.status is A and k != "caller_id"
    }


def test_honorific_name_comma_title_of_company_gives_each_its_field() -> None:
    call = make_call(("agent", WHO), ("caller", "dr. anne smith, ceo of initech inc."))
    assert accepted(call) == {
        "full_name": "Anne Smith",
        "first_name": "Anne",
        "last_name": "Smith",
        "job_title": "CEO",
        "company": "Initech Inc.",
    }
    company = extract_company(call)
    assert company is not None and said(call, company.evidence) == [(1, "initech inc.")]


def test_name_answering_who_is_calling_followed_by_from_company_keeps_the_company() -> None:
    call = make_call(("agent", WHO), ("caller", "tom okafor from harbor freight lines"))
    fields = accepted(call)
    assert fields["full_name"] == "Tom Okafor"
    assert fields["company"] == "Harbor Freight Lines"


def test_title_of_area_at_company_keeps_the_company() -> None:
    for line in ("i'm head of operations at acme widgets", "head of operations at acme widgets"):
        call = make_call(("agent", ROLE), ("caller", line))
        fields = accepted(call)
        assert fields.get("job_title") == "Head of Operations", line
        assert fields.get("company") == "Acme Widgets", line
        assert "full_name" not in extract_names(call), line  # "head" is not a name


def test_a_title_after_a_comma_needs_an_organisation_or_the_sentence_end() -> None:
    call = make_call(("agent", "How can I help?"), ("caller", "sorry, driver ran late and missed the pickup"))
    assert extract_job_title(call) is None


def test_a_title_after_a_comma_is_the_callers_only_right_after_their_name() -> None:
    for line in (
        "yes, the manager at the front desk said to call you",
        "so, director at my old job recommended you",
    ):
        call = make_call(("agent", "How can I help?"), ("caller", line))
        assert extract_job_title(call) is None, line
        assert extract_company(call) is None, line


def test_greeting_comma_name_comma_title_keeps_the_name_out_of_the_title() -> None:
    call = make_call(("agent", WHO), ("caller", "hi, tom okafor, operations manager of acme freight"))
    fields = accepted(call)
    assert (fields["full_name"], fields["job_title"], fields["company"]) == (
        "Tom Okafor",
        "Operations Manager",
        "Acme Freight",
    )


def test_from_after_a_name_that_does_not_answer_a_name_question_is_not_a_company() -> None:
    call = make_call(("agent", "How can I help?"), ("caller", "tom okafor from accounting told me to call"))
    assert extract_company(call) is None


# -- properties ------------------------------------------------------------------------------------

_FIRST = st.sampled_from(["anne", "tom", "priya", "dana", "marcus", "elena", "kofi", "ines"])
_LAST = st.sampled_from(["smith", "okafor", "raman", "whitfield", "delgado", "novak", "brennan"])
_TITLE = st.sampled_from(
    [
        ("ceo", "CEO"),
        ("cfo", "CFO"),
        ("head of operations", "Head of Operations"),
        ("vp of sales", "VP of Sales"),
        ("operations manager", "Operations Manager"),
        ("office manager", "Office Manager"),
        ("director of finance", "Director of Finance"),
    ]
)
_ORG_WORD = st.sampled_from(
    ["acme", "initech", "harbor", "freight", "widgets", "northwind", "lumen", "crane"]
)
_SUFFIX = st.sampled_from(["", " inc.", " llc", " lines", " logistics"])
_HONORIFIC = st.sampled_from(["", "dr. ", "mr ", "ms. "])
_CUE = st.sampled_from([" of ", " at ", " with "])


@settings(max_examples=200, deadline=None)
@given(
    first=_FIRST,
    last=_LAST,
    title=_TITLE,
    org=st.lists(_ORG_WORD, min_size=1, max_size=2, unique=True),
    suffix=_SUFFIX,
    honorific=_HONORIFIC,
    cue=_CUE,
)
def test_name_comma_title_cue_company_reads_every_part(
    first: str,
    last: str,
    title: tuple[str, str],
    org: list[str],
    suffix: str,
    honorific: str,
    cue: str,
) -> None:
    spoken_title, written_title = title
    if " of " in spoken_title and cue == " of ":
        cue = " at "  # "head of operations of acme" is not English
    company = " ".join(org) + suffix
    line = f"{honorific}{first} {last}, {spoken_title}{cue}{company}"
    fields = accepted(make_call(("agent", WHO), ("caller", line)))
    assert fields.get("first_name") == first.title(), line
    assert fields.get("last_name") == last.title(), line
    assert fields.get("job_title") == written_title, line
    assert fields.get("company", "").casefold() == company.casefold(), line


@settings(max_examples=100, deadline=None)
@given(
    first=_FIRST,
    last=_LAST,
    org=st.lists(_ORG_WORD, min_size=1, max_size=3, unique=True),
    lead=st.sampled_from(["", "hi ", "yeah ", "hi this is ", "it's "]),
)
def test_name_from_company_answering_who_is_calling(first: str, last: str, org: list[str], lead: str) -> None:
    line = f"{lead}{first} {last} from {' '.join(org)}"
    fields = accepted(make_call(("agent", WHO), ("caller", line)))
    assert fields.get("full_name") == f"{first} {last}".title(), line
    assert fields.get("company") == " ".join(org).title(), line
