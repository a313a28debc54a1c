"""Identity: normalized match keys and the rule for deciding which CRM record a call belongs to.

A match needs at least one key (email or E.164 phone) to agree and none to point elsewhere. Names never
match on their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import phonenumbers
from rapidfuzz import fuzz


def normalize_email(raw: str | None) -> str | None:
    """Case and surrounding whitespace only: provider tricks (gmail dots, +tags) are not safe to undo."""
    if raw is None:
        return None
    value = raw.strip().lower()
    if value.count("@") != 1 or value.startswith("@") or value.endswith("@"):
        return None
    return value


def normalize_phone(raw: str | None, region: str = "US") -> str | None:
    """E.164, or None when the number is not a valid one for its (or the default) region."""
    if not raw:
        return None
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


@dataclass(frozen=True, slots=True)
class IdentityKeys:
    email: str | None = None
    phone: str | None = None

    def present(self) -> bool:
        return bool(self.email or self.phone)

    def as_link_keys(self) -> list[str]:
        keys = []
        if self.email:
            keys.append(f"email:{self.email}")
        if self.phone:
            keys.append(f"phone:{self.phone}")
        return keys


class MatchKind(StrEnum):
    NEW = "new"  # no record holds either key
    MATCHED = "matched"
    CONFLICT = "conflict"  # the keys point to different records: a person must decide
    NO_KEYS = "no_keys"  # nothing to match on: never guess from a name


@dataclass(frozen=True, slots=True)
class IdentityMatch:
    kind: MatchKind
    record_id: str | None = None
    matched_on: tuple[str, ...] = ()
    candidates: tuple[str, ...] = field(default=())


def resolve_identity(
    keys: IdentityKeys, by_email: Sequence[str], by_phone: Sequence[str], by_origin: Sequence[str] = ()
) -> IdentityMatch:
    """Decide from the record ids each key found. `by_origin` are records stamped with this very call
    (a create that landed but was never acknowledged): they are this call's record whatever the keys say."""
    if by_origin:
        return IdentityMatch(MatchKind.MATCHED, sorted(by_origin)[0], ("origin",), tuple(sorted(by_origin)))
    if not keys.present():
        return IdentityMatch(MatchKind.NO_KEYS)
    email_ids, phone_ids = set(by_email), set(by_phone)
    candidates = tuple(sorted(email_ids | phone_ids))
    if not candidates:
        return IdentityMatch(MatchKind.NEW)
    if len(candidates) == 1:
        matched_on = tuple(k for k, ids in (("email", email_ids), ("phone", phone_ids)) if ids)
        return IdentityMatch(MatchKind.MATCHED, candidates[0], matched_on, candidates)
    # Email and phone point to different records, or one key to several: a person decides.
    return IdentityMatch(MatchKind.CONFLICT, None, (), candidates)


# token_sort_ratio ignores word order ("Whitfield Dana"); 88 lets one-letter spelling variants through
# ("Jon"/"John", "Smyth"/"Smith") without pairing merely similar surnames.
NAME_SIMILARITY_THRESHOLD = 88.0


def possible_duplicates(name: str, candidates: Sequence[tuple[str, str]]) -> list[tuple[str, float]]:
    """Records whose name resembles `name`, best first. A note for a reviewer, never a match."""
    wanted = " ".join(name.lower().split())
    if not wanted:
        return []
    scored = []
    for record_id, other in candidates:
        score = fuzz.token_sort_ratio(wanted, " ".join(other.lower().split()))
        if score >= NAME_SIMILARITY_THRESHOLD:
            scored.append((record_id, round(score, 1)))
    return sorted(scored, key=lambda item: -item[1])
