"""Builds tests/data/frozen-calls.jsonl from public dialogue corpora (provenance; see README.md).

    python tests/data/build_frozen_calls.py SRC_DIR > tests/data/frozen-calls.jsonl

SRC_DIR holds the corpora as published (ConvLab-3's unified_datasets: camrest/data/dialogues.json,
woz/data/dialogues.json, tm1/tm2/tm3/multiwoz21 dummy_data.json; ABCD's data/abcd_sample.json). The set was
built and frozen before any extraction code was changed for issue 13; the gold of the 43 hand-read calls is
written out below, the gold of the CamRest676 and WOZ 2.0 restaurant searches follows the rules in README.md
(nobody in them gives a name, number, amount or date of their own: every value there is the agent's).
This script is not run by the tests; `frozen-calls.sha256` is what the benchmark checks.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

EMPTY: dict[str, Any] = {
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

# Reference moments: the corpora carry no call time, so each source gets a fixed one (a Monday afternoon)
# and relative dates are resolved against it (`callsync extract --today` does the same).
US_START = ("2026-02-23T22:00:00Z", "America/Los_Angeles")  # Monday 14:00 local
UK_START = ("2026-02-23T14:00:00Z", "Europe/London")  # Monday 14:00 local


def g(intent: str, outcome: str, sentiment: str = "neutral", **fields: Any) -> dict[str, Any]:
    gold = dict(EMPTY)
    gold.update(fields)
    if (gold["amount"] is not None or gold.get("amount_range")) and gold["currency"] is None:
        gold["currency"] = "USD"
    if gold["full_name"] is None and (gold["first_name"] or gold["last_name"]):
        gold["full_name"] = " ".join(p for p in (gold["first_name"], gold["last_name"]) if p)
    gold.update(intent=intent, outcome=outcome, sentiment=sentiment)
    return gold


# Hand-read gold, by corpus and position in its file. Ticket, flight and order purchases are `sales`;
# table, room and repair reservations are `booking` (README.md).
HAND: dict[str, list[dict[str, Any]]] = {
    "tm1": [
        g("sales", "resolved", date="2026-02-23", time="19:15"),
        g("booking", "appointment_booked", "positive", date="2026-02-28"),
        g("booking", "callback_scheduled", first_name="Jim", last_name="Wright", phone="+12223334576"),
        g("sales", "resolved", "frustrated"),
        g("sales", "resolved", date="2026-02-23", time="19:00"),
        g("sales", "resolved"),
        g("booking", "appointment_booked", date="2026-02-23", time="19:30", amount=15),
        g("sales", "resolved"),
        g("booking", "appointment_booked", date="2019-03-01", time="20:00"),
        g("sales", "resolved"),
    ],
    "tm2": [
        g("sales", "resolved", "positive", date="2026-02-23", time="21:20"),
        g("sales", "resolved", date="2026-07-02"),
        g("sales", "resolved", "positive", date="2026-02-27", time="06:00"),
        g("sales", "resolved", date="2026-02-23"),
        g("sales", "resolved", date="2026-02-23", time="22:47"),
        g("sales", "resolved", date="2026-02-23", time="19:52"),
        g("sales", "resolved", date="2026-03-01", time="07:45"),
        g("sales", "resolved", date="2026-04-01", time="19:50"),
        g("sales", "resolved", date="2026-09-13", time="17:12"),
        g("sales", "resolved", date="2026-04-14", time="07:00", amount=900),
    ],
    "tm3": [
        g("sales", "resolved", date="2026-02-23", time="21:10"),
        g("sales", "resolved", date="2026-02-23", time="21:10"),
        g("sales", "resolved", date="2026-02-23", time="21:10"),
        g("sales", "resolved", "positive", date="2026-02-23", time="21:10"),
        g("sales", "resolved", date="2026-02-24", time="15:00"),
        g("sales", "resolved", date="2026-02-23", time="16:00"),
        g("sales", "resolved", date="2026-02-23", time="16:00"),
        g("sales", "resolved", date="2026-02-23", time="15:00"),
        g("sales", "resolved", date="2026-02-23", time="21:10"),
        g("sales", "resolved", date="2026-02-23", time="21:10"),
    ],
    "multiwoz21": [
        g("booking", "appointment_booked", date="2026-02-24"),
        g("inquiry", "resolved", "positive"),
        g("booking", "appointment_booked", date="2026-02-25", time="17:40"),
        g("inquiry", "resolved"),
        g("sales", "resolved", date="2026-02-25"),
        g("booking", "appointment_booked", date="2026-03-02"),
        g("inquiry", "resolved"),
        g("inquiry", "resolved"),
        g("sales", "resolved", "positive", date="2026-02-25", time="13:06"),
        g("inquiry", "resolved"),
    ],
    "abcd": [
        g(
            "support",
            "callback_scheduled",
            first_name="Crystal",
            last_name="Minh",
            email="cminh730@email.com",
            phone="+19776252661",
        ),
        g("support", "resolved", first_name="Alessandro", last_name="Phoenix", email="aphoenix939@email.com"),
        g("inquiry", "resolved", "positive"),
    ],
}

# Restaurant searches (CamRest676, WOZ 2.0): the user never gives a contact detail; these words mark the
# few users who clearly show annoyance or delight, each read and confirmed by hand (SENTIMENT_READ).
SENTIMENT_READ: dict[str, str] = {"frz-woz-025": "frustrated"}  # "I've already mentioned this", "WEST side"
# The outcome rule above, corrected where reading the call says otherwise.
OUTCOME_READ: dict[str, str] = {"frz-woz-003": "resolved"}  # two venues named for the search; caller declines


def call(
    call_id: str, turns: list[tuple[str, str]], start: tuple[str, str], gold: dict[str, Any], source: str
) -> dict[str, Any]:
    at = 0.5
    out = []
    for speaker, text in turns:
        text = re.sub(r"\s+", " ", text).strip()
        if not text:
            continue
        out.append({"speaker": speaker, "text": text, "start": round(at, 1)})
        at += 2.0 + len(text.split()) * 0.4
    return {
        "call_id": call_id,
        "platform": "generic",
        "direction": "inbound",
        "from": "+16175550199" if start is US_START else "+441223555099",
        "to": "+16175550100" if start is US_START else "+441223555000",
        "started_at": start[0],
        "ended_at": start[0],
        "timezone": start[1],
        "region": "US" if start is US_START else "GB",
        "turns": out,
        "split": "frozen",
        "source": source,
        "gold": gold,
    }


def unified_turns(dialogue: dict[str, Any]) -> list[tuple[str, str]]:
    return [("caller" if t["speaker"] == "user" else "agent", t["utterance"]) for t in dialogue["turns"]]


OFFERED = re.compile(r"\d{5}|address|located|post ?code|serves|is (a|an) [\w ]*(restaurant|place)", re.I)


def search_outcome(dialogue: dict[str, Any]) -> str:
    """resolved when the agent named a venue or gave a detail asked for; else no_outcome."""
    for t in dialogue["turns"]:
        if t["speaker"] != "system":
            continue
        if "dialogue_acts" not in t:  # WOZ 2.0 marks no system acts: read the words
            if OFFERED.search(t["utterance"]):
                return "resolved"
            continue
        acts = t["dialogue_acts"]
        for act in acts.get("non-categorical", []) + acts.get("categorical", []):
            if act["intent"] == "inform" and act["slot"] in ("name", "phone", "address", "postcode"):
                return "resolved"
    return "no_outcome"


def main(src: Path) -> None:
    rows = []
    for corpus, start, name in (
        ("tm1", US_START, "Taskmaster-1"),
        ("tm2", US_START, "Taskmaster-2"),
        ("tm3", US_START, "Taskmaster-3"),
        ("multiwoz21", UK_START, "MultiWOZ 2.1"),
    ):
        dialogues = json.loads((src / f"{corpus}-dummy.json").read_text())
        for n, (d, gold) in enumerate(zip(dialogues, HAND[corpus], strict=True)):
            rows.append(
                call(f"frz-{corpus}-{n:02d}", unified_turns(d), start, gold, f"{name} {d['original_id']}")
            )
    for n, (d, gold) in enumerate(
        zip(json.loads((src / "abcd_sample.json").read_text()), HAND["abcd"], strict=True)
    ):
        turns = [("caller" if s == "customer" else "agent", t) for s, t in d["original"] if s != "action"]
        rows.append(call(f"frz-abcd-{n:02d}", turns, US_START, gold, f"ABCD convo {d['convo_id']}"))
    for corpus, name, count in (("camrest", "CamRest676", 180), ("woz", "WOZ 2.0", 120)):
        dialogues = json.loads((src / corpus / "data" / "dialogues.json").read_text())
        step = max(1, len(dialogues) // count)
        for n, d in enumerate(dialogues[::step][:count]):
            cid = f"frz-{corpus}-{n:03d}"
            outcome = OUTCOME_READ.get(cid, search_outcome(d))
            gold = g("inquiry", outcome, SENTIMENT_READ.get(cid, "neutral"))
            rows.append(call(cid, unified_turns(d), UK_START, gold, f"{name} {d['dialogue_id']}"))
    for row in rows:
        sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
