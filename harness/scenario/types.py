"""Field types shared by the scenario schema: quantities with units.

A scenario file states its units: `duration: 48` is refused (48 what?) where `48h` is read.
The refusal applies to what users write — validation with `STRICT_UNITS` as its context, as
`harness.scenario.loading` validates files — while code building a `Scenario` from numbers in
seconds (a swarm's drawn faults) passes none. Each type carries its JSON Schema, so `syncline
schema` tells an editor the accepted forms.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    ValidationInfo,
    WithJsonSchema,
)

from harness.units import (
    DURATION_FORMS,
    RATE_FORMS,
    format_exact_duration,
    format_rate,
    parse_duration,
    parse_probability,
    parse_rate,
    require_unit,
)

#: The validation context under which bare numbers are refused where a unit is expected.
STRICT_UNITS = {"units": "strict"}

_NUMBER = r"[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?"
_UNIT = r"(?:ms|s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?|w|wks?|weeks?)"
DURATION_PATTERN = rf"^\s*{_NUMBER}\s*{_UNIT}\s*$"
RATE_PATTERN = rf"^\s*{_NUMBER}\s*/\s*(?:{_NUMBER}\s*)?{_UNIT}\s*$"


def _strict(info: ValidationInfo) -> bool:
    return bool(info.context) and info.context.get("units") == "strict"  # type: ignore[union-attr]


def _duration(value: object, info: ValidationInfo) -> float:
    if _strict(info):
        require_unit(value, "a duration", DURATION_FORMS)
    return parse_duration(value)


def _rate(value: object, info: ValidationInfo) -> float:
    if _strict(info):
        require_unit(value, "a rate", RATE_FORMS)
    return parse_rate(value)


def _positive(value: float) -> float:
    if value <= 0:
        raise ValueError(f"must be greater than zero, got {value:g}")
    return value


def _schema(description: str, *choices: dict[str, Any]) -> WithJsonSchema:
    return WithJsonSchema({"anyOf": list(choices), "description": description})


_DURATION_SCHEMA = _schema(
    f"A duration: {DURATION_FORMS}; 0 alone needs none.",
    {"type": "string", "pattern": DURATION_PATTERN},
    {"const": 0},
)
_RATE_SCHEMA = _schema(
    f"A rate: {RATE_FORMS}; 0 alone needs none.",
    {"type": "string", "pattern": RATE_PATTERN},
    {"const": 0},
)
_PROBABILITY_SCHEMA = _schema(
    "A share: a fraction from 0 to 1 (0.15) or a percentage (15%).",
    {"type": "number", "minimum": 0, "maximum": 1},
    {"type": "string", "pattern": rf"^\s*{_NUMBER}\s*%\s*$"},
)
_WRITTEN_WITH_UNIT = PlainSerializer(format_exact_duration, when_used="json")

Duration = Annotated[float, BeforeValidator(_duration), _WRITTEN_WITH_UNIT, _DURATION_SCHEMA]
PositiveDuration = Annotated[
    float, BeforeValidator(_duration), AfterValidator(_positive), _WRITTEN_WITH_UNIT,
    _DURATION_SCHEMA,
]  # fmt: skip
Rate = Annotated[
    float,
    BeforeValidator(_rate),
    PlainSerializer(format_rate, when_used="json"),
    _RATE_SCHEMA,
]
Probability = Annotated[float, BeforeValidator(parse_probability), _PROBABILITY_SCHEMA]
Positive = Annotated[float, AfterValidator(_positive)]

SYSTEMS = ("cpq", "erp", "billing", "support")
#: Systems a scenario may add: the cloud ERP beside the legacy one during a migration.
OPTIONAL_SYSTEMS = ("erp_cloud",)
ORCHESTRATOR = "orchestrator"  # the design under test, as a party in faults


class Spec(BaseModel):
    """A section of a scenario: unknown fields refused, frozen, each field documented by the
    docstring under it (which `syncline schema` and `syncline init` show)."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)
