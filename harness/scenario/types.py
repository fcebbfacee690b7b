"""Field types shared by the scenario schema: quantities with units, regions, SKUs."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, PlainSerializer

from harness.units import format_rate, parse_duration, parse_probability, parse_rate
from harness.world import PRODUCTS, REGIONS


def _positive(value: float) -> float:
    if value <= 0:
        raise ValueError(f"must be greater than zero, got {value:g}")
    return value


def _region(code: str) -> str:
    if code not in REGIONS:
        raise ValueError(f"unknown region {code!r}; known regions: {', '.join(REGIONS)}")
    return code


def _sku(sku: str) -> str:
    if sku not in PRODUCTS:
        raise ValueError(f"unknown SKU {sku!r}; known SKUs: {', '.join(PRODUCTS)}")
    return sku


Duration = Annotated[float, BeforeValidator(parse_duration)]
PositiveDuration = Annotated[float, BeforeValidator(parse_duration), AfterValidator(_positive)]
Rate = Annotated[float, BeforeValidator(parse_rate), PlainSerializer(format_rate, when_used="json")]
Probability = Annotated[float, BeforeValidator(parse_probability)]
Positive = Annotated[float, AfterValidator(_positive)]
RegionCode = Annotated[str, AfterValidator(_region)]
Sku = Annotated[str, AfterValidator(_sku)]

SYSTEMS = ("cpq", "erp", "billing", "support")
#: Systems a scenario may add: the cloud ERP beside the legacy one during a migration.
OPTIONAL_SYSTEMS = ("erp_cloud",)
ORCHESTRATOR = "orchestrator"  # the design under test, as a party in faults


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
