"""Scenario files: the shipped one loads; every user mistake is one sentence with a line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.scenario import ScenarioError, load, parse, shipped_scenarios

SEED = Path(__file__).parents[2] / "scenarios" / "subscription_amendment.yaml"


def broken(tmp_path: Path, old: str, new: str) -> Path:
    text = SEED.read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / "broken.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def line_of(path: Path, fragment: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if fragment in line)


def error_for(source: str | Path) -> str:
    with pytest.raises(ScenarioError) as caught:
        load(str(source))
    message = str(caught.value)
    assert "Traceback" not in message
    assert "\n" not in message or message.splitlines()[0].endswith(" problems:")
    return message


def test_the_seed_scenario_loads_by_name_and_by_path() -> None:
    assert "subscription_amendment" in shipped_scenarios()
    by_name = load("subscription_amendment")
    assert by_name == load(str(SEED))
    assert by_name.horizon_s == 8 * 86400
    assert by_name.workload.amendments == pytest.approx(12 / 3600)
    assert by_name.world.gaps.missing_tax_codes == ["BR"]
    assert by_name.systems.billing.webhooks.duplicate_probability == pytest.approx(0.15)
    assert by_name.systems.erp.maintenance[0].tz == "America/Los_Angeles"  # from the preset
    assert (
        by_name.systems.erp.concurrency is not None and by_name.systems.erp.concurrency.limit == 15
    )


def test_a_typo_in_a_field_name_names_the_line_and_the_fix(tmp_path: Path) -> None:
    path = broken(tmp_path, "    outages: {mtbf: 3d", "    outage: {mtbf: 3d")
    message = error_for(path)
    assert message.startswith(f"{path}:{line_of(path, 'outage: {mtbf')}: ")
    assert "unknown field 'outage' in systems.erp (did you mean 'outages'?)" in message


def test_a_negative_rate_is_refused_with_its_line(tmp_path: Path) -> None:
    path = broken(tmp_path, "amendments: 12/h", "amendments: -12/h")
    message = error_for(path)
    where = f"{path}:{line_of(path, '-12/h')}"
    assert message == f"{where}: workload.amendments: a rate must not be negative, got '-12/h'"


def test_a_missing_file_and_an_unknown_name(tmp_path: Path) -> None:
    assert (
        error_for(tmp_path / "nope.yaml")
        == f"scenario file {tmp_path / 'nope.yaml'} does not exist"
    )
    assert "no scenario file or shipped scenario named 'nope'" in error_for("nope")
    assert "is a directory" in error_for(tmp_path)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("duration: 7d ", "duration: soon ", "duration: cannot read 'soon' as a duration"),
        ("{US: 35,", "{XX: 35,", "unknown region 'XX'"),
        (
            "p50: 1m, p95: 10m, max: 1h",
            "p50: 1m, p95: 10m",
            "slo.billing_to_support is missing the required field 'max'",
        ),
        (
            "ghost_write_probability: 0.2%",
            'ghost_write_probability: 0.2%\n    maintenance: [{weekly: "x 01:00", duration: 4h}]',
            'write it like "sat 22:00"',
        ),
        (
            "ghost_write_probability: 0.2%",
            "ghost_write_probability: 0.2%\n    maintenance: "
            "[{weekly: sat 01:00, duration: 4h, tz: Mars/Olympus}]",
            "unknown time zone 'Mars/Olympus'",
        ),
        (
            "latency: {p50: 1.2s, p99: 6s, cap: 60s}",
            "latency: {p50: 6s, p99: 1.2s}",
            "p99 (1.2s) must not be below p50 (6s)",
        ),
        ("duplicate_probability: 15%", "duplicate_probability: 150%", "between 0 and 1"),
        (
            "customers: 600",
            "customers: 600\n  customers: 7",
            "field 'customers' appears twice in world",
        ),
        ("world:\n", "world: [\n", "this is not valid YAML"),
    ],
)
def test_other_mistakes(tmp_path: Path, old: str, new: str, expected: str) -> None:
    message = error_for(broken(tmp_path, old, new))
    assert expected in message
    assert message.startswith(f"{tmp_path / 'broken.yaml'}:")


def test_empty_and_non_mapping_files() -> None:
    with pytest.raises(ScenarioError, match="empty"):
        parse("", "empty.yaml")
    with pytest.raises(ScenarioError, match="must be a mapping"):
        parse("- 1\n- 2\n", "list.yaml")


def test_resolved_yaml_round_trips() -> None:
    scenario = load("subscription_amendment")
    resolved = parse(scenario.to_yaml(), "resolved.yaml")
    assert resolved.resolved_data() == scenario.resolved_data()
    assert resolved.systems.erp.profile() == scenario.systems.erp.profile()


# -- issue 3: presets, profiles and faults in the scenario -----------------------------------


def test_a_preset_override_round_trips_through_the_resolved_yaml(tmp_path: Path) -> None:
    path = broken(tmp_path, "outages: {mtbf: 4d, mttr: 10m}", "outages: null")
    scenario = load(str(path))
    assert scenario.systems.support.outages is None  # the override removed the preset's outages
    resolved = parse(scenario.to_yaml(), "resolved.yaml")
    assert resolved.systems.support.outages is None
    assert resolved.systems.support.profile() == scenario.systems.support.profile()
    assert scenario.to_yaml().startswith("# presets expanded: cpq=salesforce-like")


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ("{kind: outage, target: erp, start: 1h, duration: 30m}", None),
        (
            "{kind: outage, target: crm, start: 1h, duration: 30m}",
            "targets cpq or erp or billing or support or erp_cloud, not 'crm'",
        ),
        ("{kind: outage, target: erp, start: 1h}", "needs a duration"),
        (
            "{kind: brownout, target: erp, start: 1h, duration: 1h, probability: 5%}",
            "does not take 'probability'",
        ),
        ("{kind: ghost_writes, target: billing, start: 1h, duration: 1h}", "needs 'probability'"),
        (
            "{kind: partition, between: [billing, erp], start: 1h, duration: 1h}",
            "between: [orchestrator, <system>]",
        ),
        ("{kind: master_data_gap, start: 1h, duration: 1h}", "exactly one of tax_code"),
        ("{kind: master_data_gap, tax_code: DE, start: 1h, duration: 1h}", None),
        ("{kind: vendor_upgrade, target: billing, start: 2026-03-03T00:00:00Z}", None),
        ("{kind: orchestrator_crash, start: 1h, duration: 5m}", None),
        ("{kind: outage, target: erp, start: 30d, duration: 1h}", "starts outside the run"),
        ("{kind: meteor, target: erp, start: 1h, duration: 1h}", "kind"),
    ],
)
def test_fault_specs(tmp_path: Path, fault: str, expected: str | None) -> None:
    seed_faults = SEED.read_text(encoding="utf-8").split("\nfaults:", 1)[1].split("\n\n", 1)[0]
    path = broken(tmp_path, seed_faults, f"\n  - {fault}")  # in place of the seed's faults
    if expected is None:
        assert len(load(str(path)).faults) == 1
    else:
        assert expected in error_for(path)


def test_latency_families_and_limits_are_validated(tmp_path: Path) -> None:
    cases = [
        (
            "latency: {p50: 1.2s, p99: 6s, cap: 60s}",
            "latency: {fixed: 1s, p50: 1s, p99: 2s}",
            "give one latency model",
        ),
        (
            "latency: {p50: 1.2s, p99: 6s, cap: 60s}",
            "latency: {median: 1s}",
            "latency median/sigma needs sigma",
        ),
        (
            "latency: {p50: 1.2s, p99: 6s, cap: 60s}",
            "latency: {uniform: [1s, 2s], cap: 3s}",
            "cap applies to lognormal",
        ),
        (
            "ghost_write_probability: 0.2%",
            "ghost_write_probability: 0.2%\n    rate_limits: [{fixed_window: 10}]",
            "needs 'per'",
        ),
        (
            "ghost_write_probability: 0.2%",
            "ghost_write_probability: 0.2%\n    concurrency: {limit: 0}",
            "greater than 0",
        ),
    ]
    for old, new, expected in cases:
        assert expected in error_for(broken(tmp_path, old, new)), new


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("slo.end_to_end.p95=soon", "slo.end_to_end.p95: cannot read 'soon' as a duration"),
        ("slo.lineage.min_traceable=lots", "slo.lineage.min_traceable"),
        ("slo.end_to_end.min_throughput=fast", "slo.end_to_end.min_throughput"),
        ("slo.effect_once.max_duplicates=-1", "slo.effect_once.max_duplicates"),
    ],
)
def test_slo_units_are_validated_with_clear_errors(override: str, message: str) -> None:
    from harness.scenario import ScenarioError, load

    with pytest.raises(ScenarioError, match=re.escape(message)):
        load("subscription_amendment", [override])


def test_every_problem_is_listed_at_once_each_with_its_line(tmp_path: Path) -> None:
    path = broken(tmp_path, "duration: 7d", "duration: 48")
    text = path.read_text(encoding="utf-8")
    text = text.replace("  amendments: 12/h", "  ammendments: 12/h", 1)
    text = text.replace("new_subscriptions: 4/h", "new_subscriptions: 4/hx", 1)
    path.write_text(text, encoding="utf-8")
    message = error_for(path)
    head, *problems = message.splitlines()
    assert head == f"{path} has 3 problems:"
    duration, rate, typo = problems  # in the file's order
    assert duration.startswith(f"  {path}:{line_of(path, 'duration: 48')}: duration: 48 is a bare")
    assert "needs a unit" in duration and "15m, 2h" in duration
    assert typo.startswith(f"  {path}:{line_of(path, 'ammendments')}: unknown field 'ammendments'")
    assert "did you mean 'amendments'? it is required" in typo
    assert "missing the required field" not in message  # said once, as the did-you-mean
    assert f":{line_of(path, '4/hx')}: " in rate and "did you mean 'h'?" in rate
    assert "6/h, 0.5/min, 100/d" in rate


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("duration: 7d", "duration: 48"),
        ("drain: 1d", "drain: 3600"),
        ("amendments: 12/h", "amendments: 12"),
    ],
)
def test_a_bare_number_where_a_unit_belongs_is_refused(tmp_path: Path, old: str, new: str) -> None:
    assert "is a bare number" in error_for(broken(tmp_path, old, new))


def test_zero_needs_no_unit_and_run_directories_may_hold_bare_seconds() -> None:
    text = SEED.read_text(encoding="utf-8").replace("drain: 1d", "drain: 0", 1)
    assert parse(text).drain == 0
    old_style = SEED.read_text(encoding="utf-8").replace("duration: 7d", "duration: 604800", 1)
    assert parse(old_style, strict_units=False).duration == 604800
