"""Every fault kind, once: what it targets, its parameters, how a swarm draws it, who enacts
it, whether it excuses downtime, and how charts draw it.

Adding a kind is an entry here plus its enactment: a `condition` is enacted by the target's
behaviour (`simulators.availability.Conditions`, the same in both drivers); `systems` kinds
change the systems of record themselves (`harness.enactment`, both drivers); `orchestrator`
kinds are the driver's (a simulated crash, or a real SIGKILL and restart live).

`maintenance` comes only from a system's profile (its calendar), never from a `faults:` list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from harness.scenario.types import ORCHESTRATOR, SYSTEMS

Target = Literal["system", "between", "erp", "orchestrator"]
Enactor = Literal["condition", "systems", "orchestrator"]


@dataclass(frozen=True, slots=True)
class SwarmRange:
    """How swarm testing draws the kind: parties it may hit, a duration range (log-uniform,
    seconds; (0, 0) for a kind with no end) and parameter ranges (uniform)."""

    parties: tuple[str, ...]
    durations: tuple[float, float]
    ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FaultKind:
    name: str
    target: Target
    enacted_by: Enactor
    required: tuple[str, ...] = ()
    optional: Mapping[str, Any] = field(default_factory=dict)
    swarm: SwarmRange | None = None
    #: The party cannot be reached or written at all: lags and windows do not count it.
    excuses_downtime: bool = False
    hatch: str | None = None  # how charts hatch its window
    shade: float = 0.35  # how dark charts shade it
    in_scenarios: bool = True  # may a scenario's `faults:` list name it
    needs_duration: bool = True


KINDS: tuple[FaultKind, ...] = (
    FaultKind(
        "outage", "system", "condition", swarm=SwarmRange(SYSTEMS, (300, 7200)),
        excuses_downtime=True, hatch="//",
    ),
    FaultKind(
        "brownout", "system", "condition", optional={"latency_factor": 3.0, "error_rate": 0.05},
        swarm=SwarmRange(
            SYSTEMS, (900, 10800), {"latency_factor": (2, 8), "error_rate": (0.01, 0.2)}
        ),
        hatch="..",
    ),
    FaultKind(
        "read_only", "system", "condition", swarm=SwarmRange(SYSTEMS, (1800, 14400)),
        excuses_downtime=True, shade=0.18,
    ),
    FaultKind(
        "partition", "between", "condition", swarm=SwarmRange(SYSTEMS, (60, 1800)),
        excuses_downtime=True, hatch="xx",
    ),
    FaultKind(
        "ghost_writes", "system", "condition", ("probability",),
        swarm=SwarmRange(SYSTEMS, (1800, 21600), {"probability": (0.01, 0.1)}),
    ),
    FaultKind(
        "duplicate_storm", "system", "condition", ("probability",),
        swarm=SwarmRange(("cpq", "billing"), (1800, 21600), {"probability": (0.2, 0.8)}),
    ),
    FaultKind(
        "webhook_delay", "system", "condition", ("factor",),
        swarm=SwarmRange(("cpq", "billing"), (1800, 14400), {"factor": (5, 50)}),
    ),
    FaultKind(
        "master_data_gap", "erp", "systems", optional={"tax_code": None, "sku": None},
        swarm=SwarmRange(("erp",), (3600, 43200)),
    ),
    FaultKind(
        "vendor_upgrade", "system", "systems", optional={"schema_version": 2},
        swarm=SwarmRange(("cpq", "billing"), (0, 0)), needs_duration=False,
    ),
    FaultKind(
        "orchestrator_crash", "orchestrator", "orchestrator",
        swarm=SwarmRange((ORCHESTRATOR,), (60, 1800)), hatch="\\\\",
    ),
    FaultKind(
        "maintenance", "system", "condition", excuses_downtime=True, shade=0.18,
        in_scenarios=False,
    ),
)  # fmt: skip

#: What each kind does, for `syncline faults` and the scenario starter.
MEANINGS: Mapping[str, str] = {
    "outage": "the system answers nothing (connection refused, 503)",
    "brownout": "slower by latency_factor, and error_rate of calls fail with a 5xx",
    "read_only": "reads are served, writes refused (as during a vendor's maintenance)",
    "partition": "the orchestrator and one system cannot reach each other",
    "ghost_writes": "a share (probability) of calls are applied but their answers lost",
    "duplicate_storm": "a share (probability) of the system's webhooks arrive twice",
    "webhook_delay": "the system's webhooks arrive factor times later",
    "master_data_gap": "ERP loses a region's tax code (tax_code) or a SKU's item (sku), then "
    "gets it back",
    "vendor_upgrade": "the vendor's events switch to schema_version (for good: no duration)",
    "orchestrator_crash": "the orchestrator dies, losing what it held in memory, and restarts "
    "after the duration",
    "maintenance": "the system's scheduled window (from its profile's calendar)",
}

BY_NAME: Mapping[str, FaultKind] = {kind.name: kind for kind in KINDS}
#: The kinds a scenario's `faults:` list may name, in the order swarm testing draws them.
SCENARIO_KINDS: tuple[str, ...] = tuple(kind.name for kind in KINDS if kind.in_scenarios)
#: Kinds during which the party cannot be reached or written: downtime that excuses lags.
DOWNTIME: frozenset[str] = frozenset(kind.name for kind in KINDS if kind.excuses_downtime)
#: Kinds the systems' behaviours enact (`simulators.availability.Conditions.KINDS`).
CONDITIONS: frozenset[str] = frozenset(k.name for k in KINDS if k.enacted_by == "condition")
PARAMETERS: tuple[str, ...] = tuple(
    dict.fromkeys(name for kind in KINDS for name in (*kind.required, *kind.optional))
)
