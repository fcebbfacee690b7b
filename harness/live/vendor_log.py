"""What the live vendors hold, kept through a crash: every change, logged before it is answered.

A system of record is a deterministic state machine (`simulators.base`): the same requests at
the same scenario times give the same records, IDs, idempotency keys and change feed. So
`syncline serve` keeps no second model of the vendors' state in tables; it logs what changed
that state, in order, and a restart on the same directory (`serve --resume`) rebuilds the
world from the scenario and seed and applies the log again. (A snapshot would be a second
encoding of every simulator's records to keep in step; replay costs ~20 µs a request, 20 s for
a million.) Rules:

1. Logged: each request a system handled (operation, payload, scenario time, idempotency key),
   each fault window a `systems` kind opened or closed (master data, event schema), whether
   the schedule or the admin API opened it, and each master-data repair by the operations
   team. Behaviour (conditions, rate-limit buckets, the profile's random streams) is not
   state: a restarted gateway starts afresh, and the fault schedule re-opens the windows
   still open.
2. Every entry is its own committed transaction (SQLite WAL, `synchronous=NORMAL`, as the
   orchestrator's journal) before the request is answered: once a client has its answer, a
   `kill -9` cannot take the change back.
3. An admin reset starts a new world: the log is emptied with it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS applied (
    position INTEGER PRIMARY KEY AUTOINCREMENT, system TEXT NOT NULL, kind TEXT NOT NULL,
    body TEXT NOT NULL
);
"""

FILE = "vendors.sqlite"


class VendorLog:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def request(
        self, system: str, operation: str, payload: Mapping[str, Any], now: float,
        idem_key: str | None, fingerprint: str | None = None,
    ) -> None:  # fmt: skip
        body = {"operation": operation, "payload": payload, "now": now, "key": idem_key}
        if fingerprint is not None:  # a vendor wire's request (simulators.vendors)
            body["fingerprint"] = fingerprint
        self._append(system, "request", body)

    def enactment(self, index: int, starts: bool) -> None:
        """Fault window `index` of the schedule (a `systems` kind) opened or closed."""
        self._append("", "enact", {"index": index, "starts": starts})

    def admin_fault(self, party: str, kind: str, params: Mapping[str, Any], starts: bool) -> None:
        """A `systems` fault started or stopped through the admin API, outside the schedule."""
        self._append("", "admin", {"party": party, "kind": kind, "params": dict(params),
                                   "starts": starts})  # fmt: skip

    def repair(self) -> None:
        """The operations team put the master data back."""
        self._append("", "repair", {})

    def _append(self, system: str, kind: str, body: Mapping[str, Any]) -> None:
        text = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
        self._db.execute(
            "INSERT INTO applied (system, kind, body) VALUES (?, ?, ?)", (system, kind, text)
        )

    def entries(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """(system, kind, body) in the order they were applied."""
        rows = self._db.execute("SELECT system, kind, body FROM applied ORDER BY position")
        for system, kind, body in rows:
            yield system, kind, json.loads(body)

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM applied").fetchone()[0])

    def clear(self) -> None:
        self._db.execute("DELETE FROM applied")

    def close(self) -> None:
        self._db.close()
