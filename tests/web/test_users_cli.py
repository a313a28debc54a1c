"""`callsync users`: add (password on stdin), list without hashes, refusals, passwd, remove."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from callsync.cli import app
from callsync.services import users
from callsync.store.db import Database

runner = CliRunner()


def test_users_commands(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/c.db"
    added = runner.invoke(app, ["users", "add", "rita", "--role", "reviewer", "--tenant", "acme", "--tenant",
                                "globex", "--password-stdin", "--db", url], input="a long passphrase\n")  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "rita (reviewer) added; tenants: acme, globex" in added.output
    listed = runner.invoke(app, ["users", "list", "--db", url])
    assert "rita" in listed.output and "argon2" not in listed.output
    short = runner.invoke(app, ["users", "add", "vic", "--role", "viewer", "--tenant", "acme", "--password-stdin",
                                "--db", url], input="short\n")  # fmt: skip
    assert short.exit_code == 1 and "at least 12" in short.output
    no_tenant = runner.invoke(app, ["users", "add", "vic", "--role", "viewer", "--password-stdin", "--db", url],
                              input="a long passphrase\n")  # fmt: skip
    assert no_tenant.exit_code == 1 and "--tenant" in no_tenant.output
    bad_role = runner.invoke(app, ["users", "add", "vic", "--role", "boss", "--password-stdin", "--db", url])
    assert bad_role.exit_code == 2
    changed = runner.invoke(app, ["users", "passwd", "rita", "--password-stdin", "--db", url],
                            input="another long passphrase\n")  # fmt: skip
    assert changed.exit_code == 0
    db = Database(url)
    try:
        assert users.authenticate(db, "rita", "another long passphrase") is not None
        assert users.authenticate(db, "rita", "a long passphrase") is None
    finally:
        db.dispose()
    assert runner.invoke(app, ["users", "remove", "rita", "--db", url]).exit_code == 0
    assert runner.invoke(app, ["users", "remove", "rita", "--db", url]).exit_code == 1
