"""Fault windows enacted on the systems, the same in both drivers.

A `condition` kind (harness.scenario.fault_kinds) opens on the target's behaviour; a `systems`
kind changes the systems of record themselves: a master-data gap deactivates a region's tax
code or removes a SKU's ERP mapping (and puts it back when the window closes), a vendor upgrade
switches the events a system sends to a new schema version. `orchestrator` kinds are the
driver's own. The operations team's master-data repair lives here too: it puts ERP back to what
the world says it should hold.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.faults import FaultWindow
from harness.scenario.fault_kinds import BY_NAME
from harness.world import World
from simulators.base import SystemOfRecord
from simulators.erp import ERP, TaxCode
from simulators.profiles import Behaviour


class SystemFaults:
    def __init__(
        self,
        world: World,
        systems: Mapping[str, SystemOfRecord],
        behaviours: Mapping[str, Behaviour],
        erps: Mapping[str, ERP],
    ) -> None:
        self.world, self.systems, self.behaviours, self.erps = world, systems, behaviours, erps
        self._restored: dict[int, Any] = {}  # fault index -> master data to put back

    def enacts(self, kind: str) -> bool:
        found = BY_NAME.get(kind)
        return found is not None and found.enacted_by != "orchestrator"

    def enact(self, index: int, window: FaultWindow, starts: bool) -> None:
        """Open or close window `index` of the schedule (a kind this class `enacts`)."""
        kind, params = window.kind, window.params
        if kind == "master_data_gap":
            self._master_data_gap(index, params, starts)
        elif kind == "vendor_upgrade":
            system = self.systems[window.party]
            system.event_schema_version = int(params["schema_version"]) if starts else 1
        elif starts:
            self.behaviours[window.party].conditions.open(kind, params)
        else:
            self.behaviours[window.party].conditions.close(kind, params)

    def _master_data_gap(self, index: int, params: Mapping[str, Any], starts: bool) -> None:
        erp = self.erps["erp"]
        region, sku = params.get("tax_code"), params.get("sku")
        if region is not None:
            if starts:
                current = erp.master.tax_codes.get(region)
                self._restored[index] = current
                if current is not None:
                    erp.set_tax_code(region, TaxCode(current.code, region, active=False))
            else:
                erp.set_tax_code(region, self._restored.pop(index, None))
        elif starts:
            self._restored[index] = erp.master.items.get(str(sku))
            erp.set_item_mapping(str(sku), None)
        else:
            erp.set_item_mapping(str(sku), self._restored.pop(index, None))

    def repair_master_data(self) -> None:
        """Operations bring each ERP's master data back to what it should be."""
        reference, world = self.world.erp_reference, self.world
        for name, erp in self.erps.items():
            for region, tax_code in reference.tax_codes.items():
                erp.set_tax_code(region, tax_code)
            for sku, item_id in reference.items.items():
                erp.set_item_mapping(sku, item_id)
            for subsidiary in reference.subsidiaries.values():
                if world.erp_for(subsidiary.region) != name:
                    continue  # the other ERP's entity
                if subsidiary.subsidiary_id not in erp.master.subsidiaries:
                    customers = {
                        c: s for c, s in reference.customers.items()
                        if s == subsidiary.subsidiary_id
                    }  # fmt: skip
                    erp.onboard(subsidiary, customers)
