"""Scenario files: the schema (`model`, `systems`, `fault_specs`, `types`) and the loader."""

from harness.scenario.fault_specs import FaultSpec
from harness.scenario.loading import ScenarioError, load, parse, resolve, shipped_scenarios
from harness.scenario.model import (
    InvoicedBeforeEntitledSLO,
    NothingLostSLO,
    Scenario,
    SLOSpec,
    WindowSLO,
    WorkloadSpec,
    WorldSpec,
)
from harness.scenario.systems import SystemSpec, SystemsSpec
from harness.scenario.types import ORCHESTRATOR, SYSTEMS

__all__ = [
    "ORCHESTRATOR",
    "SYSTEMS",
    "FaultSpec",
    "InvoicedBeforeEntitledSLO",
    "NothingLostSLO",
    "SLOSpec",
    "Scenario",
    "ScenarioError",
    "SystemSpec",
    "SystemsSpec",
    "WindowSLO",
    "WorkloadSpec",
    "WorldSpec",
    "load",
    "parse",
    "resolve",
    "shipped_scenarios",
]
