"""Trade-tape aggregates over an event-time window.

DBN trade side 'B': the buyer aggressed; 'A': the seller did; 'N': not known.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from physics.barrier import LN_Q_CLIP

# the velocity's projection through the defence holds q where the barrier score holds ln q
THICKNESS_MIN, THICKNESS_MAX = math.exp(-LN_Q_CLIP), math.exp(LN_Q_CLIP)


@dataclass(frozen=True, slots=True)
class TapeWindow:
    buy_volume: int
    sell_volume: int

    @property
    def ofi(self) -> float | None:
        """Aggressor imbalance ``(Vb - Vs) / (Vb + Vs)``; None when nothing traded."""
        total = self.buy_volume + self.sell_volume
        return None if total == 0 else (self.buy_volume - self.sell_volume) / total


@dataclass(frozen=True, slots=True)
class TapeSums:
    """Aggressor volumes of time-ascending trades as running sums, so the volumes of any
    window are two lookups (the snaps of a batch all ask of the same trades)."""

    ts_ns: npt.NDArray[np.int64]
    buys: npt.NDArray[np.int64]  # buy_volume of the trades before each index (0 first)
    sells: npt.NDArray[np.int64]

    @classmethod
    def of(
        cls,
        ts_ns: npt.NDArray[np.int64],
        size: npt.NDArray[np.int64],
        is_buy: npt.NDArray[np.bool_],
        is_sell: npt.NDArray[np.bool_],
    ) -> TapeSums:
        buys, sells = np.zeros(ts_ns.size + 1, np.int64), np.zeros(ts_ns.size + 1, np.int64)
        np.cumsum(np.where(is_buy, size, 0), out=buys[1:])
        np.cumsum(np.where(is_sell, size, 0), out=sells[1:])
        return cls(ts_ns, buys, sells)

    def window(self, end_ns: int, window_ns: int) -> TapeWindow:
        """Aggressor volumes of the trades with ``end - window < ts <= end``."""
        lo = int(self.ts_ns.searchsorted(end_ns - window_ns, side="right"))
        hi = int(self.ts_ns.searchsorted(end_ns, side="right"))
        return TapeWindow(int(self.buys[hi] - self.buys[lo]), int(self.sells[hi] - self.sells[lo]))


def velocity(spot_then: float | None, spot_now: float | None, dt_s: float) -> float | None:
    """Spot change per second; None without two prices or a positive interval."""
    if spot_then is None or spot_now is None or dt_s <= 0:
        return None
    return (spot_now - spot_then) / dt_s


def toward_through_defence(velocity_spy: float, s: int, thickness: float = 1.0) -> float:
    """``s * u`` (positive toward the level), divided by the defence's clipped thickness ``q``
    while toward: how fast price moves through what it will meet at the level."""
    toward = s * velocity_spy
    if toward > 0:
        toward /= min(max(thickness, THICKNESS_MIN), THICKNESS_MAX)
    return toward


def tape_score(
    ofi: float | None,
    velocity_spy: float | None,
    s: int,
    u_ref: float,
    absorbed: float = 0.0,
    thickness: float = 1.0,
) -> float | None:
    """``mean(a, tanh(s * u' / u_ref))`` over the parts observed, clipped to [-1, 1], where
    ``a = s * ofi``, times ``1 - absorbed`` when it pushes toward a break, and ``u'`` is the
    velocity projected through the defence: ``u / q`` while price moves toward the level.

    ``s`` is -1 for support (a break goes down), +1 for resistance. ``absorbed`` is the
    barrier's resilience: aggression a defence soaks up confirms nothing. ``thickness`` is the
    barrier's ``q`` (ln q clipped to [-3, 3], as in the barrier score): price that came at
    ``u`` through ordinary queues crosses a defence q times as thick about q times slower,
    and a vacuum faster; moving away, the defence does not slow it. None if neither part is
    known.
    """
    parts = []
    if ofi is not None:
        push = s * ofi
        parts.append(push * (1.0 - absorbed) if push > 0 else push)
    if velocity_spy is not None:
        parts.append(math.tanh(toward_through_defence(velocity_spy, s, thickness) / u_ref))
    if not parts:
        return None
    return max(-1.0, min(1.0, sum(parts) / len(parts)))
