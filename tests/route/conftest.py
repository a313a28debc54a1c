"""An ingest app on a fresh SQLite database with two tenants, each with its own secrets and routes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from callsync.capture.platforms import PLATFORMS
from callsync.config import TenantConfig
from callsync.route.app import create_app
from callsync.store.db import Database
from callsync.store.tables import CallEventRow, CallRow, QuarantineRow
from tests.route.payloads import BUSINESS, encode, signed

ACME_SECRET = "acme-webhook-secret"
GLOBEX_SECRET = "globex-webhook-secret"


def acme() -> TenantConfig:
    return TenantConfig.model_validate(
        {
            "name": "acme",
            "numbers": [BUSINESS],
            "assistant_ids": {"vapi": ["asst_1"], "retell": ["agent_31ab"], "elevenlabs": ["agent_7h2k"],
                              "twilio": ["AC1f2e"], "bland": ["pw_1"]},
            "secrets": dict.fromkeys(PLATFORMS, "TEST_ACME_SECRET"),
        }
    )  # fmt: skip


def globex() -> TenantConfig:
    return TenantConfig.model_validate(
        {
            "name": "globex",
            "numbers": ["+16175550100"],
            "assistant_ids": {"vapi": ["asst_globex"], "retell": ["agent_globex"]},
            "secrets": dict.fromkeys(PLATFORMS, "TEST_GLOBEX_SECRET"),
        }
    )


@dataclass
class Ingest:
    db: Database
    client: TestClient
    tenants: dict[str, TenantConfig]

    def post(
        self, platform: str, payload: dict[str, Any] | bytes, *, secret: str = ACME_SECRET, **kw: Any
    ) -> Any:
        if isinstance(payload, bytes):
            body, content_type = payload, kw.pop("content_type", "application/json")
        else:
            body, content_type = encode(platform, payload)
        url = "http://testserver/v1/webhooks/twilio"
        if platform == "twilio" and content_type == "application/json":
            import hashlib

            url += "?bodySHA256=" + hashlib.sha256(body).hexdigest()
        headers = signed(platform, body, secret, content_type=content_type, url=url, now=kw.pop("now", None))
        headers |= kw.pop("headers", {})
        path = url.removeprefix("http://testserver") if platform == "twilio" else f"/v1/webhooks/{platform}"
        return self.client.post(path, content=body, headers=headers)

    def count(self, model: Any = CallRow) -> int:
        with self.db.session() as s:
            return int(s.scalar(select(func.count()).select_from(model)) or 0)

    def calls(self) -> list[CallRow]:
        with self.db.session() as s:
            return list(s.scalars(select(CallRow).order_by(CallRow.id)).all())

    def quarantined(self) -> list[QuarantineRow]:
        with self.db.session() as s:
            return list(s.scalars(select(QuarantineRow).order_by(QuarantineRow.id)).all())

    def events(self) -> list[CallEventRow]:
        with self.db.session() as s:
            return list(s.scalars(select(CallEventRow).order_by(CallEventRow.id)).all())

    def workflows(self, prefix: str = "sync:") -> list[str]:
        with self.db.engine.connect() as conn:
            table = (
                "dbos.workflow_status" if self.db.engine.dialect.name == "postgresql" else "workflow_status"
            )
            rows = conn.execute(
                text(f"SELECT workflow_uuid FROM {table} WHERE workflow_uuid LIKE :p"), {"p": prefix + "%"}
            )
            return sorted(r[0] for r in rows)


@pytest.fixture
def secrets_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_ACME_SECRET", ACME_SECRET)
    monkeypatch.setenv("TEST_GLOBEX_SECRET", GLOBEX_SECRET)


@pytest.fixture
def ingest(sqlite_db: Database, secrets_env: None) -> Iterator[Ingest]:
    tenants = {"acme": acme(), "globex": globex()}
    with TestClient(create_app(sqlite_db, tenants)) as client:
        yield Ingest(sqlite_db, client, tenants)
