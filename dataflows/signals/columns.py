"""Time-ordered columns of numpy rows, appended in batches and trimmed from the front."""

from __future__ import annotations

import numpy as np


class Column:
    """Time-ordered rows of one stream, appended in batches and consolidated on demand.

    Rows live in buffers that grow by doubling, with the live rows between ``_lo`` and
    ``_hi``: appending copies only the new rows and dropping old ones only moves ``_lo``, so
    a burst costs linear time, not the square of the rows retained (the barrier window)."""

    def __init__(self, **empty: np.ndarray) -> None:
        self._buf = {"ts": np.empty(0, np.int64), **empty}
        self._lo = self._hi = 0
        self.pending: list[dict[str, np.ndarray]] = []

    @property
    def ts(self) -> np.ndarray:
        return self._buf["ts"][self._lo : self._hi]

    @property
    def cols(self) -> dict[str, np.ndarray]:
        return {k: v[self._lo : self._hi] for k, v in self._buf.items() if k != "ts"}

    def append(self, ts: np.ndarray, **cols: np.ndarray) -> None:
        self.pending.append({"ts": ts, **cols})

    def consolidate(self, snapped_ns: int) -> int:
        """Merge pending batches in time order; returns how many pending rows are dated at or
        before ``snapped_ns``, the last snap already published (they are late)."""
        if not self.pending:
            return 0
        late = sum(int(np.count_nonzero(p["ts"] <= snapped_ns)) for p in self.pending)
        last = int(self._buf["ts"][self._hi - 1]) if self._hi > self._lo else None
        first = self._hi - self._reserve(sum(p["ts"].size for p in self.pending))
        for part in self.pending:
            n = part["ts"].size
            for k, v in part.items():
                self._buf[k][self._hi : self._hi + n] = v
            self._hi += n
        self.pending = []
        new_ts = self._buf["ts"][first : self._hi]
        out_of_order = (last is not None and new_ts.size and int(new_ts.min()) < last) or bool(
            np.any(np.diff(new_ts) < 0)
        )
        if out_of_order:  # interleaved partitions: restore time order over the live rows, in
            # new arrays (rows already handed out in snap contexts must not change under them)
            order = np.argsort(self.ts, kind="stable")
            for k, v in self._buf.items():
                v = v.copy()
                v[self._lo : self._hi] = v[self._lo : self._hi][order]
                self._buf[k] = v
        return late

    def _reserve(self, n: int) -> int:
        """Room for ``n`` more rows, in new, doubled buffers holding only the live rows when
        full (never overwriting rows in place); returns how far the rows moved down."""
        if self.fits(n):
            return 0
        shift = self._lo
        self._rebuild(slice(None), self._hi - self._lo, max(self._buf["ts"].shape[0], 1024), n)
        return shift

    def fits(self, n: int) -> bool:
        """Whether ``n`` more rows fit in the buffers as they are."""
        return self._hi + n <= int(self._buf["ts"].shape[0])

    def keep(self, kept: np.ndarray, room: int) -> None:
        """Keep only the live rows marked in ``kept``, in new buffers with room for ``room``
        more rows and another batch or so before the next copy (rows already handed out
        stay as they were)."""
        n = int(np.count_nonzero(kept))
        self._rebuild(kept, n, 1024, n + 2 * room)

    def _rebuild(self, rows: slice | np.ndarray, n: int, cap: int, need: int) -> None:
        """New buffers holding the ``n`` live rows picked by ``rows``, their capacity ``cap``
        doubled until it holds ``n + need``."""
        while cap < n + need:
            cap *= 2
        for k, v in self._buf.items():
            fresh = np.empty((cap, *v.shape[1:]), v.dtype)
            fresh[:n] = v[self._lo : self._hi][rows]
            self._buf[k] = fresh
        self._lo, self._hi = 0, n

    def __getstate__(self) -> dict[str, object]:
        """Copies and pickles (recovery snapshots) hold the live and pending rows only, not
        the buffers' spare room or the rows already dropped."""
        live = {k: v[self._lo : self._hi] for k, v in self._buf.items()}
        return {"buf": live, "pending": [dict(p) for p in self.pending]}

    def __setstate__(self, state: dict[str, object]) -> None:
        buf = state["buf"]
        assert isinstance(buf, dict)
        self._buf = buf
        self._lo, self._hi = 0, int(buf["ts"].shape[0])
        pending = state["pending"]
        assert isinstance(pending, list)
        self.pending = pending

    def drop_before(self, i: int) -> None:
        if i > 0:
            self._lo = min(self._lo + i, self._hi)
