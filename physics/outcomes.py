"""What price actually did at a level (DESIGN §8): tests, and their outcome.

A test starts when spot comes within ``touch_band`` of the level, having been outside it; the
side is where spot came from. It is a BREAK when spot then goes ``x`` beyond the level before
it goes ``x`` back away, a BOUNCE for the reverse, and CENSORED when neither happens within the
horizon or before the data ends. The next test arms only once spot has left the band: a long
grind at a level is one decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from physics.config import PRICE_EPS

Outcome = Literal["BREAK", "BOUNCE", "CENSORED"]


@dataclass(frozen=True, slots=True)
class LevelTest:
    level: float
    side: Literal["support", "resistance"]
    touch_ns: int
    outcome: Outcome
    decided_ns: int | None  # when the outcome became known


def label_tests(
    ts_ns: npt.NDArray[np.int64],
    spot: npt.NDArray[np.float64],
    level: float | npt.NDArray[np.float64],
    touch_band: float,
    move: float,
    horizon_ns: int,
) -> list[LevelTest]:
    """Every test of ``level`` in a spot path (time ascending) and its outcome. A level that
    moves (the VWAP) is given as its price along the path, NaN where it was not known."""
    dist = spot - level
    inside = np.abs(dist) <= touch_band + PRICE_EPS
    # a jump from one side to the other between two samples touched the level too
    crossed = np.zeros_like(inside)
    crossed[1:] = (np.sign(dist[1:]) * np.sign(dist[:-1]) < 0) & ~inside[:-1]
    entry = inside | crossed
    # where spot enters and where it is outside, found once: each test then looks up the next
    # of each (scanning the rest of the path per test made a day's labelling quadratic)
    entries = np.flatnonzero(entry)
    outside = np.flatnonzero(~inside)
    tests: list[LevelTest] = []
    i = 0
    while True:
        k = int(np.searchsorted(entries, i))
        if k == entries.size:
            break
        t = int(entries[k])
        if t == 0:  # the data starts at the level: no approach side to speak of
            i = _leave(outside, t, len(spot))
            continue
        if np.isnan(dist[t - 1]):  # the level appeared at spot: no approach side either
            i = _leave(outside, t, len(spot))
            continue
        side: Literal["support", "resistance"] = "support" if dist[t - 1] > 0 else "resistance"
        at = float(level[t]) if isinstance(level, np.ndarray) else float(level)
        tests.append(_decide(ts_ns, dist, t, at, side, move, horizon_ns))
        i = max(_leave(outside, t, len(spot)), t + 1)
    return tests


def _leave(outside: npt.NDArray[np.intp], t: int, n: int) -> int:
    """The first sample at or after ``t`` outside the band (``n``: none)."""
    k = int(np.searchsorted(outside, t))
    return n if k == outside.size else int(outside[k])


def _decide(
    ts_ns: npt.NDArray[np.int64],
    dist: npt.NDArray[np.float64],
    t: int,
    level: float,
    side: Literal["support", "resistance"],
    move: float,
    horizon_ns: int,
) -> LevelTest:
    end = int(np.searchsorted(ts_ns, ts_ns[t] + horizon_ns, side="right"))
    beyond = -dist[t:end] if side == "support" else dist[t:end]  # > 0: through the level
    broke = np.flatnonzero(beyond >= move - PRICE_EPS)
    held = np.flatnonzero(beyond <= -move + PRICE_EPS)
    first_break = int(broke[0]) if broke.size else None
    first_hold = int(held[0]) if held.size else None
    if first_break is not None and (first_hold is None or first_break < first_hold):
        return LevelTest(level, side, int(ts_ns[t]), "BREAK", int(ts_ns[t + first_break]))
    if first_hold is not None:
        return LevelTest(level, side, int(ts_ns[t]), "BOUNCE", int(ts_ns[t + first_hold]))
    return LevelTest(level, side, int(ts_ns[t]), "CENSORED", None)


def brier(p_break: npt.NDArray[np.float64], broke: npt.NDArray[np.bool_]) -> float:
    """Mean squared error of the break probability ``(break_score + 1) / 2``."""
    return float(np.mean((p_break - broke.astype(np.float64)) ** 2))


def log_loss(p_break: npt.NDArray[np.float64], broke: npt.NDArray[np.bool_]) -> float:
    p = np.clip(p_break, 1e-6, 1 - 1e-6)
    return float(-np.mean(np.where(broke, np.log(p), np.log(1 - p))))


def wilson(hits: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson interval of a proportion; (0, 1) with no data."""
    if n == 0:
        return (0.0, 1.0)
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (float(centre - half), float(centre + half))
