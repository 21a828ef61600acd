"""Levels from the session's own trading (pure): VWAP, the opening range, the prior day.

Sessions are SPY's regular hours in New York (``session_open_et`` to ``session_close_et``);
ES trades outside them do not count. VWAP = Σ p·v / Σ v since the open; the opening range is the
high and low of the first ``opening_range_minutes`` (published once complete); the prior day is
the last complete session's high, low and close. Prices are ES; levels are ES / ratio.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import numpy.typing as npt

from physics.config import PhysicsConfig
from physics.levels import KIND_VWAP
from physics.options import NEW_YORK

KIND_OR_HIGH, KIND_OR_LOW = "or_high", "or_low"
KIND_PRIOR_HIGH, KIND_PRIOR_LOW, KIND_PRIOR_CLOSE = "prior_high", "prior_low", "prior_close"


@dataclass(slots=True)
class SessionState:
    session: date | None = None
    pv: float = 0.0
    volume: float = 0.0
    high: float = float("-inf")
    low: float = float("inf")
    close: float | None = None
    or_high: float = float("-inf")
    or_low: float = float("inf")
    or_end_ns: int = 0
    or_complete: bool = False
    prior: tuple[float, float, float] | None = None  # high, low, close
    applied_ns: int = -(2**63)  # trades up to here are in


def _bounds(day: date, cfg: PhysicsConfig) -> tuple[int, int]:
    open_ = datetime.combine(day, cfg.session_open_et, NEW_YORK).astimezone(UTC)
    close = datetime.combine(day, cfg.session_close_et, NEW_YORK).astimezone(UTC)
    return int(open_.timestamp() * 1e9), int(close.timestamp() * 1e9)


def _day(ts_ns: int) -> date:
    return datetime.fromtimestamp(ts_ns / 1e9, UTC).astimezone(NEW_YORK).date()


def apply_trades(
    st: SessionState,
    ts_ns: npt.NDArray[np.int64],
    price_es: npt.NDArray[np.float64],
    size: npt.NDArray[np.int64],
    upto_ns: int,
    cfg: PhysicsConfig,
) -> None:
    """Fold in the trades (time ascending) after ``st.applied_ns`` and up to ``upto_ns``,
    a New York day at a time."""
    lo = int(np.searchsorted(ts_ns, st.applied_ns, side="right"))
    hi = int(np.searchsorted(ts_ns, upto_ns, side="right"))
    while lo < hi:
        day = _day(int(ts_ns[lo]))
        midnight = datetime.combine(day + timedelta(days=1), time(0), NEW_YORK)
        midnight_ns = int(midnight.timestamp()) * 1_000_000_000
        end = lo + int(np.searchsorted(ts_ns[lo:hi], midnight_ns, side="left"))
        _fold_day(st, day, ts_ns[lo:end], price_es[lo:end], size[lo:end], cfg)
        lo = end
    st.applied_ns = max(st.applied_ns, upto_ns)


def _fold_day(
    st: SessionState,
    day: date,
    ts_ns: npt.NDArray[np.int64],
    price: npt.NDArray[np.float64],
    size: npt.NDArray[np.int64],
    cfg: PhysicsConfig,
) -> None:
    open_ns, close_ns = _bounds(day, cfg)
    counts = (open_ns <= ts_ns) & (ts_ns < close_ns) & np.isfinite(price) & (size > 0)
    if not counts.any():
        return
    if day != st.session:
        _roll(st, day, open_ns, cfg)
    t, p, v = ts_ns[counts], price[counts], size[counts]
    # cumulative sums add in trade order, as one trade at a time would: the same VWAP bits
    st.pv = float(np.cumsum(np.concatenate([[st.pv], p * v]))[-1])
    st.volume = float(np.cumsum(np.concatenate([[st.volume], v.astype(np.float64)]))[-1])
    st.high, st.low, st.close = (
        max(st.high, float(p.max())),
        min(st.low, float(p.min())),
        float(p[-1]),
    )
    opening = p[t < st.or_end_ns]
    if opening.size:
        st.or_high = max(st.or_high, float(opening.max()))
        st.or_low = min(st.or_low, float(opening.min()))


def _roll(st: SessionState, day: date, open_ns: int, cfg: PhysicsConfig) -> None:
    if st.session is not None and st.close is not None:
        st.prior = (st.high, st.low, st.close)
    st.session = day
    st.pv = st.volume = 0.0
    st.high, st.low, st.close = float("-inf"), float("inf"), None
    st.or_high, st.or_low = float("-inf"), float("inf")
    st.or_end_ns = open_ns + int(timedelta(minutes=cfg.opening_range_minutes).total_seconds() * 1e9)
    st.or_complete = False


def session_levels(st: SessionState, now_ns: int, ratio: float) -> list[tuple[float, str]]:
    """The levels known at ``now_ns``, in SPY $ (rounded to cents), with their kinds."""
    out: list[tuple[float, str]] = []
    today = st.session == _day(now_ns)
    if today and st.volume > 0:
        out.append((st.pv / st.volume / ratio, KIND_VWAP))
        if now_ns >= st.or_end_ns and st.or_high > float("-inf"):
            out += [(st.or_high / ratio, KIND_OR_HIGH), (st.or_low / ratio, KIND_OR_LOW)]
    prior = st.prior if today else _as_prior(st)
    if prior is not None:
        high, low, close = prior
        out += [(high / ratio, KIND_PRIOR_HIGH), (low / ratio, KIND_PRIOR_LOW),
                (close / ratio, KIND_PRIOR_CLOSE)]  # fmt: skip
    return [(round(p, 2), k) for p, k in out]


def _as_prior(st: SessionState) -> tuple[float, float, float] | None:
    """Before today's first trade, yesterday's session is the prior day."""
    if st.session is not None and st.close is not None:
        return (st.high, st.low, st.close)
    return st.prior
