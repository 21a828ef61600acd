"""The Quix Streams peer's stateful step: per-level barrier features at every snap.

It runs as ``sdf.apply(step, stateful=True, expand=True)`` over the book and trade topics
concatenated, so everything it remembers lives in Quix's ``State`` (RocksDB, one state per
message key = ES instrument). Quix serialises a value (JSON) at every ``set``, so history is
kept one book row per state key (``r<seq>``), never as one growing value:

- ``clock``: each stream's watermark (newest record time seen), the next snap, counters;
- ``index``: the times of the book rows kept, oldest first, and the sequence number of the
  first (row ``i`` is stored under ``r<base + i>``);
- ``trades``: trades not yet matched to a book transition;
- ``buckets``: flows by price per snap interval; ``window``: their running sum over the
  barrier window (add the interval that enters, subtract the one that leaves);
- ``sides``: each level's last side (kept while spot is inside the touch band, as snapline).

Event time, as snapline: a snap at T is computed once both streams are past T; a stream
whose last message (the end when the run started) has been processed no longer holds any
snap back; at the end of both, snaps run to the newest record.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from bench import peer_book as pb
from dataflows.signals.items import BookBatch, TradeBatch
from physics.config import PhysicsConfig
from physics.levels import active_levels, side_of
from schemas.level_signal import Side

NEVER = -(2**62)
ENDED = 2**62
BOOK, TRADES = 0, 1


class StateLike(Protocol):
    """The part of ``quixstreams.State`` the step uses."""

    def get(self, key: Any, default: Any = None) -> Any: ...
    def set(self, key: Any, value: Any) -> None: ...
    def delete(self, key: Any) -> None: ...


@dataclass(frozen=True, slots=True)
class PeerConfig:
    physics: PhysicsConfig
    levels: tuple[float, ...]
    has_data: tuple[bool, bool] = (True, True)  # books, trades: an empty stream holds nothing

    @property
    def snap_ns(self) -> int:
        return self.physics.snap_ns

    @property
    def window_ns(self) -> int:
        return int(self.physics.barrier_window_s * 1e9)


def book_rows(batch: BookBatch, tick: float) -> list[pb.Row]:
    def ticks(px: np.ndarray) -> list[list[int | None]]:
        t = np.rint(np.nan_to_num(px, nan=-1.0) / tick).astype(np.int64)
        return [[None if p < 0 else int(p) for p in r] for r in t]

    bt, at = ticks(batch.bid_px), ticks(batch.ask_px)
    bs, az = batch.bid_sz.tolist(), batch.ask_sz.tolist()
    return [[int(ts), bt[i], bs[i], at[i], az[i]] for i, ts in enumerate(batch.ts_ns.tolist())]


def step(
    cfg: PeerConfig, batch: BookBatch | TradeBatch, state: StateLike, last_message: bool
) -> list[dict[str, Any]]:
    """One decoded raw message in; the per-level rows of every snap now complete out.
    ``last_message``: its partition has nothing more to give in this run."""
    clock = state.get("clock") or {
        "wm": [NEVER if has else ENDED for has in cfg.has_data],  # an empty stream holds nothing
        "max_ts": NEVER,
        "next": None,
        "accounted": -1,  # sequence number of the last book row whose flows are counted
        "no_spot": 0,
    }
    stream = BOOK if isinstance(batch, BookBatch) else TRADES
    clock["wm"][stream] = ENDED if last_message else max(clock["wm"][stream], batch.max_ts_ns)
    clock["max_ts"] = max(clock["max_ts"], batch.max_ts_ns)
    index = state.get("index") or {"base": 0, "ts": []}
    if isinstance(batch, BookBatch):
        _add_books(cfg, state, clock, index, book_rows(batch, cfg.physics.es_tick))
    else:
        tick = cfg.physics.es_tick
        trades = state.get("trades") or []
        # the book side a trade can fill: sellers hit bids, buyers lift asks; unflagged, either
        hits = [(not b, not a) for b, a in zip(batch.is_buy.tolist(), batch.is_sell.tolist(),
                                                strict=True)]  # fmt: skip
        trades += [[t, round(p / tick), z, h] for t, p, z, h in
                   zip(batch.ts_ns.tolist(), batch.price.tolist(), batch.size.tolist(), hits,
                       strict=True)]  # fmt: skip
        state.set("trades", trades)
    bound = min(clock["wm"])
    if bound == ENDED:  # both streams done: the snaps covering the last records
        bound = clock["max_ts"] + cfg.snap_ns
    _account(cfg, state, clock, index, bound)
    out = _snaps(cfg, state, clock, index, bound)
    _trim(cfg, state, clock, index)
    state.set("index", index)
    state.set("clock", clock)
    return out


def _ceil(ts: int, step_ns: int) -> int:
    return -(-ts // step_ns) * step_ns


def _add_books(
    cfg: PeerConfig, state: StateLike, clock: dict[str, Any], index: dict[str, Any],
    rows: list[pb.Row],
) -> None:  # fmt: skip
    for row in rows:
        state.set(f"r{index['base'] + len(index['ts'])}", row)
        index["ts"].append(row[0])
    if clock["next"] is None and index["ts"]:
        clock["next"] = _ceil(index["ts"][0], cfg.snap_ns)


def _row(state: StateLike, index: dict[str, Any], i: int) -> pb.Row:
    row: pb.Row = state.get(f"r{index['base'] + i}")
    return row


def _account(
    cfg: PeerConfig, state: StateLike, clock: dict[str, Any], index: dict[str, Any], bound: int
) -> None:
    """Flows of the book transitions whose trades are all in (the later book before the
    bound): each decrease is filled up to the volume traded at its price in between."""
    ts = index["ts"]
    first = max(clock["accounted"] - index["base"], 0)  # the last accounted row, or the first
    last = bisect_right(ts, bound - 1) - 1  # rows strictly before the bound
    if last <= first:
        return
    trades = state.get("trades") or []
    buckets = state.get("buckets") or {}
    prev = _row(state, index, first)
    j = 0
    for i in range(first + 1, last + 1):
        cur = _row(state, index, i)
        traded: dict[tuple[int, int], int] = {}  # (book side, tick) -> volume that can fill it
        while j < len(trades) and trades[j][0] <= cur[0]:
            t, tk, size, hits = trades[j]
            if t > prev[0]:
                for s in (pb.BIDS, pb.ASKS):
                    if hits[s]:
                        traded[s, tk] = traded.get((s, tk), 0) + size
            j += 1
        changes = pb.deltas(prev, cur)
        if changes:
            b = buckets.setdefault(str(_ceil(cur[0], cfg.snap_ns)), [])
            b += [[s, tk, *pb.split_flow(d, traded.get((s, tk), 0))] for s, tk, d in changes]
        prev = cur
    clock["accounted"] = index["base"] + last
    state.set("trades", trades[j:])
    state.set("buckets", buckets)


def _snaps(
    cfg: PeerConfig, state: StateLike, clock: dict[str, Any], index: dict[str, Any], bound: int
) -> list[dict[str, Any]]:
    ts = index["ts"]
    if clock["next"] is None or clock["next"] >= bound:
        return []
    gap_ns = int(cfg.physics.max_book_gap_s * 1e9)
    sides = state.get("sides") or {}
    win = _Window(state)
    out: list[dict[str, Any]] = []
    while clock["next"] < bound:
        t = clock["next"]
        i = bisect_right(ts, t) - 1
        if i < 0 or t - ts[i] > gap_ns:  # a silent book: on to its next update, if any
            if i + 1 >= len(ts):
                break
            clock["next"] = _ceil(ts[i + 1], cfg.snap_ns)
            continue
        win.advance(t, cfg.window_ns)
        start = max(bisect_right(ts, t - cfg.window_ns) - 1, 0)  # the oldest kept, at first
        book = _row(state, index, i)
        out += _levels(cfg, t, book, _row(state, index, start), win.sums, sides, clock)
        clock["next"] = t + cfg.snap_ns
    state.set("sides", sides)
    win.save()
    return out


def _trim(cfg: PeerConfig, state: StateLike, clock: dict[str, Any], index: dict[str, Any]) -> None:
    """Forget rows no future snap or transition needs: keep the book as of the oldest
    window start still to come, and the last accounted row."""
    ts = index["ts"]
    if clock["next"] is None or not ts:
        return
    done = clock["next"] - cfg.snap_ns
    accounted_ts = ts[max(clock["accounted"] - index["base"], 0)]
    keep_from = bisect_right(ts, min(done - cfg.window_ns, accounted_ts)) - 1
    for i in range(max(keep_from, 0)):
        state.delete(f"r{index['base'] + i}")
    if keep_from > 0:
        index["base"] += keep_from
        index["ts"] = ts[keep_from:]


class _Window:
    """Running flows by (side, price) over the barrier window ``(t - window, t]``: each snap
    adds the intervals that entered and subtracts those that left (keys sorted once)."""

    def __init__(self, state: StateLike) -> None:
        self.state = state
        self.buckets: dict[str, list[list[int]]] = state.get("buckets") or {}
        self.sums: dict[str, list[int]] = state.get("window") or {}
        self.added_to: int = state.get("window_to") or NEVER
        self.keys = sorted(int(k) for k in self.buckets)
        self.next_in = bisect_right(self.keys, self.added_to)
        self.next_out = 0

    def advance(self, t: int, window_ns: int) -> None:
        while self.next_in < len(self.keys) and self.keys[self.next_in] <= t:
            self._apply(self.buckets[str(self.keys[self.next_in])], +1)
            self.next_in += 1
        while self.next_out < self.next_in and self.keys[self.next_out] <= t - window_ns:
            self._apply(self.buckets[str(self.keys[self.next_out])], -1)
            self.next_out += 1
        self.added_to = max(self.added_to, t)

    def _apply(self, flows: list[list[int]], sign: int) -> None:
        for s, tk, a, c, f in flows:
            key = f"{s}:{tk}"
            acc = self.sums.setdefault(key, [0, 0, 0])
            acc[0] += sign * a
            acc[1] += sign * c
            acc[2] += sign * f
            if acc == [0, 0, 0]:
                del self.sums[key]

    def save(self) -> None:
        for g in self.keys[: self.next_out]:
            del self.buckets[str(g)]
        self.state.set("buckets", self.buckets)
        self.state.set("window", self.sums)
        self.state.set("window_to", self.added_to)


def _levels(
    cfg: PeerConfig, t: int, book: pb.Row, start: pb.Row, flows: dict[str, list[int]],
    sides: dict[str, Side], clock: dict[str, Any],
) -> list[dict[str, Any]]:  # fmt: skip
    p = cfg.physics
    mid = pb.mid_ticks(book)
    if mid is None:
        clock["no_spot"] += 1
        return []
    spot = mid * p.es_tick / p.es_spy_ratio
    out = []
    for lv in active_levels(spot, cfg.levels, p):
        side = side_of(spot, lv.price, sides.get(lv.level_id), p.touch_band_spy)
        sides[lv.level_id] = side
        s = pb.BIDS if side == "support" else pb.ASKS
        level_es = lv.price * p.es_spy_ratio
        lo, hi = pb.band(level_es, p.band_ticks * p.es_tick, p.es_tick)
        own = pb.shared_edge(book, book, s)  # what the book shows now
        seen = pb.within(level_es / p.es_tick, own, s)
        depth = pb.band_depth(book, s, lo, hi)
        # the outflow compares the two books over the prices both show
        c_lo, c_hi = pb.cut(lo, hi, pb.shared_edge(book, start, s), s)
        compared, depth_start = (
            pb.band_depth(book, s, c_lo, c_hi),
            pb.band_depth(start, s, c_lo, c_hi),
        )
        # a test of the level trades where spot (half a tick from the trade) is in the touch
        # band: the fills there are what the resilience counts
        near_lo, near_hi = pb.band(
            level_es, p.touch_band_spy * p.es_spy_ratio - p.es_tick / 2, p.es_tick
        )
        a = c = f = f_touch = 0
        for tk in range(lo, hi + 1):
            acc = flows.get(f"{s}:{tk}")
            if acc:
                a, c, f = a + acc[0], c + acc[1], f + acc[2]
                if (tk <= near_hi) if s == pb.BIDS else (tk >= near_lo):
                    f_touch += acc[2]
        prices = pb.restable(book, s, *pb.cut(lo, hi, own, s))
        peak = pb.largest_queue(book, s, lo, hi)
        queue = pb.typical_queue(book, s)
        v, score = pb.barrier(
            depth_start, depth, peak, f_touch, f, queue, prices, p.wall_queue_multiple,
            p.vacuum_eps, compared,
        )  # fmt: skip
        out.append({
            "kind": "level", "ts_ns": t, "level_id": lv.level_id, "side": side, "spot": spot,
            "observable": seen, "depth": depth, "depth_start": depth_start,
            "added": a, "cancelled": c, "filled": f, "outflow": v,
            "score": score if seen else None,
        })  # fmt: skip
    return out
