"""The written mapping document: every mapped field with its object, coercion, required handling, policy
sentence and source of truth; the integration version ledger rows carry."""

from __future__ import annotations

from callsync.config import EXAMPLES_DIR
from callsync.structure.mapping import load_mapping
from callsync.structure.mapping_doc import build_mapping_doc, integration_version, render


def test_every_mapped_field_is_documented_with_its_policy_and_source_of_truth() -> None:
    doc = load_mapping(EXAMPLES_DIR / "hubspot.yaml")
    built = build_mapping_doc(doc)
    documented = {(f.crm_object, f.crm_field) for f in built.fields}
    mapped = {(o.crm_object, f) for o in doc.model.objects.values() for f in o.fields}
    assert documented == mapped
    dealname = next(f for f in built.fields if f.crm_field == "dealname")
    assert dealname.required == "required: without a value the whole record waits in review"
    lastname = next(f for f in built.fields if f.crm_field == "lastname")
    assert '"(unknown caller)"' in lastname.required
    company = next(f for f in built.fields if (f.crm_object, f.crm_field) == ("contacts", "company"))
    assert company.policy == "call_wins" and "never overwritten" in company.policy_sentence
    assert company.source_of_truth.startswith("the latest call")


def test_markdown_and_html_carry_the_integration_version_and_required_defaults() -> None:
    doc = load_mapping(EXAMPLES_DIR / "hubspot.yaml")
    version = integration_version(doc)
    assert version.endswith(doc.digest[:12])
    md = render(doc, "md")
    assert version in md and "deals.dealstage" in md and "appointmentscheduled" in md
    page = render(doc, "html")
    assert page.startswith("<!doctype html>") and version in page
    assert "{company} - {full_name}" in page  # the template, escaped but present


def test_the_workflow_actions_are_documented_one_sentence_per_rule() -> None:
    from callsync.structure.mapping import parse_mapping

    text = (EXAMPLES_DIR / "hubspot.yaml").read_text(encoding="utf-8").split("\nactions:")[0] + (
        "\nactions:\n  owners: {sales: '1001'}\n  rules:\n"
        "    - name: book_demo\n      when: {outcome: appointment_booked}\n      do: book_meeting\n"
        "      with: {title: 'Demo with {full_name}', duration_min: 30, owner: sales}\n"
    )
    built = build_mapping_doc(parse_mapping(text, "m.yaml"))
    assert [a.name for a in built.actions] == ["book_demo"]
    assert built.actions[0].does == "book_meeting"
    assert "30-minute meeting" in built.actions[0].sentence and "1001" in built.actions[0].sentence
    assert built.actions[0].sentence in render(parse_mapping(text, "m.yaml"), "md")
