"""The mapping against a CRM's schema: each mismatch is named with its object, field and line."""

from __future__ import annotations

from callsync.crm.schema import CRMSchema, PicklistOption, SchemaField, SchemaObject, parse_schema
from callsync.structure.mapping import parse_mapping
from callsync.trust.schema_check import check_schema, mapping_lines

MAPPING = """\
crm: hubspot
objects:
  contact:
    crm_object: contacts
    fields:
      email:     {from: email, policy: fill_if_empty, type: email}
      job_title: {from: job_title, policy: newest_wins}
      amount:    {from: amount, policy: call_wins, type: number}
  deal:
    crm_object: deals
    fields:
      dealname: {template: "{company} - {full_name}", policy: fill_if_empty}
    required:
      dealstage: {default: "won-ish"}
"""

STAMPS = (SchemaField("callsync_origin_call_id"), SchemaField("callsync_last_call_id"))
SCHEMA = CRMSchema(
    crm="hubspot",
    objects=(
        SchemaObject(
            "contacts",
            fields=(
                SchemaField("email", kind="email"),
                SchemaField("jobtitle"),  # job_title was renamed in the CRM
                SchemaField("amount", kind="text", vendor_type="string"),
                *STAMPS,
            ),
        ),
        SchemaObject(
            "deals",
            fields=(
                SchemaField("dealname"),
                SchemaField(
                    "dealstage",
                    kind="picklist",
                    options=(PicklistOption("appointmentscheduled"), PicklistOption("closedwon")),
                ),
                SchemaField("pipeline", kind="picklist", required_on_create=True),
                STAMPS[0],
            ),
        ),
    ),
)


def _check(mapping: str = MAPPING, schema: CRMSchema = SCHEMA):  # type: ignore[no-untyped-def]
    return check_schema(parse_mapping(mapping, "m.yaml"), schema, mapping_lines(mapping))


def test_renamed_property_bad_picklist_value_and_uncovered_required_field_are_each_named() -> None:
    result = _check()
    found = {(p.kind, p.where): p for p in result.problems}
    assert not result.ok
    renamed = found[("missing_field", "contacts.job_title")]
    assert renamed.line == 7 and "jobtitle" in renamed.detail  # the likely new name is suggested
    picklist = found[("not_in_picklist", "deals.dealstage")]
    assert picklist.line == 14 and "won-ish" in picklist.detail and "closedwon" in picklist.detail
    assert ("required_not_covered", "deals.pipeline") in found
    assert found[("wrong_type", "contacts.amount")].line == 8  # a number sent to a text field


def test_a_mapping_the_schema_takes_has_no_problems() -> None:
    fixed = MAPPING.replace("job_title: {", "jobtitle: {").replace("won-ish", "closedwon")
    fixed = fixed.replace("      amount:    {from: amount, policy: call_wins, type: number}\n", "")
    fixed += '      pipeline: {default: "default"}\n'
    schema = CRMSchema(
        crm="hubspot",
        objects=(
            SCHEMA.objects[0],
            SchemaObject(
                "deals",
                fields=(
                    *SCHEMA.objects[1].fields[:2],
                    SchemaField("pipeline", kind="picklist", options=(PicklistOption("default"),)),
                    STAMPS[0],
                ),
            ),
        ),
    )
    result = _check(fixed, schema)
    assert result.ok, result.problems
    assert result.fields_checked == 3


def test_missing_stamps_objects_and_over_long_defaults_are_reported() -> None:
    mapping = MAPPING.replace("won-ish", "closedwon") + '      pipeline: {default: "' + "x" * 30 + '"}\n'
    schema = CRMSchema(
        crm="hubspot",
        objects=(
            SchemaObject("contacts", fields=(SchemaField("email", kind="email"),)),
            SchemaObject(
                "deals",
                fields=(
                    SchemaField("dealname"),
                    SchemaField("dealstage", kind="picklist", options=(PicklistOption("closedwon"),)),
                    SchemaField("pipeline", max_length=10),
                ),
            ),
        ),
    )
    kinds = {(p.kind, p.where) for p in _check(mapping, schema).problems}
    assert ("stamp_missing", "contacts.callsync_origin_call_id") in kinds
    assert ("stamp_missing", "contacts.callsync_last_call_id") in kinds
    assert ("stamp_missing", "deals.callsync_origin_call_id") in kinds
    assert ("too_long", "deals.pipeline") in kinds
    no_deals = CRMSchema(crm="hubspot", objects=schema.objects[:1])
    assert ("missing_object", "deals") in {(p.kind, p.where) for p in _check(mapping, no_deals).problems}


def test_an_exported_schema_reads_back_as_the_same_model() -> None:
    assert parse_schema(SCHEMA.to_json()).objects == SCHEMA.objects


def test_a_pipeline_stage_of_the_workflow_actions_outside_the_crms_stage_picklist_is_named() -> None:
    mapping = MAPPING.replace("won-ish", "closedwon") + (
        "actions:\n  pipelines:\n    sales: {id: default, stages: [appointmentscheduled, demo_done, closedwon]}\n"
    )
    deals = SCHEMA.objects[1]
    schema = CRMSchema(
        crm="hubspot",
        objects=(SCHEMA.objects[0], SchemaObject("deals", fields=deals.fields, stage_field="dealstage")),
    )
    stages = [p for p in _check(mapping, schema).problems if "actions.pipelines" in p.detail]
    assert [(p.kind, p.where) for p in stages] == [("not_in_picklist", "deals.dealstage")]
    assert "'demo_done'" in stages[0].detail and stages[0].line == 17
