"""Stage 5 — reconcile: which CRM record a call belongs to, and who wins each field."""
