"""Say in plain words who wins on every mapped field: the answer to "who wins on the budget field?"."""

from __future__ import annotations

from dataclasses import dataclass

from callsync.reconcile.policy import POLICY_RULES, PROTECTED_RULE, ConflictPolicy
from callsync.structure.mapping import MappingDocument


@dataclass(frozen=True)
class FieldRule:
    object_name: str
    crm_object: str
    crm_field: str
    source: str
    policy: str
    sentence: str


def explain_mapping(doc: MappingDocument) -> list[FieldRule]:
    rules = []
    for obj_name, obj in doc.model.objects.items():
        for crm_field, rule in obj.fields.items():
            # Protection only intercepts a change the policy itself would make: under fill_if_empty and
            # crm_wins a call never proposes to replace a present value, so nothing goes to review for them.
            protection = (
                "a value already in the CRM is kept, so nothing goes to the review queue"
                if rule.policy in (ConflictPolicy.FILL_IF_EMPTY, ConflictPolicy.CRM_WINS)
                else PROTECTED_RULE
            )
            sentence = (
                f"On {obj.crm_object}.{crm_field} (from the call's {rule.origin}), {POLICY_RULES[rule.policy]}; "
                f"and {protection}."
            )
            rules.append(
                FieldRule(obj_name, obj.crm_object, crm_field, rule.origin, rule.policy.value, sentence)
            )
    return rules


def explain_required(doc: MappingDocument) -> list[str]:
    lines = []
    for obj in doc.model.objects.values():
        for crm_field, req in obj.required.items():
            if req.review:
                lines.append(
                    f"{obj.crm_object}.{crm_field} is required: without a value the whole record waits in review."
                )
            else:
                lines.append(
                    f'{obj.crm_object}.{crm_field} is required: without a value it is set to "{req.default}".'
                )
    return lines
