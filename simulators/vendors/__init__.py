"""Vendor wire facades: each simulated system on the wire of the vendor it stands for.

Billing speaks Stripe's API, CPQ Salesforce's REST API, support Zendesk's and ERP NetSuite's
REST record API, so an integration written against the vendors' own SDKs runs unmodified
against the simulated systems, with the scenario's profiles and faults. A facade translates
requests, answers, errors and webhooks onto the same domain operations as Syncline's own API
(`simulators.http`), and the history it leaves is the same. The wire is independent of the
preset: a `zuora-like` billing served on Stripe's wire keeps Zuora's numbers.
"""

from __future__ import annotations

from simulators.http import LiveSystem
from simulators.vendors.facade import Facade
from simulators.vendors.netsuite import NetSuiteERP
from simulators.vendors.salesforce import SalesforceCPQ
from simulators.vendors.stripe import StripeBilling
from simulators.vendors.zendesk import ZendeskSupport

#: The facade of each kind of system; ERPs (a cloud ERP too) share NetSuite's.
FACADES: dict[str, type[Facade]] = {
    "cpq": SalesforceCPQ, "erp": NetSuiteERP, "billing": StripeBilling, "support": ZendeskSupport,
}  # fmt: skip


def facade_for(name: str, live: LiveSystem, secret: str) -> Facade | None:
    """The facade that serves `live` (a system named `name`), or None if none does."""
    kind = "erp" if name.startswith("erp") else name
    made = FACADES.get(kind)
    return None if made is None else made(live, secret)


__all__ = ["FACADES", "Facade", "facade_for"]
