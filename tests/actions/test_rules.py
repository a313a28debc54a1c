"""The `actions:` block of a mapping: what it accepts, and the one-line refusals (file:line) of what it names
wrongly or what the tenant's CRM cannot do."""

from __future__ import annotations

from pathlib import Path

import pytest

from callsync.actions.rules import ActionKind, explain_rule
from callsync.config import check_mapping_crm
from callsync.errors import ConfigError
from callsync.structure.mapping import load_mapping, parse_mapping
from tests.actions.conftest import MAPPING

HEAD = """crm: hubspot
objects:
  contact:
    crm_object: contacts
    fields:
      email: {from: email, policy: fill_if_empty}
actions:
  owners: {sales: "1001"}
  pipelines: {sales: {id: default, stages: [new, qualified, won]}}
  rules:
"""


def refusal(rules: str) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_mapping(HEAD + rules, "m.yaml")
    return str(caught.value)


def test_every_action_type_loads_from_the_test_mapping() -> None:
    doc = load_mapping(MAPPING)
    assert {r.do for r in doc.model.actions.rules} == set(ActionKind)


def test_an_unknown_action_is_refused_with_its_line() -> None:
    message = refusal("    - name: x\n      do: send_flowers\n")
    assert message.startswith("m.yaml:12: actions.rules.0.do: unknown action 'send_flowers'")


def test_an_unknown_owner_is_refused_with_its_line() -> None:
    message = refusal("    - name: x\n      do: create_task\n      with: {owner: marketing}\n")
    assert message == "m.yaml:13: actions.rules.x.with.owner: unknown owner 'marketing'; known: sales"


def test_an_unknown_stage_is_refused_with_its_line() -> None:
    message = refusal("    - name: x\n      do: advance_stage\n      with: {stage: closedwon}\n")
    assert message.startswith("m.yaml:13: actions.rules.x.with.stage: unknown stage 'closedwon'")


def test_an_unknown_label_value_or_field_is_refused() -> None:
    assert "unknown intent 'shopping'" in refusal(
        "    - name: x\n      when: {intent: shopping}\n      do: log_call\n"
    )
    assert "'shoe_size' is not a label" in refusal(
        "    - name: x\n      when: {shoe_size: present}\n      do: log_call\n"
    )


def test_a_rule_name_twice_is_refused() -> None:
    assert "used twice: x" in refusal(
        "    - name: x\n      do: log_call\n    - name: x\n      do: log_call\n"
    )


def test_an_action_the_tenants_crm_cannot_do_is_refused_at_load(tmp_path: Path) -> None:
    # Whatever each CRM declares, every action it does not declare is refused, naming the line of `do`.
    from callsync.crm.registry import SPECS

    text = (
        HEAD.replace("crm: hubspot", "crm: {kind}")
        + "    - name: x\n      do: {action}\n      with: {params}\n"
    )
    params = {"advance_stage": "{stage: qualified}", "handoff": "{owner: sales}"}
    for kind, spec in SPECS.items():
        for action in ActionKind:
            if action.value in spec.capabilities.actions:
                continue
            path = tmp_path / f"{kind}-{action.value}.yaml"
            path.write_text(
                text.replace("{kind}", kind)
                .replace("{action}", action.value)
                .replace("{params}", params.get(action.value, "{}"))
            )
            with pytest.raises(ConfigError) as caught:
                check_mapping_crm(load_mapping(path), str(path))
            assert f":12: actions.rules.x.do: {spec.label or kind} cannot {action.value}" in str(caught.value)


def test_explain_says_one_sentence_per_rule() -> None:
    doc = load_mapping(MAPPING)
    lines = [explain_rule(doc.model.actions, r) for r in doc.model.actions.rules]
    assert lines[1] == (
        "book: when the outcome is appointment_booked, book a 45-minute meeting 'Consultation with {full_name}' "
        "for sales (1001) at the time the call arranged."
    )
    assert "never backwards" in lines[4] and "unless one of this rule is still open" in lines[6]
    assert all(line.endswith(".") and "\n" not in line for line in lines)
