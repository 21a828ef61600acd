"""The worked examples of docs/physics.md, reproduced."""

import numpy as np
import pytest

from physics.barrier import (
    BandFlows,
    Refill,
    band_flows,
    band_scores,
    barrier_score,
    barrier_state,
    defence_thickness,
    pull_ratio,
    pulled_outflow,
    refill,
    resilience,
    restable_prices,
    thickness,
    time_to_clear_s,
    touch_ticks,
    vacuum_pressure,
)
from physics.config import PhysicsConfig
from physics.score import RollingMedian, combine
from physics.tape import TapeSums, TapeWindow, tape_score

CFG = PhysicsConfig()


def one(a: int, c: int, f: int) -> BandFlows:
    return BandFlows(np.array([a]), np.array([c]), np.array([f]))


def test_worked_example_vacuum() -> None:
    # D0 = 200 defending at window start; 10 added, 60 pulled, 30 filled since: D = 120.
    v = vacuum_pressure(np.array([200]), np.array([120]), eps=1.0)
    assert v[0] == pytest.approx(80 / 201)
    # of the 80 that left, 30 traded (price arriving, the tape's evidence): 50 were pulled
    pulled = pulled_outflow(np.array([200]), np.array([120]), np.array([30]), eps=1.0)
    assert pulled[0] == pytest.approx(50 / 201)
    # fills beyond what left explain all of it, and never turn an outflow into an inflow
    assert pulled_outflow(np.array([200]), np.array([150]), np.array([80]), 1.0)[0] == 0.0
    # the band holds 120 where the book shows 40 a price (9 prices): q = 121/361, thin
    q = thickness(np.array([120]), np.array([40.0]), 9, eps=1.0)
    x = np.array([np.tanh(100 / 201), -np.tanh(np.log(121 / 361))])  # 0.460, 0.798
    assert barrier_score(pulled, q)[0] == pytest.approx((x @ x) / x.sum())  # 0.674
    # the 30 filled while depth fell (by the net outflow) earn little resilience
    r = resilience(np.array([30.0]), np.array([40.0]), 9, v, eps=1.0)
    assert r[0] == pytest.approx(np.tanh(30 / 361) * (1 - 160 / 201))
    score = barrier_score(pulled, q, r)[0]
    assert score == pytest.approx(0.6653, abs=1e-4)
    assert (
        barrier_state(score, depth=120, median_depth=150.0, flows_a=10, flows_f=30, cfg=CFG)
        == "VACUUM"
    )
    assert pull_ratio(60, 30) == pytest.approx(2 / 3)


def test_worked_example_wall_and_absorption() -> None:
    # refills outpace what left: D0 100, +80 added, 10 pulled, 10 filled: D = 160
    v = vacuum_pressure(np.array([100]), np.array([160]), 1.0)
    # a band that grew keeps its outflow: fills only explain depth that left
    assert pulled_outflow(np.array([100]), np.array([160]), np.array([10]), 1.0)[0] == v[0]
    q = thickness(np.array([160]), np.array([10.0]), 9, 1.0)  # 161/91: thicker than the book
    assert barrier_score(v, q)[0] == pytest.approx(-0.5800, abs=1e-4)  # before resilience
    r = resilience(np.array([10.0]), np.array([10.0]), 9, v, 1.0)  # depth held: all of it
    assert r[0] == pytest.approx(np.tanh(10 / 91))
    # pooled by strength, a weak term that agrees draws the score toward itself
    s = barrier_score(v, q, r)[0]
    assert s == pytest.approx(-0.5390, abs=1e-4)
    assert (
        barrier_state(s, depth=160, median_depth=120.0, flows_a=80, flows_f=10, cfg=CFG) == "WALL"
    )
    assert (
        barrier_state(s, depth=100, median_depth=120.0, flows_a=80, flows_f=10, cfg=CFG)
        == "NEUTRAL"
    )
    # eating 40 contracts of aggression while refilling 50: absorption
    assert (
        barrier_state(0.1, depth=90, median_depth=None, flows_a=50, flows_f=40, cfg=CFG)
        == "ABSORPTION"
    )
    assert barrier_state(0.0, depth=4, median_depth=None, flows_a=0, flows_f=0, cfg=CFG) == "WEAK"


def test_churn_does_not_hide_a_vanished_defence() -> None:
    # 300 defending at the start, whatever churned in between, nothing left: v ~ 1
    assert vacuum_pressure(np.array([300]), np.array([0]), eps=1.0)[0] == pytest.approx(300 / 301)
    # a band far thicker than the book scores toward BOUNCE even with no flow
    q = thickness(np.array([2000]), np.array([50.0]), 9, eps=1.0)
    assert barrier_score(np.array([0.0]), q)[0] == pytest.approx(-np.tanh(np.log(2001 / 451)))
    # and nothing at all (no flow, an ordinary band, nothing absorbed) is no evidence: 0
    assert barrier_score(np.array([0.0]), np.array([1.0]), np.array([0.0]))[0] == 0.0


def test_band_flows_sum_only_inside_each_band() -> None:
    ticks = np.array([19200, 19202, 19210])
    f = band_flows(ticks, np.array([1, 2, 4]), np.array([0, 5, 0]), np.array([3, 0, 0]),
                   np.array([0, 7, 1]), lo_tick=np.array([19196, 19206]),
                   hi_tick=np.array([19204, 19214]))  # fmt: skip
    assert f.added.tolist() == [3, 4]
    assert f.cancelled.tolist() == [5, 0]
    assert f.filled.tolist() == [3, 0]
    assert f.hidden.tolist() == [7, 1]


def test_worked_example_the_prices_a_test_trades_at() -> None:
    # level 479.95 (ES 4799.50), band 4798.50-4800.50 (ticks 19194-19202), touch band $0.05
    # (0.50 ES): an ask at 4799.25 puts spot at 479.9125, inside the touch band; one at
    # 4799.00 puts it at 479.8875, outside. Bids mirror it
    level = np.array([4799.5])
    asks_from, bids_to = touch_ticks(level, np.array([19194]), np.array([19202]), 0.5, 0.25)
    assert (asks_from[0] * 0.25, bids_to[0] * 0.25) == (4799.25, 4799.75)
    # a touch band wider than the band stops at the band
    asks_from, bids_to = touch_ticks(level, np.array([19194]), np.array([19202]), 5.0, 0.25)
    assert (asks_from[0], bids_to[0]) == (19194, 19202)


def test_time_to_clear() -> None:
    assert time_to_clear_s(120, aggressive_volume=60, window_s=5.0) == pytest.approx(10.0)
    assert time_to_clear_s(120, aggressive_volume=0, window_s=5.0) is None


def test_worked_example_absorbing_wall_and_a_swept_one() -> None:
    # D0 = D = 600 in a 9-price band, 400 filled, typical queue 40
    v = vacuum_pressure(np.array([600]), np.array([600]), eps=1.0)
    q = thickness(np.array([600.0]), np.array([40.0]), 9, eps=1.0)
    r = resilience(np.array([400.0]), np.array([40.0]), 9, v, eps=1.0)
    assert r[0] == pytest.approx(np.tanh(400 / 361), abs=1e-3)
    assert barrier_score(v, q, r)[0] == pytest.approx(-0.680, abs=1e-3)
    swept = vacuum_pressure(np.array([600]), np.array([100]), eps=1.0)  # v = 0.832
    assert resilience(np.array([400.0]), np.array([40.0]), 9, swept, eps=1.0)[0] == 0.0
    # against it, aggression that did not move price confirms little
    assert tape_score(-0.5, 0.0, s=-1, u_ref=0.05, absorbed=0.8) == pytest.approx(0.05)
    assert tape_score(0.5, 0.0, s=-1, u_ref=0.05, absorbed=0.8) == pytest.approx(-0.25)


def test_worked_example_tape() -> None:
    # support (s = -1): sellers 75% of volume (ofi -0.5), spot falling 0.05 $/s
    assert tape_score(-0.5, -0.05, s=-1, u_ref=0.05) == pytest.approx((0.5 + np.tanh(1.0)) / 2)
    assert tape_score(None, None, s=1, u_ref=0.05) is None
    assert tape_score(1.0, None, s=1, u_ref=0.05) == 1.0


def test_worked_example_velocity_through_the_defence() -> None:
    # support, no trades, spot falling 0.02 $/s toward it: through an ordinary defence (q 1)
    # tanh(0.4); through a wall three times as thick, a third of the speed; through a vacuum
    # (q 0.25), four times it. Moving away, the defence does not matter.
    assert tape_score(None, -0.02, s=-1, u_ref=0.05) == pytest.approx(np.tanh(0.4))
    assert tape_score(None, -0.02, s=-1, u_ref=0.05, thickness=3.0) == pytest.approx(
        np.tanh(0.4 / 3)
    )
    assert tape_score(None, -0.02, s=-1, u_ref=0.05, thickness=0.25) == pytest.approx(np.tanh(1.6))
    assert tape_score(None, 0.02, s=-1, u_ref=0.05, thickness=3.0) == pytest.approx(np.tanh(-0.4))
    # q is held to [e^-3, e^3], as ln q in the barrier score: an empty band is not infinitely thin
    assert tape_score(None, -0.0005, s=-1, u_ref=0.05, thickness=1e-6) == pytest.approx(
        np.tanh(0.01 * np.exp(3.0))
    )


def test_worked_example_score_weighs_each_reading_by_its_strength() -> None:
    w = {"barrier": 0.45, "tape": 0.35, "fuel": 0.20}
    # docs/physics.md: missing fuel drops out; 0.64 and 0.69 pool to 0.663
    assert combine({"barrier": 0.64, "tape": 0.69, "fuel": None}, w) == pytest.approx(
        (0.45 * 0.64**2 + 0.35 * 0.69**2) / (0.45 * 0.64 + 0.35 * 0.69)
    )
    assert combine({"barrier": 0.64, "tape": 0.69}, w) == pytest.approx(0.663, abs=1e-3)
    # a clear wall, a tape that says little, an even gamma book: -0.637, where a plain
    # weighted mean (-0.274) would make no call; a silent fuel reading changes nothing
    wall = {"barrier": -0.8, "tape": 0.2, "fuel": 0.0}
    assert combine(wall, w) == pytest.approx(-0.637, abs=1e-3)
    assert combine(wall, w) == combine({**wall, "fuel": None}, w)
    assert combine({"barrier": 0.0, "tape": 0.0, "fuel": None}, w) == 0.0
    assert combine({"barrier": None, "tape": None, "fuel": None}, w) is None


def test_rolling_median_forgets_the_oldest() -> None:
    m = RollingMedian(3)
    assert m.median() is None
    for x in (5, 1, 9, 7):
        m.add(x)
    assert m.median() == 7  # of 1, 9, 7


def test_worked_example_robust_smoother() -> None:
    m = RollingMedian(11)
    for x in (0.1, 0.2, 0.9):
        m.add(x)
    assert m.median() == 0.2


def test_refill_half_life_worked_example() -> None:
    # docs/physics.md: 10 filled at 0 s, 3 added at 0.2 s, 4 at 0.5 s -> half (5) back at
    # 0.5 s; 6 filled at 1.0 s and nothing after. Half-life 0.5 s, share 10 / 16.
    s = 1_000_000_000
    ts = np.array([0, s // 5, s // 2, s], np.int64)
    r = refill(ts, np.array([10, 0, 0, 6]), np.array([0, 3, 4, 0]))
    assert (r.half_life_s, r.refilled_share) == (0.5, 0.625)


def test_refill_counts_the_same_update_and_groups_its_rows() -> None:
    # one book update fills 8 at one price and re-posts 4 at another: refilled at once
    ts = np.array([5, 5, 9], np.int64)
    assert refill(ts, np.array([0, 8, 0]), np.array([4, 0, 0])) == Refill(0.0, 1.0)
    assert refill(ts, np.array([0, 0, 0]), np.array([4, 0, 0])) == Refill(None, None)
    assert refill(ts, np.array([8, 0, 0]), np.array([0, 0, 3])) == Refill(None, 0.0)


@pytest.mark.parametrize("seed", range(20))
def test_refill_is_unchanged_without_the_rows_that_neither_fill_nor_add(seed: int) -> None:
    # the price window drops those rows (cancels) before measuring refills, once for all bands
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 60))
    ts = np.sort(rng.integers(0, 30, n)).astype(np.int64) * 100_000_000
    kind = rng.integers(0, 3, n)  # 0: a fill, 1: an add, 2: a cancel
    filled = np.where(kind == 0, rng.integers(1, 20, n), 0)
    added = np.where(kind == 1, rng.integers(1, 20, n), 0)
    used = (filled > 0) | (added > 0)
    assert refill(ts[used], filled[used], added[used]) == refill(ts, filled, added)


def test_band_scores_score_every_level_of_a_side_at_once() -> None:
    # docs/physics.md's vacuum (D0 200 -> D 120, F 30) and an absorbing wall (600 -> 600, F
    # 400), both with Q = 40 and n = 9, scored together as one snap's side
    # (largest queues 30 and 120: neither thicker than its band)
    filled = np.array([30, 400])  # all where a test trades
    s = band_scores(np.array([200, 600]), np.array([120, 600]), np.array([30, 120]),
                    filled, filled, 40.0, np.array([9, 9]), CFG)  # fmt: skip
    assert s.score.tolist() == pytest.approx([0.665, -0.680], abs=1e-3)
    assert s.resilience.tolist() == pytest.approx([0.017, 0.803], abs=1e-3)
    assert s.thickness.tolist() == pytest.approx([121 / 361, 601 / 361])


def test_worked_example_the_band_prices_a_defence_can_rest_on() -> None:
    # resistance at 4800.00 (tick 19200), band 4799.00-4801.00: with the best bid at 4799.75
    # the asks can rest on 4800.00-4801.00 only, five prices; with the bids further away,
    # on all nine. Bids of the same band rest below the best ask.
    lo, hi = np.array([19196]), np.array([19204])
    assert restable_prices(lo, hi, 19199.0, bids=False).tolist() == [5]
    assert restable_prices(lo, hi, 19190.0, bids=False).tolist() == [9]
    assert restable_prices(lo, hi, 19200.0, bids=True).tolist() == [4]
    assert restable_prices(lo, hi, float("nan"), bids=True).tolist() == [9]
    # an ordinary book there (60 a price, median queue 60) is ordinary, not half empty
    assert thickness(np.array([300.0]), np.array([60.0]), 5, 1.0)[0] == pytest.approx(1.0)
    assert thickness(np.array([300.0]), np.array([60.0]), 9, 1.0)[0] == pytest.approx(301 / 541)


def test_worked_example_one_queue_wall() -> None:
    # 600 at the level among 60-lot queues, nine prices: the band is only twice an ordinary
    # one (1080 against 540), the queue is 600 / (3 x 60) = 3.3 ordinary queues' worth of wall
    q = defence_thickness(np.array([1080.0]), np.array([600.0]), np.array([60.0]), 9, 3.0, 1.0)
    assert q[0] == pytest.approx(601 / 181)
    assert barrier_score(np.array([0.0]), q)[0] == pytest.approx(-0.834, abs=1e-3)
    # an ordinary band: its largest queue (90) is no wall, the band's own depth decides
    q = defence_thickness(np.array([540.0]), np.array([90.0]), np.array([60.0]), 9, 3.0, 1.0)
    assert q[0] == pytest.approx(541 / 541)


def test_tape_window_volumes_from_running_sums() -> None:
    # trades at 0..9 s, alternately bought and sold, and one of unknown side; a 5 s window
    # ending at T takes (T - 5 s, T]: a trade exactly at T - 5 s is out, one at T is in
    ts = np.arange(10, dtype=np.int64) * 1_000_000_000
    size = np.arange(1, 11, dtype=np.int64)
    is_buy = np.arange(10) % 2 == 0
    is_sell = ~is_buy
    is_sell[7] = False  # side N: neither
    sums = TapeSums.of(ts, size, is_buy, is_sell)
    assert sums.window(9_000_000_000, 5_000_000_000) == TapeWindow(7 + 9, 6 + 10)
    assert sums.window(4_500_000_000, 5_000_000_000) == TapeWindow(1 + 3 + 5, 2 + 4)
    assert sums.window(-1, 5_000_000_000) == TapeWindow(0, 0)
    assert sums.window(20_000_000_000, 5_000_000_000) == TapeWindow(0, 0)
    assert TapeSums.of(ts[:0], size[:0], is_buy[:0], is_sell[:0]).window(0, 1) == TapeWindow(0, 0)
