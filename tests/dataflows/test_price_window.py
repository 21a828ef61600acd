"""The rolling per-price flow totals give what summing the window afresh gives, snap after
snap: across quiet stretches, jumps longer than the window, and prices too far apart."""

from __future__ import annotations

import numpy as np
import pytest

from dataflows.signals.price_window import FLOWS, PriceWindow
from physics.barrier import band_flows, refill

WINDOW = 5_000


@pytest.mark.parametrize("max_span", [1 << 20, 200, 40])
@pytest.mark.parametrize("seed", range(4))
def test_rolling_totals_equal_the_window_summed_afresh(seed: int, max_span: int) -> None:
    rng = np.random.default_rng(seed)
    pw = PriceWindow(WINDOW, max_span_ticks=max_span)
    all_ts, all_tick = np.empty(0, np.int64), np.empty(0, np.int64)
    all_flows = {k: np.empty(0, np.int64) for k in FLOWS}
    t = 0
    centre = 19_200
    for _ in range(300):
        # rows arrive in time order: a burst, a quiet spell, or a gap longer than the window
        gap = int(rng.choice([0, 50, 400, 3 * WINDOW], p=[0.3, 0.4, 0.25, 0.05]))
        n = int(rng.integers(0, 30))
        ts = np.sort(t + rng.integers(1, 300, n)) + gap
        centre += int(rng.integers(-3, 4))
        tick = centre + rng.integers(-12, 13, n)
        flows = {k: rng.integers(0, 9, n) for k in FLOWS}
        pw.append(ts.astype(np.int64), tick.astype(np.int64), **flows)
        all_ts, all_tick = np.concatenate([all_ts, ts]), np.concatenate([all_tick, tick])
        all_flows = {k: np.concatenate([all_flows[k], flows[k]]) for k in FLOWS}
        t = int(ts[-1]) if n else t + gap + 100
        lo = centre + rng.integers(-20, 10, 4)
        hi = lo + rng.integers(0, 8, 4)
        got = pw.band_at(t, lo, hi)[0]
        again = pw.band_at(t, lo, hi)[0]  # asked twice: the same answer
        inside = (all_ts > t - WINDOW) & (all_ts <= t)
        want = band_flows(all_tick[inside], *(all_flows[k][inside] for k in FLOWS), lo, hi)
        for k in FLOWS:
            assert getattr(got, k).tolist() == getattr(want, k).tolist(), k
            assert getattr(again, k).tolist() == getattr(want, k).tolist(), k
        assert pw.filled_in(t, lo, hi).tolist() == want.filled.tolist()
    if max_span == 40:
        assert pw.totals is None  # prices drifted too far apart: summed afresh instead


@pytest.mark.parametrize("max_span", [1 << 20, 40])
def test_late_rows_count_from_the_next_snap_while_in_the_window(max_span: int) -> None:
    # live, a late book update dates flows inside a window already summed (or before it)
    rng = np.random.default_rng(11)
    pw = PriceWindow(WINDOW, max_span_ticks=max_span)
    seen_ts, seen_tick = np.empty(0, np.int64), np.empty(0, np.int64)
    seen = {k: np.empty(0, np.int64) for k in FLOWS}
    t = 10 * WINDOW
    for _ in range(200):
        fresh = t + rng.integers(1, 400, int(rng.integers(0, 20)))
        late = t - rng.integers(0, 2 * WINDOW, int(rng.integers(0, 4)))
        ts = np.sort(np.concatenate([late, fresh])).astype(np.int64)
        tick = (19_200 + rng.integers(-10, 11, ts.size)).astype(np.int64)
        flows = {k: rng.integers(0, 9, ts.size) for k in FLOWS}
        pw.append(ts, tick, **flows)
        seen_ts, seen_tick = np.concatenate([seen_ts, ts]), np.concatenate([seen_tick, tick])
        seen = {k: np.concatenate([seen[k], flows[k]]) for k in FLOWS}
        t += int(rng.integers(0, 300))
        lo = np.array([19_190, 19_198, 19_205])
        hi = lo + 3
        got = pw.band_at(t, lo, hi)[0]
        inside = (seen_ts > t - WINDOW) & (seen_ts <= t)
        want = band_flows(seen_tick[inside], *(seen[k][inside] for k in FLOWS), lo, hi)
        for k in FLOWS:
            assert getattr(got, k).tolist() == getattr(want, k).tolist(), k
            assert np.all(getattr(got, k) >= 0)


def _refill_afresh(ts, tick, fill, add, t, lo, hi):  # type: ignore[no-untyped-def]
    """A band's refill over the window's rows, scanned in full (cancel-only rows included)."""
    inside = (ts > t - WINDOW) & (ts <= t) & (tick >= lo) & (tick <= hi)
    order = np.argsort(ts[inside], kind="stable")
    return refill(ts[inside][order], fill[inside][order], add[inside][order])


@pytest.mark.parametrize("seed", range(4))
def test_refills_kept_per_band_equal_the_window_scanned_afresh(seed: int) -> None:
    # each band's rows are carried from snap to snap and only the new ones scanned; bands
    # come and go, the window jumps past them, and late rows land inside windows already seen
    rng = np.random.default_rng(seed)
    pw = PriceWindow(WINDOW)
    seen_ts, seen_tick = np.empty(0, np.int64), np.empty(0, np.int64)
    seen = {k: np.empty(0, np.int64) for k in FLOWS}
    t, centre, asked = 10 * WINDOW, 19_200, 0
    for _ in range(300):
        gap = int(rng.choice([0, 50, 400, 2 * WINDOW], p=[0.3, 0.4, 0.25, 0.05]))
        fresh = t + gap + rng.integers(1, 300, int(rng.integers(0, 40)))
        late = t - rng.integers(0, 2 * WINDOW, int(rng.random() < 0.1))
        ts = np.sort(np.concatenate([late, fresh])).astype(np.int64)
        centre += int(rng.integers(-2, 3))
        tick = (centre + rng.integers(-8, 9, ts.size)).astype(np.int64)
        flows = {k: rng.integers(0, 9, ts.size) * (rng.random(ts.size) < 0.5) for k in FLOWS}
        pw.append(ts, tick, **flows)
        seen_ts, seen_tick = np.concatenate([seen_ts, ts]), np.concatenate([seen_tick, tick])
        seen = {k: np.concatenate([seen[k], flows[k]]) for k in FLOWS}
        t = max(t, int(fresh.max()) if fresh.size else t + gap)
        lo = centre + rng.integers(-6, 3, 3)
        hi = lo + rng.integers(2, 6, 3)
        wanted = rng.random(3) < 0.8
        flows_now, refills = pw.band_at(t, lo, hi, wanted)
        for i in range(3):
            want = _refill_afresh(
                seen_ts, seen_tick, seen["filled"], seen["added"], t, lo[i], hi[i]
            )
            if not (wanted[i] and flows_now.filled[i] > 0):
                assert refills[i] is None
                continue
            asked += 1
            assert refills[i] == want
    assert asked > 100
