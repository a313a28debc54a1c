"""Stage 2 — structure: mapping documents turn extracted fields into typed payloads per CRM object."""
