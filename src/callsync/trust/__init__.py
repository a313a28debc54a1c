"""Stage 6 — trust: the audit ledger read back as traces, reconciliation and replay."""
