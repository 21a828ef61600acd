"""VWAP, opening range and prior day from ES trades, on hand-made sessions."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np

from physics.config import PhysicsConfig
from physics.session_levels import SessionState, apply_trades, session_levels

CFG = PhysicsConfig()


def ns(day: int, hh: int, mm: int) -> int:  # New York time, 2025-01-DD hh:mm
    return int(
        datetime(2025, 1, day, hh, mm, tzinfo=ZoneInfo("America/New_York")).timestamp() * 1e9
    )


def feed(st: SessionState, trades: list[tuple[int, float, int]], upto: int) -> None:
    ts = np.array([t for t, _, _ in trades], np.int64)
    apply_trades(st, ts, np.array([p for _, p, _ in trades]), np.array([v for *_, v in trades]),
                 upto, CFG)  # fmt: skip


def test_vwap_opening_range_then_prior_day() -> None:
    st = SessionState()
    day1 = [
        (ns(6, 9, 0), 4700.0, 50),  # pre-market: not in the session
        (ns(6, 9, 30), 4800.0, 10),
        (ns(6, 9, 45), 4810.0, 30),
        (ns(6, 9, 59), 4790.0, 10),
        (ns(6, 10, 30), 4830.0, 10),  # after the opening range
        (ns(6, 15, 59), 4820.0, 10),
        (ns(6, 16, 30), 4900.0, 10),  # after the close
    ]
    feed(st, day1, ns(6, 9, 50))
    levels = dict((k, p) for p, k in session_levels(st, ns(6, 9, 50), 10.0))
    assert levels == {"vwap": round((4800 * 10 + 4810 * 30) / 40 / 10, 2)}  # no OR yet
    feed(st, day1, ns(6, 23, 0))
    levels = dict((k, p) for p, k in session_levels(st, ns(6, 23, 0), 10.0))
    vwap = (4800 * 10 + 4810 * 30 + 4790 * 10 + 4830 * 10 + 4820 * 10) / 70 / 10
    assert levels["vwap"] == round(vwap, 2)
    assert (levels["or_high"], levels["or_low"]) == (481.0, 479.0)
    # the next morning, before its first trade: yesterday is the prior day
    next_morning = dict((k, p) for p, k in session_levels(st, ns(7, 8, 0), 10.0))
    assert next_morning == {"prior_high": 483.0, "prior_low": 479.0, "prior_close": 482.0}
    feed(st, [(ns(7, 9, 31), 4840.0, 5)], ns(7, 9, 32))
    day2 = dict((k, p) for p, k in session_levels(st, ns(7, 9, 32), 10.0))
    assert day2["vwap"] == 484.0 and day2["prior_close"] == 482.0 and "or_high" not in day2


def test_trades_are_applied_once_whatever_the_calls() -> None:
    trades = [(ns(6, 9, 30) + i * 10**9, 4800.0 + i, 1) for i in range(10)]
    once, twice = SessionState(), SessionState()
    feed(once, trades, ns(6, 10, 0))
    for upto in (ns(6, 9, 30) + 3 * 10**9, ns(6, 9, 30) + 3 * 10**9, ns(6, 10, 0)):
        feed(twice, trades, upto)
    assert session_levels(once, ns(6, 10, 0), 10.0) == session_levels(twice, ns(6, 10, 0), 10.0)


def test_two_sessions_in_one_call_roll_at_new_york_midnight() -> None:
    # a replay that snaps rarely folds several days at once: each day is its own session
    trades = [
        (ns(6, 10, 0), 4800.0, 10),
        (ns(6, 15, 0), 4850.0, 10),
        (ns(6, 23, 59), 4700.0, 10),  # overnight: no session
        (ns(7, 0, 1), 4710.0, 10),
        (ns(7, 9, 35), 4860.0, 20),
        (ns(7, 9, 40), 4870.0, 20),
    ]
    at_once, one_by_one = SessionState(), SessionState()
    feed(at_once, trades, ns(7, 11, 0))
    for i in range(len(trades)):
        feed(one_by_one, trades[: i + 1], trades[i][0])
    feed(one_by_one, trades, ns(7, 11, 0))
    levels = dict((k, p) for p, k in session_levels(at_once, ns(7, 11, 0), 10.0))
    assert levels == {
        "vwap": 486.5, "or_high": 487.0, "or_low": 486.0,
        "prior_high": 485.0, "prior_low": 480.0, "prior_close": 485.0,
    }  # fmt: skip
    assert session_levels(one_by_one, ns(7, 11, 0), 10.0) == session_levels(
        at_once, ns(7, 11, 0), 10.0
    )
