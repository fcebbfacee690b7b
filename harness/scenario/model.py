"""The scenario: calendar, world, workload, systems, faults and SLOs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import yaml
from pydantic import AwareDatetime, Field, ValidationInfo, model_validator

from harness.scenario.fault_specs import FaultSpec
from harness.scenario.integration import BrokerSpec, DesignOptions
from harness.scenario.operations import OperationsSpec
from harness.scenario.slos import SLOSpec
from harness.scenario.systems import LatencySpec, SystemsSpec
from harness.scenario.types import (
    ORCHESTRATOR,
    Duration,
    PositiveDuration,
    Probability,
    Rate,
    Spec,
)
from harness.scenario.world_specs import WorldSpec


class AmendmentMix(Spec):
    upgrade: Annotated[float, Field(ge=0)] = 0.5
    """Relative weight of upgrades (more of a product, or a higher tier)."""
    add_on: Annotated[float, Field(ge=0)] = 0.3
    """Relative weight of add-ons (a new product on the contract)."""
    downgrade: Annotated[float, Field(ge=0)] = 0.2
    """Relative weight of downgrades (less of a product)."""

    @model_validator(mode="after")
    def _some(self) -> AmendmentMix:
        if self.upgrade + self.add_on + self.downgrade <= 0:
            raise ValueError("at least one amendment kind needs a positive weight")
        return self


class PaymentsSpec(Spec):
    """Customers pay a `share` of invoices, `delay` after they are posted."""

    share: Probability = 0.9
    """The share of invoices customers pay (0.9 or 90%)."""
    delay: LatencySpec = LatencySpec(p50=2 * 86400.0, p99=6 * 86400.0)
    """How long after an invoice is posted the customer pays (a latency model, e.g. {p50: 2d, p99:
    6d})."""


class WorkloadSpec(Spec):
    new_subscriptions: Rate
    """New subscription quotes approved in CPQ (a rate, e.g. 4/h)."""
    amendments: Rate
    """Amendment quotes on active contracts (a rate, e.g. 12/h)."""
    amendment_mix: AmendmentMix = AmendmentMix()
    """How amendments divide between upgrades, add-ons and downgrades (relative weights)."""
    renewals: Rate = 0.0
    """Renewal quotes for active contracts (a rate, e.g. 2/d)."""
    cancellations: Rate = 0.0
    """Contract cancellations (a rate, e.g. 1/d)."""
    payments: PaymentsSpec | None = None
    """Customers paying invoices; none when absent."""
    invoice_reversals: Probability = 0.0
    """The share of invoices billing reverses with a credit memo (disputes)."""
    cases: Rate = 0.0
    """Support cases customers open (a rate, e.g. 3/h)."""


class Scenario(Spec):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    """The scenario's name: letters, digits, `_`, `.` and `-`; names run directories (default: the
    file's name)."""
    title: str = ""
    """One line for listings (`syncline scenarios`)."""
    description: str = ""
    """What the scenario is about, in a paragraph: the story the report tells."""
    start: AwareDatetime
    """When the run begins: a calendar time with a time zone (2026-03-02T00:00:00Z); maintenance
    windows and month-end peaks fall on real dates from here."""
    duration: PositiveDuration
    """How long sales arrive (a duration, e.g. 7d)."""
    drain: Duration = 86400.0
    """How long the run goes on after arrivals stop, for work in flight to settle (a duration, e.g.
    1d)."""
    world: WorldSpec
    """The business: customers, regions and the master-data gaps ERP starts with."""
    workload: WorkloadSpec
    """What arrives: new subscriptions, amendments, renewals, cancellations, payments, cases."""
    systems: SystemsSpec
    """How each vendor system behaves: latency, maintenance, outages, limits, idempotency, webhooks
    (each from a preset, overridden field by field)."""
    faults: list[FaultSpec] = []
    """Faults at given times: outages, maintenance, duplicate storms, ghost writes, master-data
    gaps, vendor upgrades, orchestrator crashes, partitions."""
    operations: OperationsSpec = OperationsSpec()
    """How the simulated operations team handles what a design parks: business hours and rules per
    error code."""
    broker: BrokerSpec = BrokerSpec()
    """The message broker the event-driven designs publish to: latency, duplicates, reordering,
    redelivery."""
    design: str = "reference"
    """The design `syncline gate` runs this scenario against (a shipped name or
    package.module:factory)."""
    designs: DesignOptions = {}
    """Options per design name, passed to its factory as keyword arguments, e.g. {batch-esb:
    {interval: 4h}}."""
    slo: SLOSpec
    """What the checkers hold the run to: each checker's thresholds, with units."""
    checkers: list[str] = []
    """Checker plugins this scenario adds (package.module:factory), each with its thresholds
    under slo.plugins.<name>; installed packages add theirs (entry point group
    syncline.checkers)."""

    @model_validator(mode="after")
    def _plugins_load(self, info: ValidationInfo) -> Scenario:
        """Every plugin imports, and its `slo.plugins` section is what it asks for."""
        from harness.checkers.plugins import discover  # noqa: PLC0415 - checkers import this

        found = discover(self.checkers)
        named = {plugin.name for plugin in found}
        for name in self.slo.plugins:
            if name not in named:
                raise ValueError(
                    f"slo.plugins.{name} names no checker plugin "
                    f"(plugins: {', '.join(sorted(named)) or 'none'})"
                )
        for plugin in found:
            plugin.slo(self.slo.plugins.get(plugin.name), info.context)
            plugin.build(self)  # a factory that fails, or makes no checker, is refused now
        return self

    """What the checkers hold the run to: each checker's thresholds, with units."""

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
        catalogue = self.world.catalogue()
        for index, fault in enumerate(self.faults):
            if fault.party in self.systems.absent:
                raise ValueError(
                    f"faults[{index}] ({fault.kind}) targets {fault.party}, which this business "
                    f"does not have (systems.{fault.party} is null)"
                )
            if fault.party not in (*named, ORCHESTRATOR):
                raise ValueError(f"faults[{index}] targets {fault.party}, which this run lacks")
            if fault.tax_code is not None and fault.tax_code not in catalogue.regions:
                raise ValueError(f"faults[{index}]: unknown region {fault.tax_code!r}")
            if fault.sku is not None and fault.sku not in catalogue.skus:
                raise ValueError(f"faults[{index}]: unknown SKU {fault.sku!r}")
        return self

    @model_validator(mode="after")
    def _systems_a_business_may_lack(self) -> Scenario:
        """No ERP without a CPQ to feed it; without an ERP, no ERP master data to lack and
        nothing to migrate."""
        if self.systems.erp is not None:
            if self.systems.cpq is None:
                raise ValueError(
                    "systems.cpq is null but systems.erp is not: a web shop sells into billing, "
                    "which does not carry the region, currency and prices an ERP order needs; "
                    "make systems.erp null too, or give the business a CPQ"
                )
            return self
        gaps = self.world.gaps
        for name in ("missing_tax_codes", "inactive_tax_codes", "unmapped_skus",
                     "unonboarded_regions"):  # fmt: skip
            if getattr(gaps, name):
                raise ValueError(
                    f"world.gaps.{name} describes ERP's master data, and this business has no "
                    "ERP (systems.erp is null)"
                )
        if self.systems.erp_cloud is not None:
            raise ValueError("systems.erp_cloud migrates an ERP, and systems.erp is null")
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
        for absent in self.systems.absent:  # said, not left out: the field is required
            data["systems"][absent] = None
        return data

    def to_yaml(self) -> str:
        """The resolved scenario, loadable as it is; a comment names the presets expanded."""
        presets = [
            f"{name}={system.preset}" for name, system in self.systems.items() if system.preset
        ]
        header = f"# presets expanded: {', '.join(presets)}\n" if presets else ""
        return header + yaml.safe_dump(self.resolved_data(), sort_keys=False, allow_unicode=True)
