"""Time-ordered columns: a copy or a pickle (a recovery snapshot) holds the live and pending
rows only, and carries on exactly as the original does."""

from __future__ import annotations

import copy
import pickle

import numpy as np

from dataflows.signals.columns import Column


def _column() -> Column:
    return Column(px=np.empty((0, 2)), size=np.empty(0, np.int64))


def _append(col: Column, start: int, n: int) -> None:
    ts = np.arange(start, start + n, dtype=np.int64)
    col.append(ts, px=np.stack([ts * 0.25, ts * 0.5], axis=1), size=ts * 3)


def test_a_copy_holds_the_live_rows_only_and_carries_on_alike() -> None:
    col = _column()
    for start in range(0, 50_000, 1_000):  # a window sliding over many batches
        _append(col, start, 1_000)
        col.consolidate(-1)
        col.drop_before(int(np.searchsorted(col.ts, start - 5_000)))
    _append(col, 50_000, 10)  # pending, not yet consolidated
    spare = col._buf["ts"].shape[0]  # the buffers' room, which a copy must not carry
    for clone in (copy.deepcopy(col), pickle.loads(pickle.dumps(col))):
        assert clone._buf["ts"].shape[0] == col.ts.size < spare
        assert clone.ts.tolist() == col.ts.tolist()
        for k in ("px", "size"):
            assert np.array_equal(clone.cols[k], col.cols[k])
    mine, theirs = copy.deepcopy(col), pickle.loads(pickle.dumps(col))
    for c in (col, mine, theirs):
        c.consolidate(-1)
        _append(c, 50_010, 2_000)
        c.consolidate(-1)
        c.drop_before(100)
    assert mine.ts.tolist() == theirs.ts.tolist() == col.ts.tolist()
    assert np.array_equal(mine.cols["px"], col.cols["px"])
    # the original's rows never changed under the copies
    assert col.ts[-1] == 52_009 and col.cols["size"][-1] == 52_009 * 3


def test_keeping_some_rows_leaves_the_rows_handed_out_as_they_were() -> None:
    col = _column()
    _append(col, 0, 3_000)
    col.consolidate(-1)
    handed_out = col.cols["size"]  # a view, as a snap context holds one
    kept = col.ts % 7 == 0
    col.keep(kept, room=5_000)
    assert col.ts.tolist() == list(range(0, 3_000, 7))
    assert col.cols["size"].tolist() == [3 * t for t in range(0, 3_000, 7)]
    assert col.fits(5_000)
    _append(col, 3_000, 5_000)
    col.consolidate(-1)
    assert col.ts[-1] == 7_999 and col.ts.size == 429 + 5_000
    assert handed_out.tolist() == [3 * t for t in range(3_000)]
