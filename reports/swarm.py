"""The swarm report: `swarm.html` (self-contained) and `swarm.md`, from a swarm directory's
`sweep.json`, `results.jsonl` and `aggregates.json` only (harness/swarm.py writes them)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.aggregate import pass_rate
from harness.swarm import FailingSeed, failing_seeds
from harness.sweep import read_plan, read_results
from reports.html import ENVIRONMENT
from reports.sweep import rate

#: Per checker: its pass rate in each scenario (None where it did not run), overall, and in how
#: many seeds a hazard it judges occurred ("exercised") of those it ran in.
CheckerRow = tuple[str, list[Mapping[str, Any] | None], Mapping[str, Any], str]


def write_swarm_report(directory: Path) -> list[Path]:
    """Write `swarm.html` and `swarm.md` into the swarm directory."""
    aggregates = json.loads((directory / "aggregates.json").read_text(encoding="utf-8"))
    results = read_results(directory)
    failing = failing_seeds(read_plan(directory), results)
    table = checker_table(aggregates, results)
    markdown = directory / "swarm.md"
    markdown.write_text(render_swarm_markdown(aggregates, table, failing), encoding="utf-8")
    html = directory / "swarm.html"
    template = ENVIRONMENT.get_template("swarm.html.j2")
    html.write_text(
        template.render(data=aggregates, table=table, failing=failing, rate=rate),
        encoding="utf-8",
    )
    return [html, markdown]


def checker_table(
    aggregates: Mapping[str, Any], results: Sequence[Mapping[str, Any]]
) -> list[CheckerRow]:
    """A row per checker (`CheckerRow`)."""
    names = list(dict.fromkeys(c for p in aggregates["points"] for c in p["checkers"]))
    rows: list[CheckerRow] = []
    for name in names:
        cells = [point["checkers"].get(name) for point in aggregates["points"]]
        judged = [r for r in results if name in r["checkers"]]
        passed = sum(1 for r in judged if r["checkers"][name] == "pass")
        rows.append((name, cells, pass_rate(passed, len(judged)), exercised(results, name)))
    return rows


def exercised(results: Sequence[Mapping[str, Any]], checker: str) -> str:
    """`87/100`: the seeds in which a hazard the checker judges occurred ("–" if it has none)."""
    known = [r["exercised"][checker] for r in results if checker in r.get("exercised", {})]
    return f"{sum(known)}/{len(known)}" if known else "–"


def render_swarm_markdown(
    aggregates: Mapping[str, Any],
    table: Sequence[CheckerRow],
    failing: Sequence[FailingSeed],
) -> str:
    points = aggregates["points"]
    runs = aggregates["runs"]
    every = pass_rate(sum(p["passed"]["passed"] for p in points), runs["finished"])
    lines = [
        f"# Swarm: {len(points)} scenarios × {aggregates['design']}",
        "",
        f"{runs['finished']} of {runs['planned']} runs · each seed draws its own faults · "
        f"every checker passed in {rate(every)} · pass rates with "
        f"{round(aggregates['confidence'] * 100)} % Wilson intervals",
        "",
        "## Seeds that passed, per checker",
        "",
        "*Exercised in*: the seeds in which a hazard the checker judges occurred (a duplicate "
        "delivered, an answer lost, a system down, a crash with work in flight, ...).",
        "",
        "| checker | exercised in | all scenarios | " + " | ".join(p["label"] for p in points)
        + " |",
        "|---|---|---|" + "---|" * len(points),
    ]  # fmt: skip
    for name, cells, overall, tested in table:
        shown = [rate(cell) if cell else "–" for cell in cells]
        lines.append(f"| `{name}` | {tested} | {rate(overall)} | " + " | ".join(shown) + " |")
    lines.append(
        f"| **every checker** | | {rate(every)} | "
        + " | ".join(rate(p["passed"]) for p in points) + " |"
    )  # fmt: skip
    lines += ["", f"## Seeds that did not pass ({len(failing)})", ""]
    if not failing:
        lines.append("None.")
    else:
        lines += ["| scenario | seed | checker | cause | replay |", "|---|---|---|---|---|"]
        for seed in failing:
            for checker, cause in seed.causes.items():
                cell = cause.replace("|", "\\|")
                lines.append(
                    f"| {seed.scenario} | {seed.seed} | `{checker}` | {cell} | `{seed.replay}` |"
                )
    return "\n".join(lines) + "\n"
