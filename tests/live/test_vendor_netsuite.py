"""ERP on NetSuite's REST wire, driven by the `netsuite` package's REST client (OAuth 1.0a,
HMAC-SHA256), pointed at serve by its hostname."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from netsuite import Config, NetSuite, TokenAuth
from netsuite.exceptions import NetsuiteAPIRequestError

from tests.live.vendor_world import VendorWorld, vendor_world

# The netsuite package signs through APIs its dependencies have since deprecated.
pytestmark = [
    pytest.mark.filterwarnings("ignore:use sign_hmac_sha256_with_client:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:Use 'content=<...>' to upload raw:DeprecationWarning"),
]
LIMITED = "systems.erp.concurrency={limit: 1, mode: reject, status: 429, retry_after: 1s}"


def rest_api(world: VendorWorld, monkeypatch: pytest.MonkeyPatch, secret: str | None = None
             ) -> Any:  # fmt: skip
    erp = world.vendor("erp")
    monkeypatch.setenv("SSL_CERT_FILE", world.ca)  # httpx trusts serve's CA
    auth = dict(erp["token_auth"])
    if secret is not None:
        auth["token_secret"] = secret
    api = NetSuite(Config(account=erp["account"], auth=TokenAuth(**auth))).rest_api
    api.hostname = erp["url"].removeprefix("https://")
    return api


def order(quote: str, customer: str, sku: str, total: float, currency: str) -> dict[str, Any]:
    return {
        "entity": {"id": customer}, "currency": {"refName": currency},
        "custbody_quote_id": quote, "custbody_contract_id": f"CT-{quote}",
        "custbody_contract_version": 1, "custbody_quote_total": total,
        "item": {"items": [{"item": {"externalId": sku}, "quantity": 2}]},
    }  # fmt: skip


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VendorWorld]:
    with vendor_world(tmp_path_factory.mktemp("netsuite"), wire="erp") as served:
        yield served


def calls(world: VendorWorld) -> int:
    return sum(1 for r in world.history() if r["kind"] == "call")


def test_netsuite_records_suiteql_paging_idempotency_and_faults(
    world: VendorWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = rest_api(world, monkeypatch)

    async def story() -> None:
        page = await api.get("/record/v1/customer", params={"limit": 5, "offset": 5})
        assert page["count"] == 5 and page["hasMore"] and page["offset"] == 5
        customer = await api.get(f"/record/v1/customer/eid:{page['items'][0]['id']}")
        subsidiary = customer["subsidiary"]["id"]
        currency = "USD" if subsidiary == "SUB-US" else None
        rows = await api.suiteql(f"SELECT id, subsidiary FROM customer WHERE subsidiary = "
                                 f"'{subsidiary}'", limit=1000)  # fmt: skip
        assert customer["id"] in {row["id"] for row in rows["items"]}
        us = await api.suiteql("SELECT id FROM customer WHERE subsidiary = 'SUB-US'")
        customer_id = us["items"][0]["id"]
        body = order("Q-N1", customer_id, "HW-EDGE-100", 100.0, currency or "USD")
        headers = {"X-NetSuite-Idempotency-Key": "Q-N1:erp-order"}
        made = await api.request("POST", "/record/v1/salesOrder", json=body, headers=headers)
        again = await api.request("POST", "/record/v1/salesOrder", json=body, headers=headers)
        assert made.status_code == again.status_code == 204
        assert made.headers["Location"] == again.headers["Location"]  # one order
        order_id = made.headers["Location"].rsplit("/", 1)[1]
        read = await api.get(f"/record/v1/salesOrder/{order_id}")
        assert read["custbody_quote_id"] == "Q-N1" and read["custbody_quote_total"] == 100.0
        found = await api.suiteql("SELECT id, tranid FROM salesOrder WHERE "
                                  "custbody_quote_id = 'Q-N1'")  # fmt: skip
        assert [row["id"] for row in found["items"]] == [order_id]
        await api.put("/record/v1/customrecord_contract/eid:CT-Q-N1", json={
            "custrecord_contract_version": 1, "custrecord_customer": {"id": customer_id},
            "custrecord_sales_order": {"id": order_id},
            "item": {"items": [{"item": {"externalId": "HW-EDGE-100"}, "quantity": 2}]},
        })  # fmt: skip
        contract = await api.get("/record/v1/customrecord_contract/eid:CT-Q-N1")
        assert contract["custrecord_contract_version"] == 1
        with pytest.raises(NetsuiteAPIRequestError) as unmapped:  # a business refusal
            await api.post(
                "/record/v1/salesOrder",
                json=order("Q-N2", customer_id, "NO-SUCH-SKU", 1.0, "USD"),
            )
        assert unmapped.value.status_code == 400
        with pytest.raises(NetsuiteAPIRequestError) as missing:
            await api.get("/record/v1/salesOrder/SO-999999")
        assert missing.value.status_code == 404
        world.fault("erp", "maintenance", "start")
        with pytest.raises(NetsuiteAPIRequestError) as maintenance:
            await api.get(f"/record/v1/salesOrder/{order_id}")
        assert maintenance.value.status_code == 503
        world.fault("erp", "maintenance", "stop")
        world.fault("erp", "ghost_writes", "start", probability=1.0)
        with pytest.raises(NetsuiteAPIRequestError) as lost:
            await api.post(
                "/record/v1/salesOrder",
                json=order("Q-N3", customer_id, "HW-EDGE-100", 100.0, "USD"),
            )
        assert lost.value.status_code == 504
        world.fault("erp", "ghost_writes", "stop", probability=1.0)
        ghost = await api.suiteql("SELECT id FROM salesOrder WHERE custbody_quote_id = 'Q-N3'")
        assert ghost["count"] == 1  # the write is there

    asyncio.run(story())
    orders = [r for r in world.history() if r["kind"] == "state"
              and r["entity"] == "sales_order"]  # fmt: skip
    assert len(orders) == 2  # Q-N1 once, despite the retry; Q-N3 (the ghost write)


def test_netsuite_checks_the_oauth_signature(
    world: VendorWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = calls(world)
    forged = rest_api(world, monkeypatch, secret="not-the-token-secret")
    with pytest.raises(NetsuiteAPIRequestError) as refused:
        asyncio.run(forged.get("/record/v1/customer"))
    assert refused.value.status_code == 401 and "INVALID_LOGIN" in refused.value.response_text
    assert calls(world) == before  # refused before anything was asked of ERP


def test_netsuite_concurrency_limit_is_429(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with vendor_world(tmp_path, LIMITED, wire="erp", time_scale="60") as world:
        api = rest_api(world, monkeypatch)

        async def burst() -> list[Any]:
            return await asyncio.gather(*(api.get("/record/v1/customer", params={"limit": 1})
                                          for _ in range(8)), return_exceptions=True)  # fmt: skip

        answers = asyncio.run(burst())
        limited = [a for a in answers if isinstance(a, NetsuiteAPIRequestError)]
        assert limited and all(a.status_code == 429 for a in limited)
        assert "CONCURRENCY_LIMIT_EXCEEDED" in limited[0].response_text
        told = [r for r in world.history() if r["kind"] == "call" and r.get("retry_after")]
        assert told
