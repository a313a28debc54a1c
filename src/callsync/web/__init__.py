"""The dashboard (docs/dashboard.md): server-rendered pages over services/, mounted by `callsync serve` at `/`.

Nobody sees anything without signing in; each user sees only their tenants; every state-changing request
carries a CSRF token. No SQL here: every page calls a function in `services/`, as the CLI does."""
