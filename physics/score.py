"""Smoothing and the call with hysteresis: pure functions of the previous state."""

from __future__ import annotations

import math
from typing import Literal

CallName = Literal["BREAK", "BOUNCE", "NEUTRAL"]


def ewma(
    prev: float | None, prev_ts_ns: int | None, x: float, ts_ns: int, half_life_s: float
) -> float:
    """Event-time EWMA: the weight of the past halves every ``half_life_s`` seconds."""
    if prev is None or prev_ts_ns is None:
        return x
    dt_s = max(ts_ns - prev_ts_ns, 0) / 1e9
    alpha = 1.0 - math.pow(0.5, dt_s / half_life_s)
    return prev + alpha * (x - prev)


def call_with_hysteresis(prev: CallName, smoothed: float, enter: float, exit_: float) -> CallName:
    """BREAK at ``smoothed >= enter``, BOUNCE at ``<= -enter``; a call holds while
    ``|smoothed| >= exit``."""
    if smoothed >= enter:
        return "BREAK"
    if smoothed <= -enter:
        return "BOUNCE"
    if prev == "BREAK" and smoothed >= exit_:
        return "BREAK"
    if prev == "BOUNCE" and smoothed <= -exit_:
        return "BOUNCE"
    return "NEUTRAL"
