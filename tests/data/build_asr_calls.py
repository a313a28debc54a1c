"""Builds tests/data/frozen-asr-calls.jsonl: calls whose caller turns are REAL speech-recognizer output.

    .venv/bin/pip install -e '.[asr]'          # pocketsphinx (its US English model ships in the wheel)
    apt-get install -y flite sox               # text-to-speech and the telephone channel
    .venv/bin/python tests/data/build_asr_calls.py > tests/data/frozen-asr-calls.jsonl

Every caller turn is spoken by a text-to-speech voice, sent through a telephone channel and transcribed by
an offline recognizer; the recognizer's words (lower case, no punctuation) become the turn's `text` and
its word list (`words: [{"word", "start", "end", "confidence"}]`, the per-word posterior probability) is
kept on the turn, as a voice platform passes it on. Agent turns are kept as written: on an AI phone call
the agent's words are the bot's own text, never recognized. The gold is what the caller truly said (the
script), never what the recognizer heard: the honest real-world measure. The scripts and their gold were
all written before any extraction output on them was looked at.

Two kinds of script (README.md, "The ASR held-out set"):

- `corpus`: calls of `frozen-calls.jsonl` (public corpora; licences in README.md) with their hand-read
  gold: all 43 hand-read calls (Taskmaster-1/2/3, MultiWOZ, ABCD), every 9th CamRest676 call and every
  12th WOZ 2.0 call (restaurant searches where every number and address is the agent's);
- `template`: contact calls generated here from a seeded RNG: a name from the US Census Bureau's most
  common first names and surnames (public domain, written out below), a phone read as digits (fictional
  555-01xx lines), an email said and spelled, a company, a job title, an amount, a date and time booking,
  with self-corrections, corrected read-backs, declined offers, a business's own number read by the agent,
  callbacks, complaints.

The pipeline, per caller turn (all deterministic: no dither, seeded noise, a deterministic decoder):

1. TTS: flite 2.2 (Debian package; voices slt, rms, awb, kal16, duration stretch 0.9, 1.0 or 1.1), one
   voice and speed per call. espeak-ng 1.51 was tried and dropped: its formant voices gave the recognizer
   a word error rate of 0.87-0.99 through this channel (0.49-0.88 even on clean audio), text nobody would
   ship; flite's voices gave 0.14-0.57 through the channel (0.08-0.11 clean) on the same five sentences.
2. Telephone channel (sox 14.4.2 and Python): resampled to 8 kHz, band-limited 300-3400 Hz (sox `sinc`),
   normalised to -6 dBFS, white Gaussian noise added at 30, 35 or 40 dB SNR (one per call, seeded), then
   G.711 mu-law encoded and decoded (sox), and resampled to 16 kHz for the recognizer (its model is
   wideband; narrowband audio is upsampled, as one does with a wideband model on phone audio).
3. Recognizer: pocketsphinx 5.1.1 (PyPI), its bundled en-us model, dictionary and 3-gram language model,
   default search plus `bestpath`; a word's `confidence` is its lattice posterior (Segment.prob, clamped
   to 0..1); fillers (`<s>`, `<sil>`, `[NOISE]`, ...) are dropped and pronunciation variants ("the(2)")
   folded. A caller turn the recognizer hears nothing in is dropped, as platforms drop empty turns.

Turn times: a caller turn lasts as long as its audio; an agent turn 0.4 s a word; 0.5 s between turns.
`--limit N` builds only the first N calls (for a timing run); stderr gets the word error rate (caller
words, recognizer text against the script, both normalised) and CPU time at the end.
"""

from __future__ import annotations

import argparse
import array
import json
import math
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
FROZEN = HERE / "frozen-calls.jsonl"
SEED = 20260302
SPLIT = "frozen_asr"
TEMPLATES = 80  # template calls in the committed file
# The DEV set (`--dev`, tuned on, never held out): the labelled calls' tuned-on splits and template calls from
# another seed whose names come from another pool, so nothing fitted on it has seen the frozen calls' names.
LABELLED = HERE / "labelled-calls.jsonl"
TUNED_SPLITS = ("dev", "own")
DEV_SEED = 20261205
DEV_SPLIT = "dev_asr"
DEV_TEMPLATES = 80
TASK_CALLS = HERE / "dev-task-calls.jsonl"
TASK_SEED = 20261207
TASK_SPLIT = "dev_task_asr"
TASK_STEP = 2  # every 2nd call of dev-task-calls.jsonl is spoken
FROZEN_TASK_CALLS = HERE / "frozen-task-calls.jsonl"
FROZEN_TASK_SEED = 20261208
FROZEN_TASK_SPLIT = "frozen_task_asr"
RATE = 8000  # the telephone channel
ASR_RATE = 16000  # the recognizer's model
AGENT_SECONDS_PER_WORD = 0.4
GAP = 0.5

FLITE_VOICES = ("slt", "rms", "awb", "kal16")
FLITE_STRETCH = (0.9, 1.0, 1.1)
SNR_DB = (30, 35, 40)  # over the whole turn, pauses included; 20 dB left the female voice unintelligible

# US Census Bureau: most common first names (1990 census) and surnames (2010 census). Public domain.
FIRST_NAMES = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
    "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Charles", "Karen",
    "Christopher", "Lisa", "Daniel", "Nancy", "Matthew", "Betty", "Anthony", "Margaret", "Mark", "Sandra",
    "Donald", "Ashley", "Steven", "Kimberly", "Paul", "Emily", "Andrew", "Donna", "Joshua", "Michelle",
    "Kevin", "Carol", "Brian", "Amanda", "George", "Melissa", "Edward", "Deborah", "Ronald", "Stephanie",
    "Timothy", "Rebecca", "Jason", "Laura", "Jeffrey", "Helen", "Ryan", "Sharon", "Gary", "Cynthia",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
    "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
    "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores",
    "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts",
)  # fmt: skip
# The dev templates' names: further common US first names and surnames, none of them in the lists above.
DEV_FIRST_NAMES = (
    "Larry", "Dorothy", "Frank", "Amy", "Scott", "Angela", "Eric", "Shirley", "Stephen", "Anna",
    "Raymond", "Brenda", "Gregory", "Pamela", "Jerry", "Nicole", "Dennis", "Ruth", "Walter", "Katherine",
    "Patrick", "Samantha", "Peter", "Christine", "Harold", "Catherine", "Douglas", "Virginia", "Henry",
    "Rachel", "Carl", "Janet", "Arthur", "Maria", "Roger", "Heather", "Juan", "Diane", "Jack", "Julie",
)  # fmt: skip
DEV_LAST_NAMES = (
    "Gomez", "Phillips", "Evans", "Turner", "Diaz", "Parker", "Cruz", "Edwards", "Collins", "Reyes",
    "Stewart", "Morris", "Morales", "Murphy", "Cook", "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper",
    "Peterson", "Bailey", "Reed", "Kelly", "Howard", "Ramos", "Kim", "Cox", "Ward", "Richardson",
    "Watson", "Brooks", "Chavez", "Wood", "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes", "Price",
)  # fmt: skip
COMPANY_FIRST = (
    "Blue Ridge", "Brightline", "Cedar", "Granite", "Keystone", "Lakeside", "Maple", "Northstar",
    "Pinecrest", "Riverbend", "Silverline", "Westfield", "Oakmont", "Ironwood", "Sunrise", "Copperfield",
)  # fmt: skip
COMPANY_LAST = (
    "Logistics", "Construction", "Marketing", "Solutions", "Landscaping", "Roofing", "Consulting",
    "Electric", "Properties", "Foods", "Design", "Manufacturing", "Partners", "Builders",
)  # fmt: skip
TITLES = ("office manager", "operations manager", "owner", "purchasing manager", "facilities director")
AREA_CODES = ("312", "415", "602", "512", "617", "206", "303", "404", "713", "214", "646", "305", "720")
FREE_MAIL = ("gmail", "yahoo", "outlook")
# The agent side: (business, what it books or sells). Its number is read out on some calls.
BUSINESSES = (
    ("Northgate Plumbing", "a plumber"),
    ("Summit Heating and Air", "a technician"),
    ("Lakeview Dental", "a cleaning"),
    ("Redwood Realty", "a showing"),
    ("Clearpoint Roofing", "an estimate"),
    ("Evergreen Landscaping", "a consultation"),
)

ONES = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
)  # fmt: skip
TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
ORDINALS = {
    1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", 6: "sixth", 7: "seventh", 8: "eighth",
    9: "ninth", 10: "tenth", 11: "eleventh", 12: "twelfth", 13: "thirteenth", 14: "fourteenth",
    15: "fifteenth", 16: "sixteenth", 17: "seventeenth", 18: "eighteenth", 19: "nineteenth",
    20: "twentieth", 21: "twenty first", 22: "twenty second", 23: "twenty third", 24: "twenty fourth",
    25: "twenty fifth", 26: "twenty sixth", 27: "twenty seventh", 28: "twenty eighth", 29: "twenty ninth",
    30: "thirtieth", 31: "thirty first",
}  # fmt: skip
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December")  # fmt: skip


# -- scripts --------------------------------------------------------------------------------------------


@dataclass
class Script:
    call_id: str
    turns: list[tuple[str, str]]  # (speaker, text as said)
    gold: dict[str, Any]
    source: str
    started_at: str
    timezone: str
    region: str = "US"
    from_number: str = "+13125550100"
    to_number: str = "+13125550199"
    extra: dict[str, Any] = field(default_factory=dict)  # top-level keys kept as they are (`analysis`)
    kind: str = "corpus"  # or "template": the word error rate is reported per kind


def gold_of(intent: str, outcome: str, sentiment: str = "neutral", **fields: Any) -> dict[str, Any]:
    gold: dict[str, Any] = {
        "full_name": None,
        "first_name": None,
        "last_name": None,
        "email": None,
        "phone": None,
        "company": None,
        "job_title": None,
        "amount": None,
        "currency": None,
        "date": None,
        "time": None,
        "planted": [],
    }
    gold.update(fields)
    if gold["amount"] is not None and gold["currency"] is None:
        gold["currency"] = "USD"
    if gold["full_name"] is None and (gold["first_name"] or gold["last_name"]):
        gold["full_name"] = " ".join(p for p in (gold["first_name"], gold["last_name"]) if p)
    gold.update(intent=intent, outcome=outcome, sentiment=sentiment)
    return gold


def number_words(n: int) -> str:
    if n < 20:
        return ONES[n]
    if n < 100:
        return TENS[n // 10] + ("" if n % 10 == 0 else " " + ONES[n % 10])
    if n < 1000:
        rest = n % 100
        return ONES[n // 100] + " hundred" + ("" if rest == 0 else " " + number_words(rest))
    rest = n % 1000
    return number_words(n // 1000) + " thousand" + ("" if rest == 0 else " " + number_words(rest))


def amount_words(n: int, rng: random.Random) -> str:
    """An amount as a caller says it: 'twelve hundred' for 1200 half the time, else the plain reading."""
    if 1100 <= n < 10000 and n % 100 == 0 and n % 1000 != 0 and rng.random() < 0.5:
        return number_words(n // 100) + " hundred"
    return number_words(n)


def digit_words(digits: str, rng: random.Random) -> str:
    zero = "oh" if rng.random() < 0.6 else "zero"
    return " ".join(zero if d == "0" else ONES[int(d)] for d in digits)


def phone_said(national: str, rng: random.Random) -> str:
    return ", ".join(digit_words(part, rng) for part in (national[:3], national[3:6], national[6:]))


def phone_written(national: str) -> str:
    return f"{national[:3]}-{national[3:6]}-{national[6:]}"


def time_said(h: int, m: int, rng: random.Random) -> str:
    hour = ONES[h % 12 or 12]
    mins = "" if m == 0 else " " + ("oh five" if m == 5 else number_words(m))
    if m == 0 and rng.random() < 0.4:
        mins = " o'clock"
    if rng.random() < 0.5:
        return f"{hour}{mins} {'a m' if h < 12 else 'p m'}"
    return f"{hour}{mins} in the {'morning' if h < 12 else 'afternoon'}"


def time_written(h: int, m: int) -> str:
    return f"{h % 12 or 12}:{m:02d} {'AM' if h < 12 else 'PM'}"


def date_said(d: date) -> str:
    return f"{WEEKDAYS[d.weekday()]}, {MONTHS[d.month - 1]} {ORDINALS[d.day]}"


def date_written(d: date) -> str:
    return f"{WEEKDAYS[d.weekday()]}, {MONTHS[d.month - 1]} {d.day}"


def spelled(word: str) -> str:
    return " ".join(word.lower())


def business_slot(rng: random.Random) -> tuple[int, int]:
    return rng.choice((8, 9, 10, 11, 13, 14, 15, 16)), rng.choice((0, 0, 15, 30, 45))


@dataclass(frozen=True)
class Pool:
    """What a template call is drawn from: the frozen set's, or the dev set's (other seed, other names)."""

    seed: int
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    prefix: str  # call ids are f"{prefix}{n:03d}"


FROZEN_POOL = Pool(SEED, FIRST_NAMES, LAST_NAMES, "asr-tpl-")
DEV_POOL = Pool(DEV_SEED, DEV_FIRST_NAMES, DEV_LAST_NAMES, "asr-dev-tpl-")


def template_call(n: int, rng: random.Random, pool: Pool = FROZEN_POOL) -> Script:
    """One contact call. Every gold value is set from what the caller says (or confirms), by construction."""
    first, last = rng.choice(pool.first_names), rng.choice(pool.last_names)
    company = f"{rng.choice(COMPANY_FIRST)} {rng.choice(COMPANY_LAST)}"
    business, booked_thing = rng.choice(BUSINESSES)
    agent_name = rng.choice(("Ava", "Sam", "Maya", "Leo"))
    area = rng.choice(AREA_CODES)
    national = f"{area}555{rng.randrange(100, 200):04d}"
    business_phone = f"{rng.choice(AREA_CODES)}55501{rng.randrange(100):02d}"
    day0 = date(2026, 3, 2) + timedelta(days=rng.randrange(5))  # Monday 2 March .. Friday 6 March 2026
    hour_utc = rng.choice((15, 16, 17, 18, 19, 20))
    started = datetime(day0.year, day0.month, day0.day, hour_utc, rng.randrange(60)).strftime(
        "%Y-%m-%dT%H:%M:00Z"
    )
    zone = "America/Chicago"  # UTC-6 until 8 March: every call's local date is day0
    kind = rng.choices(("booking", "sales", "support", "complaint", "inquiry"), weights=(35, 25, 15, 15, 10))[
        0
    ]
    with_company = (kind in ("sales", "booking") and rng.random() < 0.7) or (
        kind == "support" and rng.random() < 0.3
    )
    with_title = with_company and rng.random() < 0.35
    with_email = rng.random() < 0.7
    readback = rng.random() < 0.5  # the agent reads values back (the caller confirms)
    t: list[tuple[str, str]] = []
    fields: dict[str, Any] = {}

    def say(speaker: str, text: str) -> None:
        if t and t[-1][0] == speaker:  # one speaker's consecutive sentences are one turn
            t[-1] = (speaker, f"{t[-1][1]} {text}")
        else:
            t.append((speaker, text))

    def agent(text: str) -> None:
        say("agent", text)

    def caller(text: str) -> None:
        say("caller", text)

    agent(f"Thank you for calling {business}, this is {agent_name}. How can I help you today?")
    # Who is calling.
    if with_title:
        title = rng.choice(TITLES)
        caller(f"Hi, this is {first} {last}, I'm the {title} at {company}.")
        fields["job_title"] = title
    elif with_company:
        caller(f"Hi, this is {first} {last} from {company}.")
    else:
        caller(f"Hi there, my name is {first} {last}.")
    if with_company:
        fields["company"] = company
    purpose = {
        "booking": f"I'd like to set up {booked_thing}, if you have anything next week.",
        "sales": "I'm looking to get a quote for some work at our office.",
        "support": "I have a question about the bill I got last month.",
        "complaint": "Somebody was supposed to come out on Friday and nobody showed up. I took the day off for this.",
        "inquiry": "I just had a quick question about your prices.",
    }[kind]
    caller(purpose)
    fields.update(first_name=first, last_name=last)
    if rng.random() < 0.35:  # a spelled surname, as callers do for the record
        agent("Could you spell your last name for me?")
        caller(f"Sure, it's {last}, {spelled(last)}.")
    # The phone, read as digits: a self-correction, a corrected read-back, or plain.
    agent(
        "Sure, I can help with that. What's the best phone number to reach you?"
        if kind != "complaint"
        else "I am so sorry about that. Let me pull up your account. What's your phone number?"
    )
    style = rng.random()
    if style < 0.2:
        wrong = national[:6] + f"{(int(national[6:]) + 37) % 10000:04d}"
        caller(
            f"It's {phone_said(wrong, rng)}, sorry, no, the last four are {digit_words(national[6:], rng)}."
        )
    else:
        caller(f"It's {phone_said(national, rng)}.")
    if readback and style < 0.45:
        misread = national[:9] + str((int(national[9]) + 3) % 10)
        agent(f"Let me read that back: {phone_written(misread)}?")
        caller(f"No, the last digit is {digit_words(national[9], rng)}. {phone_said(national, rng)}.")
        agent(f"Got it, {phone_written(national)}.")
    elif readback:
        agent(f"That's {phone_written(national)}, correct?")
        caller(rng.choice(("Yes, that's right.", "Yep, that's it.", "Correct.")))
    fields["phone"] = "+1" + national
    # The email, said and spelled.
    if with_email:
        if with_company and rng.random() < 0.5:
            parts = [first.lower()]
            domain_said = company.lower() + " dot com, all one word"
            domain = company.lower().replace(" ", "") + ".com"
        else:
            parts = rng.choice(([first, ".", last], [first[0], last], [first, last[0]]))
            parts = [p.lower() for p in parts]
            provider = rng.choice(FREE_MAIL)
            domain_said = f"{provider} dot com"
            domain = f"{provider}.com"
        agent("And what's a good email address for you?")
        local = "".join(parts)
        local_said = " ".join("dot" if p == "." else p for p in parts)
        spelling = " ".join("dot" if p == "." else spelled(p) for p in parts)
        caller(f"It's {local_said} at {domain_said}. That's {spelling}.")
        if readback:
            agent(f"So that's {local}@{domain}?")
            caller("Yes.")
        fields["email"] = f"{local}@{domain}"
    # An amount the caller states.
    if kind in ("sales", "support", "complaint") or rng.random() < 0.3:
        amount = rng.choice(
            {
                "sales": (1500, 2400, 4500, 7500, 12000, 25000),
                "support": (120, 350, 480, 850, 1200),
                "complaint": (150, 240, 350, 480),
            }.get(kind, (500, 1000, 1500, 3000))
        )
        said = amount_words(amount, rng)
        agent(
            {
                "sales": "Do you have a budget in mind?",
                "support": "What's the amount in question?",
                "complaint": "What did you pay for the visit?",
            }.get(kind, "Is there anything else I should note?")
        )
        caller(
            {
                "sales": f"We're thinking around {said} dollars for the whole job.",
                "support": f"The invoice says {said} dollars, and I can pay it today.",
                "complaint": f"I paid {said} dollars up front.",
            }.get(kind, f"Just that my budget is about {said} dollars.")
        )
        fields["amount"] = amount
        if kind == "sales" and rng.random() < 0.4:
            agent(f"Our standard package starts at {number_words(amount * 2)} dollars, just so you know.")
            caller("Okay, I'll keep my budget in mind.")
    # A booking (date and time), with a changed time or a declined offer now and then.
    outcome = {"booking": "appointment_booked", "sales": "resolved", "support": "resolved"}.get(
        kind, "resolved"
    )
    sentiment = "frustrated" if kind == "complaint" else "neutral"
    if kind == "inquiry":
        agent(
            "Our service call fee is eighty nine dollars, and the first hour is included."
        )  # agent-only price
    books = (
        kind == "booking"
        or (kind == "complaint" and rng.random() < 0.5)
        or (kind == "sales" and rng.random() < 0.4)
    )
    if books:
        slot = day0 + timedelta(days=rng.randrange(3, 12))
        while slot.weekday() == 6:
            slot += timedelta(days=1)
        h, m = business_slot(rng)
        agent(
            "When would be a good time for us to come out?"
            if kind != "booking"
            else "What day works for you?"
        )
        caller(f"Could you do {date_said(slot)}, at {time_said(h, m, rng)}?")
        twist = rng.random()
        if twist < 0.25:  # the agent cannot, offers another time, the caller takes it
            h2 = h + 1 if h != 16 else 15
            agent(f"I don't have {time_written(h, m)} that day, but I could do {time_written(h2, 0)}.")
            caller(f"{time_said(h2, 0, rng).capitalize()} works.")
            h, m = h2, 0
        elif twist < 0.45:  # the caller changes the time
            h2, m2 = business_slot(rng)
            while (h2, m2) == (h, m):
                h2, m2 = business_slot(rng)
            caller(f"Actually, sorry, make that {time_said(h2, m2, rng)} instead.")
            h, m = h2, m2
        agent(f"Great, you're booked for {date_written(slot)} at {time_written(h, m)}.")
        fields.update(date=slot.isoformat(), time=f"{h:02d}:{m:02d}")
        outcome = "appointment_booked"
        if kind == "sales":
            kind = "booking"  # the call ends up arranging a visit (dev-calls README: booking)
    elif kind == "complaint":  # a callback arranged for today: the call's date, no time (README: callbacks)
        agent("I'm going to have a manager call you back this afternoon to make this right.")
        fields["date"] = day0.isoformat()
        outcome = "callback_scheduled"
    elif kind == "sales":
        agent("I'll put a quote together and email it to you today.")
    if rng.random() < 0.3:  # the business's own number: never the caller's
        agent(f"If anything changes, you can reach us directly at {phone_written(business_phone)}.")
        caller("Okay, thanks.")
    if sentiment == "frustrated":
        caller("Honestly this is really frustrating, I've called three times already.")
        agent("I completely understand, and I apologize.")
    elif rng.random() < 0.2:
        caller("That's wonderful, you've been super helpful, thank you so much!")
        sentiment = "positive"
    else:
        caller("Okay, thank you.")
    agent(
        f"Thank you for your patience, {first}."
        if sentiment == "frustrated"
        else f"You're welcome, {first}. Have a great day."
    )
    gold = gold_of(kind, outcome, sentiment, **fields)
    caller_id = "+1" + (
        national if rng.random() < 0.5 else f"{rng.choice(AREA_CODES)}55501{rng.randrange(100):02d}"
    )
    return Script(
        call_id=f"{pool.prefix}{n:03d}",
        turns=t,
        gold=gold,
        source=f"template {n} (seed {pool.seed})",
        started_at=started,
        timezone=zone,
        from_number=caller_id,
        to_number="+1" + business_phone,
        kind="template",
    )


def row_script(row: dict[str, Any], source: str, **kept: Any) -> Script:
    """The script of one call JSON row: its turns as said, its gold and its start; `kept` overrides fields."""
    fields: dict[str, Any] = {
        "call_id": "asr-" + row["call_id"],
        "turns": [(t["speaker"], t["text"]) for t in row["turns"]],
        "gold": row["gold"],
        "source": source,
        "started_at": row["started_at"],
        "timezone": row["timezone"],
        "region": row.get("region", "US"),
        "from_number": row.get("from"),
        "to_number": row.get("to"),
    }
    fields.update(kept)
    return Script(**fields)


def corpus_scripts() -> list[Script]:
    """The caller and agent turns of frozen-calls.jsonl's calls, with their gold (written when it was frozen)."""
    rows = [json.loads(line) for line in FROZEN.read_text(encoding="utf-8").splitlines() if line.strip()]
    chosen: list[dict[str, Any]] = []
    counts: dict[str, int] = {}
    for row in rows:
        corpus = row["source"].split()[0]
        i = counts.get(corpus, 0)
        counts[corpus] = i + 1
        if corpus == "CamRest676" and i % 9:
            continue
        if corpus == "WOZ" and i % 12:
            continue
        chosen.append(row)
    return [
        row_script(
            row,
            f"{row['source']} (frozen-calls.jsonl {row['call_id']})",
            from_number=row.get("from") or "+16175550199",
            to_number=row.get("to") or "+16175550100",
        )
        for row in chosen
    ]


def labelled_scripts(path: Path) -> list[Script]:
    """The dev set's source calls: labelled calls of the tuned-on splits (`dev`, `own`), gold as labelled.

    The `holdout` split is left out: its calls were never looked at while tuning, and a set built to tune
    on would spend them.
    """
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [
        row_script(
            row,
            f"{path.name} {row['call_id']} (split {row['split']})",
            extra={k: row[k] for k in ("direction", "analysis") if k in row},
        )
        for row in rows
        if row.get("split") in TUNED_SPLITS
    ]


def task_scripts(path: Path = TASK_CALLS) -> list[Script]:
    """A task set's calls (SGD dialogues: the dev task set, TUNED ON, or with FROZEN_TASK_CALLS the held-out
    one), every TASK_STEP-th, gold as derived there."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [row_script(row, f"{row['source']} ({path.name} {row['call_id']})") for row in rows[::TASK_STEP]]


# -- audio ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Voice:
    name: str  # a flite voice
    stretch: float  # flite's duration_stretch: > 1 speaks slower
    snr_db: int

    def describe(self) -> str:
        return f"flite {self.name} x{self.stretch:g} duration, {self.snr_db} dB SNR"


def pick_voice(rng: random.Random) -> Voice:
    return Voice(rng.choice(FLITE_VOICES), rng.choice(FLITE_STRETCH), rng.choice(SNR_DB))


def tts_wav(text: str, voice: Voice, tmp: Path) -> Path:
    out = tmp / "tts.wav"
    stretch = f"duration_stretch={voice.stretch}"
    cmd = ["flite", "-voice", voice.name, "--setf", stretch, "-t", text, "-o", str(out)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=60)
    return out


def phone_channel(wav: Path, snr_db: int, noise: random.Random) -> bytes:
    """8 kHz, 300-3400 Hz, -6 dBFS, Gaussian noise at snr_db, mu-law; returned as 16 kHz 16-bit PCM."""
    narrow = subprocess.run(
        ["sox", "-D", str(wav), "-t", "raw", "-r", str(RATE), "-e", "signed", "-b", "16", "-c", "1", "-",
         "sinc", "300-3400", "norm", "-6"],
        check=True, capture_output=True, timeout=60,
    ).stdout  # fmt: skip
    samples = array.array("h")
    samples.frombytes(narrow)
    power = sum(s * s for s in samples) / max(1, len(samples))
    sigma = math.sqrt(power / 10 ** (snr_db / 10)) if power else 0.0
    noisy = array.array("h", (max(-32768, min(32767, round(s + noise.gauss(0.0, sigma)))) for s in samples))
    law = subprocess.run(
        ["sox", "-D", "-t", "raw", "-r", str(RATE), "-e", "signed", "-b", "16", "-c", "1", "-",
         "-t", "raw", "-r", str(RATE), "-e", "mu-law", "-b", "8", "-c", "1", "-"],
        input=noisy.tobytes(), check=True, capture_output=True, timeout=60,
    ).stdout  # fmt: skip
    return subprocess.run(
        ["sox", "-D", "-t", "raw", "-r", str(RATE), "-e", "mu-law", "-b", "8", "-c", "1", "-",
         "-t", "raw", "-r", str(ASR_RATE), "-e", "signed", "-b", "16", "-c", "1", "-"],
        input=law, check=True, capture_output=True, timeout=60,
    ).stdout  # fmt: skip


class Recognizer:
    def __init__(self) -> None:
        # Only this script needs it (the `asr` extra); it ships no type hints.
        from pocketsphinx import Decoder  # type: ignore[import-untyped,import-not-found,unused-ignore]

        self.decoder: Any = Decoder(samprate=ASR_RATE, bestpath=True, loglevel="FATAL")

    def words(self, pcm: bytes, offset: float) -> list[dict[str, Any]]:
        d = self.decoder
        d.start_utt()
        d.process_raw(pcm, full_utt=True)
        d.end_utt()
        out = []
        for seg in d.seg():
            word = re.sub(r"\(\d+\)$", "", seg.word)
            if not word or word[0] in "<[" or word.startswith("++"):
                continue
            out.append(
                {
                    "word": word.lower(),
                    "start": round(offset + seg.start_frame / 100, 2),
                    "end": round(offset + (seg.end_frame + 1) / 100, 2),
                    "confidence": round(min(1.0, max(0.0, float(seg.prob))), 3),
                }
            )
        return out


def recognizer_version() -> str:
    from importlib.metadata import version

    return version("pocketsphinx")


# -- word error rate ---------------------------------------------------------------------------------------


def norm_words(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9' ]+", " ", text.lower().replace("-", " ")).split()


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1]


# -- main ----------------------------------------------------------------------------------------------------


def build(
    script: Script,
    voice: Voice,
    recognizer: Recognizer,
    noise: random.Random,
    tmp: Path,
    stats: dict[str, list[int]],
    split: str = SPLIT,
) -> dict[str, Any]:
    turns: list[dict[str, Any]] = []
    clock = 0.5
    for speaker, text in script.turns:
        if speaker != "caller":
            n = max(1, len(text.split()))
            turns.append(
                {
                    "speaker": speaker,
                    "text": text,
                    "start": round(clock, 2),
                    "end": round(clock + n * AGENT_SECONDS_PER_WORD, 2),
                }
            )
            clock += n * AGENT_SECONDS_PER_WORD + GAP
            continue
        pcm = phone_channel(tts_wav(text, voice, tmp), voice.snr_db, noise)
        seconds = len(pcm) / (2 * ASR_RATE)
        words = recognizer.words(pcm, clock)
        ref, hyp = norm_words(text), [w["word"] for w in words]
        stats.setdefault(script.kind, [0, 0])
        stats[script.kind][0] += edit_distance(ref, hyp)
        stats[script.kind][1] += len(ref)
        if words:
            turns.append(
                {
                    "speaker": "caller",
                    "text": " ".join(hyp),
                    "start": round(clock, 2),
                    "end": round(clock + seconds, 2),
                    "words": words,
                }
            )
        clock += seconds + GAP
    started = datetime.fromisoformat(script.started_at.replace("Z", "+00:00"))
    ended = (started + timedelta(seconds=math.ceil(clock))).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "call_id": script.call_id,
        "platform": "generic",
        "direction": script.extra.get("direction", "inbound"),
        "from": script.from_number,
        "to": script.to_number,
        "started_at": script.started_at,
        "ended_at": ended,
        "timezone": script.timezone,
        "region": script.region,
        "turns": turns,
        **({"analysis": script.extra["analysis"]} if "analysis" in script.extra else {}),
        "split": split,
        "source": script.source,
        "asr": {"caller_voice": voice.describe(), "recognizer": f"pocketsphinx {recognizer_version()} en-us"},
        "gold": script.gold,
    }


def scripts(templates: int) -> list[Script]:
    rng = random.Random(SEED)
    return corpus_scripts() + [template_call(n, rng) for n in range(templates)]


def dev_scripts(templates: int, calls: Path = LABELLED) -> list[Script]:
    rng = random.Random(DEV_POOL.seed)
    return labelled_scripts(calls) + [template_call(n, rng, DEV_POOL) for n in range(templates)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--templates",
        type=int,
        help=f"template calls (default {TEMPLATES}; with --dev {DEV_TEMPLATES})",
    )
    parser.add_argument(
        "--dev",
        action="store_true",
        help=f"build the DEV set (tuned on): the `dev` and `own` calls of --calls, then {DEV_TEMPLATES} template"
        f" calls from seed {DEV_SEED} and the dev name pool; split {DEV_SPLIT!r}",
    )
    parser.add_argument(
        "--task",
        action="store_true",
        help=f"build the DEV TASK set (tuned on): every {TASK_STEP}nd call of {TASK_CALLS.name}"
        f" (SGD train dialogues); split {TASK_SPLIT!r}",
    )
    parser.add_argument(
        "--frozen-task",
        action="store_true",
        help=f"build the FROZEN TASK ASR set (held out): every {TASK_STEP}nd call of {FROZEN_TASK_CALLS.name};"
        f" split {FROZEN_TASK_SPLIT!r}",
    )
    parser.add_argument(
        "--calls",
        type=Path,
        default=LABELLED,
        help="with --dev: the labelled calls to speak (default %(default)s)",
    )
    parser.add_argument(
        "--skip", type=int, default=0, help="leave out the first N calls (to build in shards)"
    )
    parser.add_argument("--limit", type=int, help="build only the first N calls (timing)")
    parser.add_argument("--output", "-o", type=Path, help="write the calls here (default: stdout)")
    parser.add_argument("--scripts-only", action="store_true", help="print the scripts and gold, no audio")
    args = parser.parse_args(argv)
    if args.frozen_task:
        seed, split = FROZEN_TASK_SEED, FROZEN_TASK_SPLIT
        every = task_scripts(FROZEN_TASK_CALLS)
    elif args.task:
        seed, split = TASK_SEED, TASK_SPLIT
        every = task_scripts()
    elif args.dev:
        seed, split = DEV_SEED, DEV_SPLIT
        every = dev_scripts(DEV_TEMPLATES if args.templates is None else args.templates, args.calls)
    else:
        seed, split = SEED, SPLIT
        every = scripts(TEMPLATES if args.templates is None else args.templates)
    # One voice per call, drawn in call order before any slicing: a shard gets the voices the whole run would.
    voices = random.Random(seed + 1)
    voiced = [(script, pick_voice(voices)) for script in every]
    end = None if args.limit is None else args.skip + args.limit
    chosen = voiced[args.skip : end]
    out = sys.stdout if args.output is None else args.output.open("w", encoding="utf-8")
    if args.scripts_only:
        for s, _ in chosen:
            print(json.dumps({"call_id": s.call_id, "turns": s.turns, "gold": s.gold}), file=out)
        return 0
    recognizer = Recognizer()
    cpu0 = time.process_time()
    stats: dict[str, list[int]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for i, (script, voice) in enumerate(chosen):
            noise = random.Random(f"{seed}:{script.call_id}")
            row = build(script, voice, recognizer, noise, Path(tmp), stats, split)
            print(json.dumps(row, ensure_ascii=False), file=out, flush=True)
            if i % 10 == 0:
                print(
                    f"{i + 1}/{len(chosen)} calls, {time.process_time() - cpu0:.0f} s CPU",
                    file=sys.stderr,
                    flush=True,
                )
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    errors = sum(e for e, _ in stats.values())
    words = sum(n for _, n in stats.values())
    for kind, (e, n) in sorted(stats.items()):
        print(f"WER {kind}: {e}/{n} = {e / n:.3f}", file=sys.stderr)
    print(f"WER all caller words: {errors}/{words} = {errors / max(1, words):.3f}", file=sys.stderr)
    print(
        f"CPU: {time.process_time() - cpu0:.0f} s in this process (the recognizer, the noise),"
        f" {children.ru_utime + children.ru_stime:.0f} s in flite and sox",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
