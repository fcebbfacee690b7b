"""Nothing lost: every approved quote reaches a terminal state within the deadline.

Terminal means one of:
- completed: ERP's contract, billing's subscription and support's entitlement all show the
  quote's contract version or a later one (a later amendment carries the whole contract, so
  it accounts for the earlier version). Judged from the systems' records, not the design's word.
- parked: the design put the workflow in its exception state with a reason a person can act on.

An approved quote that is neither, once its deadline has passed before the run ended, is lost;
one whose deadline lies beyond the end of the run is undecided (the verdict is then unknown).

Every invoice, payment and invoice reversal billing announces must likewise reach ERP's ledger
(a journal entry for that document) or be parked with a reason, within the same deadline.

Every message a design staged in its outbox (an `outbox` policy record) must reach the broker
(a `published` event with its id) within the same deadline.

Workflows whose last recorded status is still a working one at the end (started, resumed,
billing_updated...: not completed, superseded, parked, dead-lettered, skipped, compensated) are
listed as stuck, a figure to explain what was lost.
"""

from __future__ import annotations

from typing import Any, ClassVar

from harness.checkers.base import EVIDENCE_LIMIT, HOLDER_ENTITIES, Verdict, holder_slot, role
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
#: Billing events announcing a document for the ledger, and the key naming the document.
LEDGER_DOCUMENTS = {
    "invoice.posted": "invoice", "payment.posted": "payment", "invoice.reversed": "credit_memo",
}  # fmt: skip


class NothingLost:
    name: ClassVar[str] = "nothing_lost"
    entities: ClassVar[frozenset[str]] = HOLDER_ENTITIES | {"journal_entry"}
    wants: ClassVar[tuple[type, ...]] = (
        EventRecord, StateRecord, WorkflowRecord, PolicyRecord, RunEnded,
    )  # fmt: skip

    def __init__(self, slo: NothingLostSLO) -> None:
        self.slo = slo
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
        self.working: dict[str, tuple[str, float, int]] = {}  # workflow -> last status, t, pos
        self.staged: dict[str, tuple[float, int]] = {}  # outbox messages not yet published
        self.messages_staged = 0
        self.messages_published = 0

    def observe(self, position: int, record: Record) -> None:
        if isinstance(record, PolicyRecord):
            if record.policy == "outbox" and record.event == "staged":
                self.messages_staged += 1
                self.staged[record.subject] = (record.t, position)
            return
        if isinstance(record, EventRecord):
            if record.type == "published":
                self.messages_published += self.staged.pop(record.event_id, None) is not None
                return
            document = LEDGER_DOCUMENTS.get(record.event_type)
            if record.type == "emitted" and document is not None and record.system == "billing":
                self.documents_seen += 1
                self.documents[(document, str(record.keys[document]))] = (record.t, position)
            if record.type == "emitted" and record.event_type == "quote.approved":
                contract = str(record.keys["contract"])
                quote = str(record.keys["quote"])
                version = int(record.keys["contract_version"])
                self.inputs += 1
                self.pending.setdefault(contract, {})[quote] = (version, record.t, position)
        elif isinstance(record, StateRecord):
            self._on_state(record)
        elif isinstance(record, WorkflowRecord):
            if record.status in SETTLED:
                self.working.pop(record.workflow, None)
            else:
                self.working[record.workflow] = (record.status, record.t, position)
            if record.status == "parked":
                self._on_parked(position, record)
        elif isinstance(record, RunEnded):
            self._close(record.t)

    def _on_state(self, record: StateRecord) -> None:
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
        settled = min(versions)
        waiting = self.pending.get(contract)
        if not waiting or settled == 0:
            return
        for quote, (version, approved_at, position) in list(waiting.items()):
            if version <= settled:
                del waiting[quote]
                self.completed += 1
                if record.t - approved_at > self.slo.deadline:
                    self.late.append(self._entry(quote, contract, version, approved_at, position))

    def _on_parked(self, position: int, record: WorkflowRecord) -> None:
        for kind in LEDGER_DOCUMENTS.values():
            document = record.keys.get(kind)
            key = (kind, str(document))
            if document is not None and (record.reason or "").strip() and key in self.documents:
                del self.documents[key]
                self.postings_parked += 1
                return
        quote, contract = record.keys.get("quote"), record.keys.get("contract")
        waiting = self.pending.get(str(contract), {})
        if quote is None or str(quote) not in waiting:
            return
        version, approved_at, approved_position = waiting[str(quote)]
        if not (record.reason or "").strip():
            if len(self.unexplained_parks) < EVIDENCE_LIMIT:
                self.unexplained_parks.append({"quote": quote, "workflow_position": position})
            return
        del waiting[str(quote)]
        self.parked += 1
        if record.t - approved_at > self.slo.deadline:
            self.late.append(
                self._entry(str(quote), str(contract), version, approved_at, approved_position)
            )

    def _close(self, end: float) -> None:
        for contract, waiting in self.pending.items():
            for quote, (version, approved_at, position) in waiting.items():
                if end - approved_at > self.slo.deadline:
                    entry = self._entry(quote, contract, version, approved_at, position)
                    entry["systems_show"] = dict(
                        zip(
                            ("erp", "billing", "support"),
                            self.versions.get(contract, [0, 0, 0]),
                            strict=True,
                        )
                    )
                    self.lost.append(entry)
                    self.lost_quotes += 1
                else:
                    self.undecided += 1
        self.pending = {}
        for (kind, document), (announced_at, position) in self.documents.items():
            if end - announced_at > self.slo.deadline:
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
            "ledger_lost": self.lost_documents,
            "messages_staged": self.messages_staged,
            "messages_published": self.messages_published,
            "messages_lost": self.lost_messages,
            "approved": self.inputs,
            "completed": self.completed,
            "parked": self.parked,
            "lost": self.lost_quotes,
            "late": len(self.late),
            "undecided": self.undecided,
            "stuck_workflows": len(self.working),
        }
        slo = {"deadline_s": self.slo.deadline}
        deadline = format_duration(self.slo.deadline)
        summary = (
            f"{self.inputs:,} approved quotes: {self.completed:,} completed, "
            f"{self.parked:,} parked, {self.lost_quotes:,} lost, {len(self.late):,} late "
            f"(deadline {deadline})"
        )
        if self.documents_seen:
            summary += (
                f"; {self.documents_seen:,} billing documents: {self.posted:,} in the ERP ledger, "
                f"{self.postings_parked:,} parked, {self.lost_documents:,} lost"
            )
        if self.messages_staged:
            summary += (
                f"; {self.messages_staged:,} outbox messages: "
                f"{self.messages_published:,} published, {self.lost_messages:,} lost"
            )
        stuck = [
            {"workflow": workflow, "last_status": status, "since": round(t, 3), "position": pos}
            for workflow, (status, t, pos) in sorted(self.working.items())
        ][: EVIDENCE_LIMIT // 2]
        if self.working:
            summary += f"; {len(self.working):,} workflows stuck mid-way"
        evidence = (self.lost + self.late)[:EVIDENCE_LIMIT] + self.unexplained_parks
        if self.lost or self.late:
            evidence += stuck
        if self.lost or self.late:
            return Verdict(self.name, "fail", summary, figures, slo, evidence)
        if not self.inputs or self.undecided:
            why = "no quote was approved" if not self.inputs else f"{self.undecided} undecided"
            return Verdict(self.name, "unknown", f"{summary}; {why}", figures, slo, evidence)
        return Verdict(self.name, "pass", summary, figures, slo, evidence)
