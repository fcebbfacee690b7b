"""The scenario: calendar, world, workload, systems, faults and SLOs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import yaml
from pydantic import AwareDatetime, Field, PositiveInt, model_validator

from harness.scenario.fault_specs import FaultSpec
from harness.scenario.integration import BrokerSpec, DesignOptions
from harness.scenario.operations import OperationsSpec
from harness.scenario.slos import SLOSpec
from harness.scenario.systems import LatencySpec, SystemsSpec
from harness.scenario.types import (
    ORCHESTRATOR,
    Duration,
    Positive,
    PositiveDuration,
    Probability,
    Rate,
    RegionCode,
    Sku,
    Spec,
)


class GapsSpec(Spec):
    """Master-data gaps in ERP from the start: what breaks mappings in practice."""

    missing_tax_codes: list[RegionCode] = []
    inactive_tax_codes: list[RegionCode] = []
    unmapped_skus: list[Sku] = []
    unpriced_skus: list[Sku] = []  # no billing rate plan: billing refuses what ERP accepted
    # An acquired legal entity: its subsidiary and customers are not yet set up in ERP.
    unonboarded_regions: list[RegionCode] = []


class WorldSpec(Spec):
    customers: PositiveInt
    regions: dict[RegionCode, Positive]
    gaps: GapsSpec = GapsSpec()
    # During a cloud ERP migration: regions already live on the cloud ERP (`systems.erp_cloud`);
    # the legacy ERP keeps the others. Both run side by side for the whole scenario.
    cloud_erp_regions: list[RegionCode] = []


class AmendmentMix(Spec):
    upgrade: Annotated[float, Field(ge=0)] = 0.5
    add_on: Annotated[float, Field(ge=0)] = 0.3
    downgrade: Annotated[float, Field(ge=0)] = 0.2

    @model_validator(mode="after")
    def _some(self) -> AmendmentMix:
        if self.upgrade + self.add_on + self.downgrade <= 0:
            raise ValueError("at least one amendment kind needs a positive weight")
        return self


class PaymentsSpec(Spec):
    """Customers pay a `share` of invoices, `delay` after they are posted."""

    share: Probability = 0.9
    delay: LatencySpec = LatencySpec(p50=2 * 86400.0, p99=6 * 86400.0)


class WorkloadSpec(Spec):
    new_subscriptions: Rate
    amendments: Rate
    amendment_mix: AmendmentMix = AmendmentMix()
    renewals: Rate = 0.0
    cancellations: Rate = 0.0
    payments: PaymentsSpec | None = None
    invoice_reversals: Probability = 0.0  # share of invoices billing reverses (disputes)
    cases: Rate = 0.0  # support cases customers open


class Scenario(Spec):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    title: str = ""  # one line, for listings
    description: str = ""
    start: AwareDatetime
    duration: PositiveDuration
    drain: Duration = 86400.0
    world: WorldSpec
    workload: WorkloadSpec
    systems: SystemsSpec
    faults: list[FaultSpec] = []
    operations: OperationsSpec = OperationsSpec()
    broker: BrokerSpec = BrokerSpec()
    design: str = "reference"  # what `syncline gate` runs this scenario against
    designs: DesignOptions = {}
    slo: SLOSpec

    @model_validator(mode="after")
    def _cloud_erp_is_there(self) -> Scenario:
        regions = self.world.cloud_erp_regions
        unknown = sorted(set(regions) - set(self.world.regions))
        if unknown:
            raise ValueError(f"world.cloud_erp_regions names {unknown[0]}, not in world.regions")
        if bool(regions) != (self.systems.erp_cloud is not None):
            raise ValueError(
                "a cloud ERP migration needs both world.cloud_erp_regions and systems.erp_cloud"
            )
        named = {name for name, _ in self.systems.items()}
        for index, fault in enumerate(self.faults):
            if fault.party not in (*named, ORCHESTRATOR):
                raise ValueError(f"faults[{index}] targets {fault.party}, which this run lacks")
        return self

    @model_validator(mode="after")
    def _faults_within_the_run(self) -> Scenario:
        for index, fault in enumerate(self.faults):
            offset = self.offset(fault.start)
            if not 0 <= offset < self.horizon_s:
                raise ValueError(
                    f"faults[{index}] ({fault.kind}) starts outside the run, which covers "
                    f"{self.start.isoformat()} + {self.horizon_s / 3600:g} h"
                )
        return self

    @property
    def horizon_s(self) -> float:
        """Arrivals stop at `duration`; the run ends after `drain` more for work to settle."""
        return self.duration + self.drain

    def offset(self, start: datetime | float) -> float:
        """Seconds from the scenario's start to a calendar time (or an offset, as given)."""
        if isinstance(start, datetime):
            return (start - self.start).total_seconds()
        return start

    def resolved_data(self) -> dict[str, Any]:
        """The scenario as plain data that validates back to an equal scenario.

        Quantities are written with their units (a rate as `12/h`, never a bare float, which
        would read back per hour), and the `preset` keys are dropped since their fields are all
        here: reloading must not merge a preset back under an override that removed a value.
        """
        data = self.model_dump(mode="json", exclude_none=True)
        for system in data["systems"].values():
            system.pop("preset", None)
        return data

    def to_yaml(self) -> str:
        """The resolved scenario, loadable as it is; a comment names the presets expanded."""
        presets = [
            f"{name}={system.preset}" for name, system in self.systems.items() if system.preset
        ]
        header = f"# presets expanded: {', '.join(presets)}\n" if presets else ""
        return header + yaml.safe_dump(self.resolved_data(), sort_keys=False, allow_unicode=True)
