"""Barrier: is the liquidity defending a level evaporating (vacuum) or holding (wall)?

Positive scores favour BREAK. All functions are vectorised over levels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeVar

import numpy as np
import numpy.typing as npt

from physics.config import PRICE_EPS, PhysicsConfig

StateName = Literal["VACUUM", "WALL", "ABSORPTION", "WEAK", "NEUTRAL"]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
_A = TypeVar("_A", F64, I64)


def bounded(x: _A, lo: float | _A, hi: float | _A) -> _A:
    """``x`` held within ``[lo, hi]`` (scalars or arrays): np.clip's own definition, at a third
    of its cost on a snap's few levels (np.clip's dispatch dominates on arrays this small)."""
    out: _A = np.minimum(np.maximum(x, lo), hi)
    return out


@dataclass(frozen=True, slots=True)
class BandFlows:
    """Per level: flow on the defending side inside the band over the barrier window."""

    added: I64
    cancelled: I64
    filled: I64
    hidden: I64  # traded beyond the displayed drop (an iceberg's reserve)


def band_flows(
    price_tick: I64,
    added: I64,
    cancelled: I64,
    filled: I64,
    hidden: I64,
    lo_tick: I64,
    hi_tick: I64,
) -> BandFlows:
    """Sum per-price flows (already restricted to the window and side) into each level's band
    ``[lo_tick, hi_tick]``: by running totals over the prices in ascending order, so the cost
    is linear in the flows, not flows times levels."""
    order = np.argsort(price_tick, kind="stable")
    ticks = price_tick[order]
    lo = np.searchsorted(ticks, lo_tick, side="left")
    hi = np.maximum(np.searchsorted(ticks, hi_tick, side="right"), lo)

    def in_band(flow: I64) -> I64:
        total = np.zeros(flow.size + 1, np.int64)
        np.cumsum(flow[order], out=total[1:])
        band: I64 = total[hi] - total[lo]
        return band

    return BandFlows(in_band(added), in_band(cancelled), in_band(filled), in_band(hidden))


def vacuum_pressure(depth_start: I64, depth_now: I64, eps: float) -> F64:
    """``v = (D0 - D) / (max(D0, D) + eps)``: the share of the defence that left over the
    window, net of refills, in [-1, 1] (a wall that grew gives v < 0).

    DESIGN §5 writes ``(C + F - A) / (D0 + A + eps)``. C + F - A equals D0 - D only while
    every price of the band stays in view, and on a busy book most of A is churn (orders added
    and pulled within seconds), which inflates that denominator: on the simulator's vacuum
    scenarios the band emptied while the DESIGN value stayed near 0. The net depth change over
    the larger of the two depths says what left without either problem; A, C and F are still
    measured and published (pull ratio, absorption).
    """
    return (depth_start - depth_now) / (np.maximum(depth_start, depth_now) + eps)


def pulled_outflow(depth_start: I64, depth_now: I64, traded: I64, eps: float) -> F64:
    """``v_p = max(D0 - D - F, 0) / (max(D0, D) + eps)`` where the band shrank, ``v`` where it
    grew (``F``: the volume filled in band over the window): the outflow the fills do not
    explain, the defence pulled rather than traded away.

    Depth that left by trading is price arriving, which the tape already scores as aggression;
    counted as outflow too, every approach thinned its level's defence on the way in (a wall
    eaten and refilled at the touch read v +0.2, an ordinary long-gamma approach VACUUM +0.5
    while its state said ABSORPTION). Fills only explain outflow away: a queue that trades and
    is refilled (the book's own touch, all day) is not a defence that grew."""
    gone = depth_start - depth_now
    # nothing to explain where it grew
    traded_away = bounded(traded, 0, np.maximum(gone, 0))
    out: F64 = (gone - traded_away) / (np.maximum(depth_start, depth_now) + eps)
    return out


def restable_prices(lo_tick: I64, hi_tick: I64, other_best_tick: float, bids: bool) -> I64:
    """Band prices where this side's orders can rest: below the best ask for bids, above the
    best bid for asks (``other_best_tick`` NaN: that side is empty, every price counts).

    Near the touch part of the band lies across the spread, where the defending side cannot
    have orders; measured against the whole band, an ordinary book at the level looks half
    empty (a lean to BREAK at every touch, and a wall looks only ordinary)."""
    if np.isnan(other_best_tick):
        return hi_tick - lo_tick + 1
    edge = round(other_best_tick)
    if bids:
        n = np.minimum(hi_tick, edge - 1) - lo_tick + 1
    else:
        n = hi_tick - np.maximum(lo_tick, edge + 1) + 1
    restable: I64 = bounded(n, 0, hi_tick - lo_tick + 1)
    return restable


def touch_ticks(
    level_es: F64, lo_tick: I64, hi_tick: I64, touch_band_es: float, tick: float
) -> tuple[I64, I64]:
    """The part of each band a test of the level trades at, in ticks: asks from ``lo`` (the
    first returned) up to the band's top, bids from the band's bottom up to ``hi``.

    A trade at an ask ``p`` puts spot about half a tick below it (a one-tick spread), so it
    is inside the touch band ``b`` when ``p >= L - (b - tick / 2)``; bids mirror it. The band
    (``band_ticks`` either side) reaches the book's own touch while price is still on its
    way, and ordinary trading there is not aggression the level absorbed."""
    reach = touch_band_es - tick / 2
    asks_from = np.ceil((level_es - reach) / tick - PRICE_EPS).astype(np.int64)
    bids_to = np.floor((level_es + reach) / tick + PRICE_EPS).astype(np.int64)
    return np.maximum(asks_from, lo_tick), np.minimum(bids_to, hi_tick)


def thickness(depth: F64, typical_queue: F64, band_prices: float | I64, eps: float) -> F64:
    """``q = D / (typical queue x prices in band)``: the band against the book around it.

    A defence already gone before the window started shows no outflow, only a thin band;
    a wall is thick even while it trades. q < 1 is thinner than the book, q > 1 thicker.
    """
    return (depth + eps) / (typical_queue * band_prices + eps)


def resilience(filled: F64, typical_queue: F64, band_prices: int | I64, v: F64, eps: float) -> F64:
    """``r = tanh(F / (Q n)) * clip(1 - 2 max(v, 0), 0, 1)``: aggression the band absorbed
    (filled volume, in typical band depths) while its depth held. A defence that trades and
    refills is a wall being tested; one that trades and empties (v >= 0.5) is being swept, and
    earns nothing."""
    absorbed = np.tanh(filled / (typical_queue * band_prices + eps))
    held: F64 = absorbed * bounded(1.0 - 2.0 * np.maximum(v, 0.0), 0.0, 1.0)
    return held


LN_Q_CLIP = 3.0  # thickness counts up to e^3 times (or down to e^-3) an ordinary defence


def barrier_score(v: F64, q: F64, r: F64 | None = None) -> F64:
    """The terms ``x = (tanh(2 v), -tanh(ln q), -r)`` pooled by their strength,
    ``sum(|x| x) / sum(|x|)`` (0 when all are 0): flow out of the band and a thin band favour
    BREAK; refills, a thick band and absorbed aggression favour BOUNCE. ln q is clipped to
    [-3, 3]; ``r`` (resilience) defaults to 0.

    A term at 0 says nothing either way (no flow in or out is no evidence of a weak defence),
    so it does not dilute a clear one, as the evidence is pooled in the score: halving the
    sum of two terms capped a wall that neither grew nor traded at -0.5, whatever its size."""
    held = np.zeros_like(v) if r is None else r
    terms = np.stack([np.tanh(2.0 * v), -np.tanh(bounded(np.log(q), -LN_Q_CLIP, LN_Q_CLIP)), -held])
    strength = np.abs(terms)
    total = strength.sum(axis=0)
    pooled = np.divide((strength * terms).sum(axis=0), total, out=np.zeros_like(total),
                       where=total > 0)  # fmt: skip
    score: F64 = bounded(pooled, -1.0, 1.0)
    return score


def defence_thickness(
    depth: F64, peak: F64, typical_queue: F64, band_prices: int | I64, wall_multiple: float,
    eps: float,
) -> F64:  # fmt: skip
    """``q = max(D / (Q n), P / (m Q))``: the band against an ordinary band, or its largest
    queue ``P`` against ``m`` ordinary queues (``wall_queue_multiple``), whichever is thicker.

    Price must trade through every queue to break; one queue several times the usual is a
    wall even when the band around it is ordinary (summed over nine prices, a 600-lot queue
    among 60-lot ones reads as only twice an ordinary band)."""
    band = thickness(depth, typical_queue, band_prices, eps)
    queue = thickness(peak, typical_queue, wall_multiple, eps)
    q: F64 = np.maximum(band, queue)
    return q


@dataclass(frozen=True, slots=True)
class BandScores:
    """Per level, one side: the barrier score and its terms (vectorised)."""

    score: F64
    resilience: F64
    thickness: F64


def band_scores(
    depth_start: I64,
    depth: I64,
    peak: I64,
    filled: I64,
    filled_in_band: I64,
    typical_queue: float,
    band_prices: I64,
    cfg: PhysicsConfig,
    depth_compared: I64 | None = None,
) -> BandScores:
    """``barrier_score`` and its terms for every level of one side at once; ``band_prices``
    per level are those where the side can rest (``restable_prices``). The outflow compares
    ``depth_start`` with ``depth_compared``, the depth now over the same prices (``depth``
    itself by default), net of ``filled_in_band`` (``pulled_outflow``); the resilience counts
    ``filled`` (where a test trades) and is void when the band emptied, traded or not; the
    thickness weighs ``depth`` and ``peak``, the band as shown now."""
    eps = cfg.vacuum_eps
    compared = depth if depth_compared is None else depth_compared
    v = vacuum_pressure(depth_start, compared, eps)  # the net outflow gates the resilience
    pulled = pulled_outflow(depth_start, compared, filled_in_band, eps)
    queue = np.full(depth.shape, typical_queue)
    q = defence_thickness(
        depth.astype(np.float64), peak.astype(np.float64), queue, band_prices,
        cfg.wall_queue_multiple, eps,
    )  # fmt: skip
    r = resilience(filled.astype(np.float64), queue, band_prices, v, eps)
    return BandScores(barrier_score(pulled, q, r), r, q)


def barrier_state(
    score: float, depth: int, median_depth: float | None, flows_a: int, flows_f: int,
    cfg: PhysicsConfig,
) -> StateName:  # fmt: skip
    """VACUUM, WALL, ABSORPTION, WEAK or NEUTRAL for one observable level (DESIGN §5)."""
    if flows_f >= cfg.absorption_min_filled and flows_a >= flows_f:
        return "ABSORPTION"  # eating aggression and refilling at least as fast
    if score > cfg.barrier_state_threshold:
        return "VACUUM"
    if score < -cfg.barrier_state_threshold and median_depth is not None and depth >= median_depth:
        return "WALL"
    if depth < cfg.weak_depth:
        return "WEAK"
    return "NEUTRAL"


@dataclass(frozen=True, slots=True)
class Refill:
    half_life_s: float | None  # median time for adds to replace half a fill; None: none did
    refilled_share: float | None  # share of the filled size whose half came back; None: no fill


def refill(ts_ns: I64, filled: I64, added: I64) -> Refill:
    """How fast the band's defence comes back after it is hit, from its flow rows over the
    window (time ascending; fills and adds at the band's prices; rows of one book transition
    share a time).

    For each transition with fills ``f`` at ``t``: the first time ``t' >= t`` by which the
    size added from ``t`` on (re-posted at any band price, the same update included) reaches
    ``f / 2``. Half-life: the median of ``t' - t`` over the fills that got there; refilled
    share: their size over all the size filled. A wall that is really there is re-posted
    fast; a defence that does not come back is being used up."""
    track = RefillTrack()
    track.fold(ts_ns, filled, added)
    return track.refill()


class RefillTrack:
    """``refill`` kept as rows arrive: the fills and, for each, how long adds took to bring
    back half its size. A fill's wait depends only on the adds from its own transition on,
    never on where the window starts, so it is found once and kept until the fill leaves."""

    def __init__(self) -> None:
        self.added = 0  # size added since the track began
        self.ts = np.empty(0, np.int64)  # each transition that filled: its time,
        self.filled = np.empty(0, np.int64)  # the size it filled,
        self.need = np.empty(0)  # the running adds that bring back half of it,
        self.wait_ns = np.empty(0, np.int64)  # and how long that took (-1: not yet)
        self._found: Refill | None = None  # the last answer, while no fill came or left

    def fold(self, ts_ns: I64, filled: I64, added: I64) -> None:
        """Take later fill and add rows, in time order (a transition's rows share a time and
        come in one fold)."""
        if ts_ns.size == 0:
            return
        self._found = None
        first = np.ones(ts_ns.size, bool)  # the first row of each transition
        np.not_equal(ts_ns[1:], ts_ns[:-1], out=first[1:])
        starts = np.flatnonzero(first)
        t = ts_ns[starts]
        f, a = np.add.reduceat(filled, starts), np.add.reduceat(added, starts)
        running = self.added + np.cumsum(a)  # added up to and including each transition
        self.added = int(running[-1])
        hit = np.flatnonzero(f > 0)
        self.ts = np.concatenate([self.ts, t[hit]])
        self.filled = np.concatenate([self.filled, f[hit]])
        self.need = np.concatenate([self.need, running[hit] - a[hit] + f[hit] / 2.0])
        self.wait_ns = np.concatenate([self.wait_ns, np.full(hit.size, -1, np.int64)])
        waiting = np.flatnonzero(self.wait_ns < 0)
        back = np.searchsorted(running, self.need[waiting], side="left")
        got = back < t.size
        self.wait_ns[waiting[got]] = t[back[got]] - self.ts[waiting[got]]

    def drop_through(self, start_ns: int) -> None:
        """Forget the fills at or before ``start_ns`` (a window that moved on)."""
        i = int(np.searchsorted(self.ts, start_ns, side="right"))
        if i:
            self.ts, self.filled = self.ts[i:], self.filled[i:]
            self.need, self.wait_ns = self.need[i:], self.wait_ns[i:]
            self._found = None

    def refill(self) -> Refill:
        """``refill`` over the fills kept (the answer kept while none came or left)."""
        if self._found is None:
            self._found = _refill_of_waits(self.filled, self.wait_ns)
        return self._found


def _refill_of_waits(filled: I64, wait_ns: I64) -> Refill:
    if filled.size == 0:
        return Refill(None, None)
    done = wait_ns >= 0
    if not done.any():
        return Refill(None, 0.0)
    return Refill(float(np.median(wait_ns[done] / 1e9)), float(filled[done].sum() / filled.sum()))


def pull_ratio(cancelled: int, filled: int) -> float | None:
    """``C / (C + F)``: how much of the size that left was never traded against."""
    total = cancelled + filled
    return None if total == 0 else cancelled / total


def time_to_clear_s(depth: int, aggressive_volume: int, window_s: float) -> float | None:
    """Defending size over the recent rate of aggression into it; None without aggression."""
    if aggressive_volume <= 0:
        return None
    return depth / (aggressive_volume / window_s)
