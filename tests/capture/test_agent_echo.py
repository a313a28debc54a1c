"""The agent's echo of an answer the transcript garbled (issue 13: values lost on recognizer text).

"What's the best number?" - <the caller's digits, heard as "i live by the line"> - "Got it, 646-555-0152.":
the bot's echo is the only clean record of what the caller gave. It is kept for review (never accepted on
its own, never dropped), accepted only if the caller then says yes, and never read into a sentence that is
not an echo of the caller's answer to a question for that kind of value. Where the agent's version differs
from what we read, the agent's waits for review in ours' place (ours superseded), whichever side was sure.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from callsync.capture.extract.dialogue import DIFFERS_REASON, ECHO_ONLY, ECHO_REASON, echoes_answer
from callsync.capture.extract.email import extract_email
from callsync.capture.extract.name import extract_names
from callsync.capture.extract.phone import extract_phone
from callsync.models import CallRecord, FieldStatus, FieldValue
from tests.capture import make_call, said

# Recognizer-style garble: words with no digits and no email shape in them.
garble = st.lists(
    st.sampled_from(["i", "live", "by", "the", "fight", "political", "bottle", "get", "that", "leg"]),
    min_size=1,
    max_size=8,
).map(" ".join)
tails = st.integers(min_value=10, max_value=99)
acks = st.sampled_from(
    ["Got it, {}.", "Thanks, {}.", "Okay, so that's {}?", "Let me confirm: {}?", "{}, got it."]
)


def phone_of(call: CallRecord) -> FieldValue | None:
    return extract_phone(call).get("phone")


def echoed(answer: str, echo: str, *after: tuple[str, str]) -> CallRecord:
    return make_call(
        ("agent", "Thanks for calling. What's the best phone number to reach you?"),
        ("caller", answer),
        ("agent", echo),
        *after,
    )


def test_an_echo_of_a_garbled_answer_is_kept_for_review_with_its_reason() -> None:
    call = echoed("staring at a better get on my leg", "Got it, 646-555-0152. And an email?")
    fv = phone_of(call)
    assert fv is not None
    assert (fv.value, fv.status, fv.reason, fv.confidence) == (
        "+16465550152",
        FieldStatus.NEEDS_REVIEW,
        ECHO_REASON,
        ECHO_ONLY,
    )
    assert said(call, fv.evidence) == [(2, "646-555-0152")]


@given(answer=garble, tail=tails, ack=acks, reply=garble)
@settings(max_examples=60, deadline=None)
def test_an_echo_the_caller_did_not_confirm_is_never_accepted(
    answer: str, tail: int, ack: str, reply: str
) -> None:
    call = echoed(answer, ack.format(f"617-555-01{tail}"), ("caller", reply))
    fv = phone_of(call)
    assert fv is not None and fv.value == f"+161755501{tail}"
    assert fv.status is FieldStatus.NEEDS_REVIEW


def test_an_echo_put_as_a_question_and_confirmed_is_accepted() -> None:
    call = echoed("i live by the line", "So that's 602-555-0176?", ("caller", "yep that's right"))
    fv = phone_of(call)
    assert fv is not None and fv.value == "+16025550176" and fv.status is FieldStatus.ACCEPTED


@given(answer=garble, tail=tails)
@settings(max_examples=30, deadline=None)
def test_an_echo_the_caller_denies_is_not_their_number(answer: str, tail: int) -> None:
    call = echoed(answer, f"That's 617-555-01{tail}?", ("caller", "no that's wrong"))
    fv = phone_of(call)
    assert fv is None or fv.status is not FieldStatus.ACCEPTED


def test_a_later_echo_replaces_an_earlier_one_the_agent_corrected() -> None:
    call = echoed(
        "i'd buy the line",
        "Let me read that back: 404-555-0175?",
        ("caller", "now the last did you get to vote five five one seven two"),
        ("agent", "Got it, 404-555-0172. What's the amount in question?"),
    )
    fv = phone_of(call)
    assert fv is not None and fv.value == "+14045550172" and fv.status is FieldStatus.NEEDS_REVIEW
    assert [value for value, _ in fv.superseded] == ["+14045550175"]


def test_an_echo_matching_the_callers_number_adds_to_it() -> None:
    call = echoed("six one seven five five five zero one four eight", "Got it, 617-555-0148.")
    fv = phone_of(call)
    assert fv is not None and fv.value == "+16175550148" and fv.status is FieldStatus.ACCEPTED
    assert len(fv.evidence) == 2


def test_a_reply_to_a_question_for_another_number_is_no_echo() -> None:
    call = make_call(
        ("agent", "Can I have your policy number?"),
        ("caller", "should it be too old for four to nine one"),
        ("agent", "Thanks, 412-555-0153."),
    )
    assert phone_of(call) is None


def test_the_business_line_given_after_the_question_is_no_echo() -> None:
    call = echoed("the fact you want to", "Thanks. You can also call our office at 617-555-0100.")
    assert phone_of(call) is None


def test_a_number_inside_a_longer_sentence_is_no_echo() -> None:
    call = echoed("i live by the line", "The clinic's direct line is 617-555-0199, by the way.")
    assert phone_of(call) is None


def test_an_echo_after_an_answering_machine_is_no_echo() -> None:
    call = make_call(
        ("agent", "What's the best phone number to reach you?"),
        ("agent", "Got it, 646-555-0152."),
    )
    assert phone_of(call) is None


def test_an_email_echo_of_a_garbled_answer_is_kept_for_review() -> None:
    call = make_call(
        ("agent", "And what's a good email address for you?"),
        ("caller", "that number so it right at gmail dot com"),
        ("agent", "Got it, devon_price@gmail.com. You're booked for tomorrow at 8 AM."),
    )
    fv = extract_email(call)
    assert fv is not None
    assert (fv.value, fv.status, fv.reason) == (
        "devon_price@gmail.com",
        FieldStatus.NEEDS_REVIEW,
        ECHO_REASON,
    )


def test_an_email_echo_confirmed_is_accepted() -> None:
    call = make_call(
        ("agent", "What's the best email for you?"),
        ("caller", "it might take a touch of a bottle"),
        ("agent", "So that's jsmyth88@yahoo.com?"),
        ("caller", "yes"),
    )
    fv = extract_email(call)
    assert fv is not None and fv.value == "jsmyth88@yahoo.com" and fv.status is FieldStatus.ACCEPTED


def names_of(call: CallRecord) -> dict[str, FieldValue]:
    return extract_names(call)


def test_the_name_the_agent_calls_a_garbled_caller_by_is_their_first_name_for_review() -> None:
    call = make_call(
        ("agent", "TalentBridge Staffing, this is Jamie. How can I help?"),
        ("caller", "i heard a cage not feeling it a little time for my cat"),
        ("agent", "Hi Natalie! What can we do for you?"),
    )
    fields = names_of(call)
    assert set(fields) == {"first_name"}  # nothing of the surname or the whole name is known
    fv = fields["first_name"]
    assert (fv.value, fv.status, fv.reason) == ("Natalie", FieldStatus.NEEDS_REVIEW, ECHO_REASON)
    assert said(call, fv.evidence) == [(2, "Natalie")]


@given(
    answer=garble,
    ack=st.sampled_from(["Thanks, {}.", "You're welcome, {}.", "Hi {}!", "Got it, {}, thanks."]),
)
@settings(max_examples=40, deadline=None)
def test_a_name_only_the_agent_used_is_never_accepted(answer: str, ack: str) -> None:
    call = make_call(
        ("agent", "Can I get your name?"),
        ("caller", answer),
        ("agent", ack.format("Ingrid") + " What's the business called?"),
    )
    fv = names_of(call).get("first_name")
    assert fv is not None and fv.value == "Ingrid" and fv.status is FieldStatus.NEEDS_REVIEW


def test_a_name_the_caller_said_is_kept_and_the_agent_using_it_backs_it() -> None:
    call = make_call(
        ("agent", "Can I get your name?"),
        ("caller", "my name is priya raman"),
        ("agent", "Thanks, Priya."),
    )
    fields = names_of(call)
    assert fields["full_name"].value == "Priya Raman" and fields["first_name"].status is FieldStatus.ACCEPTED


def test_the_agent_greeting_before_the_caller_speaks_is_no_name_of_theirs() -> None:
    call = make_call(
        ("agent", "Hi Gloria! This is Nora from Keystone Mutual."),
        ("caller", "the fifty"),
        ("agent", "I'm calling because your policy renews soon."),
    )
    assert names_of(call) == {}


def test_the_agents_own_name_an_honorific_or_a_listed_word_is_no_name() -> None:
    for reply in ("Thanks, Ava.", "Okay, Friday.", "Thanks, Ms."):
        call = make_call(
            ("agent", "Thanks for calling, this is Ava. Who am I speaking with?"),
            ("caller", "the fifty"),
            ("agent", reply),
        )
        assert names_of(call) == {}, reply


def test_a_misheard_caller_name_the_agent_contradicts_gives_way_to_the_agents_for_review() -> None:
    call = make_call(
        ("agent", "Can I get your name?"),
        ("caller", "it's chlorine"),
        ("agent", "Thanks, Chloe. And your phone number?"),
    )
    fv = names_of(call)["first_name"]
    assert (fv.value, fv.status, fv.reason) == ("Chloe", FieldStatus.NEEDS_REVIEW, DIFFERS_REASON)
    assert [value for value, _ in fv.superseded] == ["Chlorine"]


def test_a_name_the_caller_spelled_is_not_replaced_by_the_agents() -> None:
    call = make_call(
        ("agent", "Can I get your first name, and could you spell it?"),
        ("caller", "chloe c h l o e"),
        ("agent", "Thanks, Zoe."),
    )
    fv = names_of(call)["first_name"]
    assert fv.value == "Chloe"


def test_a_weekday_after_an_acknowledgement_is_no_name_against_the_callers() -> None:
    call = make_call(
        ("agent", "Hi, this is Mia from Sunrise Dental. Is this Derek?"),
        ("caller", "yes this is derek can we move it to next week"),
        ("agent", "Sure, Tuesday, October 6th at 11 AM?"),
    )
    fv = names_of(call)["first_name"]
    assert fv.value == "Derek" and fv.status is FieldStatus.ACCEPTED


@given(
    lead=st.lists(
        st.sampled_from(
            ["the", "office", "number", "is", "clinic", "main", "line", "call", "for", "billing"]
        ),
        min_size=1,
        max_size=5,
    ).map(" ".join),
    tail=tails,
)
@settings(max_examples=60, deadline=None)
def test_a_value_behind_words_other_than_an_acknowledgement_is_never_an_echo(lead: str, tail: int) -> None:
    text = f"{lead.capitalize()} 617-555-01{tail}."
    call = echoed("i live by the fight", text)
    assert not echoes_answer(call, 2, text.index("617"), lambda question: True)


def test_a_read_back_the_caller_says_yes_to_unlike_ours_is_offered_in_ours_place() -> None:
    call = make_call(
        ("agent", "And what's a good email address for you?"),
        ("caller", "it's been a job which field at gmail dot com"),
        ("agent", "So that's dana.whitfield@gmail.com?"),
        ("caller", "yep"),
    )
    fv = extract_email(call)
    assert fv is not None
    assert (fv.value, fv.status, fv.reason) == (
        "dana.whitfield@gmail.com",
        FieldStatus.NEEDS_REVIEW,
        DIFFERS_REASON,
    )
    assert [value for value, _ in fv.superseded] == ["jobwhichfield@gmail.com"]


def test_an_echo_unlike_the_number_the_caller_said_holds_both_back() -> None:
    call = echoed("six one seven five five five zero one four eight", "Got it, 617-555-0184. And an email?")
    fv = phone_of(call)
    assert fv is not None
    assert (fv.value, fv.status, fv.reason) == ("+16175550184", FieldStatus.NEEDS_REVIEW, DIFFERS_REASON)
    assert [value for value, _ in fv.superseded] == ["+16175550148"]


def test_the_caller_repeating_the_agents_version_settles_it() -> None:
    call = echoed(
        "six one seven five five five zero one four eight",
        "Got it, 617-555-0184. And an email?",
        ("caller", "sorry, it's six one seven five five five zero one eight four"),
    )
    fv = phone_of(call)
    assert fv is not None and fv.value == "+16175550184" and fv.status is FieldStatus.ACCEPTED


def test_a_yes_to_someone_elses_number_does_not_replace_the_callers() -> None:
    call = echoed(
        "six one seven five five five zero one four eight",
        "Thanks. And the pharmacy you use, their number is 617-555-0199?",
        ("caller", "yes"),
    )
    fv = phone_of(call)
    assert fv is not None and fv.value == "+16175550148" and fv.status is FieldStatus.NEEDS_REVIEW


def _name_then_later(later: str) -> CallRecord:
    return make_call(
        ("agent", "Thank you for calling Summit Heating and Air. How can I help you today?"),
        ("caller", "hi there my name is larry i have a question about my bill"),
        ("agent", "Sure, I can help with that. What's the best phone number to reach you?"),
        ("caller", "three one two five five five zero one seven one"),
        ("agent", later),
    )


def test_the_agent_calling_the_caller_by_our_reading_later_in_the_call_backs_it() -> None:
    fv = names_of(_name_then_later("You're welcome, Larry. Have a great day."))["first_name"]
    assert fv.value == "Larry" and fv.status is FieldStatus.ACCEPTED
    assert fv.evidence[-1].turn == 4


def test_the_agent_calling_the_caller_another_name_later_offers_it_for_review() -> None:
    fv = names_of(_name_then_later("You're welcome, Harry. Have a great day."))["first_name"]
    assert (fv.value, fv.status, fv.reason) == ("Harry", FieldStatus.NEEDS_REVIEW, DIFFERS_REASON)
    assert [value for value, _ in fv.superseded] == ["Larry"]


def test_a_name_merely_mentioned_later_is_no_echo_either_way() -> None:
    for later in ("Harry from billing will call you back.", "Larry, our technician, will call you."):
        fv = names_of(_name_then_later(later))["first_name"]
        assert (fv.value, fv.status) == ("Larry", FieldStatus.NEEDS_REVIEW), later


@given(
    answer=garble,
    phrase=st.sampled_from(
        [
            "And what's the best email address for you, {}?",
            "I found an account for this number. Is that you, {}?",
            "And your phone number, {}?",
            "Thank you for your patience, {}.",
            "Great to meet you, {}. How can I help?",
            "Is that right, {}?",
            "And the best number, {}?",
            "And a phone number, {}?",
            "All booked, {}. See you Friday.",
            "You're all set, {}.",
        ]
    ),
)
@settings(max_examples=60, deadline=None)
def test_a_name_closing_a_phrase_the_agent_says_to_the_caller_is_theirs_for_review(
    answer: str, phrase: str
) -> None:
    call = make_call(
        ("agent", "Keystone Mutual Insurance, this is Nora. May I have your full name?"),
        ("caller", answer),
        ("agent", phrase.format("Jessica")),
    )
    fv = names_of(call).get("first_name")
    assert fv is not None and fv.value == "Jessica" and fv.status is FieldStatus.NEEDS_REVIEW


def test_a_name_after_you_that_goes_on_into_a_sentence_or_a_listed_word_is_no_name() -> None:
    for reply in ("I can connect you, Mark is our specialist.", "Is that good for you, Tuesday?"):
        call = make_call(
            ("agent", "Thanks for calling, this is Ava. Who am I speaking with?"),
            ("caller", "the fifty"),
            ("agent", reply),
        )
        assert names_of(call) == {}, reply


def test_the_surname_the_agent_calls_a_garbled_caller_by_is_their_last_name_for_review() -> None:
    call = make_call(
        ("agent", "Keystone Mutual Insurance, this is Nora. May I have your full name?"),
        ("caller", "the fifty"),
        ("agent", "Thank you for your patience, Ms. De La Cruz. What's the best number for you?"),
    )
    fields = names_of(call)
    assert set(fields) == {"last_name"}  # no first name is known, so no whole name either
    fv = fields["last_name"]
    assert (fv.value, fv.status, fv.reason) == ("De La Cruz", FieldStatus.NEEDS_REVIEW, ECHO_REASON)
    assert said(call, fv.evidence) == [(2, "De La Cruz")]


def test_the_agents_surname_backs_ours_or_replaces_a_different_one_for_review() -> None:
    def call_with(reply: str, answer: str = "my name is ken chen") -> CallRecord:
        return make_call(("agent", "May I have your name?"), ("caller", answer), ("agent", reply))

    same = names_of(call_with("Thank you, Mr. Chen. Is this the best number?"))
    assert same["last_name"].value == "Chen" and same["last_name"].evidence[-1].turn == 2
    other = names_of(call_with("Thank you, Mr. Chan. Is this the best number?"))["last_name"]
    assert (other.value, other.status, other.reason) == ("Chan", FieldStatus.NEEDS_REVIEW, DIFFERS_REASON)
    assert [value for value, _ in other.superseded] == ["Chen"]
    spelled = names_of(call_with("Thank you, Mr. Chan.", "ken chen c h e n"))["last_name"]
    assert spelled.value == "Chen"


def test_a_doctor_or_a_surname_the_agent_says_before_the_caller_speaks_is_not_theirs() -> None:
    doctor = make_call(
        ("agent", "Sunrise Dental, how can I help?"),
        ("caller", "the fifty"),
        ("agent", "Sure, Dr. Reyes has an opening tomorrow. Thanks, Dr. Reyes will see you."),
    )
    assert "last_name" not in names_of(doctor)
    greeting = make_call(
        ("agent", "Hello, Ms. Mendez, this is Nora from Keystone Mutual."),
        ("caller", "the fifty"),
        ("agent", "I'm calling because your policy renews soon."),
    )
    assert names_of(greeting) == {}


@given(
    lead=st.sampled_from(
        ["Thank you for catching that,", "Sorry about that,", "My mistake,", "Thanks for correcting that."]
    )
)
@settings(max_examples=10, deadline=None)
def test_the_agent_putting_right_its_own_read_back_is_an_echo_of_the_correction(lead: str) -> None:
    call = make_call(
        ("agent", "Thanks for calling. And your phone number, is it 412-555-0153?"),
        ("caller", "the little one three five at the end for one to fight fight fight one three five"),
        ("agent", f"{lead} 412-555-0135. What are you paying now?"),
    )
    fv = phone_of(call)
    assert fv is not None and (fv.value, fv.status) == ("+14125550135", FieldStatus.NEEDS_REVIEW)


@given(
    reply=st.sampled_from(
        [
            "He'll call you this afternoon at {}.",
            "We will call you back at {}.",
            "Someone will text you on {}.",
        ]
    )
)
@settings(max_examples=10, deadline=None)
def test_the_callback_the_agent_arranges_on_the_number_just_asked_for_is_an_echo(reply: str) -> None:
    call = make_call(
        ("agent", "Let me have your account rep review it. What's the best number?"),
        ("caller", "i felt that the three of five five by the line went dead"),
        ("agent", reply.format("630-555-0116")),
    )
    fv = phone_of(call)
    assert fv is not None and (fv.value, fv.status, fv.reason) == (
        "+16305550116",
        FieldStatus.NEEDS_REVIEW,
        ECHO_REASON,
    )


def test_a_callback_number_with_no_question_for_it_is_no_echo() -> None:
    call = make_call(
        ("agent", "Thanks for calling. How can I help?"),
        ("caller", "i felt that the three of five five by the line went dead"),
        ("agent", "He'll call you this afternoon at 630-555-0116."),
    )
    assert phone_of(call) is None  # the agent's number for the callback, not an answer of the caller's


@given(
    reply=st.sampled_from(
        ["I found {}. Can I ask why you're cancelling?", "Thank you, I found {}.", "I see an account for {}."]
    )
)
@settings(max_examples=10, deadline=None)
def test_the_account_the_agent_looked_up_with_a_garbled_answer_is_an_echo(reply: str) -> None:
    call = make_call(
        ("agent", "I'm sorry to see you go. What's the email on the account?"),
        ("caller", "if the on the white dog and the worldcom real dot com"),
        ("agent", reply.format("trey.m@protonmail.com")),
    )
    fv = extract_email(call)
    assert fv is not None and (fv.value, fv.status) == ("trey.m@protonmail.com", FieldStatus.NEEDS_REVIEW)


@given(answer=garble)
@settings(max_examples=30, deadline=None)
def test_the_person_asked_for_whose_garbled_reply_the_agent_took_as_yes_is_for_review(answer: str) -> None:
    call = make_call(
        ("agent", "Hi, this is Sky from SunPeak Solar. Am I speaking with Renee Abbott?"),
        ("caller", answer),
        ("agent", "Great. I'm following up on the solar quote you requested last week."),
    )
    fields = names_of(call)
    assert {k: (v.value, v.status, v.reason) for k, v in fields.items()} == {
        "first_name": ("Renee", FieldStatus.NEEDS_REVIEW, ECHO_REASON),
        "last_name": ("Abbott", FieldStatus.NEEDS_REVIEW, ECHO_REASON),
        "full_name": ("Renee Abbott", FieldStatus.NEEDS_REVIEW, ECHO_REASON),  # both parts known, both unchecked
    }


@given(
    then=st.sampled_from(
        [
            "I'm looking for Denise Carter. Is she available?",
            "Sorry, is Denise there?",
            "Oh, I may have the wrong number.",
        ]
    )
)
@settings(max_examples=10, deadline=None)
def test_the_person_asked_for_is_not_the_caller_when_the_agent_speaks_of_them_as_someone_else(
    then: str,
) -> None:
    call = make_call(
        ("agent", "Hi, this is Leo from Rapid Rooter Plumbing. Is this Denise Carter?"),
        ("caller", "who"),
        ("agent", then),
    )
    assert names_of(call) == {}


def test_a_yes_to_the_first_name_asked_followed_by_words_we_cannot_read_holds_the_whole_name_back() -> None:
    def answered(reply: str) -> dict[str, FieldValue]:
        return names_of(
            make_call(
                ("agent", "Thanks, I found info@lakeviewpilates.com. Is this Hana?"),
                ("caller", reply),
                ("agent", "Thanks, Hana. I've reconnected your calendar."),
            )
        )

    garbled = answered("yeah i had with the")  # "yeah hana suzuki", the surname misheard
    assert garbled["first_name"].status is FieldStatus.ACCEPTED
    assert garbled["full_name"].status is FieldStatus.NEEDS_REVIEW
    plain = answered("yes")
    assert plain["full_name"].value == "Hana" and plain["full_name"].status is FieldStatus.ACCEPTED
    chatty = answered("yeah that's the problem actually can we do that another time")
    assert chatty["full_name"].status is FieldStatus.ACCEPTED  # a sentence, not a surname
