"""Workflow actions: what a call decided (a meeting, a callback, a ticket, a deal's stage, a handoff, the call
itself) as declared rules and planned actions. Pure: the CRM side is `crm/<name>/actions.py`, the durable
side `pipeline/actions.py` (docs/actions.md)."""

from callsync.actions.plan import ActionState, PlannedAction, Verdict, evaluate, plan_actions
from callsync.actions.rules import ActionKind, ActionRule, ActionsBlock, Condition, explain_rule

__all__ = [
    "ActionKind",
    "ActionRule",
    "ActionState",
    "ActionsBlock",
    "Condition",
    "PlannedAction",
    "Verdict",
    "evaluate",
    "explain_rule",
    "plan_actions",
]
