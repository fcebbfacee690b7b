"""The business truth: what each system should hold for each contract, derived from what CPQ
sold, never from what a design did or says it staged.

A fold over CPQ's quote approvals (the `values` of an approved quote's state record: its type,
priced lines, currency, total, term and the support plan each line grants). The rules, from the
seed document's system boundaries and docs/vendor-behaviour.md, not from any design:

1. A contract version exists when CPQ approves its quote; CPQ is the source of what was sold.
   A version is the whole contract: its lines replace the previous version's.
2. ERP's contract at a version holds that version's lines (SKU and quantity); a cancelled
   contract holds none.
3. Billing's subscription at a version holds the version's lines (SKU, quantity and amount at
   the price book's price) in the contract's currency, `active`; after a cancellation it is
   `cancelled` and worth nothing.
4. The term: new business signs for its `term_months`; each renewal extends the term by the
   renewal's `term_months`; amendments leave it. Billing's term (end less start) must be that
   many months while the subscription is active.
5. Support's entitlement at a version grants the best support plan among the version's lines
   (premium over standard) for the quantity of that line; a cancelled contract, or one that
   sells no plan, grants nothing (`none`, 0 units), whatever record support keeps for it.
6. A renewal owes the customer an invoice for the next term's first year (the recurring total
   of its lines); every invoice billing raises is owed to the customer (posted), and every
   posted invoice, credit memo and payment is owed to ERP's ledger once, at its amount.

`Truth` answers for any contract version CPQ approved; a version it does not know was never
sold (a system holding it is ahead of its source).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from harness.history import Record, StateRecord

#: Support plans from least to best (support's own levels).
LEVELS = ("none", "standard", "premium")
#: Seconds in a month, as billing counts terms (a year of 365.25 days, in twelve).
MONTH_S = 365.25 * 24 * 3600 / 12


@dataclass(frozen=True, slots=True)
class Sold:
    """One contract version as the business sold it (rules 1-5)."""

    contract: str
    version: int
    quote: str
    quote_type: str  # new | amendment | renewal | cancellation
    currency: str
    lines: tuple[tuple[str, int, int], ...]  # (sku, quantity, amount), sorted
    total: int
    term_months: int  # the whole term owed so far: the first term and every renewal
    extends: int  # the months this version adds to the term (a renewal's; 0 for the others)
    one_time: frozenset[str]  # the SKUs sold once (hardware), not every year
    level: str
    covered_units: int
    position: int  # the approval's place in the history

    @property
    def active(self) -> bool:
        return self.quote_type != "cancellation"

    @property
    def booked(self) -> tuple[tuple[str, int], ...]:
        """The lines as ERP keeps them (rule 2): SKU and quantity."""
        return tuple((sku, quantity) for sku, quantity, _ in self.lines)

    @property
    def grant(self) -> tuple[str, int]:
        """What support must grant (rule 5)."""
        return (self.level, self.covered_units) if self.active else ("none", 0)

    @property
    def recurring_total(self) -> int:
        """What a year of the version's recurring lines costs: a renewal's invoice (rule 6)."""
        return sum(amount for sku, _, amount in self.lines if sku not in self.one_time)


def grant_of(lines: Any, levels: Mapping[str, str]) -> tuple[str, int]:
    """Rule 5: the best support plan among `lines` ((sku, quantity, ...)), and its quantity."""
    level, units = "none", 0
    for sku, quantity, *_ in lines:
        plan = levels.get(sku)
        if plan is None or plan not in LEVELS:
            continue
        if LEVELS.index(plan) > LEVELS.index(level):
            level, units = plan, int(quantity)
        elif plan == level:
            units += int(quantity)
    return level, units


class Truth:
    """What each contract version owes, folded from CPQ's approvals (rules 1-5)."""

    entities: ClassVar[frozenset[str]] = frozenset({"quote"})

    def __init__(self) -> None:
        self.sold: dict[str, dict[int, Sold]] = {}  # contract -> version -> what was sold
        self.latest: dict[str, Sold] = {}  # contract -> its latest approved version

    def observe(self, position: int, record: Record) -> Sold | None:
        """Take a CPQ approval; returns the version it sold (None for any other record)."""
        if type(record) is not StateRecord or record.system != "cpq" or record.entity != "quote":
            return None
        values = record.values
        if not values or "quote_type" not in values:
            return None
        keys = record.keys
        contract, version = str(keys["contract"]), int(keys["contract_version"])
        quote_type = str(values["quote_type"])
        lines = tuple((str(s), int(q), int(a)) for s, q, a in values.get("lines", ()))
        term = int(values.get("term_months", 0))
        known = self.sold.get(contract, {})
        before = known.get(version - 1) or self.latest.get(contract)
        extends = term if quote_type == "renewal" else 0
        if before is not None and quote_type != "new":
            # Amendments and cancellations keep the term; a renewal extends it (rule 4).
            term = before.term_months + extends
        level, units = grant_of(lines, values.get("support_levels") or {})
        sold = Sold(
            contract, version, str(keys["quote"]), quote_type, str(values.get("currency", "")),
            lines, int(values.get("total", 0)), term, extends,
            frozenset(values.get("one_time", ())),
            level, units, position,
        )  # fmt: skip
        self.sold.setdefault(contract, {})[version] = sold
        latest = self.latest.get(contract)
        if latest is None or version >= latest.version:
            self.latest[contract] = sold
        return sold

    def renewals(self, contract: str, through: int) -> list[Sold]:
        """The contract's renewals up to version `through`, oldest first."""
        versions = self.sold.get(contract, {})
        return [versions[v] for v in sorted(versions) if v <= through
                and versions[v].quote_type == "renewal"]  # fmt: skip

    def at(self, contract: str, version: int) -> Sold | None:
        """What the contract's version owes, or None if CPQ never sold it."""
        return self.sold.get(contract, {}).get(version)
