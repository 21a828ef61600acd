"""Book maths of the Quix Streams peer, written afresh (not snapline's ``physics/``) so that
agreement between the two is evidence, not an identity.

A book row is JSON-ready, as Quix state stores it: ``[ts_ns, bid_ticks, bid_sizes, ask_ticks,
ask_sizes]``, ten entries a side, best first, prices in integer ES ticks and ``None`` where
MBP-10 shows no price. Sides are ``0`` (bids) and ``1`` (asks).
"""

from __future__ import annotations

import math
from statistics import median
from typing import Any

Row = list[Any]
BIDS, ASKS = 0, 1


def side(row: Row, s: int) -> tuple[list[int | None], list[int]]:
    return (row[1], row[2]) if s == BIDS else (row[3], row[4])


def visible_floor(ticks: list[int | None], s: int) -> float:
    """The deepest price a full ten-price ladder shows; a shorter one shows the whole side."""
    shown = [t for t in ticks if t is not None]
    if len(shown) < len(ticks):
        return -math.inf if s == BIDS else math.inf
    return float(min(shown)) if s == BIDS else float(max(shown))


def deltas(prev: Row, cur: Row) -> list[list[int]]:
    """``[side, tick, size change]`` at each price both books show, where the size changed.

    By price, not by ladder index: when the top trades away the rest shift up one index
    without changing; a price that scrolls out of view is not a cancel."""
    out: list[list[int]] = []
    for s in (BIDS, ASKS):
        (pt, ps), (ct, cs) = side(prev, s), side(cur, s)
        floors = (visible_floor(pt, s), visible_floor(ct, s))
        shared = max(floors) if s == BIDS else min(floors)
        before = _shown(pt, ps, shared, s)
        after = _shown(ct, cs, shared, s)
        for tick in sorted(before.keys() | after.keys()):
            d = after.get(tick, 0) - before.get(tick, 0)
            if d:
                out.append([s, tick, d])
    return out


def _shown(ticks: list[int | None], sizes: list[int], shared: float, s: int) -> dict[int, int]:
    return {
        t: z
        for t, z in zip(ticks, sizes, strict=True)
        if t is not None and (t >= shared if s == BIDS else t <= shared)
    }


def split_flow(delta: int, traded: int) -> tuple[int, int, int]:
    """(added, cancelled, filled): a decrease is filled up to the volume traded at that price
    between the two books, and pulled for the rest."""
    if delta > 0:
        return delta, 0, 0
    filled = min(-delta, traded)
    return 0, -delta - filled, filled


def mid_ticks(row: Row) -> float | None:
    bid: int | None = row[1][0]
    ask: int | None = row[3][0]
    if bid is None or ask is None or bid > ask:
        return None
    return (bid + ask) / 2


def band(level_es: float, half_band: float, tick: float) -> tuple[int, int]:
    """Ticks of ``[L - h, L + h]``, inclusive (a level need not sit on a tick)."""
    return (
        math.ceil((level_es - half_band) / tick - 1e-9),
        math.floor((level_es + half_band) / tick + 1e-9),
    )


def band_depth(row: Row, s: int, lo: int, hi: int) -> int:
    ticks, sizes = side(row, s)
    return sum(z for t, z in zip(ticks, sizes, strict=True) if t is not None and lo <= t <= hi)


def largest_queue(row: Row, s: int, lo: int, hi: int) -> int:
    ticks, sizes = side(row, s)
    return max(
        (z for t, z in zip(ticks, sizes, strict=True) if t is not None and lo <= t <= hi),
        default=0,
    )


def restable(row: Row, s: int, lo: int, hi: int) -> int:
    """Ticks of the band this side can rest on: bids below the best ask, asks above the best
    bid (all of them when the other side is empty)."""
    other: int | None = row[3][0] if s == BIDS else row[1][0]
    if other is None:
        return hi - lo + 1
    return sum(1 for t in range(lo, hi + 1) if (t < other if s == BIDS else t > other))


def shared_edge(row: Row, other: Row, s: int) -> float:
    """The deepest tick both rows' ladders of side ``s`` show (+-inf: every price)."""
    a, b = visible_floor(side(row, s)[0], s), visible_floor(side(other, s)[0], s)
    return max(a, b) if s == BIDS else min(a, b)


def cut(lo: int, hi: int, edge: float, s: int) -> tuple[int, int]:
    """The band's ticks that lie within ``edge``."""
    if math.isinf(edge):
        return lo, hi
    return (max(lo, int(edge)), hi) if s == BIDS else (lo, min(hi, int(edge)))


def within(level_ticks: float, edge: float, s: int) -> bool:
    """A level past the deepest price shown is not visible (not "no depth")."""
    return level_ticks >= edge - 1e-9 if s == BIDS else level_ticks <= edge + 1e-9


def typical_queue(row: Row, s: int) -> float:
    ticks, sizes = side(row, s)
    shown = [z for t, z in zip(ticks, sizes, strict=True) if t is not None]
    return float(median(shown)) if shown else 0.0


def barrier(
    depth_start: int, depth: int, peak: int, filled: int, traded: int, queue: float,
    prices: int, wall_multiple: float, eps: float, compared: int | None = None,
) -> tuple[float, float]:  # fmt: skip
    """Net outflow ``v`` and the barrier score with resilience (docs/physics.md, Barrier).
    ``filled``: where a test trades; ``traded``: in the whole band. ``compared``: the depth
    now over the prices the start showed too (``depth`` by default)."""
    now = depth if compared is None else compared
    v = (depth_start - now) / (max(depth_start, now) + eps)
    pulled = max(depth_start - now - traded, 0) / (max(depth_start, now) + eps) if v > 0 else v
    q = max((depth + eps) / (queue * prices + eps), (peak + eps) / (queue * wall_multiple + eps))
    r = math.tanh(filled / (queue * prices + eps)) * min(max(1 - 2 * max(v, 0.0), 0.0), 1.0)
    terms = (math.tanh(2 * pulled), -math.tanh(min(max(math.log(q), -3.0), 3.0)), -r)
    strength = sum(abs(x) for x in terms)
    raw = sum(abs(x) * x for x in terms) / strength if strength > 0 else 0.0
    return v, min(max(raw, -1.0), 1.0)
