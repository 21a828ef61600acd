"""Which SPY levels are tracked at a given spot, and their identities.

A level is identified by its price in cents, so the same price from two sources (an explicit
level that is also a round number) is one level with both kinds. A level that moves with the
market (the session VWAP, the zero-gamma flip) is identified by its kind instead: keyed by
price it would be a new level at every cent it moves, its smoothed score and call restarting
each time and its old prices left behind as stale levels for consumers. It does not merge
into a fixed level it passes over, for the same reason: each keeps its own call.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from physics.config import PRICE_EPS, PhysicsConfig
from schemas.level_signal import Side

KIND_EXPLICIT = "explicit"
KIND_ROUND = "round"
KIND_STRIKE = "strike"  # a 0DTE strike with open interest
KIND_CALL_WALL = "call_wall"
KIND_PUT_WALL = "put_wall"
KIND_ZERO_GAMMA = "zero_gamma"
KIND_VWAP = "vwap"
MOVING_KINDS = frozenset({KIND_VWAP, KIND_ZERO_GAMMA})  # identified by kind, not price


@dataclass(frozen=True, slots=True)
class Level:
    level_id: str
    price: float
    kinds: tuple[str, ...]


def level_id(price: float) -> str:
    """Stable identity of a SPY price level: its value in cents, e.g. ``480.00``."""
    return f"{round(price, 2):.2f}"


def round_levels(spot: float, step: float, distance: float) -> list[float]:
    """Multiples of ``step`` within ``distance`` of ``spot``, ascending."""
    lo = math.ceil((spot - distance) / step - PRICE_EPS)
    hi = math.floor((spot + distance) / step + PRICE_EPS)
    return [round(k * step, 2) for k in range(lo, hi + 1)]


def active_levels(
    spot: float,
    explicit: Iterable[float],
    cfg: PhysicsConfig,
    gamma: Iterable[tuple[float, str]] = (),
    strikes: Iterable[float] = (),
) -> list[Level]:
    """Explicit, gamma and session levels (always) merged with round levels and 0DTE strikes
    near spot, sorted by level id; moving levels keep their kind as id and never merge."""
    kinds: dict[str, set[str]] = {}
    prices: dict[str, float] = {}
    near = cfg.activation_distance_spy
    sources = [
        *((p, KIND_EXPLICIT) for p in explicit),
        *gamma,
        *((p, KIND_ROUND) for p in round_levels(spot, cfg.round_step_spy, near)),
        *((k, KIND_STRIKE) for k in strikes if abs(k - spot) <= near + PRICE_EPS),
    ]
    for price, kind in sources:
        lid = kind if kind in MOVING_KINDS else level_id(price)
        prices[lid] = round(price, 2)
        kinds.setdefault(lid, set()).add(kind)
    return [Level(lid, prices[lid], tuple(sorted(kinds[lid]))) for lid in sorted(kinds)]


def side_of(spot: float, level: float, previous: Side | None, touch_band: float) -> Side:
    """Support below spot, resistance above. A level being tested keeps the side price came
    from until spot leaves its touch band on the other side, as a test's outcome is labelled
    (DESIGN §8): spot wavering across the level inside the band is one test, not a side
    turning at each tick; exactly at a level with no side yet, support."""
    if previous is not None and abs(spot - level) <= touch_band + PRICE_EPS:
        return previous
    if spot > level:
        return "support"
    if spot < level:
        return "resistance"
    return previous or "support"
