"""Operations shared by the CLI and the web dashboard: status, review decisions, dead letters, quarantine,
trace, reconcile, sync. One module per concept.

Each function takes a `Database` (and the tenants' configuration where it must reach a CRM) and returns typed
results; none prints. A refusal a user can act on is a `ServiceError` (errors.py) whose message is one line.
No module here names a CRM or imports DBOS: work that runs a workflow goes through `pipeline/`.
"""
