"""Scenario files: YAML in, a validated `Scenario` out, errors with the file, line and path.

A scenario fixes the world, the workload, each system's behaviour profile and the SLOs. It is
frozen once loaded; the runner copies the resolved form into the run directory.

Every problem a user can make (a typo in a field name, a negative rate, a missing file, bad
YAML) becomes a `ScenarioError` whose message is one sentence naming the place to fix.
"""

from __future__ import annotations

import difflib
import types
from collections.abc import Mapping
from datetime import time
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PositiveInt,
    ValidationError,
    model_validator,
)

from harness.units import format_rate, parse_duration, parse_probability, parse_rate
from harness.world import PRODUCTS, REGIONS
from simulators.base import IdempotencyRule
from simulators.profiles import (
    WEEKDAYS,
    LognormalLatency,
    Maintenance,
    OnceMaintenance,
    Profile,
    RandomOutages,
    WebhookDelivery,
    WeeklyMaintenance,
)

SYSTEMS = ("cpq", "erp", "billing", "support")


class ScenarioError(Exception):
    """A scenario that cannot be used; the message is meant for the user as it is."""


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
RegionCode = Annotated[str, AfterValidator(_region)]
Sku = Annotated[str, AfterValidator(_sku)]


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LatencySpec(Spec):
    p50: PositiveDuration
    p99: PositiveDuration
    cap: PositiveDuration | None = None

    @model_validator(mode="after")
    def _ordered(self) -> LatencySpec:
        if self.p99 < self.p50:
            raise ValueError(f"p99 ({self.p99:g}s) must not be below p50 ({self.p50:g}s)")
        return self

    def model(self) -> LognormalLatency:
        return LognormalLatency(self.p50, self.p99, self.cap)


class MaintenanceSpec(Spec):
    """Either `weekly: "sat 22:00"` (local time in `tz`) or `once: <ISO datetime>`."""

    weekly: str | None = None
    once: AwareDatetime | None = None
    duration: PositiveDuration
    tz: str = "UTC"

    @model_validator(mode="after")
    def _one_kind(self) -> MaintenanceSpec:
        if (self.weekly is None) == (self.once is None):
            raise ValueError("give exactly one of 'weekly' (like \"sat 22:00\") or 'once'")
        try:
            ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {self.tz!r}; use an IANA name") from None
        if self.weekly is not None:
            self._weekly_parts()
        return self

    def _weekly_parts(self) -> tuple[int, time]:
        assert self.weekly is not None
        parts = self.weekly.strip().lower().split()
        if len(parts) != 2 or parts[0][:3] not in WEEKDAYS:
            raise ValueError(f'cannot read weekly {self.weekly!r}; write it like "sat 22:00"')
        try:
            at = time.fromisoformat(parts[1])
        except ValueError:
            raise ValueError(f"cannot read the time in {self.weekly!r}; use HH:MM") from None
        return WEEKDAYS.index(parts[0][:3]), at

    def model(self) -> Maintenance:
        if self.once is not None:
            return OnceMaintenance(self.once, self.duration)
        day, at = self._weekly_parts()
        return WeeklyMaintenance(day, at, self.duration, self.tz)


class OutagesSpec(Spec):
    mtbf: PositiveDuration
    mttr: PositiveDuration


class WebhookSpec(Spec):
    delay: LatencySpec = LatencySpec(p50=1.0, p99=30.0)
    duplicate_probability: Probability = 0.0


class IdempotencySpec(Spec):
    supported: bool = True
    retention: PositiveDuration = 24 * 3600.0


class SystemSpec(Spec):
    latency: LatencySpec
    maintenance: list[MaintenanceSpec] = []
    outages: OutagesSpec | None = None
    ghost_write_probability: Probability = 0.0
    client_timeout: PositiveDuration = 30.0
    idempotency: IdempotencySpec = IdempotencySpec()
    webhooks: WebhookSpec = WebhookSpec()

    def profile(self) -> Profile:
        return Profile(
            latency=self.latency.model(),
            maintenance=tuple(m.model() for m in self.maintenance),
            outages=RandomOutages(self.outages.mtbf, self.outages.mttr) if self.outages else None,
            ghost_write_probability=self.ghost_write_probability,
            client_timeout_s=self.client_timeout,
            idempotency=IdempotencyRule(self.idempotency.supported, self.idempotency.retention),
            webhooks=WebhookDelivery(
                self.webhooks.delay.model(), self.webhooks.duplicate_probability
            ),
        )


class SystemsSpec(Spec):
    cpq: SystemSpec
    erp: SystemSpec
    billing: SystemSpec
    support: SystemSpec

    def items(self) -> list[tuple[str, SystemSpec]]:
        return [(name, getattr(self, name)) for name in SYSTEMS]


class GapsSpec(Spec):
    """Master-data gaps in ERP: what breaks mappings in practice."""

    missing_tax_codes: list[RegionCode] = []
    inactive_tax_codes: list[RegionCode] = []
    unmapped_skus: list[Sku] = []


class WorldSpec(Spec):
    customers: PositiveInt
    regions: dict[RegionCode, Annotated[float, AfterValidator(_positive)]]
    gaps: GapsSpec = GapsSpec()


class AmendmentMix(Spec):
    upgrade: Annotated[float, Field(ge=0)] = 0.5
    add_on: Annotated[float, Field(ge=0)] = 0.3
    downgrade: Annotated[float, Field(ge=0)] = 0.2

    @model_validator(mode="after")
    def _some(self) -> AmendmentMix:
        if self.upgrade + self.add_on + self.downgrade <= 0:
            raise ValueError("at least one amendment kind needs a positive weight")
        return self


class WorkloadSpec(Spec):
    new_subscriptions: Rate
    amendments: Rate
    amendment_mix: AmendmentMix = AmendmentMix()


class WindowSLO(Spec):
    p50: Duration
    p95: Duration
    max: Duration


class InvoicedBeforeEntitledSLO(Spec):
    """Invoices a customer can see (after `invoice_delivery`) before support sees the change.

    `max_share` is the largest tolerated share of invoices, e.g. `0%` or `1%`.
    """

    max_share: Probability = 0.0
    invoice_delivery: Duration = 600.0


class NothingLostSLO(Spec):
    deadline: PositiveDuration = 86400.0


class SLOSpec(Spec):
    billing_to_support: WindowSLO
    invoiced_before_entitled: InvoicedBeforeEntitledSLO = InvoicedBeforeEntitledSLO()
    nothing_lost: NothingLostSLO = NothingLostSLO()


class Scenario(Spec):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    start: AwareDatetime
    duration: PositiveDuration
    drain: Duration = 86400.0
    world: WorldSpec
    workload: WorkloadSpec
    systems: SystemsSpec
    slo: SLOSpec

    @property
    def horizon_s(self) -> float:
        """Arrivals stop at `duration`; the run ends after `drain` more for work to settle."""
        return self.duration + self.drain

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False)


# -- loading ------------------------------------------------------------------------------


def shipped_scenarios() -> list[str]:
    folder = resources.files("scenarios")
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def resolve(name_or_path: str) -> tuple[str, str]:
    """(display name, YAML text) for a file path or the name of a shipped scenario."""
    path = Path(name_or_path)
    if path.is_dir():
        raise ScenarioError(f"{path} is a directory; give a scenario file (*.yaml)")
    if path.is_file():
        try:
            return str(path), path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise ScenarioError(f"cannot read scenario file {path}: {error}") from None
    if path.suffix in (".yaml", ".yml") or len(path.parts) > 1:
        raise ScenarioError(f"scenario file {name_or_path} does not exist")
    shipped = resources.files("scenarios") / f"{name_or_path}.yaml"
    if shipped.is_file():
        return name_or_path, shipped.read_text(encoding="utf-8")
    raise ScenarioError(
        f"no scenario file or shipped scenario named {name_or_path!r} "
        f"(shipped: {', '.join(shipped_scenarios())})"
    )


def load(name_or_path: str) -> Scenario:
    source, text = resolve(name_or_path)
    return parse(text, source, default_name=Path(source).stem)


def parse(text: str, source: str = "<scenario>", default_name: str = "scenario") -> Scenario:
    data, lines = _read_yaml(text, source)
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: a scenario must be a mapping of fields, not {data!r}")
    data.setdefault("name", default_name)
    try:
        return Scenario.model_validate(data)
    except ValidationError as error:
        raise ScenarioError(_explain(error, source, lines)) from None


def _read_yaml(text: str, source: str) -> tuple[Any, dict[tuple[str | int, ...], int]]:
    """Parse YAML and note the line of every mapping key and list item, by path."""
    lines: dict[tuple[str | int, ...], int] = {}
    constructor = yaml.constructor.SafeConstructor()

    def build(node: yaml.Node, path: tuple[str | int, ...]) -> Any:
        lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = constructor.construct_object(key_node, deep=True)
                if key in result:
                    raise ScenarioError(
                        f"{source}:{key_node.start_mark.line + 1}: "
                        f"field {key!r} appears twice in {_dotted(path) or 'the file'}"
                    )
                lines[(*path, key)] = key_node.start_mark.line + 1
                result[key] = build(value_node, (*path, key))
            return result
        if isinstance(node, yaml.SequenceNode):
            return [build(item, (*path, index)) for index, item in enumerate(node.value)]
        return constructor.construct_object(node, deep=True)

    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        problem = getattr(error, "problem", None) or str(error)
        raise ScenarioError(f"{where}: this is not valid YAML ({problem})") from None
    if node is None:
        raise ScenarioError(f"{source}: the scenario file is empty")
    return build(node, ()), lines


def _dotted(path: tuple[str | int, ...]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _explain(
    error: ValidationError, source: str, lines: Mapping[tuple[str | int, ...], int]
) -> str:
    problems = error.errors(include_url=False)
    first = problems[0]
    loc = tuple(p for p in first["loc"] if not (isinstance(p, str) and "[" in p))
    line = next((lines[loc[:n]] for n in range(len(loc), -1, -1) if loc[:n] in lines), None)
    where = f"{source}:{line}" if line is not None else source
    if first["type"] == "extra_forbidden":
        field, parent = str(loc[-1]), loc[:-1]
        known = _fields_at(parent)
        close = difflib.get_close_matches(field, known, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"known fields: {', '.join(known)}"
        message = f"unknown field {field!r} in {_dotted(parent) or 'the scenario'} ({hint})"
    elif first["type"] == "missing":
        owner = _dotted(loc[:-1]) or "the scenario"
        message = f"{owner} is missing the required field {str(loc[-1])!r}"
    else:
        text = first["msg"].removeprefix("Value error, ")
        message = f"{_dotted(loc) or 'the scenario'}: {text}"
    more = len(problems) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return f"{where}: {message}{suffix}"


def _fields_at(path: tuple[str | int, ...]) -> list[str]:
    """The field names a scenario allows at `path`, for did-you-mean hints."""
    model: Any = Scenario
    skip_container_key = False
    for part in path:
        if skip_container_key:
            skip_container_key = False
            continue
        if not _is_model(model) or part not in model.model_fields:
            return []
        model, skip_container_key = _inner_model(model.model_fields[part].annotation)
    return list(model.model_fields) if _is_model(model) else []


def _is_model(candidate: Any) -> bool:
    return isinstance(candidate, type) and issubclass(candidate, BaseModel)


def _inner_model(annotation: Any) -> tuple[Any, bool]:
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        for arg in get_args(annotation):
            inner, container = _inner_model(arg)
            if _is_model(inner):
                return inner, container
        return None, False
    if origin in (list, dict):
        inner, _ = _inner_model(get_args(annotation)[-1])
        return inner, True
    return annotation, False
