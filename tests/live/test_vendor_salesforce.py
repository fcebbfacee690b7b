"""CPQ on Salesforce's REST wire, driven by simple-salesforce, pointed at serve by
`instance_url` and a session that trusts serve's CA."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

from simulators.webhooks import verify_raw
from tests.live.vendor_world import VendorWorld, vendor_world

LIMITED = (
    "systems.cpq.rate_limits=[{fixed_window: 15, per: 1m, status: 429, "
    "code: REQUEST_LIMIT_EXCEEDED, retry_after: computed}]"
)


def client(world: VendorWorld, session_id: str | None = None) -> Salesforce:
    cpq = world.vendor("cpq")
    session = requests.Session()
    session.trust_env = False  # requests lets REQUESTS_CA_BUNDLE override session.verify
    session.verify = world.ca
    return Salesforce(instance_url=cpq["url"], session_id=session_id or cpq["session_id"],
                      session=session, version=cpq["version"])  # fmt: skip


def new_quote(sf: Salesforce, account: str, lines: list[tuple[str, int]]) -> str:
    tree = {"records": [{
        "attributes": {"type": "SBQQ__Quote__c", "referenceId": "quote"},
        "SBQQ__Account__c": account, "SBQQ__SubscriptionTerm__c": 24,
        "SBQQ__LineItems__r": {"records": [
            {"attributes": {"type": "SBQQ__QuoteLine__c", "referenceId": f"line{n}"},
             "SBQQ__ProductCode__c": sku, "SBQQ__Quantity__c": quantity}
            for n, (sku, quantity) in enumerate(lines)]},
    }]}  # fmt: skip
    made = sf.restful("composite/tree/SBQQ__Quote__c", method="POST", data=json.dumps(tree))
    assert made is not None and not made["hasErrors"]
    return str(made["results"][0]["id"])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VendorWorld]:
    """One world for this file's tests; each sells to an account of its own."""
    with vendor_world(tmp_path_factory.mktemp("salesforce"), wire="cpq") as served:
        yield served


def test_simple_salesforce_crud_soql_paging_and_upsert(world: VendorWorld) -> None:
    sf = client(world)
    accounts = sf.query("SELECT Id, Name, CurrencyIsoCode FROM Account ORDER BY Name")
    assert accounts["totalSize"] > 200 and accounts["done"]
    names = [record["Name"] for record in accounts["records"]]
    assert names == sorted(names)
    first = sf.query("SELECT Id FROM Account", headers={"Sforce-Query-Options": "batchSize=200"})
    assert not first["done"] and len(first["records"]) == 200
    every = sf.query_all("SELECT Id FROM Account")  # follows nextRecordsUrl
    assert every["totalSize"] == accounts["totalSize"] == len(every["records"])
    account = accounts["records"][0]["Id"]
    skus = [
        r["SBQQ__ProductCode__c"]
        for r in sf.query("SELECT SBQQ__ProductCode__c FROM SBQQ__QuoteLine__c")["records"]
    ]
    assert skus == []  # nothing sold yet
    quote_id = new_quote(sf, account, [("HW-EDGE-100", 4), ("SW-FLEET-STD", 4)])
    quote = sf.SBQQ__Quote__c.get(quote_id)
    assert quote["SBQQ__Status__c"] == "Draft" and quote["SBQQ__Type__c"] == "Quote"
    assert quote["SBQQ__NetAmount__c"] > 0
    lines = sf.query(
        f"SELECT SBQQ__ProductCode__c, SBQQ__Quantity__c, SBQQ__Quote__r.SBQQ__Account__c "
        f"FROM SBQQ__QuoteLine__c WHERE SBQQ__Quote__c = '{quote_id}' "
        "ORDER BY SBQQ__ProductCode__c"
    )["records"]  # fmt: skip
    assert [(r["SBQQ__ProductCode__c"], r["SBQQ__Quantity__c"]) for r in lines] == [
        ("HW-EDGE-100", 4),
        ("SW-FLEET-STD", 4),
    ]
    assert lines[0]["SBQQ__Quote__r"]["SBQQ__Account__c"] == account
    assert sf.SBQQ__Quote__c.update(quote_id, {"SBQQ__Status__c": "Approved"}) == 204
    approved = sf.query("SELECT Id, SBQQ__MasterContract__c FROM SBQQ__Quote__c WHERE "
                        f"SBQQ__Status__c = 'Approved' AND SBQQ__Account__c = '{account}'"
                        )["records"]  # fmt: skip
    assert [r["Id"] for r in approved] == [quote_id]
    contract = approved[0]["SBQQ__MasterContract__c"]
    # Upsert on an external id: the same renewal sent twice is one quote.
    renewal = {"SBQQ__Type__c": "Renewal", "SBQQ__MasterContract__c": contract}
    once = sf.SBQQ__Quote__c.upsert("Integration_Key__c/renew-1", renewal)
    twice = sf.SBQQ__Quote__c.upsert("Integration_Key__c/renew-1", renewal)
    assert (once, twice) == (201, 200)  # created, then found
    renewals = sf.query(f"SELECT Id FROM SBQQ__Quote__c WHERE SBQQ__MasterContract__c = "
                        f"'{contract}' AND SBQQ__Type__c = 'Renewal'")  # fmt: skip
    assert renewals["totalSize"] == 1
    assert sf.SBQQ__Quote__c.delete(renewals["records"][0]["Id"]) == 204
    with pytest.raises(SalesforceMalformedRequest) as refused:  # a business refusal
        new_quote(sf, account, [("NO-SUCH-SKU", 1)])
    assert refused.value.content[0]["errorCode"] == "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    assert "INVALID_SKU" in refused.value.content[0]["message"]
    with pytest.raises(SalesforceMalformedRequest) as malformed:
        sf.query("SELECT Id FROM Account WHERE Name LIKE 'A%'")
    assert malformed.value.content[0]["errorCode"] == "MALFORMED_QUERY"
    with pytest.raises(SalesforceResourceNotFound):
        sf.SBQQ__Quote__c.get("Q-999999")
    with pytest.raises(SalesforceExpiredSession):
        client(world, "not-a-session").query("SELECT Id FROM Account")
    world.fault("cpq", "maintenance", "start")
    with pytest.raises(SalesforceGeneralError) as maintenance:
        sf.SBQQ__Quote__c.get(quote_id)
    assert maintenance.value.status == 503
    world.fault("cpq", "maintenance", "stop")
    world.fault("cpq", "ghost_writes", "start", probability=1.0)
    with pytest.raises(SalesforceGeneralError) as lost:
        new_quote(sf, account, [("HW-EDGE-100", 1)])
    assert lost.value.status == 504
    world.fault("cpq", "ghost_writes", "stop", probability=1.0)
    drafts = sf.query(
        "SELECT Id FROM SBQQ__Quote__c WHERE SBQQ__Status__c = 'Draft' AND "
        f"SBQQ__Account__c = '{account}'"
    )
    assert drafts["totalSize"] == 1  # the ghost write is there


def test_salesforce_api_limit_is_403_request_limit_exceeded(tmp_path: Path) -> None:
    with vendor_world(tmp_path, LIMITED, wire="cpq", time_scale="30") as world:
        sf = client(world)
        with pytest.raises(SalesforceRefusedRequest) as limited:
            for _ in range(40):
                sf.query("SELECT Id FROM Account LIMIT 1")
        assert limited.value.content[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
        told = [r for r in world.history() if r["kind"] == "call" and r.get("retry_after")]
        assert told and told[0]["error_code"] == "REQUEST_LIMIT_EXCEEDED"


def test_quote_change_events_are_cdc_shaped_and_signed(world: VendorWorld) -> None:
    sf = client(world)
    account = sf.query("SELECT Id FROM Account ORDER BY Id DESC LIMIT 1")["records"][0]["Id"]
    quote_id = new_quote(sf, account, [("SW-FLEET-STD", 2)])
    sf.SBQQ__Quote__c.update(quote_id, {"SBQQ__Status__c": "Approved"})
    path, headers, body = world.receiver.naming(quote_id)[0]
    assert path == "/webhooks/cpq"
    assert verify_raw(world.described["signing_secret"], headers["Syncline-Signature"], body,
                      time.time())  # fmt: skip
    message = json.loads(body)
    assert message["channel"] == "/data/SBQQ__Quote__ChangeEvent"
    payload = message["data"]["payload"]
    assert payload["ChangeEventHeader"]["recordIds"] == [quote_id]
    assert payload["SBQQ__Status__c"] == "Approved"
    assert payload["SBQQ__Account__c"] == account
