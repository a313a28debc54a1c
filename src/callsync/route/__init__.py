"""Stage 3, route: the webhook ingest app, signature checks, tenant routing and the polling fallback."""
