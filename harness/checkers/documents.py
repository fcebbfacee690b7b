"""Documents: every invoice reaches the customer, every posted document reaches ERP's ledger
once at its amount, and every renewal is invoiced (harness/checkers/truth.py, rule 6).

Judged from what billing and ERP hold, not from the events a design heard or the postings it
says it staged:
- an invoice billing raised is owed to the customer: one still a draft `deadline` after it was
  raised was never sent (`unposted`);
- each posted invoice, credit memo and payment is owed to the ledger: ERP must hold one journal
  entry for it, in its currency, at its amount (`missing`, `wrong_amount`, `posted_twice`);
  work held as an exception at the end (the design's exception queue) is accounted for;
- a journal entry for a document billing does not hold is ledger ahead of its source (`unsold`);
- each renewal CPQ approved that billing reached (it holds that version or a later one) owes
  an invoice for the next term's first year, the recurring total of its lines: a renewal billing
  never took at its own version (`renewals_skipped`: a later version was written over it) or
  took without that invoice (`renewals_uninvoiced`) was not billed.
A business without an ERP keeps no ledger here: the ledger is then not judged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from harness.checkers.base import EVIDENCE_LIMIT, Status, Verdict, role
from harness.checkers.truth import Truth
from harness.history import PolicyRecord, Record, RunEnded, StateRecord
from harness.scenario.slos import DocumentsSLO
from harness.units import format_duration

#: Billing's documents that the ledger must show, by the entity billing keeps them as.
LEDGER_SOURCES = ("invoice", "credit_memo", "payment")


def _announced(source: str, document: list[Any]) -> bool:
    """Whether billing announces the document (an invoice, a payment, an invoice's reversal):
    a credit memo for an amendment or a cancellation has no callout to post it by."""
    return source != "credit_memo" or document[6] == "reversal"


class Documents:
    name: ClassVar[str] = "documents"
    at_quiescence: ClassVar[bool] = True
    wants: ClassVar[tuple[type, ...]] = (StateRecord, PolicyRecord, RunEnded)
    entities: ClassVar[frozenset[str]] = frozenset(
        {"quote", "subscription", "journal_entry", *LEDGER_SOURCES}
    )

    def __init__(self, slo: DocumentsSLO | None = None, absent: tuple[str, ...] = ()) -> None:
        self.slo = slo or DocumentsSLO()
        self.ledger_kept = "erp" not in absent
        self.truth = Truth()
        # (source, id) -> amount, currency, status, since (raised or posted), position, keys,
        # what for (activation, amendment, renewal, cancellation, reversal)
        self.documents: dict[tuple[str, str], list[Any]] = {}
        self.ledger: dict[tuple[str, str], list[tuple[int, str, int]]] = {}  # amount, cur, pos
        self.billed_versions: dict[str, set[int]] = {}  # contract -> versions billing held
        self.renewal_invoices: dict[tuple[str, int], int] = {}  # (contract, version) -> amount
        self.held: set[tuple[str, str]] = set()
        self.counts = dict.fromkeys(
            ("invoices", "posted", "unannounced", "in_ledger", "unposted", "missing",
             "wrong_amount", "posted_twice", "unsold", "renewals", "renewals_uninvoiced",
             "renewals_skipped", "held",
             "undecided"),
            0,
        )  # fmt: skip
        self.found: list[dict[str, Any]] = []
        self.end = 0.0

    def observe(self, position: int, record: Record) -> None:
        if type(record) is StateRecord:
            if self.truth.observe(position, record) is not None:
                return
            self._on_state(position, record)
        elif type(record) is PolicyRecord:
            if record.policy == "exceptions" and record.event == "held_at_end" and record.details:
                for source in LEDGER_SOURCES:
                    if source in record.details:
                        self.held.add((source, str(record.details[source])))
                        break
        elif type(record) is RunEnded:
            self.end = record.t
            self._close()

    def _on_state(self, position: int, record: StateRecord) -> None:
        values = record.values
        if values is None:
            return
        if record.system == "billing":
            if record.entity == "subscription":
                version = int(record.keys.get("contract_version", 0))
                contract = str(record.keys.get("contract"))
                self.billed_versions.setdefault(contract, set()).add(version)
                return
            key = (record.entity, record.entity_id)
            if record.change == "created":
                self.documents[key] = [
                    int(values.get("amount", 0)), str(values.get("currency", "")),
                    str(values.get("status", "posted")), record.t, position, record.keys,
                    values.get("reason"),
                ]  # fmt: skip
                if record.entity == "invoice":
                    self.counts["invoices"] += 1
                    if values.get("reason") == "renewal":
                        contract = str(record.keys.get("contract"))
                        version = int(record.keys.get("contract_version", 0))
                        self.renewal_invoices[(contract, version)] = int(values["amount"])
            elif key in self.documents and "status" in values:
                document = self.documents[key]
                if document[2] == "draft" and values["status"] != "draft":
                    document[3] = record.t  # posted now
                document[2] = str(values["status"])
        elif role(record.system) == "erp" and record.entity == "journal_entry":
            key = (str(values.get("source")), str(values.get("reference")))
            entry = (int(values.get("amount", 0)), str(values.get("currency", "")), position)
            self.ledger.setdefault(key, []).append(entry)

    def _close(self) -> None:
        counts, deadline = self.counts, self.slo.deadline
        for (source, document_id), document in sorted(self.documents.items()):
            amount, currency, status, since, position, keys, _ = document
            item = {source: document_id, "contract": keys.get("contract"), "position": position}
            if status == "draft":
                if self.end - since > deadline:
                    counts["unposted"] += 1
                    self._found({**item, "why": f"still a draft {format_duration(deadline)} on"})
                else:
                    counts["undecided"] += 1
                continue
            if not self.ledger_kept:
                continue
            if not _announced(source, document):
                counts["unannounced"] += 1
                continue
            counts["posted"] += 1
            entries = self.ledger.pop((source, document_id), [])
            if not entries:
                if (source, document_id) in self.held:
                    counts["held"] += 1
                elif self.end - since > deadline:
                    counts["missing"] += 1
                    self._found({**item, "why": "posted in billing, not in ERP's ledger"})
                else:
                    counts["undecided"] += 1
                continue
            counts["in_ledger"] += 1
            if len(entries) > 1:
                counts["posted_twice"] += 1
                self._found({**item, "why": f"in ERP's ledger {len(entries)} times"})
            wrong = [entry for entry in entries if entry[:2] != (amount, currency)]
            if wrong:
                counts["wrong_amount"] += 1
                self._found({**item, "billing": [amount, currency],
                             "ledger": [list(entry[:2]) for entry in wrong],
                             "why": "the ledger holds another amount"})  # fmt: skip
        for (source, document_id), entries in sorted(self.ledger.items()):
            counts["unsold"] += 1
            self._found({source: document_id, "position": entries[0][2],
                         "why": "in ERP's ledger; billing holds no such document"})  # fmt: skip
        for contract, versions in sorted(self.truth.sold.items()):
            taken = self.billed_versions.get(contract, set())
            reached = max(taken, default=0)
            for version, sold in sorted(versions.items()):
                if sold.quote_type != "renewal" or version > reached:
                    continue
                if version not in taken:
                    counts["renewals_skipped"] += 1
                    why = "a renewal billing never took: a later version was written over it"
                    self._found({"contract": contract, "contract_version": version,
                                 "quote": sold.quote, "position": sold.position,
                                 "why": why})  # fmt: skip
                    continue
                counts["renewals"] += 1
                invoiced = self.renewal_invoices.get((contract, version))
                if invoiced != sold.recurring_total:
                    counts["renewals_uninvoiced"] += 1
                    why = "a renewal billing holds, not invoiced for its year"
                    self._found({"contract": contract, "contract_version": version,
                                 "quote": sold.quote, "owed": sold.recurring_total,
                                 "invoiced": invoiced, "position": sold.position,
                                 "why": why})  # fmt: skip

    def _found(self, item: Mapping[str, Any]) -> None:
        if len(self.found) < EVIDENCE_LIMIT:
            self.found.append(dict(item))

    def verdict(self) -> Verdict:
        counts = self.counts
        wrong = sum(
            counts[name]
            for name in ("unposted", "missing", "wrong_amount", "posted_twice", "unsold",
                         "renewals_uninvoiced", "renewals_skipped")
        )  # fmt: skip
        figures = dict(counts)
        slo = {"deadline_s": self.slo.deadline, "max_wrong": self.slo.max_wrong}
        if not self.documents:
            return Verdict(self.name, "unknown", "billing raised no document", figures, slo)
        ledger = (
            f"{counts['in_ledger']:,} of {counts['posted']:,} posted documents in ERP's ledger "
            f"({counts['missing']:,} missing, {counts['wrong_amount']:,} at another amount, "
            f"{counts['posted_twice']:,} twice, {counts['unsold']:,} with no billing document; "
            f"{counts['unannounced']:,} credit memos billing sends no callout for, not judged)"
            if self.ledger_kept
            else "no ERP ledger in this business"
        )
        summary = (
            f"{counts['invoices']:,} invoices, {counts['unposted']:,} never sent to the customer; "
            f"{ledger}; {counts['renewals'] - counts['renewals_uninvoiced']:,} of "
            f"{counts['renewals']:,} renewals invoiced, {counts['renewals_skipped']:,} never "
            "taken by billing"
        )
        status: Status = "fail" if wrong > self.slo.max_wrong else "pass"
        if status == "pass" and counts["undecided"] and not wrong:
            summary += f"; {counts['undecided']:,} too recent to judge"
        return Verdict(self.name, status, summary, figures, slo, self.found)
