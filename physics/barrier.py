"""Barrier: is the liquidity defending a level evaporating (vacuum) or holding (wall)?

Positive scores favour BREAK. All functions are vectorised over levels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from physics.config import PhysicsConfig

StateName = Literal["VACUUM", "WALL", "ABSORPTION", "WEAK", "NEUTRAL"]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class BandFlows:
    """Per level: flow on the defending side inside the band over the barrier window."""

    added: I64
    cancelled: I64
    filled: I64


def band_flows(
    price_tick: I64,
    added: I64,
    cancelled: I64,
    filled: I64,
    lo_tick: I64,
    hi_tick: I64,
) -> BandFlows:
    """Sum per-price flows (already restricted to the window and side) into each level's band
    ``[lo_tick, hi_tick]``."""
    inside = (price_tick[None, :] >= lo_tick[:, None]) & (price_tick[None, :] <= hi_tick[:, None])
    return BandFlows(
        added=(inside * added[None, :]).sum(axis=1).astype(np.int64),
        cancelled=(inside * cancelled[None, :]).sum(axis=1).astype(np.int64),
        filled=(inside * filled[None, :]).sum(axis=1).astype(np.int64),
    )


def vacuum_pressure(depth_start: I64, flows: BandFlows, eps: float) -> F64:
    """``v = (C + F - A) / (D0 + A + eps)``: the share of the defence that left, net of refills."""
    c, f, a = flows.cancelled, flows.filled, flows.added
    return (c + f - a) / (depth_start + a + eps)


def barrier_score(v: F64) -> F64:
    """``tanh(2 v)``: a quarter of the defence gone net scores ~0.46."""
    return np.tanh(2.0 * v)


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


def pull_ratio(cancelled: int, filled: int) -> float | None:
    """``C / (C + F)``: how much of the size that left was never traded against."""
    total = cancelled + filled
    return None if total == 0 else cancelled / total


def time_to_clear_s(depth: int, aggressive_volume: int, window_s: float) -> float | None:
    """Defending size over the recent rate of aggression into it; None without aggression."""
    if aggressive_volume <= 0:
        return None
    return depth / (aggressive_volume / window_s)
