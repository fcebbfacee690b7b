"""The sweep report: `sweep.html` (self-contained) and `sweep.md`, from a sweep directory's
`sweep.json`, `results.jsonl` and `aggregates.json` only (harness/sweep.py writes them)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.sweep import read_results
from reports.html import ENVIRONMENT, embedded
from reports.sweep_charts import Charted, write_sweep_charts


def write_sweep_report(directory: Path) -> list[Path]:
    """Write `sweep.html`, `sweep.md` and `charts/*.png` into the sweep directory."""
    aggregates = json.loads((directory / "aggregates.json").read_text(encoding="utf-8"))
    results = read_results(directory)
    charts = write_sweep_charts(aggregates, results, directory)
    markdown = directory / "sweep.md"
    markdown.write_text(render_sweep_markdown(aggregates, charts, directory), encoding="utf-8")
    html = directory / "sweep.html"
    html.write_text(render_sweep_html(aggregates, charts), encoding="utf-8")
    return [html, markdown, *(path for _, path in charts)]


def estimate(stats: Mapping[str, Any] | None, entry: Charted | None = None) -> str:
    """`4.2 ± 0.3` (mean ± half the confidence interval), in the chart's unit."""
    if stats is None:
        return "–"
    scale = entry.scale if entry else 1.0
    mean = stats["mean"] * scale
    if stats["ci_low"] is None:
        return f"{mean:,.3g} (1 seed)"
    half = (stats["ci_high"] - stats["ci_low"]) * scale / 2
    return f"{mean:,.3g} ± {half:,.2g}"


def rate(entry: Mapping[str, Any]) -> str:
    """`38/40 (95 %, CI 83–99 %)`."""
    if not entry["runs"]:
        return "–"
    return (
        f"{entry['passed']}/{entry['runs']} ({entry['rate']:.0%}, "
        f"CI {entry['ci_low']:.0%}–{entry['ci_high']:.0%})"
    )


def _rows(aggregates: Mapping[str, Any], charts: Sequence[tuple[Charted, Path]]) -> list[Any]:
    """(entry, unit, SLO text, a cell per point) for each charted figure."""
    rows = []
    for entry, _ in charts:
        cells = [estimate(p["figures"].get(entry.figure), entry) for p in aggregates["points"]]
        limits = sorted({p["slo"][entry.figure] for p in aggregates["points"]
                         if entry.figure in p["slo"]})  # fmt: skip
        slo = ", ".join(f"{limit * entry.scale:,.3g}" for limit in limits) or "–"
        rows.append((entry, entry.unit, slo, cells))
    return rows


def _pooled(aggregates: Mapping[str, Any], charts: Sequence[tuple[Charted, Path]]) -> list[Any]:
    """With two varied fields or more: per field, (path, its values, a row per figure of
    (title, unit, a cell per value)), each value pooled over the other fields' values."""
    if len(aggregates["variations"]) < 2:
        return []
    tables = []
    for variation in aggregates["variations"]:
        groups = aggregates["by_parameter"][variation["path"]]
        values = list(variation["values"])
        rows = [
            (entry.title, entry.unit or "–",
             [estimate(groups[value]["figures"].get(entry.figure), entry) for value in values])
            for entry, _ in charts
        ]  # fmt: skip
        passed = [rate(groups[value]["passed"]) for value in values]
        tables.append((variation["path"], values, rows, passed))
    return tables


def _checkers(aggregates: Mapping[str, Any]) -> list[str]:
    return list(dict.fromkeys(c for p in aggregates["points"] for c in p["checkers"]))


def render_sweep_html(aggregates: Mapping[str, Any], charts: Sequence[tuple[Charted, Path]]) -> str:
    template = ENVIRONMENT.get_template("sweep.html.j2")
    return template.render(
        data=aggregates,
        points=aggregates["points"],
        rows=_rows(aggregates, charts),
        checkers=_checkers(aggregates),
        pooled=_pooled(aggregates, charts),
        rate=rate,
        charts=[embedded(path, entry.title) for entry, path in charts],
    )


def render_sweep_markdown(
    aggregates: Mapping[str, Any], charts: Sequence[tuple[Charted, Path]], directory: Path
) -> str:
    points = aggregates["points"]
    level = round(aggregates["confidence"] * 100)
    runs = aggregates["runs"]
    lines = [
        f"# Sweep: {aggregates['scenario']} × {aggregates['design']}",
        "",
        f"{runs['finished']} of {runs['planned']} runs · {len(points)} points · "
        f"mean ± half the {level} % confidence interval over the seeds",
        "",
        "## Figures",
        "",
        "| figure | unit | SLO | " + " | ".join(_cell(p["label"]) for p in points) + " |",
        "|---|---|---|" + "---|" * len(points),
    ]
    for entry, unit, slo, cells in _rows(aggregates, charts):
        lines.append(f"| {entry.title} | {unit or '–'} | {slo} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "## Runs that passed",
        "",
        "| checker | " + " | ".join(_cell(p["label"]) for p in points) + " |",
        "|---|" + "---|" * len(points),
    ]
    for checker in _checkers(aggregates):
        cells = [rate(p["checkers"][checker]) if checker in p["checkers"] else "–" for p in points]
        lines.append(f"| `{checker}` | " + " | ".join(cells) + " |")
    lines.append("| **every checker** | " + " | ".join(rate(p["passed"]) for p in points) + " |")
    for path, values, rows, passed in _pooled(aggregates, charts):
        lines += [
            "",
            f"## By `{path}`, pooled over the other fields",
            "",
            "| figure | unit | " + " | ".join(_cell(f"{path}={v}") for v in values) + " |",
            "|---|---|" + "---|" * len(values),
            *(f"| {title} | {unit} | " + " | ".join(cells) + " |" for title, unit, cells in rows),
            "| **every checker passed** | | " + " | ".join(passed) + " |",
        ]
    if charts:
        lines += ["", "## Charts", ""]
        lines += [f"![{entry.title}]({path.relative_to(directory)})" for entry, path in charts]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")
