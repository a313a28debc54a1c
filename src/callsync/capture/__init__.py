"""Stage 1 — capture: platform payloads become CallRecords; transcripts become fields with evidence."""
