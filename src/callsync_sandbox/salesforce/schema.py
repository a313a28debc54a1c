"""The emulated org's objects and fields: the standard ones callsync touches, plus custom fields.

Record ids are real-looking 18-character Salesforce ids whose first three characters are the object's
key prefix (00Q Lead, 003 Contact, 001 Account, 006 Opportunity, 00T Task, 00U Event, 500 Case), as in
every org:
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
    "Case": "500",
    "User": "005",
    # Referenced by standard fields but not emulated: ids of these are taken on trust.
    "Campaign": "701",
    "Pricebook2": "01s",
    "Asset": "02i",
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
    type: str  # id string email phone textarea picklist combobox reference boolean date datetime
    # double int currency percent url
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
    # A picklist's active values, as a Developer Edition org has them (and a seeded schema says).
    picklist: tuple[str, ...] = ()

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
            "picklistValues": [
                {"active": True, "defaultValue": v == self.default, "label": v, "value": v, "validFor": None}
                for v in self.picklist
            ],
        }


_TEXT_TYPES: Final = frozenset(
    {"string", "email", "phone", "textarea", "picklist", "combobox", "url", "id", "reference"}
)
NUMBER_TYPES: Final = frozenset({"int", "double", "currency", "percent"})


LEAD_SOURCES: Final = ("Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other")
LEAD_STATUSES: Final = (
    "Open - Not Contacted",
    "Working - Contacted",
    "Closed - Converted",
    "Closed - Not Converted",
)
OPPORTUNITY_STAGES: Final = (
    "Prospecting",
    "Qualification",
    "Needs Analysis",
    "Value Proposition",
    "Id. Decision Makers",
    "Perception Analysis",
    "Proposal/Price Quote",
    "Negotiation/Review",
    "Closed Won",
    "Closed Lost",
)


def _f(name: str, type_: str = "string", **kw: Any) -> FieldDef:
    return FieldDef(name, type_, **kw)


_RO: Final[dict[str, Any]] = {"createable": False, "updateable": False}
_CREATE_ONLY: Final[dict[str, Any]] = {"updateable": False}


def _ref(name: str, *targets: str, relationship: str | None = None, **kw: Any) -> FieldDef:
    rel = relationship if relationship is not None else name.removesuffix("Id")
    return FieldDef(name, "reference", length=18, reference_to=targets, relationship_name=rel or None, **kw)


def _system(fields: list[FieldDef], *, owner: bool = True) -> list[FieldDef]:
    """Every object's id and audit fields around its own."""
    return [
        _f("Id", "id", length=18, nillable=False, **_RO),
        _f("IsDeleted", "boolean", **_RO),
        *fields,
        *([_ref("OwnerId", "User", relationship="Owner")] if owner else []),
        _f("CreatedDate", "datetime", **_RO),
        _ref("CreatedById", "User", **_RO),
        _f("LastModifiedDate", "datetime", **_RO),
        _ref("LastModifiedById", "User", **_RO),
        _f("SystemModstamp", "datetime", **_RO),
    ]


def _address(prefix: str) -> list[FieldDef]:
    """The parts of a compound address (the compound field itself is not emulated)."""
    return [
        _f(prefix + "Street", "textarea", length=255),
        _f(prefix + "City", length=40),
        _f(prefix + "State", length=80),
        _f(prefix + "PostalCode", length=20),
        _f(prefix + "Country", length=80),
        _f(prefix + "Latitude", "double"),
        _f(prefix + "Longitude", "double"),
        _f(prefix + "GeocodeAccuracy", "picklist", length=40),
    ]


def _viewed() -> list[FieldDef]:
    return [_f("LastViewedDate", "datetime", **_RO), _f("LastReferencedDate", "datetime", **_RO)]


def _name_parts() -> list[FieldDef]:
    return [
        _f("LastName", length=80, nillable=False),
        _f("FirstName", length=40),
        _f("Salutation", "picklist", length=40),
        _f("Name", length=121, calculated=True, **_RO),
    ]


def _bounce() -> list[FieldDef]:
    return [_f("EmailBouncedReason", length=255), _f("EmailBouncedDate", "datetime")]


def _lead() -> list[FieldDef]:
    return [
        _ref("MasterRecordId", "Lead", **_RO),
        *_name_parts(),
        _f("Title", length=128),
        _f("Company", length=255, nillable=False),
        *_address(""),
        _f("Phone", "phone", length=40),
        _f("MobilePhone", "phone", length=40),
        _f("Fax", "phone", length=40),
        _f("Email", "email", length=80),
        _f("Website", "url"),
        _f("PhotoUrl", "url", **_RO),
        _f("Description", "textarea", length=32000),
        _f("LeadSource", "picklist", picklist=LEAD_SOURCES),
        _f("Status", "picklist", nillable=False, default="Open - Not Contacted", picklist=LEAD_STATUSES),
        _f("Industry", "picklist"),
        _f("Rating", "picklist"),
        _f("AnnualRevenue", "currency"),
        _f("NumberOfEmployees", "int"),
        _f("HasOptedOutOfEmail", "boolean"),
        _f("IsConverted", "boolean", **_RO),
        _f("ConvertedDate", "date", **_RO),
        _ref("ConvertedAccountId", "Account", **_RO),
        _ref("ConvertedContactId", "Contact", **_RO),
        _ref("ConvertedOpportunityId", "Opportunity", **_RO),
        _f("IsUnreadByOwner", "boolean"),
        _f("LastActivityDate", "date", **_RO),
        _f("DoNotCall", "boolean"),
        _f("HasOptedOutOfFax", "boolean"),
        *_viewed(),
        *_bounce(),
    ]


def _contact() -> list[FieldDef]:
    return [
        _ref("MasterRecordId", "Contact", **_RO),
        _ref("AccountId", "Account"),
        *_name_parts(),
        *_address("Other"),
        *_address("Mailing"),
        *(
            _f(name, "phone", length=40)
            for name in ("Phone", "Fax", "MobilePhone", "HomePhone", "OtherPhone")
        ),
        _f("AssistantPhone", "phone", length=40),
        _ref("ReportsToId", "Contact"),
        _f("Email", "email", length=80),
        _f("Title", length=128),
        _f("Department", length=80),
        _f("AssistantName", length=40),
        _f("LeadSource", "picklist"),
        _f("Birthdate", "date"),
        _f("Description", "textarea", length=32000),
        _f("HasOptedOutOfEmail", "boolean"),
        _f("HasOptedOutOfFax", "boolean"),
        _f("DoNotCall", "boolean"),
        _f("LastActivityDate", "date", **_RO),
        _f("LastCURequestDate", "datetime", **_RO),
        _f("LastCUUpdateDate", "datetime", **_RO),
        *_viewed(),
        *_bounce(),
        _f("IsEmailBounced", "boolean", **_RO),
        _f("PhotoUrl", "url", **_RO),
    ]


def _account() -> list[FieldDef]:
    return [
        _ref("MasterRecordId", "Account", **_RO),
        _f("Name", nillable=False),
        _f("Type", "picklist"),
        _ref("ParentId", "Account"),
        *_address("Billing"),
        *_address("Shipping"),
        _f("Phone", "phone", length=40),
        _f("Fax", "phone", length=40),
        _f("AccountNumber", length=40),
        _f("Website", "url"),
        _f("PhotoUrl", "url", **_RO),
        _f("Sic", length=20),
        _f("Industry", "picklist"),
        _f("AnnualRevenue", "currency"),
        _f("NumberOfEmployees", "int"),
        _f("Ownership", "picklist"),
        _f("TickerSymbol", length=20),
        _f("Description", "textarea", length=32000),
        _f("Rating", "picklist"),
        _f("Site", length=80),
        _f("LastActivityDate", "date", **_RO),
        *_viewed(),
        _f("AccountSource", "picklist"),
        _f("SicDesc", length=80),
    ]


def _opportunity() -> list[FieldDef]:
    return [
        _ref("AccountId", "Account"),
        _f("IsPrivate", "boolean"),
        _f("Name", length=120, nillable=False),
        _f("Description", "textarea", length=32000),
        _f("StageName", "picklist", nillable=False, picklist=OPPORTUNITY_STAGES),
        _f("Amount", "currency"),
        _f("Probability", "percent"),
        _f("ExpectedRevenue", "currency", calculated=True, **_RO),
        _f("TotalOpportunityQuantity", "double"),
        _f("CloseDate", "date", nillable=False),
        _f("Type", "picklist"),
        _f("NextStep", length=255),
        _f("LeadSource", "picklist"),
        _f("IsClosed", "boolean", **_RO),
        _f("IsWon", "boolean", **_RO),
        _f("ForecastCategory", "picklist", **_RO),
        _f("ForecastCategoryName", "picklist"),
        _ref("CampaignId", "Campaign"),
        _f("HasOpportunityLineItem", "boolean", **_RO),
        _ref("Pricebook2Id", "Pricebook2"),
        _f("LastActivityDate", "date", **_RO),
        _f("PushCount", "int", **_RO),
        _f("LastStageChangeDate", "datetime", **_RO),
        _f("FiscalQuarter", "int", **_RO),
        _f("FiscalYear", "int", **_RO),
        _f("Fiscal", **_RO),
        _ref("ContactId", "Contact"),
        *_viewed(),
        _f("HasOpenActivity", "boolean", **_RO),
        _f("HasOverdueTask", "boolean", **_RO),
    ]


_WHAT: Final = ("Account", "Opportunity", "Case")


def _activity() -> list[FieldDef]:
    """What Task and Event share: who and what, subject, reminders and recurrence."""
    return [
        _ref("WhoId", "Contact", "Lead", relationship="Who"),
        _ref("WhatId", *_WHAT, relationship="What"),
        _f("Subject", "combobox", length=255),
        _f("ActivityDate", "date"),
        _f("Description", "textarea", length=32000),
        _ref("AccountId", "Account", **_RO),
        _f("IsArchived", "boolean", **_RO),
        _f("ReminderDateTime", "datetime"),
        _f("IsReminderSet", "boolean"),
        _f("WhoCount", "int", **_RO),
        _f("WhatCount", "int", **_RO),
        _ref("RecurrenceActivityId", "Task", "Event", relationship="", **_RO),
        _f("IsRecurrence", "boolean", **_CREATE_ONLY),
        _f("RecurrenceEndDateOnly", "date"),
        _f("RecurrenceTimeZoneSidKey", "picklist", length=40),
        _f("RecurrenceType", "picklist", length=40),
        _f("RecurrenceInterval", "int"),
        _f("RecurrenceDayOfWeekMask", "int"),
        _f("RecurrenceDayOfMonth", "int"),
        _f("RecurrenceInstance", "picklist", length=40),
        _f("RecurrenceMonthOfYear", "picklist", length=40),
    ]


def _task() -> list[FieldDef]:
    return [
        *_activity(),
        _f("Status", "picklist", nillable=False, default="Not Started"),
        _f("Priority", "picklist", nillable=False, default="Normal"),
        _f("IsHighPriority", "boolean", **_RO),
        _f("IsClosed", "boolean", **_RO),
        _f("CallDurationInSeconds", "int"),
        _f("CallType", "picklist"),
        _f("CallDisposition", length=255),
        _f("CallObject", length=255),
        _f("RecurrenceStartDateOnly", "date"),
        _f("RecurrenceRegeneratedType", "picklist", length=40),
        _f("TaskSubtype", "picklist", **_CREATE_ONLY),
        _f("CompletedDateTime", "datetime", **_RO),
    ]


def _event() -> list[FieldDef]:
    return [
        *_activity(),
        _f("Location", length=255),
        _f("IsAllDayEvent", "boolean"),
        _f("ActivityDateTime", "datetime"),
        _f("DurationInMinutes", "int"),
        _f("StartDateTime", "datetime"),
        _f("EndDateTime", "datetime"),
        _f("EndDate", "date", **_RO),
        _f("IsPrivate", "boolean"),
        _f("ShowAs", "picklist", length=40),
        _f("IsChild", "boolean", **_RO),
        _f("IsGroupEvent", "boolean", **_RO),
        _f("GroupEventType", "picklist", **_RO),
        _f("RecurrenceStartDateTime", "datetime"),
        _f("EventSubtype", "picklist", **_CREATE_ONLY),
    ]


def _case() -> list[FieldDef]:
    return [
        _ref("MasterRecordId", "Case", **_RO),
        _f("CaseNumber", length=30, **_RO),
        _ref("ContactId", "Contact"),
        _ref("AccountId", "Account"),
        _ref("AssetId", "Asset"),
        _ref("ParentId", "Case"),
        _f("SuppliedName", length=80),
        _f("SuppliedEmail", "email", length=80),
        _f("SuppliedPhone", length=40),
        _f("SuppliedCompany", length=80),
        _f("Type", "picklist"),
        _f("Status", "picklist", default="New"),
        _f("Reason", "picklist"),
        _f("Origin", "picklist"),
        _f("Subject", length=255),
        _f("Priority", "picklist", default="Medium"),
        _f("Description", "textarea", length=32000),
        _f("IsClosed", "boolean", **_RO),
        _f("ClosedDate", "datetime", **_RO),
        _f("IsEscalated", "boolean"),
        _f("ContactPhone", "phone", length=40, **_RO),
        _f("ContactMobile", "phone", length=40, **_RO),
        _f("ContactEmail", "email", length=80, **_RO),
        _f("ContactFax", "phone", length=40, **_RO),
        _f("Comments", "textarea", length=4000),
        *_viewed(),
    ]


def standard_objects() -> dict[str, list[FieldDef]]:
    """The standard fields of each emulated object, as a Developer Edition org describes them (compound
    address fields, multi-currency and Data.com fields aside; docs/sandbox.md)."""
    return {
        "Lead": _system(_lead()),
        "Contact": _system(_contact()),
        "Account": _system(_account()),
        "Opportunity": _system(_opportunity()),
        "OpportunityContactRole": _system(
            [
                _ref("OpportunityId", "Opportunity", nillable=False, updateable=False),
                _ref("ContactId", "Contact", nillable=False),
                _f("Role", "picklist"),
                _f("IsPrimary", "boolean"),
            ],
            owner=False,
        ),
        "Task": _system(_task()),
        "Event": _system(_event()),
        "Case": _system(_case()),
    }


# What an admin creates for callsync on every object it writes (docs/crms.md): the origin-call stamp as
# a unique External ID (the upsert key), and the last call as plain text.
CALLSYNC_FIELDS: Final = (
    {"name": "callsync_origin_call_id__c", "type": "string", "externalId": True, "unique": True},
    {"name": "callsync_last_call_id__c", "type": "string"},
)
# On the objects callsync's workflow actions create (docs/actions.md): the action's stamp, one per call and
# rule, as a unique External ID (the upsert key of the create).
ACTION_FIELDS: Final = (
    {"name": "callsync_action_key__c", "type": "string", "externalId": True, "unique": True},
)
ACTION_OBJECTS: Final = ("Task", "Event", "Case")


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
