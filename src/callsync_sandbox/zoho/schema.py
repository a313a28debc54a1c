"""The emulated Zoho CRM org's modules and fields, as `GET /crm/v8/settings/fields?module=...` shows them.

Field API names follow a default Zoho CRM org. Leads' fields carry `convert_mapping` (which Contacts /
Accounts / Deals field each one becomes when the lead is converted), so a client can read the mapping
instead of hard-coding it. Custom fields (the callsync stamps) are added per module; the origin-call stamp
is marked "Do not allow duplicate values" (`unique`), which is what makes it usable in
`duplicate_check_fields` for an idempotent upsert.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

MODULES: Final = ("Leads", "Contacts", "Accounts", "Deals", "Calls", "Tasks", "Events", "Cases")
# Each module's id, a numeric string as in `GET /settings/modules` (and `duplicate_record.module.id`).
MODULE_IDS: Final = {name: str(5725767000000002175 + index) for index, name in enumerate(MODULES)}
# System duplicate-check fields: a second record with the same value is refused (DUPLICATE_DATA).
SYSTEM_UNIQUE: Final = {"Leads": ("Email",), "Contacts": ("Email",), "Accounts": ("Account_Name",)}
# Modules an activity's What_Id may point at (with "$se_module" naming it).
WHAT_MODULES: Final = ("Accounts", "Deals")


@dataclass(frozen=True)
class FieldDef:
    api_name: str
    data_type: str  # text email phone textarea picklist lookup ownerlookup datetime date integer currency
    # boolean website bigint
    label: str = ""
    length: int = 255
    mandatory: bool = False
    read_only: bool = False
    unique: bool = False
    custom: bool = False
    lookup: tuple[str, ...] = ()  # module(s) a lookup points at
    convert_mapping: dict[str, str | None] = field(default_factory=dict)
    # A picklist's values (display value = actual value here), as a seeded schema gives them.
    options: tuple[str, ...] = ()

    def describe(self, index: int) -> dict[str, Any]:
        return {
            "api_name": self.api_name,
            "field_label": self.label or self.api_name.replace("_", " "),
            "display_label": self.label or self.api_name.replace("_", " "),
            "data_type": self.data_type,
            "json_type": _JSON_TYPES.get(self.data_type, "string"),
            "length": self.length,
            "system_mandatory": self.mandatory,
            "read_only": self.read_only,
            "field_read_only": self.read_only,
            "custom_field": self.custom,
            "unique": {"casesensitive": "false"} if self.unique else None,
            "lookup": {"module": {"api_name": self.lookup[0]}} if self.lookup else {},
            "convert_mapping": self.convert_mapping or None,
            "visible": True,
            "pick_list_values": [{"display_value": v, "actual_value": v} for v in self.options],
            "id": str(5725767000000002000 + index),
        }


_JSON_TYPES: Final = {
    "integer": "integer",
    "bigint": "string",
    "currency": "double",
    "boolean": "boolean",
    "lookup": "jsonobject",
    "ownerlookup": "jsonobject",
}


# A new org's picklist values (Setup > Customization > Modules and Fields shows them per layout).
LEAD_SOURCES: Final = (
    "Advertisement", "Cold Call", "Employee Referral", "External Referral", "Online Store", "Partner",
    "Public Relations", "Sales Email Alias", "Seminar Partner", "Internal Seminar", "Trade Show",
    "Web Download", "Web Research", "Chat",
)  # fmt: skip
LEAD_STATUSES: Final = (
    "Attempted to Contact", "Contact in Future", "Contacted", "Junk Lead", "Lost Lead", "Not Contacted",
    "Pre-Qualified", "Not Qualified",
)  # fmt: skip
DEAL_STAGES: Final = (
    "Qualification", "Needs Analysis", "Value Proposition", "Id. Decision Makers", "Perception Analysis",
    "Proposal/Price Quote", "Negotiation/Review", "Closed Won", "Closed Lost", "Closed Lost to Competition",
)  # fmt: skip


def _f(api_name: str, data_type: str = "text", **kw: Any) -> FieldDef:
    return FieldDef(api_name, data_type, **kw)


def _common() -> list[FieldDef]:
    return [
        _f("Owner", "ownerlookup"),  # writable: a record is assigned to a user by id
        _f("Created_Time", "datetime", read_only=True),
        _f("Modified_Time", "datetime", read_only=True),
    ]


def _lead_map(
    contacts: str | None = None, accounts: str | None = None, deals: str | None = None
) -> dict[str, Any]:
    return {"Contacts": contacts, "Accounts": accounts, "Deals": deals}


def standard_modules() -> dict[str, list[FieldDef]]:
    address = ("Street", "City", "State", "Zip_Code", "Country")
    mailing = ("Mailing_Street", "Mailing_City", "Mailing_State", "Mailing_Zip", "Mailing_Country")
    who = _f("Who_Id", "lookup", lookup=("Contacts", "Leads"))
    what = _f("What_Id", "lookup", lookup=WHAT_MODULES)
    return {
        "Leads": [
            _f("First_Name", length=40, convert_mapping=_lead_map("First_Name")),
            _f("Last_Name", length=80, mandatory=True, convert_mapping=_lead_map("Last_Name")),
            _f("Full_Name", read_only=True),
            _f("Email", "email", length=100, convert_mapping=_lead_map("Email")),
            _f("Phone", "phone", length=30, convert_mapping=_lead_map("Phone", "Phone")),
            _f("Mobile", "phone", length=30, convert_mapping=_lead_map("Mobile")),
            _f("Company", length=200, convert_mapping=_lead_map(None, "Account_Name")),
            _f("Designation", length=100, convert_mapping=_lead_map("Title")),
            _f(
                "Lead_Source",
                "picklist",
                convert_mapping=_lead_map("Lead_Source", None, "Lead_Source"),
                options=LEAD_SOURCES,
            ),
            _f("Lead_Status", "picklist", options=LEAD_STATUSES),
            _f("Industry", "picklist", convert_mapping=_lead_map(None, "Industry")),
            _f("Website", "website", convert_mapping=_lead_map(None, "Website")),
            _f("No_of_Employees", "integer", convert_mapping=_lead_map(None, "Employees")),
            _f("Annual_Revenue", "currency", convert_mapping=_lead_map(None, "Annual_Revenue")),
            _f("Description", "textarea", length=32000, convert_mapping=_lead_map("Description")),
            *(_f(a, convert_mapping=_lead_map(m)) for a, m in zip(address, mailing, strict=True)),
            *_common(),
        ],
        "Contacts": [
            _f("First_Name", length=40),
            _f("Last_Name", length=80, mandatory=True),
            _f("Full_Name", read_only=True),
            _f("Email", "email", length=100),
            _f("Phone", "phone", length=30),
            _f("Mobile", "phone", length=30),
            _f("Title", length=100),
            _f("Account_Name", "lookup", lookup=("Accounts",)),
            _f("Lead_Source", "picklist", options=LEAD_SOURCES),
            _f("Description", "textarea", length=32000),
            *(_f(m) for m in mailing),
            *_common(),
        ],
        "Accounts": [
            _f("Account_Name", length=200, mandatory=True),
            _f("Phone", "phone", length=30),
            _f("Website", "website"),
            _f("Industry", "picklist"),
            _f("Employees", "integer"),
            _f("Annual_Revenue", "currency"),
            _f("Description", "textarea", length=32000),
            *_common(),
        ],
        "Deals": [
            _f("Deal_Name", length=120, mandatory=True),
            _f("Stage", "picklist", mandatory=True, options=DEAL_STAGES),
            _f("Closing_Date", "date"),
            _f("Amount", "currency"),
            _f("Pipeline", "picklist"),
            _f("Lead_Source", "picklist", options=LEAD_SOURCES),
            _f("Description", "textarea", length=32000),
            _f("Account_Name", "lookup", lookup=("Accounts",)),
            _f("Contact_Name", "lookup", lookup=("Contacts",)),
            *_common(),
        ],
        "Calls": [
            _f("Subject", mandatory=True),
            _f("Call_Type", "picklist", mandatory=True),
            _f("Call_Start_Time", "datetime", mandatory=True),
            _f("Call_Duration", length=10),
            _f("Call_Purpose", "picklist"),
            _f("Call_Result", "picklist"),
            _f("Description", "textarea", length=32000),
            who,
            what,
            *_common(),
        ],
        "Tasks": [
            _f("Subject", mandatory=True),
            _f("Due_Date", "date"),
            _f("Status", "picklist"),
            _f("Priority", "picklist"),
            _f("Description", "textarea", length=32000),
            who,
            what,
            *_common(),
        ],
        "Cases": [
            _f("Subject", mandatory=True),
            _f("Status", "picklist"),
            _f("Priority", "picklist"),
            _f("Case_Origin", "picklist"),
            _f("Type", "picklist"),
            _f("Description", "textarea", length=32000),
            _f("Related_To", "lookup", lookup=("Contacts",)),
            _f("Deal_Name", "lookup", lookup=("Deals",)),
            *_common(),
        ],
        "Events": [
            _f("Event_Title", mandatory=True),
            _f("Start_DateTime", "datetime", mandatory=True),
            _f("End_DateTime", "datetime", mandatory=True),
            _f("Venue"),
            _f("Description", "textarea", length=32000),
            who,
            what,
            *_common(),
        ],
    }


# The fields an admin adds for callsync (docs/crms.md): the origin-call stamp with "Do not allow duplicate
# values", and the last call. A Lead's stamps map to the Contact's on conversion.
CALLSYNC_FIELDS: Final = (
    {"api_name": "callsync_origin_call_id", "unique": True},
    {"api_name": "callsync_last_call_id"},
)


# On the modules callsync's workflow actions create records in (docs/actions.md): the action's stamp, one per
# call and rule, with "Do not allow duplicate values" (the upsert key of the create).
ACTION_FIELDS: Final = ({"api_name": "callsync_action_key", "unique": True},)
ACTION_MODULES: Final = ("Calls", "Tasks", "Events", "Cases")


def custom_field(spec: dict[str, Any], module: str) -> FieldDef:
    name = str(spec["api_name"])
    mapping = _lead_map(name) if module == "Leads" else {}
    return FieldDef(
        name,
        str(spec.get("data_type", "text")),
        label=str(spec.get("field_label", name.replace("_", " "))),
        length=int(spec.get("length", 255)),
        unique=bool(spec.get("unique", False)),
        custom=True,
        convert_mapping=mapping,
    )
