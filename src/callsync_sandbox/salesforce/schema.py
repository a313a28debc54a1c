"""The emulated org's objects and fields: the standard ones callsync touches, plus custom fields.

Record ids are real-looking 18-character Salesforce ids whose first three characters are the object's
key prefix (00Q Lead, 003 Contact, 001 Account, 006 Opportunity, 00T Task, 00U Event), as in every org:
a client may tell an id's object from its prefix.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

KEY_PREFIXES: Final = {
    "Account": "001",
    "Contact": "003",
    "Lead": "00Q",
    "Opportunity": "006",
    "OpportunityContactRole": "00K",
    "Task": "00T",
    "Event": "00U",
    "User": "005",
}
OWNER_ID: Final = "005Dn000001IntgAAA"
_BASE62: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def id18(id15: str) -> str:
    """Salesforce's case-safe 18-character form: three checksum characters over the 15-character id."""
    suffix = ""
    for chunk in range(3):
        bits = 0
        for i, char in enumerate(id15[chunk * 5 : chunk * 5 + 5]):
            if "A" <= char <= "Z":
                bits |= 1 << i
        suffix += _SUFFIX[bits]
    return id15 + suffix


def make_id(prefix: str, serial: int) -> str:
    digits = ""
    n = serial
    while n:
        n, r = divmod(n, 62)
        digits = _BASE62[r] + digits
    return id18(prefix + "Dn" + digits.rjust(10, "0"))


def canonical_id(raw: str) -> str | None:
    """An 18-character id from a 15- or 18-character one; None if it cannot be an id."""
    if len(raw) == 15 and raw.isalnum():
        return id18(raw)
    if len(raw) == 18 and raw.isalnum() and id18(raw[:15]) == raw:
        return raw
    return None


def object_for_id(record_id: str) -> str | None:
    prefix = record_id[:3]
    return next((name for name, p in KEY_PREFIXES.items() if p == prefix), None)


@dataclass(frozen=True)
class FieldDef:
    name: str
    type: str  # id string email phone textarea picklist reference boolean date datetime double int url
    label: str = ""
    length: int = 255
    nillable: bool = True
    createable: bool = True
    updateable: bool = True
    default: Any = None
    external_id: bool = False
    unique: bool = False
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None
    custom: bool = False
    calculated: bool = False

    @property
    def required_on_create(self) -> bool:
        return not self.nillable and self.createable and self.default is None and self.type != "boolean"

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label or self.name,
            "type": self.type,
            "length": self.length if self.type in _TEXT_TYPES else 0,
            "nillable": self.nillable,
            "createable": self.createable,
            "updateable": self.updateable,
            "defaultedOnCreate": self.default is not None,
            "defaultValue": self.default,
            "externalId": self.external_id,
            "unique": self.unique,
            "caseSensitive": False,
            "idLookup": self.type == "id" or self.external_id or self.name == "Email",
            "referenceTo": list(self.reference_to),
            "relationshipName": self.relationship_name,
            "custom": self.custom,
            "calculated": self.calculated,
            "filterable": True,
            "sortable": self.type != "textarea",
        }


_TEXT_TYPES: Final = frozenset({"string", "email", "phone", "textarea", "picklist", "url", "id", "reference"})


def _f(name: str, type_: str = "string", **kw: Any) -> FieldDef:
    return FieldDef(name, type_, **kw)


def _system(prefix_fields: list[FieldDef]) -> list[FieldDef]:
    ro: dict[str, Any] = {"createable": False, "updateable": False}
    return [
        _f("Id", "id", length=18, nillable=False, **ro),
        *prefix_fields,
        _f("OwnerId", "reference", reference_to=("User",), relationship_name="Owner"),
        _f("IsDeleted", "boolean", **ro),
        _f("CreatedDate", "datetime", **ro),
        _f("LastModifiedDate", "datetime", **ro),
        _f("SystemModstamp", "datetime", **ro),
    ]


def _person(*, lead: bool) -> list[FieldDef]:
    ro: dict[str, Any] = {"createable": False, "updateable": False}
    address = ("Street", "City", "State", "PostalCode", "Country")
    fields = [
        _f("FirstName", length=40),
        _f("LastName", length=80, nillable=False),
        _f("Name", length=121, calculated=True, **ro),
        _f("Salutation", "picklist", length=40),
        _f("Title", length=128),
        _f("Email", "email", length=80),
        _f("Phone", "phone", length=40),
        _f("MobilePhone", "phone", length=40),
        _f("LeadSource", "picklist", length=255),
        _f("Description", "textarea", length=32000),
        _f("DoNotCall", "boolean"),
        _f("HasOptedOutOfEmail", "boolean"),
    ]
    if lead:
        fields += [
            _f("Company", length=255, nillable=False),
            _f("Status", "picklist", nillable=False, default="Open - Not Contacted"),
            _f("Industry", "picklist"),
            _f("Website", "url"),
            _f("Rating", "picklist"),
            _f("NumberOfEmployees", "int"),
            _f("AnnualRevenue", "double"),
            *(_f(a) for a in address),
            _f("IsConverted", "boolean", **ro),
            _f("ConvertedDate", "date", **ro),
            _f(
                "ConvertedAccountId",
                "reference",
                reference_to=("Account",),
                relationship_name="ConvertedAccount",
                **ro,
            ),
            _f(
                "ConvertedContactId",
                "reference",
                reference_to=("Contact",),
                relationship_name="ConvertedContact",
                **ro,
            ),
            _f(
                "ConvertedOpportunityId",
                "reference",
                reference_to=("Opportunity",),
                relationship_name="ConvertedOpportunity",
                **ro,
            ),
        ]
    else:
        fields += [
            _f("AccountId", "reference", reference_to=("Account",), relationship_name="Account"),
            *(_f("Mailing" + a) for a in address),
        ]
    return _system(fields)


def standard_objects() -> dict[str, list[FieldDef]]:
    who: dict[str, Any] = {"reference_to": ("Contact", "Lead"), "relationship_name": "Who"}
    what: dict[str, Any] = {"reference_to": ("Account", "Opportunity"), "relationship_name": "What"}
    return {
        "Lead": _person(lead=True),
        "Contact": _person(lead=False),
        "Account": _system(
            [
                _f("Name", nillable=False),
                _f("Phone", "phone", length=40),
                _f("Website", "url"),
                _f("Industry", "picklist"),
                _f("Rating", "picklist"),
                _f("NumberOfEmployees", "int"),
                _f("AnnualRevenue", "double"),
                _f("AccountSource", "picklist"),
                _f("Description", "textarea", length=32000),
                *(_f("Billing" + a) for a in ("Street", "City", "State", "PostalCode", "Country")),
            ]
        ),
        "Opportunity": _system(
            [
                _f("Name", length=120, nillable=False),
                _f("StageName", "picklist", nillable=False),
                _f("CloseDate", "date", nillable=False),
                _f("Amount", "double"),
                _f("Probability", "double"),
                _f("Type", "picklist"),
                _f("LeadSource", "picklist"),
                _f("NextStep", length=255),
                _f("Description", "textarea", length=32000),
                _f("AccountId", "reference", reference_to=("Account",), relationship_name="Account"),
            ]
        ),
        "OpportunityContactRole": _system(
            [
                _f(
                    "OpportunityId",
                    "reference",
                    nillable=False,
                    updateable=False,
                    reference_to=("Opportunity",),
                    relationship_name="Opportunity",
                ),
                _f(
                    "ContactId",
                    "reference",
                    nillable=False,
                    reference_to=("Contact",),
                    relationship_name="Contact",
                ),
                _f("Role", "picklist"),
                _f("IsPrimary", "boolean"),
            ]
        ),
        "Task": _system(
            [
                _f("Subject", length=255),
                _f("Status", "picklist", nillable=False, default="Not Started"),
                _f("Priority", "picklist", nillable=False, default="Normal"),
                _f("ActivityDate", "date"),
                _f("Description", "textarea", length=32000),
                _f("WhoId", "reference", **who),
                _f("WhatId", "reference", **what),
                _f("TaskSubtype", "picklist"),
                _f("CallType", "picklist"),
                _f("CallDurationInSeconds", "int"),
                _f("CallDisposition", length=255),
                _f("CallObject", length=255),
            ]
        ),
        "Event": _system(
            [
                _f("Subject", length=255),
                _f("StartDateTime", "datetime"),
                _f("EndDateTime", "datetime"),
                _f("ActivityDateTime", "datetime"),
                _f("ActivityDate", "date"),
                _f("DurationInMinutes", "int"),
                _f("IsAllDayEvent", "boolean"),
                _f("Location", length=255),
                _f("Description", "textarea", length=32000),
                _f("WhoId", "reference", **who),
                _f("WhatId", "reference", **what),
            ]
        ),
    }


# What an admin creates for callsync on every object it writes (docs/crms.md): the origin-call stamp as
# a unique External ID (the upsert key), and the last call as plain text.
CALLSYNC_FIELDS: Final = (
    {"name": "callsync_origin_call_id__c", "type": "string", "externalId": True, "unique": True},
    {"name": "callsync_last_call_id__c", "type": "string"},
)


def custom_field(spec: dict[str, Any]) -> FieldDef:
    name = str(spec["name"])
    if not name.endswith("__c"):
        raise ValueError(f"custom field names end in __c: {name!r}")
    return FieldDef(
        name,
        str(spec.get("type", "string")),
        label=str(spec.get("label", name.removesuffix("__c").replace("_", " "))),
        length=int(spec.get("length", 255)),
        external_id=bool(spec.get("externalId", False)),
        unique=bool(spec.get("unique", False)),
        custom=True,
    )
