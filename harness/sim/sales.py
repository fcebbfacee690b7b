"""Where the business sells: a sales floor working in CPQ, or a web shop selling straight into
billing when the business has no CPQ (`systems.cpq: null`).

Both do what people do in the vendor's own screens, so neither goes through the network's
behaviour (latency, outages): a sales rep approving a quote in CPQ's UI, a customer checking
out on billing's hosted page. What they change is committed as the vendor's own change, with its
webhooks, for the integration to carry on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from harness.sim.network import Network
from harness.world import World
from simulators.base import Payload
from simulators.billing import Billing
from simulators.cpq import CPQ


class Sales(Protocol):
    """The channel deals are made in; contracts are what it has sold."""

    def contracts(self) -> Sequence[str]: ...

    def lines(self, contract_id: str) -> list[dict[str, Any]]: ...

    def active(self, contract_id: str) -> bool: ...

    def customer(self, contract_id: str) -> str: ...

    def sell(self, deal: Payload, now: float) -> None:
        """A new contract (`customer_id`, `lines`) or an amendment (`contract_id`, `lines`)."""

    def change(self, operation: str, contract_id: str, now: float) -> None:
        """`renew_contract` or `cancel_contract`."""


class SalesFloor:
    """Sales reps create quotes in CPQ and get them approved."""

    def __init__(self, cpq: CPQ, network: Network) -> None:
        self.cpq, self.network = cpq, network

    def contracts(self) -> Sequence[str]:
        return self.cpq.contract_ids

    def lines(self, contract_id: str) -> list[dict[str, Any]]:
        lines: list[dict[str, Any]] = self.cpq.latest_quote(contract_id)["lines"]
        return lines

    def active(self, contract_id: str) -> bool:
        return bool(self.cpq.table("contract")[contract_id]["status"] == "active")

    def customer(self, contract_id: str) -> str:
        return str(self.cpq.table("contract")[contract_id]["customer_id"])

    def sell(self, deal: Payload, now: float) -> None:
        self._quote_and_approve("create_quote", deal, now)

    def change(self, operation: str, contract_id: str, now: float) -> None:
        self._quote_and_approve(operation, {"contract_id": contract_id}, now)

    def _quote_and_approve(self, operation: str, payload: Payload, now: float) -> None:
        created = self.cpq.handle(operation, payload, now)
        self.network.commit(created)
        if created.ok:
            approve = {"quote_id": created.body["quote_id"]}
            self.network.commit(self.cpq.handle("approve_quote", approve, now))


#: What the web shop's orders do to the subscription in billing.
_BILLING_CHANGES = {
    "renew_contract": "renew_subscription", "cancel_contract": "cancel_subscription",
}  # fmt: skip


class WebShop:
    """Customers order in the business's web shop, which creates or changes their subscription
    in billing at once: each order is a contract version (contract `WC-…`, order `WO-…`, sent
    to billing as the quote it stands for), numbered as CPQ numbers its quotes."""

    def __init__(self, billing: Billing, world: World, network: Network) -> None:
        self.billing, self.network = billing, network
        self.currency: Mapping[str, str] = {c.customer_id: c.currency for c in world.customers}
        self.sold: list[str] = []  # contracts, in the order they were sold
        self.orders = 0

    def contracts(self) -> Sequence[str]:
        return self.sold

    def lines(self, contract_id: str) -> list[dict[str, Any]]:
        return [dict(line) for line in self._subscription(contract_id)["lines"]]

    def active(self, contract_id: str) -> bool:
        return bool(self._subscription(contract_id)["status"] == "active")

    def customer(self, contract_id: str) -> str:
        return str(self._subscription(contract_id)["customer_id"])

    def sell(self, deal: Payload, now: float) -> None:
        order = self._order()
        if "contract_id" in deal:
            contract_id = str(deal["contract_id"])
            version = int(self._subscription(contract_id)["contract_version"]) + 1
            payload = {"contract_id": contract_id, "contract_version": version,
                       "lines": deal["lines"], "quote_id": order}  # fmt: skip
            self._commit("amend_subscription", payload, now)
            return
        contract_id = f"WC-{order.removeprefix('WO-')}"
        customer = str(deal["customer_id"])
        payload = {
            "contract_id": contract_id, "contract_version": 1, "customer_id": customer,
            "currency": self.currency[customer], "lines": deal["lines"], "quote_id": order,
        }  # fmt: skip
        if self._commit("create_subscription", payload, now):
            self.sold.append(contract_id)

    def change(self, operation: str, contract_id: str, now: float) -> None:
        version = int(self._subscription(contract_id)["contract_version"]) + 1
        payload = {"contract_id": contract_id, "contract_version": version,
                   "quote_id": self._order()}  # fmt: skip
        self._commit(_BILLING_CHANGES[operation], payload, now)

    def _order(self) -> str:
        self.orders += 1
        return f"WO-{self.orders:06d}"

    def _commit(self, operation: str, payload: Payload, now: float) -> bool:
        outcome = self.billing.handle(operation, payload, now)
        self.network.commit(outcome)
        return outcome.ok

    def _subscription(self, contract_id: str) -> dict[str, Any]:
        latest = self.billing.by_contract[contract_id][-1]
        subscription: dict[str, Any] = self.billing.table("subscription")[latest]
        return subscription
