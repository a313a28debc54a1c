"""The caller's email address, from spoken ("jane dot doe at g mail dot com") or written forms.

Emails are an identity key (stage 5 matches CRM records on them), so an address whose words could be read
more than one way ("wei chen at outlook dot com": weichen? wei.chen? chen?) waits for review unless the
agent's read-back settles it.
"""

from __future__ import annotations

import re
from dataclasses import replace

from callsync.capture.extract.dialogue import (
    Mention,
    Reaction,
    ReadBack,
    agent_owns,
    agent_turn_before,
    caller_turns,
    classify_reaction,
    has_correction_marker,
    read_back,
    resolve,
    review_reason,
)
from callsync.capture.extract.spoken import SpokenEmail, find_emails, is_valid_email
from callsync.capture.extract.thresholds import status_for
from callsync.models import CallRecord, Evidence, FieldStatus, FieldValue, Speaker

EXTRACTOR = "email@1"

WRITTEN_BASE = 0.85  # the transcript already shows x@y.z: only the ASR could have got it wrong
SPOKEN_BASE = 0.82  # said in words, one unambiguous reading, when an email was asked for or announced
UNPROMPTED_BASE = 0.60  # "x at y dot com" with no talk of email: "i saw it at realtor dot com" reads the same
GLUED_BASE = 0.55  # whole words glued with nothing said between them: which ones are the address is a guess
# (also a spaced dash inside the domain, "acme – corp": hyphen or pause is a guess, and each names a domain)
NO_TLD_PENALTY = 0.05  # "at gmail" completed to gmail.com
DERIVED_BASE = 0.80  # "no, no dot": the caller's fix applied to the agent's read-back

# The agent asked for an email, or the caller announced one ("my email is", "send it to", "reach me at").
_EMAIL_CONTEXT = re.compile(
    r"\b(e-?mails?|e mail|mail|address|send|reach me|contact me|write to)\b", re.IGNORECASE
)

# A denial that says how to fix the read-back rather than repeating the address.
_FIXES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b(no|without( the| a)?) (dots?|periods?)\b|\ball (one word|together)\b", re.I), "."),
    (re.compile(r"\b(no|without( an?)?) underscores?\b", re.I), "_"),
    (re.compile(r"\b(no|without( an?)?) (dash(es)?|hyphens?)\b", re.I), "-"),
)


def extract_email(call: CallRecord) -> FieldValue | None:
    resolved = resolve(email_events(call))
    if resolved is None:
        return None
    status = status_for("email", resolved.confidence)
    reason = review_reason(resolved) if status is FieldStatus.NEEDS_REVIEW else None
    return FieldValue(
        value=resolved.value,
        confidence=resolved.confidence,
        evidence=resolved.evidence,
        extractor=EXTRACTOR,
        status=status,
        reason=reason,
        superseded=tuple((v, ev) for v, ev in resolved.superseded),
    )


def email_events(call: CallRecord) -> list[Mention | ReadBack]:
    events: list[Mention | ReadBack] = []
    callers = set(caller_turns(call))
    for i, turn in enumerate(call.turns):
        if turn.speaker is Speaker.CALLER:
            if i in callers:
                events.extend(_caller_mentions(call, i))
            continue
        for email in find_emails(turn.text):
            if agent_owns(turn.text, email.start):
                continue
            rb = read_back(call, i, email.value, email.start, email.end, asked_for=_asks_for_email)
            if rb.reaction is Reaction.DENY:
                rb = replace(rb, derived=_derived_fix(call, i + 1, email.value, rb.evidence))
            events.append(rb)
    return events


def _asks_for_email(question: str) -> bool:
    """Does the agent's closing sentence ask for the caller's email, or read one back to check it?"""
    return "@" in question or _EMAIL_WORD.search(question) is not None


_EMAIL_WORD = re.compile(r"\be-?mail\b|\be mail\b", re.IGNORECASE)


def _caller_mentions(call: CallRecord, i: int) -> list[Mention]:
    text = call.turns[i].text
    emails = find_emails(text)
    if not emails:
        return []
    # A reply to an agent turn that opens with "no" corrects whatever the agent said.
    denies = (
        i > 0 and call.turns[i - 1].speaker is Speaker.AGENT and classify_reaction(text)[0] is Reaction.DENY
    )
    asked = agent_turn_before(call, i)
    question = call.turns[asked].text if asked is not None else ""
    out: list[Mention] = []
    previous_end = 0
    for email in emails:
        prompted = _EMAIL_CONTEXT.search(question + " " + text[: email.start]) is not None
        corrects = denies or has_correction_marker(text, previous_end, email.start)
        out.append(
            Mention(
                email.value,
                _base_confidence(email, prompted),
                (Evidence(i, email.start, email.end),),
                i,
                corrects=corrects,
                alternatives=tuple(r.value for r in email.readings)
                if email.glued or email.dash_guessed
                else (),
            )
        )
        previous_end = email.end
    return out


def _base_confidence(email: SpokenEmail, prompted: bool) -> float:
    if email.written:
        base = WRITTEN_BASE
    elif email.glued or email.dash_guessed:
        base = GLUED_BASE
    else:
        base = SPOKEN_BASE - (0 if email.tld_spoken else NO_TLD_PENALTY)
    return base if prompted else min(base, UNPROMPTED_BASE)


def _derived_fix(call: CallRecord, reply: int, read_back: str, read_back_ev: Evidence) -> Mention | None:
    """ "no no dot, just n okafor": the read-back with the separator the caller rejected removed."""
    if reply >= len(call.turns):
        return None
    text = call.turns[reply].text
    if find_emails(text):
        return None  # the caller repeated the whole address; that mention speaks for itself
    local, domain = read_back.split("@", 1)
    for pattern, separator in _FIXES:
        m = pattern.search(text)
        if m and separator in local:
            fixed = f"{local.replace(separator, '')}@{domain}"
            if is_valid_email(fixed):
                evidence = (read_back_ev, Evidence(reply, m.start(), m.end()))
                return Mention(fixed, DERIVED_BASE, evidence, reply, corrects=True)
    return None
