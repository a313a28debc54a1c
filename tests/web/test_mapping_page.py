"""The dashboard's Mapping page: a tenant's field-mapping document, only for the tenants a user may see."""

from __future__ import annotations

from callsync.config import EXAMPLES_DIR, CRMConnection, TenantConfig
from callsync.services.mapping_doc import mapping_doc
from callsync.store.db import Database
from tests.web.helpers import add_user, client, sign_in

TENANTS = {
    "acme": TenantConfig(
        name="acme", crm=CRMConnection(kind="hubspot"), mapping=str(EXAMPLES_DIR / "hubspot.yaml")
    ),
    "globex": TenantConfig(
        name="globex", crm=CRMConnection(kind="zoho"), mapping=str(EXAMPLES_DIR / "zoho.yaml")
    ),
}


def test_the_mapping_page_shows_the_document_of_a_visible_tenant_only(sqlite_db: Database) -> None:
    add_user(sqlite_db, "ann", "viewer", ["acme"])
    c = client(sqlite_db, TENANTS)
    sign_in(c, "ann")
    index = c.get("/mapping")
    assert index.status_code == 200 and "/mapping/acme" in index.text and "globex" not in index.text
    page = c.get("/mapping/acme")
    assert page.status_code == 200
    doc = mapping_doc(TENANTS, "acme", None)
    assert doc.integration_version in page.text
    assert "contacts.jobtitle" in page.text and "newest_wins" in page.text
    assert c.get("/mapping/globex").status_code == 404  # another tenant's mapping is not shown
    assert c.get("/mapping/nobody").status_code == 404
