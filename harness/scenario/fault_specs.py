"""The fault vocabulary of a scenario's `faults:` list: each fault has a kind, a target, a start
(a calendar time, or an offset like `36h` from the scenario's start) and a duration.

The kinds, their targets and parameters are one table: `harness.scenario.fault_kinds`.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    BeforeValidator,
    PlainSerializer,
    PositiveInt,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)

from harness.scenario.fault_kinds import BY_NAME, PARAMETERS, SCENARIO_KINDS
from harness.scenario.types import (
    DURATION_PATTERN,
    OPTIONAL_SYSTEMS,
    ORCHESTRATOR,
    SYSTEMS,
    Positive,
    PositiveDuration,
    Probability,
    Spec,
)
from harness.units import DURATION_FORMS, format_exact_duration, parse_duration, require_unit


def _known_kind(value: object) -> object:
    if isinstance(value, str) and value not in SCENARIO_KINDS:
        raise ValueError(f"unknown fault kind {value!r}: one of {', '.join(SCENARIO_KINDS)}")
    return value


def _start(value: object, info: ValidationInfo) -> datetime | float:
    if isinstance(value, str) and "T" in value:  # a calendar time written as text, as a
        with contextlib.suppress(ValueError):  # resolved scenario.yaml writes it
            value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("a fault's start needs a time zone, e.g. 2026-03-03T10:00:00Z")
        return value
    if info.context and info.context.get("units") == "strict":
        require_unit(value, "a fault's start offset", DURATION_FORMS)
    return parse_duration(value)


def _written_start(start: datetime | float) -> str:
    return start.isoformat() if isinstance(start, datetime) else format_exact_duration(start)


class FaultSpec(Spec):
    kind: Annotated[str, BeforeValidator(_known_kind)]
    """The fault: `syncline faults` lists the kinds, their targets and parameters."""
    target: str | None = None
    """The system (or orchestrator) it acts on."""
    between: tuple[str, str] | None = None
    """For a partition: [orchestrator, <system>]."""
    start: Annotated[
        datetime | float,
        BeforeValidator(_start),
        PlainSerializer(_written_start, when_used="json"),
        WithJsonSchema(
            {
                "anyOf": [
                    {"type": "string", "format": "date-time", "pattern": "T"},
                    {"type": "string", "pattern": DURATION_PATTERN},
                    {"const": 0},
                ],
                "description": "A calendar time with a zone (2026-03-03T10:00:00Z), or an offset "
                f"from the scenario's start: {DURATION_FORMS}.",
            }
        ),
    ]
    """When it starts: a calendar time with a zone, or an offset from the scenario's start (e.g.
    36h)."""
    duration: PositiveDuration | None = None
    """How long it lasts (a duration)."""
    latency_factor: Positive | None = None
    """Brownout: latency is multiplied by this."""
    error_rate: Probability | None = None
    """Brownout: the share of calls failing."""
    probability: Probability | None = None
    """Ghost writes, lost requests, duplicate or reordered webhooks: the share affected."""
    factor: Positive | None = None
    """Rate-limit squeeze: the limits are divided by this."""
    tax_code: str | None = None
    """master_data_gap: the region whose tax code goes missing."""
    sku: str | None = None
    """master_data_gap: the SKU whose ERP item mapping goes missing."""
    schema_version: PositiveInt | None = None
    """vendor_upgrade: the API schema version the vendor switches to."""

    @model_validator(mode="after")
    def _fits_its_kind(self) -> FaultSpec:
        kind = BY_NAME[self.kind]
        required, optional = kind.required, kind.optional
        self._check_target(kind.target)
        for name in required:
            if getattr(self, name) is None:
                raise ValueError(f"{self._a} fault needs '{name}'")
        for name in PARAMETERS:
            if getattr(self, name) is not None and name not in required and name not in optional:
                raise ValueError(f"{self._a} fault does not take '{name}'")
        if self.kind == "master_data_gap" and (self.tax_code is None) == (self.sku is None):
            raise ValueError("a master_data_gap names exactly one of tax_code (a region) or sku")
        if self.duration is None and kind.needs_duration:
            raise ValueError(f"{self._a} fault needs a duration")
        return self

    def _check_target(self, target_kind: str) -> None:
        if target_kind == "between":
            parties = self.between or ()
            if (
                len(parties) != 2
                or ORCHESTRATOR not in parties
                or not (set(parties) - {ORCHESTRATOR} <= {*SYSTEMS, *OPTIONAL_SYSTEMS})
            ):
                raise ValueError(
                    "a partition needs between: [orchestrator, <system>] "
                    f"(systems: {', '.join(SYSTEMS)})"
                )
            if self.target is not None:
                raise ValueError("a partition takes 'between', not 'target'")
            return
        if self.between is not None:
            raise ValueError(f"{self._a} fault takes 'target', not 'between'")
        expected = {
            "system": (*SYSTEMS, *OPTIONAL_SYSTEMS),
            "erp": ("erp",),
            "orchestrator": (ORCHESTRATOR,),
        }[target_kind]
        target = (
            self.target
            if self.target is not None
            else (expected[0] if len(expected) == 1 else None)
        )
        if target not in expected:
            raise ValueError(
                f"{self._a} fault targets {' or '.join(expected)}, not {self.target!r}"
            )

    @property
    def _a(self) -> str:
        return f"{'an' if self.kind[0] in 'aeiou' else 'a'} {self.kind}"

    @property
    def party(self) -> str:
        """The system (or orchestrator) the fault acts on."""
        if self.between is not None:
            return next(p for p in self.between if p != ORCHESTRATOR)
        if self.target is not None:
            return self.target
        return "erp" if self.kind == "master_data_gap" else ORCHESTRATOR

    def params(self) -> dict[str, Any]:
        """The kind's parameters, defaults filled in."""
        kind = BY_NAME[self.kind]
        values = {name: getattr(self, name) for name in kind.required}
        for name, default in kind.optional.items():
            value = getattr(self, name)
            values[name] = default if value is None else value
        return {name: value for name, value in values.items() if value is not None}
