"""Evidence as people read it: calendar times, durations, business ids and how to trace them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from reports.evidence import describe, traceable_id

START = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday


def test_run_times_read_as_calendar_times_and_positions_stay_out() -> None:
    item = {
        "quote": "Q-000101", "contract": "CT-000021", "approved_at": 22580.278,
        "approval_position": 3449, "window_s": 80974.0, "systems_show": {"erp": 0, "billing": 1},
    }  # fmt: skip
    text = describe(item, START)
    assert text == (
        "quote Q-000101; contract CT-000021; approved at Mon 02 Mar 06:16; "
        "window 22.5h; systems show (erp 0, billing 1)"
    )


@pytest.mark.parametrize(
    ("item", "traced"),
    [
        ({"quote": "Q-1", "contract": "CT-1"}, "Q-1"),
        ({"effect": "billing.invoice", "business_key": "CT-000002:v1"}, "CT-000002"),
        ({"effect": "erp.journal_entry", "business_key": "invoice:INV-000002"}, "INV-000002"),
        ({"why": "business error retried", "keys": {"quote": "Q-7", "contract": "CT-3"}}, "Q-7"),
        ({"case": "CS-000021", "customer": "CUST-1"}, "CS-000021"),
        ({"system": "support", "wrote": 1}, None),
    ],
)
def test_every_kind_of_evidence_names_what_to_trace(item: dict[str, object], traced: str) -> None:
    assert traceable_id(item) == traced
