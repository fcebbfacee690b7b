"""A compact memory of what a long run has seen: 64-bit digests of keys, each with a small code.

Checkers and metrics must remember every key a run produced (each effect, each workflow's
status) to the end of the run. Python's own dict and set cost 100 bytes and more an entry; a
million-workflow run has millions of keys. `Digests` keeps the recent ones in a dict and folds
them, every `FOLD_AT`, into a sorted NumPy array of digests with a code beside each: 9 bytes a
key. Digests are the first 8 bytes of BLAKE2b, never Python's salted `hash`, so a run is the same
on every machine; two keys of a run collide with a probability of about n² / 2⁶⁵ (under 10⁻⁷ for
a million keys).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

#: Recent keys held in a dict before they are folded into the arrays.
FOLD_AT = 1 << 16


def digest(key: str) -> int:
    """A stable 64-bit digest of a key."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big")


class Digests:
    """A map from keys (by digest) to small codes (0-255): `get`, `set`, `in`, `codes()`."""

    __slots__ = ("_codes", "_keys", "_recent")

    def __init__(self) -> None:
        self._keys: npt.NDArray[np.uint64] = np.empty(0, dtype=np.uint64)  # sorted
        self._codes: npt.NDArray[np.uint8] = np.empty(0, dtype=np.uint8)
        self._recent: dict[int, int] = {}

    def get(self, key: str) -> int | None:
        return self._find(digest(key))[1]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def set(self, key: str, code: int) -> int | None:
        """Remember `key` with `code`; return the code it had, if any."""
        hashed = digest(key)
        index, before = self._find(hashed)
        if index is not None:
            self._codes[index] = code
        else:
            self._recent[hashed] = code
            if len(self._recent) >= FOLD_AT:
                self._fold()
        return before

    def codes(self) -> Iterator[int]:
        """Every key's code, in no meaningful order (for counting)."""
        yield from self._codes.tolist()
        yield from self._recent.values()

    def __len__(self) -> int:
        return len(self._keys) + len(self._recent)

    def _find(self, hashed: int) -> tuple[int | None, int | None]:
        """(its index in the arrays, or None; its code, or None)."""
        if hashed in self._recent:
            return None, self._recent[hashed]
        keys = self._keys
        if len(keys):
            index = int(np.searchsorted(keys, np.uint64(hashed)))
            if index < len(keys) and int(keys[index]) == hashed:
                return index, int(self._codes[index])
        return None, None

    def _fold(self) -> None:
        recent = sorted(self._recent.items())
        keys = np.fromiter((k for k, _ in recent), dtype=np.uint64, count=len(recent))
        codes = np.fromiter((c for _, c in recent), dtype=np.uint8, count=len(recent))
        where = np.searchsorted(self._keys, keys)
        self._keys = np.insert(self._keys, where, keys)
        self._codes = np.insert(self._codes, where, codes)
        self._recent = {}
