"""Nothing lost: every approved quote reaches a terminal state within the deadline.

Terminal means one of:
- completed: ERP's contract, billing's subscription and support's entitlement all show the
  quote's contract version or a later one (a later amendment carries the whole contract, so
  it accounts for the earlier version), unless the quote's own workflow ended `failed` or
  `crashed`. Judged from the systems' records, not the design's word.
- parked: an exception for it is held where operators find it at the end of the run (the
  design's exception queue: `exceptions / held_at_end` records, harness/engine/exceptions.py
  rule 6), and operators were told of it (an `exceptions / parked` or `dead_letters /
  dead_lettered` note, harness/sim/operations.py). A design that said "parked" but holds
  nothing (it kept its exceptions in memory, and a crash took them) has lost the work, whatever
  its history says, even when a later version carried the contract everywhere. Work held where
  nobody was told of it, or held still `deadline` after the operations team acted on it (a
  replay the design ignored) with no word from the design since, is lost too. A later version
  of a contract whose earlier version is held at the end counts as held with it (it cannot be
  written before: a renewal is not carried by a later version).
- closed by people: the operations team skipped or compensated it.

An approved quote that is none of these, once its deadline has passed before the run ended, is
lost; one whose deadline lies beyond the end of the run is undecided (the verdict is then
unknown). Time it waited on people (`human_time`) does not count against the deadline.

Every invoice, payment and invoice reversal billing announces must likewise reach ERP's ledger
(a journal entry for that document) or be held as an exception at the end, within the same
deadline.

Every message a design staged in its outbox (an `outbox` policy record) must reach the broker
(a `published` event with its id) within the same deadline. And what is owed is taken from the
business, not only from what the design says it staged: a design that announces contract
versions (it publishes `contract.synced` at all) owes the announcement of the version of each
contract that ERP, billing and support all hold at the end (or of a later one), within the
deadline of the moment the last of them took it: downstream must learn every contract's state.
A design that kept its messages in memory and lost them in a crash staged nothing, and still
owes them.

Workflows whose last recorded status is still a working one at the end (started, resumed,
billing_updated...: not completed, superseded, parked, dead-lettered, skipped, compensated) and
whose quote the vendors' records do not show complete are listed as stuck, a figure to explain
what was lost (a design that never closes its own statuses, as choreography has no conductor to,
is not stuck where every system holds the quote's version).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from harness.checkers.base import (
    EVIDENCE_LIMIT,
    HOLDER_ENTITIES,
    Holders,
    Inputs,
    Verdict,
    holder_slot,
    role,
)
from harness.checkers.human import HumanTime
from harness.checkers.human import covered as covered_by
from harness.history import (
    EventRecord,
    PolicyRecord,
    Record,
    RunEnded,
    StateRecord,
    WorkflowRecord,
)
from harness.scenario import NothingLostSLO
from harness.units import format_duration

#: Workflow statuses that end a workflow, or hand it to people (not stuck).
SETTLED = frozenset({
    "completed", "superseded", "parked", "dead_lettered", "skipped", "compensated", "failed",
    "crashed", "interrupted", "error_file",
})  # fmt: skip
#: Which document a record's keys name: a payment's or a credit memo's keys name its invoice too.
DOCUMENTS_MOST_SPECIFIC_FIRST = ("payment", "credit_memo", "invoice")
#: Statuses a workflow ends with when it did not do its work, whatever the systems show.
FAILED = frozenset({"failed", "crashed"})
#: Statuses a design reports work set aside for people with (checked against what it holds).
SET_ASIDE = frozenset({"parked", "dead_lettered"})
#: What the operations team does that closes work for good.
CLOSED_BY_PEOPLE = frozenset({"operator.skip", "operator.compensate"})
#: Billing events announcing a document for the ledger, and the key naming the document.
LEDGER_DOCUMENTS = {
    "invoice.posted": "invoice", "payment.posted": "payment", "invoice.reversed": "credit_memo",
}  # fmt: skip
#: The notes by which a design tells operators of work it set aside (harness/sim/operations.py).
TOLD = frozenset({("exceptions", "parked"), ("dead_letters", "dead_lettered")})
#: The topic on which a design announces a contract version all three systems hold.
ANNOUNCED = "contract.synced"


class NothingLost:
    name: ClassVar[str] = "nothing_lost"
    #: Judged at quiescence: while work is still moving it cannot tell lost from late.
    at_quiescence: ClassVar[bool] = True
    entities: ClassVar[frozenset[str]] = HOLDER_ENTITIES | {"journal_entry"}
    wants: ClassVar[tuple[type, ...]] = (
        EventRecord, StateRecord, WorkflowRecord, PolicyRecord, RunEnded,
    )  # fmt: skip

    def __init__(
        self, slo: NothingLostSLO, human: HumanTime | None = None, absent: tuple[str, ...] = ()
    ) -> None:
        self.slo = slo
        self.human = human
        self.source, self.holders = Inputs(absent), Holders(absent)
        self.ledger = "erp" not in absent  # a business without an ERP keeps no ledger there
        self.inputs = 0
        self.versions: dict[str, list[int]] = {}  # contract -> version in erp, billing, support
        self.pending: dict[str, dict[str, tuple[int, float, int]]] = {}  # contract -> quote -> ...
        self.completed = 0
        self.parked = 0
        self.late: list[dict[str, Any]] = []
        self.lost: list[dict[str, Any]] = []  # quotes, then documents, then messages
        self.lost_quotes = self.lost_documents = self.lost_messages = 0
        self.unexplained_parks: list[dict[str, Any]] = []
        self.undecided = 0
        self.documents: dict[tuple[str, str], tuple[float, int]] = {}  # awaiting the ledger
        self.documents_seen = 0
        self.posted = 0
        self.postings_parked = 0
        # workflow -> last status, t, position, (contract, version) if the keys name them
        self.working: dict[str, tuple[str, float, int, tuple[str, int] | None]] = {}
        self.staged: dict[str, tuple[float, int]] = {}  # outbox messages not yet published
        self.set_aside: dict[str, str] = {}  # quote or document -> the reason, while said so
        self.set_aside_by: dict[str, str] = {}  # workflow -> the quote or document it set aside
        self.held: set[str] = set()  # quotes and documents held as exceptions at the end
        self.held_by: dict[str, str] = {}  # held quote or document -> its workflow
        self.held_versions: dict[str, int] = {}  # contract -> oldest version held at the end
        self.told: dict[str, float] = {}  # workflow -> when the design last told operators
        self.acted: dict[str, float] = {}  # workflow -> when operators last acted on it
        self.unmanaged = 0
        self.covered: dict[str, dict[str, Any]] = {}  # completed by a later version, for now
        self.failed: list[dict[str, Any]] = []
        self.closed_by_people = 0  # quotes
        self.documents_closed = 0
        self.messages_staged = 0
        self.messages_published = 0
        self.announced: dict[str, int] = {}  # contract -> latest version announced
        # contract -> the version all three systems hold, since when, at which position
        self.settled_at: dict[str, tuple[int, float, int]] = {}
        self.announcements_owed = 0
        self.announcements_lost = 0

    def observe(self, position: int, record: Record) -> None:
        if isinstance(record, PolicyRecord):
            if record.policy == "outbox" and record.event == "staged":
                self.messages_staged += 1
                self.staged[record.subject] = (record.t, position)
            elif record.policy == "exceptions" and record.event == "held_at_end":
                self._held(record.subject, record.details or {})
            elif (record.policy, record.event) in TOLD:
                self.told[record.subject] = record.t
            elif record.policy == "operations" and record.event.startswith("operator."):
                self.acted[record.subject] = record.t
                if record.event in CLOSED_BY_PEOPLE:
                    self._closed_by_people(record.subject)
            return
        if isinstance(record, EventRecord):
            if record.type == "published":
                self.messages_published += self.staged.pop(record.event_id, None) is not None
                if record.event_type == ANNOUNCED and "contract" in record.keys:
                    contract = str(record.keys["contract"])
                    version = int(record.keys.get("contract_version", 0))
                    self.announced[contract] = max(version, self.announced.get(contract, 0))
                return
            document = LEDGER_DOCUMENTS.get(record.event_type)
            if (
                record.type == "emitted" and document is not None and record.system == "billing"
                and self.ledger
            ):  # fmt: skip
                self.documents_seen += 1
                self.documents[(document, str(record.keys[document]))] = (record.t, position)
            found = self.source.version(record)
            if found is not None:
                contract, version = found
                quote = self.source.name(record, contract, version)
                self.inputs += 1
                self.pending.setdefault(contract, {})[quote] = (version, record.t, position)
        elif isinstance(record, StateRecord):
            self._on_state(position, record)
        elif isinstance(record, WorkflowRecord):
            if record.status in SETTLED:
                self.working.pop(record.workflow, None)
            else:
                keys = record.keys
                names = (
                    (str(keys["contract"]), int(keys["contract_version"]))
                    if "contract" in keys and "contract_version" in keys
                    else None
                )
                self.working[record.workflow] = (record.status, record.t, position, names)
            self._on_status(position, record)
        elif isinstance(record, RunEnded):
            self._close(record.t)

    def _on_state(self, position: int, record: StateRecord) -> None:
        if role(record.system) == "erp" and record.entity == "journal_entry" and record.effect_key:
            kind, _, document = record.effect_key.partition(":")
            if self.documents.pop((kind, document), None) is not None:
                self.posted += 1
            return
        slot = holder_slot(record)
        if slot is None:
            return
        contract = str(record.keys.get("contract"))
        versions = self.versions.setdefault(contract, [0, 0, 0])
        versions[slot] = int(record.keys.get("contract_version", 0))
        settled = self.holders.settled(versions)
        if not (settled and self.holders.agreeing(versions)):
            self.settled_at.pop(contract, None)  # not held everywhere (now): nothing owed yet
        elif self.settled_at.get(contract, (0,))[0] != settled:
            self.settled_at[contract] = (settled, record.t, position)
        waiting = self.pending.get(contract)
        if not waiting or settled == 0:
            return
        for quote, (version, approved_at, approval) in list(waiting.items()):
            if version <= settled:
                del waiting[quote]
                self.completed += 1
                entry = self._entry(quote, contract, version, approved_at, approval)
                if version < settled:  # a later version carried it: if its own workflow fails...
                    self.covered[quote] = entry
                if self._waited(contract, approved_at, record.t) > self.slo.deadline:
                    self.late.append(entry)

    def _on_status(self, position: int, record: WorkflowRecord) -> None:
        subject = self._subject(record.keys) or self._input(record.keys)
        if subject is None:
            return
        if record.status in SET_ASIDE:
            if not (record.reason or "").strip():
                if len(self.unexplained_parks) < EVIDENCE_LIMIT:
                    self.unexplained_parks.append({"workflow": record.workflow,
                                                   "workflow_position": position})  # fmt: skip
                return
            self.set_aside[subject] = record.reason or ""
            self.set_aside_by[record.workflow] = subject
            return
        self.set_aside.pop(subject, None)
        covered = self.covered.pop(subject, None)
        if covered is not None and record.status in FAILED:
            self.completed -= 1
            self.failed.append({**covered, "workflow_status": record.status,
                                "reason": record.reason})  # fmt: skip

    def _subject(self, keys: Mapping[str, Any]) -> str | None:
        """A ledger document's key (`invoice:INV-1`) if the keys name one awaiting the ledger;
        the most specific first: a payment's or a credit memo's keys name its invoice too."""
        for kind in DOCUMENTS_MOST_SPECIFIC_FIRST:
            document = keys.get(kind)
            if document is not None and (kind, str(document)) in self.documents:
                return f"{kind}:{document}"
        return None

    def _input(self, keys: Mapping[str, Any]) -> str | None:
        """The input keys name: the quote, or (without CPQ) the contract version."""
        if self.source.from_cpq:
            quote = keys.get("quote")
            return None if quote is None else str(quote)
        if "contract" not in keys or "contract_version" not in keys:
            return None
        return f"{keys['contract']}:v{keys['contract_version']}"

    def _held(self, workflow: str, details: Mapping[str, Any]) -> None:
        subject = self._subject(details) or self._input(details) or workflow
        self.held.add(subject)
        self.held_by[subject] = workflow
        if "contract" in details and "contract_version" in details:
            contract, version = str(details["contract"]), int(details["contract_version"])
            self.held_versions[contract] = min(version, self.held_versions.get(contract, version))

    def _unmanaged(self, subject: str, end: float) -> str | None:
        """Why work held at the end is not managed (None: it is): nobody was told of it, or
        operators acted on it `deadline` ago and the design neither did it nor told them why."""
        workflow = self.held_by.get(subject, subject)
        told = self.told.get(workflow)
        if told is None:
            return "held as an exception at the end, but operators were never told of it"
        acted = self.acted.get(workflow)
        if acted is not None and acted > told and end - acted > self.slo.deadline:
            return (
                f"operators acted on it {format_duration(end - acted)} before the end; the "
                "design still holds it and has not said why"
            )
        return None

    def _closed_by_people(self, workflow: str) -> None:
        subject = self.set_aside_by.pop(workflow, workflow)
        self.set_aside.pop(subject, None)
        kind, _, document = subject.partition(":")
        if self.documents.pop((kind, document), None) is not None:
            self.documents_closed += 1
            return
        for waiting in self.pending.values():
            if subject in waiting:
                del waiting[subject]
                self.closed_by_people += 1
                return

    def _everywhere(self, version: tuple[str, int] | None) -> bool:
        """Whether ERP, billing and support all hold the contract at this version or later."""
        if version is None:
            return False
        held = self.versions.get(version[0])
        return held is not None and self.holders.settled(held) >= version[1]

    def _waited(self, contract: str, since: float, until: float) -> float:
        """Time from `since` to `until`, less what the contract waited on people."""
        if self.human is None:
            return until - since
        return until - since - covered_by(self.human.clipped(contract, since, until))

    def _close(self, end: float) -> None:
        for quote, entry in self.covered.items():  # carried by a later version, but...
            reason = self.set_aside.get(quote)
            if reason is not None and quote not in self.held:  # ...its own work was forgotten
                self.completed -= 1
                self.lost.append({**entry, "why": _forgotten(reason)})
                self.lost_quotes += 1
        self.covered = {}
        for contract, waiting in self.pending.items():
            for quote, (version, approved_at, position) in waiting.items():
                entry = self._entry(quote, contract, version, approved_at, position)
                if quote not in self.held and version > self.held_versions.get(contract, version):
                    self.parked += 1  # behind an earlier version held for operators
                    continue
                if quote in self.held:
                    why = self._unmanaged(quote, end)
                    if why is None:
                        self.parked += 1
                    else:
                        self.unmanaged += 1
                        self.lost.append({**entry, "why": why})
                        self.lost_quotes += 1
                    continue
                reason = self.set_aside.get(quote)
                if reason is None and self._waited(contract, approved_at, end) <= self.slo.deadline:
                    self.undecided += 1
                    continue
                entry["systems_show"] = self.holders.shown(self.versions.get(contract, [0, 0, 0]))
                if reason is not None:
                    entry["why"] = _forgotten(reason)
                self.lost.append(entry)
                self.lost_quotes += 1
        self.pending = {}
        for (kind, document), (announced_at, position) in self.documents.items():
            subject = f"{kind}:{document}"
            why = self._unmanaged(subject, end) if subject in self.held else None
            if subject in self.held and why is None:
                self.postings_parked += 1
            elif why is not None:
                self.lost.append({kind: document, "position": position, "why": why})
                self.lost_documents += 1
                self.unmanaged += 1
            elif subject in self.set_aside or end - announced_at > self.slo.deadline:
                self.lost.append(
                    {kind: document, "announced_at": round(announced_at, 3), "position": position}
                )
                self.lost_documents += 1
            else:
                self.undecided += 1
        self.documents = {}
        for message, (staged_at, position) in self.staged.items():
            if end - staged_at > self.slo.deadline:
                self.lost.append(
                    {"message": message, "staged_at": round(staged_at, 3), "position": position}
                )
                self.lost_messages += 1
            else:
                self.undecided += 1
        self.staged = {}
        if not self.announced:  # the design announces nothing: no announcement is owed
            return
        for contract, (version, settled_at, position) in sorted(self.settled_at.items()):
            self.announcements_owed += 1
            if self.announced.get(contract, 0) >= version:
                continue
            if end - settled_at > self.slo.deadline:
                self.lost.append(
                    {"contract": contract, "contract_version": version,
                     "held_everywhere_at": round(settled_at, 3), "position": position,
                     "why": f"held by every system, never announced ({ANNOUNCED})"}
                )  # fmt: skip
                self.announcements_lost += 1
            else:
                self.undecided += 1

    @staticmethod
    def _entry(
        quote: str, contract: str, version: int, approved_at: float, position: int
    ) -> dict[str, Any]:
        return {
            "quote": quote,
            "contract": contract,
            "contract_version": version,
            "approved_at": round(approved_at, 3),
            "approval_position": position,
        }

    def verdict(self) -> Verdict:
        figures = {
            "ledger_documents": self.documents_seen,
            "posted_to_ledger": self.posted,
            "ledger_parked": self.postings_parked,
            "ledger_closed_by_operations": self.documents_closed,
            "ledger_lost": self.lost_documents,
            "messages_staged": self.messages_staged,
            "messages_published": self.messages_published,
            "messages_lost": self.lost_messages,
            "held_unmanaged": self.unmanaged,
            "announcements_owed": self.announcements_owed,
            "announcements_lost": self.announcements_lost,
            "approved": self.inputs,
            "completed": self.completed,
            "parked": self.parked,
            "closed_by_operations": self.closed_by_people,
            "failed": len(self.failed),
            "lost": self.lost_quotes,
            "late": len(self.late),
            "undecided": self.undecided,
            "stuck_workflows": sum(
                1 for *_, version in self.working.values() if not self._everywhere(version)
            ),
        }
        slo = {"deadline_s": self.slo.deadline}
        deadline = format_duration(self.slo.deadline)
        summary = (
            f"{self.inputs:,} {self.source.what}: {self.completed:,} completed, "
            f"{self.parked:,} held as exceptions at the end, "
            + (f"{self.closed_by_people:,} closed by operations, " if self.closed_by_people else "")
            + (f"{len(self.failed):,} failed, " if self.failed else "")
            + f"{self.lost_quotes:,} lost, {len(self.late):,} late (deadline {deadline})"
        )
        if self.documents_seen:
            summary += (
                f"; {self.documents_seen:,} billing documents: {self.posted:,} in the ERP ledger, "
                f"{self.postings_parked:,} held as exceptions, "
                + (
                    f"{self.documents_closed:,} closed by operations, "
                    if self.documents_closed
                    else ""
                )
                + f"{self.lost_documents:,} lost"
            )
        if self.messages_staged:
            summary += (
                f"; {self.messages_staged:,} outbox messages: "
                f"{self.messages_published:,} published, {self.lost_messages:,} lost"
            )
        if self.announcements_owed:
            summary += (
                f"; {self.announcements_owed:,} contracts held everywhere owe an "
                f"announcement: {self.announcements_lost:,} never announced"
            )
        stuck_all = [
            {"workflow": workflow, "last_status": status, "since": round(t, 3), "position": pos}
            for workflow, (status, t, pos, version) in sorted(self.working.items())
            if not self._everywhere(version)
        ]
        stuck = stuck_all[: EVIDENCE_LIMIT // 2]
        if stuck_all:
            summary += f"; {len(stuck_all):,} workflows stuck mid-way"
        broken = self.lost + self.failed + self.late
        share = EVIDENCE_LIMIT // 4  # some of each kind, so none hides the others
        evidence = self.lost[: 2 * share] + self.failed[:share] + self.late[:share]
        evidence += self.unexplained_parks
        if broken:
            evidence += stuck
            return Verdict(self.name, "fail", summary, figures, slo, evidence)
        if not self.inputs or self.undecided:
            nothing = "no quote was approved" if self.source.from_cpq else "billing took no order"
            why = nothing if not self.inputs else f"{self.undecided} undecided"
            return Verdict(self.name, "unknown", f"{summary}; {why}", figures, slo, evidence)
        return Verdict(self.name, "pass", summary, figures, slo, evidence)


def _forgotten(reason: str) -> str:
    return (
        f"said parked ({reason}), but no exception is held for it at the end: operators "
        "cannot find it"
    )
