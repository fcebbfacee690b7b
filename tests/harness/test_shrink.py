"""The shrinker's search on its own, with a stand-in for the runs: which candidates it tries and
what it keeps (tests/harness/test_swarm.py shrinks real runs)."""

from __future__ import annotations

from typing import Any

import yaml

from harness.designs.reference import ReferenceDesign
from harness.shrink import Data, Shrinker
from harness.shrink_command import _parse
from harness.units import parse_duration
from tests.conftest import scenario_with

CRASH = {"kind": "orchestrator_crash", "target": "orchestrator", "start": "630m",
         "duration": "2m"}  # fmt: skip
OUTAGE = {"kind": "outage", "target": "erp", "start": "20h", "duration": "30m"}
LATE = {"kind": "brownout", "target": "billing", "start": "4d", "duration": "3h"}


class Oracle(Shrinker):
    """Fails while the crash is in the scenario and the sales last 6 h or more; notes each
    candidate instead of running it."""

    def __init__(self, data: Data) -> None:
        super().__init__(data, ReferenceDesign, 1, "nothing_lost", _parse)
        self.tried: list[tuple[float, list[str]]] = []

    def fails(self, data: Data, step: str, tried: str) -> bool:
        self.state.runs += 1
        _parse(data)  # every candidate is a valid scenario: no fault after its end
        duration, kinds = parse_duration(data["duration"]), [f["kind"] for f in data["faults"]]
        self.tried.append((duration, kinds))
        return "orchestrator_crash" in kinds and duration >= 6 * 3600


def test_the_duration_is_shrunk_first_leaving_out_faults_after_the_shorter_end() -> None:
    scenario = scenario_with(faults=[LATE, CRASH, OUTAGE])
    data: Any = yaml.safe_load(scenario.to_yaml())
    oracle = Oracle(data)
    shrunk = oracle.shrink()
    assert parse_duration(shrunk.data["duration"]) == 6 * 3600
    assert [f["kind"] for f in shrunk.data["faults"]] == ["orchestrator_crash"]
    assert shrunk.steps[:2] == [
        "7d → 6h (1 fault after its end left out)",
        "faults 2 → 1: orchestrator_crash orchestrator at 630m",
    ]
    # the brownout on day 5 is kept while the run with its 1 d drain reaches it, then left out
    durations = [(duration / 3600, kinds) for duration, kinds in oracle.tried]
    assert durations[0] == (84.0, ["brownout", "orchestrator_crash", "outage"])
    assert durations[1] == (42.0, ["orchestrator_crash", "outage"])
    assert all(duration <= 84 for duration, _ in durations)  # no full-length run after the first
    assert all("brownout" not in kinds for _, kinds in durations[1:])
