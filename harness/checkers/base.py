"""What every checker is: a fold over the history that ends in a three-valued verdict.

Rules:
1. A checker sees history records only, never live objects; it is told each record's position
   so its evidence can point back into `history.jsonl`.
2. It works in one pass (`observe` per record, `verdict` at the end), so it can run while the
   simulation writes, or later over the stored file (`syncline analyze`), with equal results.
   A checker may name the `entities` whose state records it reads (None: all of them); it is
   then not called for the others (CPQ's quote lines, most of a run's writes, concern none).
3. `pass` means the invariant held; `fail` that it was broken (with evidence naming business
   IDs and positions); `unknown` that the history cannot decide (nothing to judge, or work too
   recent to judge). Verdicts compose by worst: fail > unknown > pass.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Literal, Protocol

from harness.history import EventRecord, PolicyRecord, Record, StateRecord
from simulators.billing import SUBSCRIPTION_EVENTS

Status = Literal["pass", "fail", "unknown"]
_RANK: Mapping[str, int] = {"pass": 0, "unknown": 1, "fail": 2}
#: How much evidence a verdict keeps: enough to explain, bounded for long runs.
EVIDENCE_LIMIT = 20


@dataclass(frozen=True, slots=True)
class Verdict:
    checker: str
    status: Status
    summary: str  # one line for people: the figures against the SLO
    figures: Mapping[str, Any] = field(default_factory=dict)
    slo: Mapping[str, Any] = field(default_factory=dict)
    evidence: Sequence[Mapping[str, Any]] = ()
    #: Whether a hazard the checker judges occurred in the run (None: not applicable), and
    #: which ones did, or (not exercised) what did not happen (harness/checkers/hazards.py).
    exercised: bool | None = None
    coverage: str = ""
    #: False when the scenario sets none of the checker's thresholds: its figures are reported,
    #: not judged (the status is then `pass`, which composes as nothing).
    judged: bool = True

    def __reduce__(self) -> tuple[type[Verdict], tuple[Any, ...]]:
        """Pickled as its fields in order (a compiled frozen dataclass cannot be unpickled by
        setting them one by one): verdicts cross from worker processes."""
        return Verdict, (
            self.checker, self.status, self.summary, self.figures, self.slo, self.evidence,
            self.exercised, self.coverage, self.judged,
        )  # fmt: skip

    @property
    def not_applicable(self) -> bool:
        """Whether the checker had nothing to judge in this business (it lacks a system the
        invariant is about): said in its summary, and left out of swarm and sweep pass rates."""
        return not self.judged and self.summary.startswith("not judged")

    @property
    def shown(self) -> str:
        """The verdict as people read it: `reported` when no threshold judged it, `pass — not
        exercised` when nothing tested it."""
        if not self.judged:
            return "not judged" if self.not_applicable else "reported"
        if self.exercised is False and self.status == "pass":
            return "pass — not exercised"
        return self.status

    def as_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "checker": self.checker,
            "status": self.status,
            "summary": self.summary,
            "figures": dict(self.figures),
            "slo": dict(self.slo),
            "evidence": [dict(item) for item in self.evidence],
        }
        if self.exercised is not None:
            found["exercised"] = self.exercised
            found["coverage"] = self.coverage
        if not self.judged:
            found["judged"] = False
        return found


class Checker(Protocol):
    wants: ClassVar[tuple[type, ...]]

    @property
    def name(self) -> str: ...

    def observe(self, position: int, record: Record) -> None: ...

    def verdict(self) -> Verdict: ...


#: The record each system keeps a contract's version in: ERP, billing, support, in that order.
CONTRACT_HOLDERS = (("erp", "contract"), ("billing", "subscription"), ("support", "entitlement"))
#: The entities of the contract holders, for checkers' `entities`.
HOLDER_ENTITIES = frozenset(entity for _, entity in CONTRACT_HOLDERS)


class Inputs:
    """Where a contract version enters the business: CPQ's approval of a quote, or, for a
    business without CPQ, billing's subscription change (its web shop sold into billing)."""

    __slots__ = ("from_cpq", "start", "types", "what")

    def __init__(self, absent: Iterable[str] = ()) -> None:
        self.from_cpq = "cpq" not in absent
        self.types = frozenset({"quote.approved"} if self.from_cpq else SUBSCRIPTION_EVENTS)
        self.what = "approved quotes" if self.from_cpq else "contract versions billing took"
        self.start = "approval" if self.from_cpq else "billing's change"

    def version(self, record: EventRecord) -> tuple[str, int] | None:
        """The contract version an emitted event brings into the business, if it is an input."""
        if record.type != "emitted" or record.event_type not in self.types:
            return None
        if not self.from_cpq and record.system != "billing":
            return None
        return str(record.keys["contract"]), int(record.keys["contract_version"])

    def name(self, record: EventRecord, contract: str, version: int) -> str:
        """The input's business id: the quote, or the contract version billing took."""
        return str(record.keys["quote"]) if self.from_cpq else f"{contract}:v{version}"


class Holders:
    """The contract holders a business has: ERP, billing and support, less the ones it does
    without (`systems.erp: null`). A contract's versions are kept in a list of three, one per
    holder; an absent holder's slot counts as caught up, so it never holds a contract back."""

    __slots__ = ("absent", "slots")

    def __init__(self, absent: Iterable[str] = ()) -> None:
        self.absent = frozenset(absent)
        self.slots = tuple(
            index for index, (system, _) in enumerate(CONTRACT_HOLDERS) if system not in absent
        )

    def settled(self, versions: Sequence[int]) -> int:
        """The version every holder the business has shows (0: not all of them show one)."""
        if not self.absent:
            return min(versions)
        return min(versions[slot] for slot in self.slots)

    def agreeing(self, versions: Sequence[int]) -> bool:
        """Whether every holder the business has shows the same version."""
        if not self.absent:
            return versions[0] == versions[1] == versions[2]
        return len({versions[slot] for slot in self.slots}) == 1

    @property
    def everywhere(self) -> str:
        """The holders, as a summary says where a version must reach."""
        if not self.absent:
            return "all three systems"
        return " and ".join(CONTRACT_HOLDERS[slot][0] for slot in self.slots)

    def shown(self, versions: Sequence[int]) -> dict[str, int]:
        """The versions by holder, for evidence (absent holders left out)."""
        return {CONTRACT_HOLDERS[slot][0]: versions[slot] for slot in self.slots}

    def evidence(self, versions: Sequence[int]) -> dict[str, Any]:
        """The versions as evidence items name them: `erp_billing_support` where the business
        has all three, else `held` by holder."""
        if not self.absent:
            return {"erp_billing_support": list(versions)}
        return {"held": self.shown(versions)}


def not_judged(checker: str, why: str) -> Verdict:
    """The verdict of a checker that does not apply to this business (it lacks a system the
    invariant is about): said, with why, and composing as nothing."""
    return Verdict(checker, "pass", f"not judged: {why}", judged=False)


class NotJudged:
    """Stands in for a checker that does not apply to this business; says why."""

    wants: ClassVar[tuple[type, ...]] = ()

    def __init__(self, name: str, why: str) -> None:
        self.name, self.why = name, why

    def observe(self, position: int, record: Record) -> None:
        """Nothing to observe."""

    def verdict(self) -> Verdict:
        return not_judged(self.name, self.why)


def held_contract(record: PolicyRecord) -> str | None:
    """The contract an exception held at the end of the run names (harness/engine/exceptions.py
    rule 6: work set aside counts only where operators find it), if the record is one."""
    if record.policy != "exceptions" or record.event != "held_at_end" or not record.details:
        return None
    contract = record.details.get("contract")
    return None if contract is None else str(contract)


def holder_slot(record: StateRecord) -> int | None:
    """Which of ERP, billing and support (0, 1, 2) the record is a contract holder of, if any."""
    place = (record.system, record.entity)
    if place not in _SLOTS:  # asked for every state record by several checkers: found once
        holder = (role(record.system), record.entity)
        _SLOTS[place] = CONTRACT_HOLDERS.index(holder) if holder in CONTRACT_HOLDERS else None
    return _SLOTS[place]


_SLOTS: dict[tuple[str, str], int | None] = {}


def role(system: str) -> str:
    """The part a system plays: both ERPs of a migration (`erp`, `erp_cloud`) are the ERP."""
    return "erp" if system.startswith("erp") else system


def worst(statuses: Iterable[Status]) -> Status:
    """Compose verdicts: fail > unknown > pass (pass when there is nothing to compose)."""
    result: Status = "pass"
    for status in statuses:
        if _RANK[status] > _RANK[result]:
            result = status
    return result


def percentile(ordered: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) of sorted values, interpolating linearly (NaN if empty)."""
    if not ordered:
        return math.nan
    rank = (len(ordered) - 1) * q / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def rounded(value: int | float, places: int = 3) -> int | float | None:
    """Figures go into summary.json: finite and rounded, or None. An int stays an int (`0`, not
    `0.0`): compiled, a parameter typed `float` alone would turn it into one, and the bytes of
    summary.json would differ from the pure sources' (simulators/compiled.py)."""
    return None if math.isnan(value) or math.isinf(value) else round(value, places)


def share_verdict(
    checker: str,
    counted: int,
    total: int,
    max_share: float,
    what: str,
    figures: dict[str, Any],
    slo: Mapping[str, Any],
    evidence: Sequence[Mapping[str, Any]],
) -> Verdict:
    """A verdict on a share: `counted` of `total` against `max_share`; unknown with no total.

    `what` completes "N of M ...", e.g. "invoices (0.10%) reached the customer early".
    """
    share = counted / total if total else 0.0
    figures["share"] = round(share, 6)
    if not total:
        return Verdict(
            checker, "unknown", f"nothing to judge: no {what.split(maxsplit=1)[0]}", figures, slo
        )
    summary = f"{counted:,} of {total:,} {what.format(share=share)}"
    status: Status = "fail" if share > max_share else "pass"
    return Verdict(checker, status, summary, figures, slo, evidence[:EVIDENCE_LIMIT])


class Dispatch:
    """Feeds each record to the checkers that want its type, counting positions; a fold of the
    run's hazards goes along, and each verdict says whether its hazards occurred."""

    def __init__(self, checkers: Sequence[Checker]) -> None:
        from harness.checkers.hazards import Hazards  # noqa: PLC0415 - it imports this module

        self.checkers = tuple(checkers)
        self.position = 0
        self.hazards = Hazards()
        self._routes: dict[type, list[Checker]] = {}
        for kind in self.hazards.wants:
            self._routes.setdefault(kind, []).append(self.hazards)  # type: ignore[arg-type]
        for checker in self.checkers:
            for kind in checker.wants:
                self._routes.setdefault(kind, []).append(checker)
        self._by_entity: dict[str, tuple[Checker, ...]] = {}  # state records, by entity

    def __call__(self, record: Record) -> None:
        targets: Sequence[Checker]
        if type(record) is StateRecord:
            found = self._by_entity.get(record.entity)
            targets = self._reading(record.entity) if found is None else found
        else:
            targets = self._routes.get(type(record), ())
        for checker in targets:
            checker.observe(self.position, record)
        self.position += 1

    def _reading(self, entity: str) -> tuple[Checker, ...]:
        """The checkers that read state records of `entity` (rule 2), found once."""
        reading = []
        for checker in self._routes.get(StateRecord, ()):
            entities: frozenset[str] | None = getattr(checker, "entities", None)
            if entities is None or entity in entities:
                reading.append(checker)
        self._by_entity[entity] = tuple(reading)
        return self._by_entity[entity]

    def verdicts(self) -> list[Verdict]:
        found = []
        for checker in self.checkers:
            verdict = checker.verdict()
            coverage = None if verdict.not_applicable else self.hazards.coverage(verdict.checker)
            if coverage is not None:
                verdict = replace(verdict, exercised=coverage[0], coverage=coverage[1])
            found.append(verdict)
        return found
