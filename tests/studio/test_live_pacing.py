"""Live services in the studio judged at a pace: every poll takes the new lines, and judging the
whole history again takes at most JUDGING_SHARE of the time (harness/studio/live.py, rule 2)."""

from __future__ import annotations

from pathlib import Path

from harness.history import WorkflowRecord, to_json
from harness.live.serve import write_tokens
from harness.studio.live import JUDGING_SHARE, LiveRun, Pacer
from tests.simulators.test_http import services


class Ticks:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_a_pacer_waits_its_last_duration_over_its_share() -> None:
    ticks = Ticks()
    pacer = Pacer(0.25, ticks)
    assert pacer.due()  # never run
    with pacer.timed():
        ticks.t = 2.0  # the run took 2 s: the next is due 8 s after it began
    assert (pacer.began, pacer.took) == (0.0, 2.0)
    ticks.t = 7.9
    assert not pacer.due()
    ticks.t = 8.0
    assert pacer.due()


def test_a_poll_takes_new_lines_at_once_and_judges_them_when_due(tmp_path: Path) -> None:
    built, _ = services(tmp_path)
    built.options = {"host": "127.0.0.1", "port": 8101, "webhooks": "http://orch"}
    write_tokens(built)
    assert built.history is not None
    built.history.close()
    live = LiveRun(built.directory)
    live.poll()  # serve's run_started
    ticks = Ticks()
    live.pacer = Pacer(JUDGING_SHARE, ticks)
    live.pacer.began, live.pacer.took = 0.0, 1.0  # as if the last judgement took 1 s
    history = built.directory / "history.jsonl"
    judged, taken = len(live.marks), len(live.lines)

    def add(quote: str) -> bool:
        with history.open("a", encoding="utf-8") as lines:
            lines.write(to_json(WorkflowRecord(ticks.t + 1.0, quote, "started", {})) + "\n")
        return live.poll()

    ticks.t = 1.0
    assert add("Q-1") and add("Q-2")
    assert len(live.lines) == taken + 2 and len(live.marks) == judged  # taken, not judged yet
    ticks.t = 4.0  # 1 s / 0.25 after the last judgement began
    assert not live.poll()  # nothing new, yet the lines taken are judged now
    assert len(live.marks) == judged + 1 and live.marks[-1].position == taken + 2
    assert not live.poll() and len(live.marks) == judged + 1  # nothing left to judge
