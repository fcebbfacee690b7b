"""Scenario files: the schema (`model`, `systems`, `fault_specs`, `types`) and the loader."""

from harness.scenario.fault_specs import FaultSpec
from harness.scenario.loading import ScenarioError, load, parse, resolve, shipped_scenarios
from harness.scenario.model import Scenario, WorkloadSpec
from harness.scenario.slos import (
    CasesSLO,
    ConvergenceSLO,
    EffectOnceSLO,
    EndToEndSLO,
    InvoicedBeforeEntitledSLO,
    LineageSLO,
    MonotonicVersionsSLO,
    NothingLostSLO,
    PartialUpdatesSLO,
    ReconciliationSLO,
    RetryHygieneSLO,
    SLOSpec,
    WindowSLO,
)
from harness.scenario.systems import SystemSpec, SystemsSpec
from harness.scenario.types import ORCHESTRATOR, SYSTEMS
from harness.scenario.world_specs import WorldSpec

__all__ = [
    "ORCHESTRATOR",
    "SYSTEMS",
    "CasesSLO",
    "ConvergenceSLO",
    "EffectOnceSLO",
    "EndToEndSLO",
    "FaultSpec",
    "InvoicedBeforeEntitledSLO",
    "LineageSLO",
    "MonotonicVersionsSLO",
    "NothingLostSLO",
    "PartialUpdatesSLO",
    "ReconciliationSLO",
    "RetryHygieneSLO",
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
