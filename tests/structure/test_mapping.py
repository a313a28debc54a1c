from __future__ import annotations

from pathlib import Path

import pytest

from callsync.errors import ConfigError
from callsync.reconcile.policy import ConflictPolicy
from callsync.structure.mapping import load_mapping, parse_mapping

EXAMPLE = Path(__file__).parents[2] / "examples" / "hubspot.yaml"

HEAD = "crm: hubspot\nobjects:\n  contact:\n    crm_object: contacts\n    fields:\n"


def test_bundled_hubspot_example_loads_with_a_policy_on_every_field() -> None:
    doc = load_mapping(EXAMPLE)
    contact = doc.object("contact")
    assert contact.crm_object == "contacts"
    assert contact.fields["email"].source == "email"
    assert all(isinstance(f.policy, ConflictPolicy) for f in contact.fields.values())
    assert len(doc.digest) == 64


def test_field_without_policy_is_refused_naming_field_and_line() -> None:
    text = HEAD + "      email: {from: email}\n      firstname: {from: first_name}\n"
    with pytest.raises(ConfigError) as info:
        parse_mapping(text, "m.yaml")
    assert info.value.line == 6
    assert info.value.field == "objects.contact.fields.email"
    assert "no conflict policy" in str(info.value)
    assert str(info.value).startswith("m.yaml:6: objects.contact.fields.email:")


def test_unknown_policy_is_refused_naming_field_and_line() -> None:
    text = (
        HEAD
        + "      email: {from: email, policy: fill_if_empty}\n      company:\n        from: company\n        policy: last_wins\n"
    )
    with pytest.raises(ConfigError) as info:
        parse_mapping(text, "m.yaml")
    assert info.value.field == "objects.contact.fields.company"
    assert info.value.line == 9
    assert "'last_wins'" in str(info.value)


def test_unknown_canonical_field_is_refused_naming_field_and_line() -> None:
    text = HEAD + "      email:\n        from: emial\n        policy: call_wins\n"
    with pytest.raises(ConfigError) as info:
        parse_mapping(text, "m.yaml")
    assert info.value.line == 7
    assert "emial" in str(info.value)


def test_required_field_needs_exactly_one_of_default_or_review() -> None:
    text = HEAD + "      email: {from: email, policy: call_wins}\n    required:\n      lastname: {}\n"
    with pytest.raises(ConfigError) as info:
        parse_mapping(text, "m.yaml")
    assert info.value.line == 8
    assert "exactly one" in str(info.value)


def test_invalid_yaml_names_the_line() -> None:
    with pytest.raises(ConfigError) as info:
        parse_mapping("crm: hubspot\nobjects: [\n", "m.yaml")
    assert info.value.line is not None


def test_digest_changes_when_the_document_changes() -> None:
    a = parse_mapping(HEAD + "      email: {from: email, policy: call_wins}\n")
    b = parse_mapping(HEAD + "      email: {from: email, policy: fill_if_empty}\n")
    assert a.digest != b.digest


def test_duplicate_key_is_refused_naming_the_file_and_both_lines() -> None:
    text = (
        HEAD
        + "      email: {from: email, policy: fill_if_empty}\n"
        + "      phone: {from: phone, policy: fill_if_empty}\n"
        + "      email: {from: email, policy: call_wins}\n"
    )
    with pytest.raises(ConfigError) as info:
        parse_mapping(text, "m.yaml")
    assert info.value.line == 8 and info.value.field == "objects.contact.fields.email"
    assert "lines 6 and 8" in str(info.value) and str(info.value).startswith("m.yaml:8:")


def test_duplicate_key_inside_a_flow_mapping_is_refused() -> None:
    text = HEAD + "      email: {from: email, policy: fill_if_empty, policy: call_wins}\n"
    with pytest.raises(ConfigError) as info:
        parse_mapping(text, "m.yaml")
    assert "duplicate key 'policy' on lines 6 and 6" in str(info.value)


def test_duplicate_top_level_key_is_refused() -> None:
    text = (
        "crm: hubspot\n"
        + HEAD.replace("crm: hubspot\n", "", 1)
        + "      email: {from: email, policy: call_wins}\n"
    )
    text = "crm: zoho\n" + text
    with pytest.raises(ConfigError) as info:
        parse_mapping(text, "m.yaml")
    assert "duplicate key 'crm' on lines 1 and 2" in str(info.value)


def test_the_crm_a_mapping_names_is_a_plain_name_checked_by_the_tenant_not_by_structure() -> None:
    text = HEAD.replace("hubspot", "Not A CRM!") + "      email: {from: email, policy: call_wins}\n"
    with pytest.raises(ConfigError) as info:
        parse_mapping(text, "m.yaml")
    assert info.value.field == "crm"


def test_caller_id_switch_defaults_on_and_an_object_overrides_the_document() -> None:
    base = HEAD + "      email: {from: email, policy: call_wins}\n"
    assert parse_mapping(base).uses_caller_id("contact")
    off = parse_mapping("caller_id: false\n" + base)
    assert not off.uses_caller_id("contact")
    back_on = parse_mapping(
        "caller_id: false\n" + base.replace("    fields:", "    caller_id: true\n    fields:")
    )
    assert back_on.uses_caller_id("contact")
