"""What CI reads from a gate: JUnit XML and a Markdown summary fit for a pull-request comment.

JUnit: one `testsuite` per scenario, one `testcase` per checker, the checker's figures and SLO
as `property` elements; a failed invariant is a `failure`, a checker that could not decide an
`error` (so neither passes silently), with the summary as message and the evidence as text.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.checkers.base import Verdict
from harness.runner import RunResult
from reports.markdown import ICONS

#: Nested figures with more entries than this (a distribution) stay out of the JUnit file.
MAX_NESTED = 8
#: (scenario name, design, result) for each scenario a gate ran.
GateRuns = Sequence[tuple[str, str, RunResult]]


def write_junit(runs: GateRuns, path: Path) -> Path:
    suites = ET.Element("testsuites", name="syncline gate")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for scenario, design, result in runs:
        verdicts = result.verdicts
        counts = {
            "tests": len(verdicts),
            "failures": sum(v.status == "fail" for v in verdicts),
            "errors": sum(v.status == "unknown" for v in verdicts),
        }
        for key, value in counts.items():
            totals[key] += value
        suite = ET.SubElement(suites, "testsuite", {"name": scenario})
        for key, value in counts.items():
            suite.set(key, str(value))
        _properties(suite, {"design": design, "seed": result.summary["seed"],
                            "run_dir": str(result.run_dir)})  # fmt: skip
        for verdict in verdicts:
            case = ET.SubElement(
                suite, "testcase", classname=f"syncline.{scenario}", name=verdict.checker
            )
            coverage = (
                {"exercised": verdict.exercised, "coverage": verdict.coverage}
                if verdict.exercised is not None
                else {}
            )
            _properties(case, {**coverage, **_flat(verdict.figures), **_flat(verdict.slo, "slo.")})
            if verdict.status != "pass":
                tag = "failure" if verdict.status == "fail" else "error"
                problem = ET.SubElement(case, tag, message=verdict.summary, type=verdict.status)
                problem.text = _evidence(verdict)
    for key, value in totals.items():
        suites.set(key, str(value))
    ET.indent(suites)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suites).write(path, encoding="utf-8", xml_declaration=True)
    return path


def render_gate_markdown(runs: GateRuns, status: str) -> str:
    """A table of scenarios by checker, then what failed and why."""
    checkers = list(dict.fromkeys(v.checker for _, _, r in runs for v in r.verdicts))
    out = [
        f"## Syncline resilience gate: {ICONS[status]}",
        "",
        f"{len(runs)} scenarios × {len(checkers)} checkers.",
        "",
        "| scenario | design | " + " | ".join(f"`{c}`" for c in checkers) + " |",
        "|---|---|" + "---|" * len(checkers),
    ]
    for scenario, design, result in runs:
        by_name = {v.checker: v for v in result.verdicts}
        cells = [ICONS[by_name[c].status] if c in by_name else "–" for c in checkers]
        out.append(f"| `{scenario}` | `{design}` | " + " | ".join(cells) + " |")
    problems = [
        (scenario, verdict)
        for scenario, _, result in runs
        for verdict in result.verdicts
        if verdict.status != "pass"
    ]
    if problems:
        out += ["", "### What did not pass", ""]
        out += [f"- `{scenario}` · `{v.checker}`: {v.summary}" for scenario, v in problems]
    return "\n".join(out) + "\n"


def _properties(parent: ET.Element, values: Mapping[str, Any]) -> None:
    if not values:
        return
    properties = ET.SubElement(parent, "properties")
    for name, value in values.items():
        ET.SubElement(properties, "property", name=name, value=str(value))


def _flat(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Figures as name=value pairs: nested mappings get dotted names; lists and long
    distributions (quantiles) are left to summary.json."""
    flat: dict[str, Any] = {}
    for name, value in values.items():
        if isinstance(value, Mapping):
            if len(value) <= MAX_NESTED:
                flat.update(_flat(value, f"{prefix}{name}."))
        elif not isinstance(value, list | tuple):
            flat[f"{prefix}{name}"] = value
    return flat


def _evidence(verdict: Verdict) -> str:
    lines = [verdict.summary, ""]
    lines += [json.dumps(dict(item), ensure_ascii=False) for item in verdict.evidence]
    return "\n".join(lines)
