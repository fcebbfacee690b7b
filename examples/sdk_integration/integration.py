"""The seed flow, written only against the vendor SDKs: an approved quote in Salesforce CPQ
becomes a sales order and a contract in NetSuite, a subscription in Stripe and an entitlement
in Zendesk; Stripe's invoices, payments and credit notes are posted to NetSuite's ledger.

How it stays correct when vendors misbehave:
- Salesforce's change events only say which contract changed; the approved quotes are read
  with SOQL and applied in contract-version order, one contract at a time, so a duplicate or
  late event changes nothing, and a sweep finds approvals whose event never came.
- Stripe holds how far each contract has been billed (`metadata[contract_version]`), so a
  version is never billed twice, even after a restart.
- Every write carries an idempotency key made of business ids (or is an upsert), so a retry
  after a timeout is safe. `idempotency_keys=False` leaves them off Stripe's writes: the
  classic mistake, for the conformance test to catch.
- Nothing is written before what could refuse it is checked (a price for every line); a
  refusal parks the version and every later one of its contract until people act.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from examples.sdk_integration.calls import BusinessRefusal, Caller, netsuite
from examples.sdk_integration.vendors import Vendors

log = logging.getLogger("sdk_integration")
#: Minor units per major unit: Stripe counts in minor units, Salesforce and NetSuite in major.
MINOR = {"JPY": 1}
LEVELS = ("none", "standard", "premium")


def _contract_of(subscription: Any) -> str | None:
    metadata: dict[str, str] = subscription.metadata.to_dict() if subscription.metadata else {}
    return metadata.get("contract_id")


@dataclass
class Parked:
    workflow: str
    code: str
    reason: str
    keys: dict[str, Any]
    parked_at: float
    contract: str | None = None  # a contract version, tried again when resolved
    event: Any = None  # a ledger document's event, posted again when resolved


@dataclass
class Integration:
    vendors: Vendors
    idempotency_keys: bool = True
    completed: dict[str, int] = field(default_factory=dict)  # contract -> version done
    parked: dict[str, Parked] = field(default_factory=dict)
    skipped: set[str] = field(default_factory=set)  # quotes people said to skip
    running: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    again: set[str] = field(default_factory=set)  # contracts to look at once more
    working: int = 0
    resolutions: dict[str, int] = field(default_factory=dict)  # quote -> times resolved
    ledger_tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.call = Caller(self.vendors.time_scale)
        self.prices: dict[tuple[str, str], str] = {}
        self.organizations: dict[str, int] = {}

    @property
    def in_flight(self) -> int:
        return len(self.running) + len(self.ledger_tasks) + self.working + self.call.waiting

    def document_announced(self, event: Any) -> None:
        """A Stripe event: its document goes to the ledger, in the background."""
        task = asyncio.get_running_loop().create_task(self.post_to_ledger(event))
        self.ledger_tasks.add(task)
        task.add_done_callback(self.ledger_tasks.discard)

    def scenario_now(self) -> float:
        return (time.time() - self.vendors.started_unix) * self.vendors.time_scale

    # -- reference data, read once ----------------------------------------------------------

    async def load_reference_data(self) -> None:
        stripe = self.vendors.stripe

        def prices() -> dict[tuple[str, str], str]:
            listed = stripe.v1.prices.list({"limit": 100})
            return {(str(p.product), p.currency.upper()): p.id
                    for p in listed.auto_paging_iter()}  # fmt: skip

        def organizations() -> dict[str, int]:
            return {o.external_id: o.id for o in self.vendors.zendesk.organizations()}

        self.prices = await self.call.sync(prices, "stripe prices")
        self.organizations = await self.call.sync(organizations, "zendesk organizations")

    # -- Salesforce's change events and the sweep -------------------------------------------

    def contract_changed(self, contract_id: str) -> None:
        """Look at the contract's approved quotes (now, or once more after the current look)."""
        if contract_id in self.running:
            self.again.add(contract_id)
            return
        task = asyncio.get_running_loop().create_task(self._contract(contract_id))
        self.running[contract_id] = task

    async def _contract(self, contract_id: str) -> None:
        try:
            while True:
                self.again.discard(contract_id)
                try:
                    await self.sync_contract(contract_id)
                except Exception:
                    log.exception("contract %s", contract_id)
                if contract_id not in self.again:
                    return
        finally:
            self.running.pop(contract_id, None)

    async def sweep(self) -> None:
        """Approved quotes whose change event never came (Salesforce loses one rarely)."""
        salesforce = self.vendors.salesforce
        found = await self.call.sync(lambda: salesforce.query_all(
            "SELECT SBQQ__MasterContract__c, Contract_Version__c FROM SBQQ__Quote__c "
            "WHERE SBQQ__Status__c = 'Approved'"), "sweep")  # fmt: skip
        for record in found["records"]:
            contract_id = record["SBQQ__MasterContract__c"]
            if record["Contract_Version__c"] > self.completed.get(contract_id, 0):
                self.contract_changed(contract_id)

    # -- one contract, version by version ---------------------------------------------------

    async def sync_contract(self, contract_id: str) -> None:
        salesforce = self.vendors.salesforce
        quotes = await self.call.sync(lambda: salesforce.query_all(
            "SELECT Id, SBQQ__Type__c, SBQQ__Account__c, Contract_Version__c, CurrencyIsoCode, "
            "SBQQ__NetAmount__c, SBQQ__SubscriptionTerm__c FROM SBQQ__Quote__c WHERE "
            f"SBQQ__MasterContract__c = '{contract_id}' AND SBQQ__Status__c = 'Approved' "
            "ORDER BY Contract_Version__c"), f"quotes of {contract_id}")  # fmt: skip
        for quote in quotes["records"]:
            version = int(quote["Contract_Version__c"])
            if version <= self.completed.get(contract_id, 0) or quote["Id"] in self.skipped:
                continue
            if quote["Id"] in self.parked:
                return  # people have it; later versions wait behind it
            earlier = [p for p in self.parked.values() if p.contract == contract_id]
            if earlier:
                return
            self.working += 1
            try:
                await self.apply(contract_id, quote)
            except BusinessRefusal as refused:
                self.park(quote["Id"], contract_id, version, refused)
                return
            finally:
                self.working -= 1
            self.completed[contract_id] = version

    def park(self, quote_id: str, contract_id: str, version: int, refused: BusinessRefusal) -> None:
        log.warning("parked %s v%s: %s", contract_id, version, refused)
        keys = {"quote": quote_id, "contract": contract_id, "contract_version": version}
        self.parked[quote_id] = Parked(quote_id, refused.code, refused.message, keys,
                                       self.scenario_now(), contract_id)  # fmt: skip

    async def apply(self, contract_id: str, quote: Mapping[str, Any]) -> None:
        quote_id, version, kind = quote["Id"], int(quote["Contract_Version__c"]), quote[
            "SBQQ__Type__c"]  # fmt: skip
        currency, customer = quote["CurrencyIsoCode"], quote["SBQQ__Account__c"]
        salesforce = self.vendors.salesforce
        lines = (await self.call.sync(lambda: salesforce.query_all(
            "SELECT SBQQ__ProductCode__c, SBQQ__Quantity__c, Support_Level__c FROM "
            f"SBQQ__QuoteLine__c WHERE SBQQ__Quote__c = '{quote_id}'"),
            f"lines of {quote_id}"))["records"]  # fmt: skip
        if kind != "Cancellation":
            for line in lines:  # checked before anything is written
                if (line["SBQQ__ProductCode__c"], currency) not in self.prices:
                    raise BusinessRefusal("RATE_PLAN_NOT_FOUND", f"Stripe has no {currency} "
                                          f"price for {line['SBQQ__ProductCode__c']}")  # fmt: skip
        await self.book_in_netsuite(contract_id, quote, lines)
        await self.bill_in_stripe(contract_id, quote, lines)
        await self.entitle_in_zendesk(contract_id, version, customer, kind, lines)
        log.info("%s v%s (%s) done", contract_id, version, quote_id)

    async def book_in_netsuite(self, contract_id: str, quote: Mapping[str, Any],
                               lines: list[dict[str, Any]]) -> None:  # fmt: skip
        api, quote_id = self.vendors.netsuite, quote["Id"]
        version, customer = int(quote["Contract_Version__c"]), quote["SBQQ__Account__c"]
        items = {"items": [{"item": {"externalId": line["SBQQ__ProductCode__c"]},
                            "quantity": line["SBQQ__Quantity__c"]} for line in lines]}  # fmt: skip
        order = {
            "entity": {"id": customer}, "currency": {"refName": quote["CurrencyIsoCode"]},
            "custbody_quote_id": quote_id, "custbody_contract_id": contract_id,
            "custbody_contract_version": version, "custbody_quote_total": quote[
                "SBQQ__NetAmount__c"], "custbody_term_months": quote["SBQQ__SubscriptionTerm__c"],
            "item": items,
        }  # fmt: skip
        # A key's first answer is replayed, refusals too: after people resolve a refusal, the
        # order is a new request under a new key.
        rounds = self.resolutions.get(quote_id, 0)
        key = {"X-NetSuite-Idempotency-Key": f"{quote_id}:erp-order:{rounds}"}
        made = await self.call(
            lambda: netsuite(api, "POST", "/record/v1/salesOrder", json=order, headers=key),
            "netsuite order",
        )
        order_id = made.headers["Location"].rsplit("/", 1)[1]
        contract = {"custrecord_contract_version": version, "custrecord_customer": {"id": customer},
                    "custrecord_sales_order": {"id": order_id}, "item": items}  # fmt: skip
        await self.call(
            lambda: netsuite(
                api, "PUT", f"/record/v1/customrecord_contract/eid:{contract_id}", json=contract
            ),
            "netsuite contract",
        )

    async def bill_in_stripe(self, contract_id: str, quote: Mapping[str, Any],
                             lines: list[dict[str, Any]]) -> None:  # fmt: skip
        stripe, kind = self.vendors.stripe, quote["SBQQ__Type__c"]
        version, customer = int(quote["Contract_Version__c"]), quote["SBQQ__Account__c"]
        currency = quote["CurrencyIsoCode"]
        metadata = {"contract_id": contract_id, "contract_version": str(version),
                    "quote_id": quote["Id"]}  # fmt: skip
        options: Any = ({"idempotency_key": f"{contract_id}:v{version}:billing"}
                        if self.idempotency_keys else {})  # fmt: skip
        targets = {line["SBQQ__ProductCode__c"]: int(line["SBQQ__Quantity__c"]) for line in lines}
        if kind == "Quote":
            params: Any = {"customer": customer, "metadata": {
                **metadata, "term_months": str(int(quote["SBQQ__SubscriptionTerm__c"] or 36))},
                "items": [{"price": self.prices[(sku, currency)], "quantity": quantity}
                          for sku, quantity in targets.items()]}  # fmt: skip
            await self.call.sync(lambda: stripe.v1.subscriptions.create(params, options),
                                 f"stripe create {contract_id}")  # fmt: skip
            return
        subscription = await self.subscription_of(customer, contract_id)
        if subscription is None:
            raise BusinessRefusal("SUBSCRIPTION_NOT_FOUND", f"Stripe has no active subscription "
                                  f"for {contract_id}")  # fmt: skip
        if int(subscription.metadata["contract_version"]) >= version:
            return  # billed already (a retry whose first answer was lost)
        if kind == "Cancellation":
            cancel: Any = {"metadata": metadata}
            await self.call.sync(lambda: stripe.v1.subscriptions.cancel(
                subscription.id, cancel, options), f"stripe cancel {contract_id}")  # fmt: skip
            return
        update: Any = {"metadata": metadata}
        if kind == "Amendment":
            items: list[dict[str, Any]] = []
            for item in subscription["items"]["data"]:
                sku = item.price.product
                if sku in targets:
                    items.append({"id": item.id, "quantity": targets.pop(sku)})
                else:
                    items.append({"id": item.id, "deleted": True})
            items += [{"price": self.prices[(sku, currency)], "quantity": quantity}
                      for sku, quantity in targets.items()]  # fmt: skip
            update.update(items=items, proration_behavior="create_prorations")
        await self.call.sync(lambda: stripe.v1.subscriptions.update(subscription.id, update,
                                                                    options),
                             f"stripe {kind.lower()} {contract_id}")  # fmt: skip

    async def subscription_of(self, customer: str, contract_id: str) -> Any:
        stripe = self.vendors.stripe

        def find() -> Any:
            listed = stripe.v1.subscriptions.list({"customer": customer, "status": "active",
                                                   "limit": 100})  # fmt: skip
            return next((s for s in listed.auto_paging_iter()
                         if _contract_of(s) == contract_id), None)  # fmt: skip

        return await self.call.sync(find, f"stripe find {contract_id}")

    async def entitle_in_zendesk(self, contract_id: str, version: int, customer: str, kind: str,
                                 lines: list[dict[str, Any]]) -> None:  # fmt: skip
        from zenpy.lib.api_objects import Organization  # noqa: PLC0415

        level, units = "none", 0
        for line in lines:  # the best support plan the contract buys
            plan = line.get("Support_Level__c")
            if plan and (level == "none" or plan == "premium"):
                level, units = plan, int(line["SBQQ__Quantity__c"])
        fields: dict[str, Any] = {"contract_id": contract_id, "contract_version": version,
                                  "support_level": level, "covered_units": units}  # fmt: skip
        if kind == "Cancellation":
            fields["entitlement_status"] = "cancelled"
        organization = Organization(id=self.organizations[customer], organization_fields=fields)
        zendesk = self.vendors.zendesk
        await self.call.sync(lambda: zendesk.organizations.update(organization),
                             f"zendesk entitlement {contract_id}")  # fmt: skip

    # -- Stripe's documents, to NetSuite's ledger --------------------------------------------

    async def post_to_ledger(self, event: Any) -> None:
        document = event.data.object
        currency = str(document.currency).upper()
        major = MINOR.get(currency, 100)
        api = self.vendors.netsuite
        if event.type == "invoice.finalized":
            kind, document_id = "invoice", document.id
            body: dict[str, Any] = {
                "custbody_billing_amount": document.amount_due / major,
                "entity": {"id": document.customer},
                "custbody_contract_id": document.metadata["contract_id"],
            }
        elif event.type == "credit_note.created":
            kind, document_id = "creditMemo", document.id
            body = {"custbody_billing_amount": document.amount / major,
                    "entity": {"id": document.customer},
                    "custbody_contract_id": document.metadata["contract_id"]}  # fmt: skip
        elif event.type == "payment_intent.succeeded":
            kind, document_id = "customerPayment", document.id
            body = {"payment": document.amount / major, "customer": {"id": document.customer}}
        else:
            return
        body.update(externalId=document_id, currency={"refName": currency})
        key = {"X-NetSuite-Idempotency-Key": f"{document_id}:gl"}
        self.working += 1
        try:
            await self.call(lambda: netsuite(api, "POST", f"/record/v1/{kind}", json=body,
                                             headers=key), f"ledger {document_id}")  # fmt: skip
        except BusinessRefusal as refused:
            keys = {"invoice" if kind == "invoice" else "document": document_id}
            self.parked[document_id] = Parked(document_id, refused.code, refused.message, keys,
                                              self.scenario_now(), event=event)  # fmt: skip
        finally:
            self.working -= 1

    # -- what people do with parked work ----------------------------------------------------

    def act(self, workflow: str, action: str) -> bool:
        parked = self.parked.pop(workflow, None)
        if parked is None:
            return False
        if action in ("skip", "compensate"):
            self.skipped.add(workflow)
        else:
            self.resolutions[workflow] = self.resolutions.get(workflow, 0) + 1
        if parked.contract is not None:
            self.contract_changed(parked.contract)
        elif parked.event is not None and action in ("resolve", "replay"):
            self.document_announced(parked.event)
        return True
