"""Stage 4 — write: CRM adapters behind one protocol, and the durable delivery engine."""
