"""Name and company extraction: the caller's own words, spelled forms, identity questions, and what is not a name."""

from __future__ import annotations

from callsync.capture.extract.company import extract_company
from callsync.capture.extract.name import extract_names, title
from callsync.models import CallRecord, FieldStatus, FieldValue
from tests.capture import make_call, said


def names(call: CallRecord) -> dict[str, tuple[str, FieldStatus]]:
    return {k: (v.value, v.status) for k, v in extract_names(call).items()}


A = FieldStatus.ACCEPTED
R = FieldStatus.NEEDS_REVIEW


def test_this_is_introduction() -> None:
    call = make_call(
        ("agent", "TalentBridge, this is Jamie."), ("caller", "hi this is natalie okafor im the hr director")
    )
    assert names(call) == {
        "first_name": ("Natalie", A),
        "last_name": ("Okafor", A),
        "full_name": ("Natalie Okafor", A),
    }
    assert said(call, extract_names(call)["full_name"].evidence) == [(1, "natalie"), (1, "okafor")]


def test_my_name_is_introduction_stops_at_the_next_clause() -> None:
    call = make_call(
        ("agent", "How can I help?"), ("caller", "hi my names shavon mcgrath and id like an appointment")
    )
    assert names(call)["full_name"] == ("Shavon McGrath", A)


def test_bare_answer_to_a_name_question() -> None:
    call = make_call(("agent", "Can I get your name?"), ("caller", "greg tanaka"), ("agent", "Thanks, Greg."))
    assert names(call)["full_name"] == ("Greg Tanaka", A)


def test_one_word_name_needs_the_agent_to_echo_it() -> None:
    echoed = make_call(
        ("agent", "Who am I speaking with?"), ("caller", "its bianca"), ("agent", "Thanks, Bianca.")
    )
    assert names(echoed) == {"first_name": ("Bianca", A), "full_name": ("Bianca", A)}
    silent = make_call(
        ("agent", "Who am I speaking with?"), ("caller", "its bianca"), ("agent", "How can I help?")
    )
    assert names(silent)["full_name"] == ("Bianca", R)


def test_name_speaking() -> None:
    call = make_call(("agent", "Hello?"), ("caller", "frank castellano speaking"))
    assert names(call)["full_name"] == ("Frank Castellano", A)


def test_confirmed_identity_question_gives_the_name_with_evidence_on_both_turns() -> None:
    call = make_call(
        ("agent", "Hi, this is Ava from Harborview Realty. Am I speaking with Frank Castellano?"),
        ("caller", "yeah speaking"),
        direction="outbound",
    )
    fv = extract_names(call)["full_name"]
    assert (fv.value, fv.status) == ("Frank Castellano", A)
    assert said(call, fv.evidence) == [(0, "Frank"), (0, "Castellano"), (1, "yeah")]


def test_this_is_she_confirms_the_identity_question() -> None:
    call = make_call(
        ("agent", "Am I speaking with Gloria Mendez?"), ("caller", "this is she"), direction="outbound"
    )
    assert names(call)["full_name"] == ("Gloria Mendez", A)


def test_denied_identity_question_is_not_caller_data() -> None:
    call = make_call(
        ("agent", "Hi, this is Leo. Is this Denise Carter?"),
        ("caller", "who"),
        ("agent", "I'm looking for Denise Carter. Is she available?"),
        ("caller", "no theres no denise here you got the wrong number"),
        direction="outbound",
    )
    assert names(call) == {}


def test_name_only_the_agent_used_is_not_caller_data() -> None:
    call = make_call(
        (
            "caller",
            "the person you are trying to reach is not available at the tone please record your message",
        ),
        ("agent", "Hi, this message is for Marisol. This is Sam from Ledgerly."),
        direction="outbound",
    )
    assert names(call) == {}


def test_agents_name_in_a_greeting_is_not_the_callers() -> None:
    call = make_call(
        ("agent", "Thanks for calling, this is Sam. Who am I speaking with?"), ("caller", "hi sam")
    )
    assert names(call) == {}


def test_spelled_surname_confirms_the_heard_one() -> None:
    call = make_call(
        ("agent", "Can I have your name?"),
        ("caller", "thomas kowalczyk"),
        ("agent", "Could you spell the last name for me?"),
        ("caller", "k o w a l c z y k"),
    )
    fv = extract_names(call)["last_name"]
    assert fv.value == "Kowalczyk" and (3, "k o w a l c z y k") in said(call, fv.evidence)


def test_spelling_wins_over_what_the_recognizer_heard() -> None:
    call = make_call(
        ("agent", "How can I help?"),
        ("caller", "hi my names shavon mcgrath and id like to make an appointment"),
        ("agent", "Could you spell your first and last name for me?"),
        ("caller", "sure its s i o b h a n and mcgrath is m c g r a t h"),
    )
    fields = extract_names(call)
    assert fields["full_name"].value == "Siobhan McGrath"
    assert [v for v, _ in fields["full_name"].superseded] == ["Shavon McGrath"]
    assert [v for v, _ in fields["first_name"].superseded] == ["Shavon"]
    assert fields["last_name"].superseded == ()


def test_with_a_y_fixes_the_spelling() -> None:
    call = make_call(("agent", "May I have your full name?"), ("caller", "jessica smyth smith with a y"))
    assert names(call)["full_name"][0] == "Jessica Smyth"
    call = make_call(
        ("agent", "May I have your full name?"), ("caller", "katherine ochoa katherine with a k")
    )
    assert names(call)["full_name"][0] == "Katherine Ochoa"


def test_confirmed_agent_spelling_counts_as_the_callers() -> None:
    call = make_call(
        ("agent", "May I have your full name?"),
        ("caller", "jessica smith"),
        ("agent", "So that's S-M-Y-T-H?"),
        ("caller", "yes"),
    )
    assert names(call)["last_name"][0] == "Smyth"


def test_hyphenated_first_name() -> None:
    call = make_call(
        ("agent", "What's your name?"), ("caller", "mary kate quinn its mary dash kate like with a hyphen")
    )
    assert names(call)["first_name"][0] == "Mary-Kate"
    assert names(call)["full_name"][0] == "Mary-Kate Quinn"


def test_caller_correction_wins_and_superseded_is_kept() -> None:
    call = make_call(
        ("agent", "What's your name?"),
        ("caller", "john smith"),
        ("agent", "Thanks, John."),
        ("caller", "sorry my name is actually jon smythe"),
    )
    fields = extract_names(call)
    assert fields["full_name"].value == "Jon Smythe"
    assert [v for v, _ in fields["full_name"].superseded] == ["John Smith"]
    assert [v for v, _ in fields["last_name"].superseded] == ["Smith"]


def test_refusing_a_name_gives_no_name() -> None:
    call = make_call(
        ("agent", "Can I start with your name?"),
        ("caller", "i dont want to give my name i just want to know if you take it"),
        ("agent", "I understand."),
        ("caller", "this is ridiculous i just asked a simple question"),
    )
    assert names(call) == {}


def test_im_followed_by_a_verb_is_not_a_name() -> None:
    call = make_call(("agent", "How can I help?"), ("caller", "hi im shopping around for car insurance"))
    assert names(call) == {}
    call = make_call(("agent", "How can I help?"), ("caller", "hi im locked out of my account"))
    assert names(call) == {}


def test_third_party_is_not_the_caller() -> None:
    call = make_call(("agent", "Who's calling?"), ("caller", "this is johns wife"))
    assert names(call) == {}


def test_surname_particles_make_a_two_part_name() -> None:
    call = make_call(("agent", "What's your name?"), ("caller", "maria de la cruz"))
    assert names(call) == {
        "first_name": ("Maria", A),
        "last_name": ("De La Cruz", A),
        "full_name": ("Maria De La Cruz", A),
    }


def test_three_plain_words_are_read_but_not_accepted() -> None:
    call = make_call(("agent", "What's your name?"), ("caller", "mary ann stokes"))
    fields = extract_names(call)
    assert fields["full_name"].value == "Mary Ann Stokes"
    assert all(fv.status is R for fv in fields.values())


def test_agent_saying_a_double_first_name_settles_where_the_name_splits() -> None:
    call = make_call(
        ("agent", "What's your name?"), ("caller", "yeah its mary ann stokes"), ("agent", "Thanks, Mary Ann.")
    )
    assert names(call) == {
        "first_name": ("Mary Ann", A),
        "last_name": ("Stokes", A),
        "full_name": ("Mary Ann Stokes", A),
    }


def test_title_case_of_names() -> None:
    assert title("mcgrath") == "McGrath"
    assert title("mary-kate") == "Mary-Kate"
    assert title("o'brien") == "O'Brien"


# -- company --------------------------------------------------------------------------------------


def company(call: CallRecord) -> FieldValue | None:
    return extract_company(call)


def test_role_at_company() -> None:
    call = make_call(
        ("agent", "Who am I speaking with?"),
        ("caller", "kevin odonnell im the controller at tallgrass freight"),
    )
    fv = company(call)
    assert fv is not None and (fv.value, fv.status) == ("Tallgrass Freight", A)
    assert said(call, fv.evidence) == [(1, "tallgrass freight")]


def test_i_work_at() -> None:
    fv = company(make_call(("agent", "Hi"), ("caller", "i work at northwind traders and we need a quote")))
    assert fv is not None and fv.value == "Northwind Traders"


def test_from_after_a_self_introduction() -> None:
    fv = company(make_call(("agent", "Who is this?"), ("caller", "hi its dana whitfield from northwind")))
    assert fv is not None and (fv.value, fv.status) == ("Northwind", A)


def test_bare_answer_to_the_company_question() -> None:
    fv = company(make_call(("agent", "Thanks. And the company name?"), ("caller", "walsh landscaping")))
    assert fv is not None and (fv.value, fv.status) == ("Walsh Landscaping", A)
    fv = company(
        make_call(("agent", "What's the business called?"), ("caller", "um its called sunny side bakery"))
    )
    assert fv is not None and fv.value == "Sunny Side Bakery"


def test_agents_company_is_not_the_callers() -> None:
    call = make_call(
        ("agent", "Hi, this is Jamie calling from TalentBridge Staffing. I work at TalentBridge."),
        ("caller", "ok"),
    )
    assert company(call) is None


def test_a_generic_workplace_is_not_a_company() -> None:
    assert (
        company(make_call(("agent", "Role?"), ("caller", "im a shift lead at a distribution center"))) is None
    )
    assert company(make_call(("agent", "Hi"), ("caller", "i work from home mostly"))) is None
    assert company(make_call(("agent", "Hi"), ("caller", "i own the house on maple street"))) is None


def test_unsure_company_phrases_need_review() -> None:
    fv = company(make_call(("agent", "Hi"), ("caller", "hi im the manager for the account and i need help")))
    assert fv is not None and fv.status is R
    fv = company(make_call(("agent", "Hi"), ("caller", "im calling from state farm about a claim")))
    assert fv is not None and fv.status is R


def test_its_followed_by_digits_or_a_state_is_not_a_name() -> None:
    call = make_call(
        ("agent", "Is there a good number in case we need to follow up?"),
        ("caller", "sure its plus four four two oh seven nine four six oh one two three"),
    )
    assert names(call) == {}
    assert names(make_call(("agent", "How can I help?"), ("caller", "yeah its leaking everywhere"))) == {}


def test_its_name_from_company_is_an_introduction() -> None:
    call = make_call(
        ("agent", "Hi, this is Rob."),
        ("caller", "hey its tom from acme plumbing supply calling about the invoice"),
        ("agent", "Sure Tom, what's the invoice number?"),
    )
    assert names(call)["full_name"] == ("Tom", A)
    fv = company(call)
    assert fv is not None and fv.value == "Acme Plumbing Supply"


def test_a_weak_disagreeing_reading_does_not_undo_a_confirmed_name() -> None:
    call = make_call(
        ("agent", "I found an account for chloe.b@veridianhealth.org. Is that you, Chloe?"),
        ("caller", "yes chloe bernstein"),
        ("agent", "Thanks, Chloe. Anything else?"),
        ("caller", "im sam by the way no wait"),
    )
    assert names(call)["full_name"] == ("Chloe Bernstein", A)


def test_name_before_a_glued_email_in_the_same_turn_is_still_read() -> None:
    call = make_call(
        ("agent", "What's your name and email?"), ("caller", "brendan walsh b walsh at gmail dot com")
    )
    assert names(call)["full_name"] == ("Brendan Walsh", A)
    call = make_call(("agent", "What's your email?"), ("caller", "its john at smithco dot net"))
    assert names(call) == {}


def test_with_an_h_guesses_where_the_letter_goes_and_waits_for_the_agent() -> None:
    guessed = make_call(("agent", "What's your full name?"), ("caller", "sara kim thats sara with an h"))
    assert names(guessed)["first_name"] == ("Sarah", R)
    written_back = make_call(
        ("agent", "What's your full name?"),
        ("caller", "sara kim thats sara with an h"),
        ("agent", "Thank you, Sarah. What's the amount?"),
    )
    assert names(written_back)["full_name"] == ("Sarah Kim", A)


def test_a_repeated_name_before_a_spelling_note_is_not_a_third_name() -> None:
    call = make_call(
        ("agent", "Can I get your name?"),
        ("caller", "its jon fairbanks jon with an h"),
        ("agent", "Thanks, John."),
    )
    assert names(call)["full_name"] == ("John Fairbanks", A)


def test_nickname_of_the_name_the_agent_asked_about_confirms_the_full_first_name() -> None:
    call = make_call(
        ("agent", "Hi, this is Mia from Sunrise Dental. Is this Robert?"),
        ("caller", "yeah this is rob um can we move that"),
        direction="outbound",
    )
    assert names(call)["first_name"] == ("Robert", A)


def test_agent_calling_the_caller_something_else_offers_its_name_for_review_over_ours() -> None:
    call = make_call(
        ("agent", "What's your name?"),
        ("caller", "katelyn ma"),
        ("agent", "Thank you, Caitlin. What do you pay now?"),
    )
    assert names(call)["first_name"] == ("Caitlin", R)
    fv = extract_names(call)["first_name"]
    assert [value for value, _ in fv.superseded] == ["Katelyn"]


def test_spell_that_after_the_name_spells_its_parts_in_order() -> None:
    call = make_call(
        ("agent", "What's your name?"),
        ("caller", "katelyn ma"),
        ("agent", "Could you spell that for me?"),
        ("caller", "c a i t l i n and last name m a"),
        ("agent", "Thank you, Caitlin."),
    )
    assert names(call)["full_name"] == ("Caitlin Ma", A)


def test_letters_that_spell_an_email_are_not_the_name() -> None:
    call = make_call(
        ("agent", "Who am I speaking with?"),
        ("caller", "hi yeah this is omar siddiqui from brightwater health"),
        ("agent", "What email should I send the invite to?"),
        ("caller", "o siddiqui at b w health dot org thats o s i d d i q u i"),
    )
    assert names(call)["last_name"] == ("Siddiqui", A)


def test_filler_restart_reads_the_whole_name_and_an_unread_last_word_holds_the_full_name() -> None:
    restart = make_call(
        ("agent", "Can I get your name?"),
        ("caller", "yeah its uh its mike um mike sorensen"),
        ("agent", "Thanks, Mike."),
    )
    assert names(restart)["full_name"] == ("Mike Sorensen", A)
    unread = make_call(
        ("agent", "Can I get your name?"), ("caller", "its andre little"), ("agent", "Thanks, Andre.")
    )
    got = names(unread)
    assert got["first_name"] == ("Andre", A) and got["full_name"] == ("Andre", R)


def test_a_third_partys_name_is_not_the_callers() -> None:
    call = make_call(
        ("agent", "Do you know your neighbor's name or unit?"),
        ("caller", "its unit five i think his name is steve"),
    )
    assert names(call) == {}


def test_booking_kept_under_a_surname() -> None:
    call = make_call(
        ("agent", "Can I get the name on the booking?"),
        ("caller", "its under okafor o k a f o r"),
        ("agent", "Thank you, Mr. Okafor."),
    )
    assert names(call) == {"last_name": ("Okafor", A), "full_name": ("Okafor", A)}
