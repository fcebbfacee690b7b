"""How the simulated operations team handles what a design parks: `operations:` in a scenario.

operations:
  business_hours: {days: mon-fri, start: "08:00", end: "18:00", tz: Europe/Berlin}
  exceptions:
    - code: TAX_CODE_MISSING     # the error code the design parked with ("*" for any)
      fix: master_data           # repair ERP's master data first (or: none)
      within: 4h                 # business time after the exception was parked
      then: resume               # resume the workflow, skip it, or compensate (undo, close)
  dead_letters: {replay_after: 1h}   # then: replay (default) or compensate
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import model_validator

from harness.scenario.types import PositiveDuration, Spec
from simulators.availability import WEEKDAYS

#: The ids of the events the operations team sends (`OPS-000001`); the calls a design makes
#: handling one carry it as their trace, so a checker can tell work people asked for.
OPERATOR_EVENT_PREFIX = "OPS-"


class BusinessHours(Spec):
    days: str = "mon-fri"
    """The working days, like mon-fri."""
    start: str = "08:00"
    """When the working day starts, HH:MM local time."""
    end: str = "18:00"
    """When it ends, HH:MM local time."""
    tz: str = "UTC"
    """The IANA time zone of the operations team, e.g. Europe/Berlin."""

    @model_validator(mode="after")
    def _readable(self) -> BusinessHours:
        self.weekdays()
        if self.opens() >= self.closes():
            raise ValueError("business hours must end after they start")
        return self

    def weekdays(self) -> frozenset[int]:
        first, _, last = self.days.lower().partition("-")
        if first[:3] not in WEEKDAYS or (last and last[:3] not in WEEKDAYS):
            raise ValueError(f"cannot read days {self.days!r}; write them like mon-fri")
        low = WEEKDAYS.index(first[:3])
        high = WEEKDAYS.index(last[:3]) if last else low
        return frozenset(range(low, high + 1))

    def opens(self) -> time:
        return time.fromisoformat(self.start)

    def closes(self) -> time:
        return time.fromisoformat(self.end)


class ExceptionRule(Spec):
    code: str = "*"
    """The error code the design parked with ("*" for any)."""
    fix: Literal["master_data", "none"] = "none"
    """master_data: repair ERP's master data first; none: change nothing."""
    within: PositiveDuration = 4 * 3600.0
    """Business time after the exception was parked that the team acts (a duration, e.g. 4h)."""
    then: Literal["resume", "skip", "compensate"] = "resume"
    """resume the workflow, skip it, or compensate (undo what was done, close it)."""


class DeadLetterRule(Spec):
    replay_after: PositiveDuration = 3600.0
    """Business time after a message dead-lettered that the team acts (a duration)."""
    then: Literal["replay", "compensate"] = "replay"
    """replay the dead letters, or compensate."""


class OperationsSpec(Spec):
    business_hours: BusinessHours = BusinessHours()
    """When the operations team works: its actions wait for these hours."""
    exceptions: list[ExceptionRule] = []
    """What the team does with each parked exception, by error code (the first rule matching)."""
    dead_letters: DeadLetterRule | None = None
    """What the team does with dead-lettered messages; none: nobody looks."""

    def rule_for(self, code: str) -> ExceptionRule | None:
        for rule in self.exceptions:
            if rule.code in ("*", code):
                return rule
        return None


def business_seconds(
    calendar_start: datetime, start_s: float, end_s: float, hours: BusinessHours
) -> float:
    """Seconds of business time between two run times (seconds since `calendar_start`)."""
    zone = ZoneInfo(hours.tz)
    weekdays = hours.weekdays()
    now = (calendar_start + timedelta(seconds=start_s)).astimezone(zone)
    end = (calendar_start + timedelta(seconds=end_s)).astimezone(zone)
    total = 0.0
    while now < end:
        opens = datetime.combine(now.date(), hours.opens(), tzinfo=zone)
        closes = datetime.combine(now.date(), hours.closes(), tzinfo=zone)
        if now.weekday() in weekdays:
            total += max(0.0, (min(closes, end) - max(now, opens)).total_seconds())
        now = datetime.combine(now.date() + timedelta(days=1), time(0), tzinfo=zone)
    return total


def after_business_time(
    calendar_start: datetime, start_s: float, work_s: float, hours: BusinessHours
) -> float:
    """Simulated seconds at which `work_s` of business time, begun at `start_s`, is done."""
    zone = ZoneInfo(hours.tz)
    weekdays = hours.weekdays()
    now = (calendar_start + timedelta(seconds=start_s)).astimezone(zone)
    remaining = work_s
    while True:
        opens = datetime.combine(now.date(), hours.opens(), tzinfo=zone)
        closes = datetime.combine(now.date(), hours.closes(), tzinfo=zone)
        if now.weekday() in weekdays and now < closes:
            begin = max(now, opens)
            available = (closes - begin).total_seconds()
            if remaining <= available:
                return (begin + timedelta(seconds=remaining) - calendar_start).total_seconds()
            remaining -= available
        now = datetime.combine(now.date() + timedelta(days=1), hours.opens(), tzinfo=zone)
