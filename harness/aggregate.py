"""What a sweep's runs add up to: per point and per parameter value, every figure's mean with a
95 % confidence interval over the seeds, and every checker's pass rate with its interval.

A figure's interval is Student's t on the mean of the seeds' values (the seeds are independent
replications); a pass rate's is Wilson's score interval, which stays inside [0, 1] and is honest
for 0 or all passes out of few seeds. Input is sorted by (point, seed) first and the sums are
`math.fsum`, so the same results give the same bytes in any order.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from statistics import NormalDist, fmean, median, stdev
from typing import Any

from scipy.stats import t as student_t

from harness.sweep import SWEEP_SCHEMA, SweepPlan

CONFIDENCE = 0.95
AGGREGATES_SCHEMA = "syncline.sweep-aggregates/1"
STATUSES = ("pass", "fail", "unknown")
#: SLO fields that do not name their figure after the `max_` / `min_` prefix.
SLO_FIGURES = {
    "max_partial": "partial_at_end",
    "min_traceable": "traceable_share",
    "max_share": "share",
    "min_per_hour": "per_hour",
}


def figure_stats(values: Sequence[float]) -> dict[str, Any]:
    """n, mean, standard deviation, the mean's confidence interval, median, min and max."""
    n = len(values)
    mean = fmean(values)
    spread = stdev(values) if n > 1 else 0.0
    if n > 1:
        half = float(student_t.ppf(0.5 + CONFIDENCE / 2, n - 1)) * spread / math.sqrt(n)
        low, high = mean - half, mean + half
    else:
        low = high = math.nan  # one seed says nothing about the spread
    return {
        "n": n,
        "mean": _round(mean),
        "std": _round(spread),
        "ci_low": _round(low),
        "ci_high": _round(high),
        "median": _round(median(values)),
        "min": _round(min(values)),
        "max": _round(max(values)),
    }


def pass_rate(passed: int, runs: int) -> dict[str, Any]:
    """The share of runs that passed, with its Wilson score interval."""
    if runs == 0:
        return {"passed": 0, "runs": 0, "rate": None, "ci_low": None, "ci_high": None}
    z = NormalDist().inv_cdf(0.5 + CONFIDENCE / 2)
    rate = passed / runs
    centre = (rate + z * z / (2 * runs)) / (1 + z * z / runs)
    half = z * math.sqrt(rate * (1 - rate) / runs + z * z / (4 * runs * runs)) / (1 + z * z / runs)
    return {
        "passed": passed,
        "runs": runs,
        "rate": _round(rate),
        "ci_low": _round(max(0.0, centre - half)),
        "ci_high": _round(min(1.0, centre + half)),
    }


def summarize_group(results: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Aggregates of one group of runs (a point, or a parameter value)."""
    names = sorted({name for r in results for name in r["figures"]})
    figures = {}
    for name in names:
        values = [r["figures"][name] for r in results if r["figures"].get(name) is not None]
        if values:
            figures[name] = figure_stats(values)
    checker_names = list(dict.fromkeys(c for r in results for c in r["checkers"]))
    counts = {s: sum(1 for r in results if r["status"] == s) for s in STATUSES}
    return {
        "runs": len(results),
        "seeds": sorted(r["seed"] for r in results),
        "status": counts,
        "passed": pass_rate(counts["pass"], len(results)),
        "checkers": {
            c: pass_rate(sum(1 for r in results if r["checkers"].get(c) == "pass"), len(results))
            for c in checker_names
        },
        "figures": figures,
    }


def slo_limits(results: Iterable[Mapping[str, Any]]) -> dict[str, float]:
    """Figure -> the SLO limit it is judged against (`billing_to_support.p95_s` -> 600)."""
    limits: dict[str, float] = {}
    for result in results:
        for name, limit in result.get("slo", {}).items():
            checker, _, field = name.partition(".")
            figure = SLO_FIGURES.get(field) or field.removeprefix("max_").removeprefix("min_")
            limits.setdefault(f"{checker}.{figure}", limit)
    return dict(sorted(limits.items()))


def aggregate(plan: SweepPlan, results: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """`aggregates.json`: the plan's points, each aggregated; then each parameter value pooled
    over the other parameters; the SLOs per point."""
    ordered = sorted(results, key=lambda r: (r["point"], r["seed"]))
    by_point: dict[int, list[Mapping[str, Any]]] = {p.index: [] for p in plan.points}
    for result in ordered:
        by_point[result["point"]].append(result)
    points = [
        {
            "index": point.index,
            "label": point.label,
            "settings": dict(point.settings),
            "slo": slo_limits(by_point[point.index]),
            **summarize_group(by_point[point.index]),
        }
        for point in plan.points
    ]
    by_parameter = {
        variation.path: {
            value: summarize_group(
                [
                    r
                    for p in plan.points
                    if p.settings[variation.path] == value
                    for r in by_point[p.index]
                ]
            )
            for value in variation.values
        }
        for variation in plan.variations
    }
    return {
        "schema": AGGREGATES_SCHEMA,
        "sweep_schema": SWEEP_SCHEMA,
        "scenario": plan.scenario,
        "design": plan.design,
        "confidence": CONFIDENCE,
        "runs": {"planned": plan.runs, "finished": len(ordered)},
        "variations": [{"path": v.path, "values": list(v.values)} for v in plan.variations],
        "points": points,
        "by_parameter": by_parameter,
    }


def _round(value: float) -> float | None:
    return None if math.isnan(value) or math.isinf(value) else round(value, 6)


def write_aggregates(
    directory: Path, plan: SweepPlan, results: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """Aggregate and write `aggregates.json` into the sweep directory."""
    aggregates = aggregate(plan, results)
    text = json.dumps(aggregates, indent=2, ensure_ascii=False) + "\n"
    (directory / "aggregates.json").write_text(text, encoding="utf-8")
    return aggregates
