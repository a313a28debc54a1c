"""Zoho's official Python SDK (`zohocrmsdk8-0`) against the Zoho emulator: records insert, search and
upsert, and its parsing of DUPLICATE_DATA (including `duplicate_record.module`); a COQL query and its
SYNTAX_ERROR.

The SDK keeps global state (`Initializer`), so each test initialises it afresh for its own emulator:
an Environment whose API and accounts URLs are the emulator on 127.0.0.1, an access token given as is
(no grant or refresh token, so the SDK never calls the accounts server), `find_user=False` (no
`/users?type=CurrentUser` lookup), and a file token store and field-metadata cache under `tmp_path`.
The SDK fetches `settings/fields?module=...` before its first write to a module, which the emulator serves.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from zohocrmsdk.src.com.zoho.api.authenticator.oauth_token import OAuthToken
from zohocrmsdk.src.com.zoho.api.authenticator.store import FileStore
from zohocrmsdk.src.com.zoho.crm.api import ParameterMap
from zohocrmsdk.src.com.zoho.crm.api.coql import APIException as CoqlAPIException
from zohocrmsdk.src.com.zoho.crm.api.coql import BodyWrapper as CoqlBodyWrapper
from zohocrmsdk.src.com.zoho.crm.api.coql import CoqlOperations
from zohocrmsdk.src.com.zoho.crm.api.coql import ResponseWrapper as CoqlResponseWrapper
from zohocrmsdk.src.com.zoho.crm.api.dc.data_center import DataCenter
from zohocrmsdk.src.com.zoho.crm.api.initializer import Initializer
from zohocrmsdk.src.com.zoho.crm.api.record import (
    APIException,
    BodyWrapper,
    Record,
    RecordOperations,
    SearchRecordsParam,
    SuccessResponse,
)
from zohocrmsdk.src.com.zoho.crm.api.sdk_config import SDKConfig

from callsync_sandbox.server import SandboxServer
from callsync_sandbox.zoho import ZohoSandbox
from callsync_sandbox.zoho.schema import MODULE_IDS
from tests.sdk.conftest import ZOHO_TOKEN

Emulator = tuple[ZohoSandbox, SandboxServer]


@pytest.fixture
def leads(zoho: Emulator, tmp_path: Path) -> RecordOperations:
    _, server = zoho
    environment = DataCenter.Environment(server.base_url, f"{server.base_url}/accounts", server.base_url)
    Initializer.initialize(
        environment=environment,
        token=OAuthToken(access_token=ZOHO_TOKEN, find_user=False),
        store=FileStore(str(tmp_path / "zoho_tokens.csv")),
        sdk_config=SDKConfig(auto_refresh_fields=False, pick_list_validation=False),
        resource_path=str(tmp_path),
    )
    return RecordOperations("Leads")


def record(**fields: Any) -> Record:
    built = Record()
    for name, value in fields.items():
        built.add_key_value(name, value)
    return built


def body(*records: Record, check: list[str] | None = None) -> BodyWrapper:
    wrapper = BodyWrapper()
    wrapper.set_data(list(records))
    if check is not None:
        wrapper.set_duplicate_check_fields(check)
    return wrapper


def outcomes(response: Any) -> list[SuccessResponse | APIException]:
    items: list[SuccessResponse | APIException] = response.get_object().get_data()
    return items


def search(leads: RecordOperations, **params: str) -> list[Record]:
    param_map = ParameterMap()
    for name, value in params.items():
        param_map.add(getattr(SearchRecordsParam, name), value)
    response = leads.search_records(param_map)
    if response.get_status_code() == 204:
        return []
    found: list[Record] = response.get_object().get_data()
    return found


def test_insert_answers_success_with_the_new_id_and_search_finds_it(leads: RecordOperations) -> None:
    response = leads.create_records(
        body(record(Last_Name="Okafor", Company="Harbor", Email="tom@harbor.com"))
    )
    assert response.get_status_code() == 201
    (created,) = outcomes(response)
    assert isinstance(created, SuccessResponse)
    assert created.get_code().get_value() == "SUCCESS"
    lead_id = str(created.get_details()["id"])

    by_email = search(leads, email="TOM@harbor.com")
    assert [str(found.get_id()) for found in by_email] == [lead_id]
    assert by_email[0].get_key_value("Company") == "Harbor"
    by_criteria = search(leads, criteria="((Last_Name:equals:okafor)and(Company:starts_with:Har))")
    assert [str(found.get_id()) for found in by_criteria] == [lead_id]
    assert search(leads, email="nobody@harbor.com") == []  # a 204, which the SDK hands back without a body


def test_duplicate_data_is_parsed_with_the_existing_record_and_its_module(leads: RecordOperations) -> None:
    (first,) = outcomes(leads.create_records(body(record(Last_Name="A", Company="X", Email="dup@x.com"))))
    assert isinstance(first, SuccessResponse)
    response = leads.create_records(body(record(Last_Name="B", Company="X", Email="DUP@x.com")))
    assert response.get_status_code() == 400
    (refused,) = outcomes(response)
    assert isinstance(refused, APIException)
    assert refused.get_code().get_value() == "DUPLICATE_DATA"
    details = refused.get_details()
    assert details["api_name"] == "Email"
    duplicate = details["duplicate_record"]
    assert str(duplicate.get_id()) == str(first.get_details()["id"])
    module = duplicate.get_module()
    # The SDK types module ids as longs: "" (what the emulator used to send) was unparseable for it.
    assert (module.get_api_name(), str(module.get_id())) == ("Leads", MODULE_IDS["Leads"])


def test_upsert_on_the_unique_stamp_inserts_then_updates_the_same_record(
    leads: RecordOperations, zoho: Emulator
) -> None:
    sandbox, _ = zoho
    stamp = {"callsync_origin_call_id": "call-7"}
    inserted = outcomes(
        leads.upsert_records(
            body(record(Last_Name="Kim", Company="Initech", **stamp), check=["callsync_origin_call_id"])
        )
    )
    updated = outcomes(
        leads.upsert_records(
            body(record(Last_Name="Kim", Designation="CTO", **stamp), check=["callsync_origin_call_id"])
        )
    )
    assert all(isinstance(item, SuccessResponse) for item in (*inserted, *updated))
    assert [item.get_action().get_value() for item in (*inserted, *updated)] == ["insert", "update"]
    assert updated[0].get_duplicate_field() == "callsync_origin_call_id"
    assert str(inserted[0].get_details()["id"]) == str(updated[0].get_details()["id"])
    (stored,) = sandbox.records("Leads")
    assert (stored["Company"], stored["Designation"]) == ("Initech", "CTO")


def test_a_coql_query_is_answered_sorted_and_limited_and_its_syntax_error_is_parsed(
    leads: RecordOperations, zoho: Emulator
) -> None:
    sandbox, _ = zoho
    ids = [
        sandbox.insert("Leads", {"First_Name": "Dana", "Last_Name": f"W{i}", "Company": "N"})
        for i in range(3)
    ]
    request = CoqlBodyWrapper()
    request.set_select_query(
        "select Last_Name, Full_Name from Leads where (First_Name = 'dana' or Last_Name = 'X') "
        "order by Modified_Time desc limit 2"
    )
    response = CoqlOperations().get_records(request)
    assert response.get_status_code() == 200
    answer = response.get_object()
    assert isinstance(answer, CoqlResponseWrapper)
    assert [str(r.get_id()) for r in answer.get_data()] == [ids[2], ids[1]]
    assert answer.get_data()[0].get_key_value("Last_Name") == "W2"
    assert answer.get_info().get_more_records() is True
    request.set_select_query("select id from Leads where Email = 'a' or Email = 'b' or Email = 'c'")
    refused = CoqlOperations().get_records(request)
    assert refused.get_status_code() == 400
    error = refused.get_object()
    assert isinstance(error, CoqlAPIException) and error.get_code().get_value() == "SYNTAX_ERROR"
