"""The level step's call over a sequence of hand-built snaps: only the fuel and the approach
speak (the level's defence, when in view, reads 0: an ordinary band), so the score is known
in advance."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from dataflows.signals.items import LevelInput, SnapContext
from dataflows.signals.level_step import LevelState, step
from physics.book import Book, SideAtLevel
from physics.config import PhysicsConfig
from physics.fuel import FuelEvidence, hedge_lots_per_tick, lots_to_clear
from physics.levels import Level
from physics.tape import TapeWindow
from schemas.level_signal import LevelSignal

CFG = PhysicsConfig()
LEVEL = Level("480.00", 480.0, ("explicit",))
UNSEEN = SideAtLevel(depth=0, observable=False, quote_px=None, quote_sz=None)
ORDINARY = SideAtLevel(
    depth=100,
    observable=True,
    quote_px=4800.0,
    quote_sz=20,
    typical_queue=11.0,
    score=0.0,
    thickness=1.0,
)
WALL = SideAtLevel(
    depth=900,
    observable=True,
    quote_px=4800.0,
    quote_sz=600,
    typical_queue=11.0,
    score=-0.6,
    thickness=3.0,
)


def snap(
    i: int, spot: float, fuel: float, seen: bool = True, defence: SideAtLevel = ORDINARY
) -> LevelInput:
    """Snap ``i`` (100 ms apart): spot below the resistance at 480, rising at 0.03 $/s."""
    es = spot * 10
    book = Book(
        np.array([es - 0.125]), np.array([10]), np.array([es + 0.125]), np.array([10])
    )  # fmt: skip
    ctx = SnapContext(
        ts_ns=1_700_000_000_000_000_000 + i * 100_000_000, ratio=10.0, spot=spot, book=book,
        tape=TapeWindow(0, 0), velocity=0.03, book_age_ms=1.0, last_trade_age_ms=None,
        n_levels=1,
    )  # fmt: skip
    side = defence if seen else UNSEEN
    gex = _gex_reading(fuel, spot, side)
    evidence = FuelEvidence(fuel, "AMPLIFY" if fuel > 0 else "DAMPEN", gex, (gex, gex), False)
    return LevelInput(LEVEL, ctx, side, side, evidence)


def _gex_reading(fuel: float, spot: float, side: SideAtLevel) -> float:
    """The near-level GEX whose hedge, weighed against ``side`` (physics.fuel.fuel_score),
    reads ``fuel``: |fuel| = tanh(h / lots to clear), h linear in GEX (hedge_lots_per_tick)."""
    clear = lots_to_clear(side.thickness if side.observable else None, side.typical_queue, CFG)
    gain = 20.0 if abs(fuel) >= 1 else math.atanh(abs(fuel))  # tanh(20) is 1.0 in floats
    per_lot = 1.0 / hedge_lots_per_tick(1.0, spot, 10.0, CFG)  # GEX per lot a tick (ratio 10)
    return -math.copysign(gain * clear * per_lot, fuel)


def run(snaps: list[LevelInput]) -> list[LevelSignal]:
    state: LevelState | None = None
    out = []
    for inp in snaps:
        state, published = step(state, inp, CFG)
        out.append(published.signal)
    return out


def test_a_call_is_not_held_from_beyond_the_call_distance() -> None:
    # 30 cents away (beyond the 25 of a call) the fuel pushes the score past BREAK's 0.35,
    # then fades, and spot arrives 18 cents away, 4.3 s out at its pace, the score still in
    # BREAK's hold zone (0.20-0.35): no call was formed in reach, so none is made
    # tape tanh(0.03 / 0.05) = 0.537, barrier 0; raw (0.35 * 0.537^2 + 0.2 f |f|) / (0.35 * 0.537
    # + 0.2 |f|): 0.776 at f = 1, 0.094 at f = -0.6, so 2 s (a half-life each) after the fuel
    # turns it is 0.094 + 0.682 / 4 = 0.264
    far = [snap(i, 479.70, 1.0) for i in range(30)] + [
        snap(30 + i, 479.70, -0.6) for i in range(19)
    ]
    near = snap(49, 479.82, -0.6)
    signals = run([*far, near])
    assert signals[29].break_score is not None and signals[29].break_score > CFG.signal_enter
    assert all(s.signal == "NEUTRAL" for s in signals[:49])  # out of play: too far
    last = signals[-1]
    assert CFG.signal_exit < (last.break_score or 0) < CFG.signal_enter
    assert last.eta_s is not None and last.eta_s <= CFG.approach_horizon_s  # in play
    assert last.signal == "NEUTRAL"


def test_a_call_formed_within_reach_holds_through_the_hold_zone() -> None:
    # the same scores with spot 20 cents away throughout: BREAK is formed in reach and held
    near = [snap(i, 479.80, 1.0) for i in range(30)] + [
        snap(30 + i, 479.80, -0.6) for i in range(20)
    ]
    signals = run(near)
    assert signals[29].signal == "BREAK"
    last = signals[-1]
    assert CFG.signal_exit < (last.break_score or 0) < CFG.signal_enter
    assert last.signal == "BREAK"


def test_no_call_is_formed_while_the_defence_is_out_of_view() -> None:
    # the same approach with the level beyond the visible book: the tape and the fuel alone
    # (raw 0.776) say how price moves and what dealers do, not whether this level holds
    # is published raw, but no belief about the level is formed from it, and no call
    unseen = run([snap(i, 479.80, 1.0, seen=False) for i in range(30)])
    assert unseen[-1].break_score_raw == pytest.approx(0.776, abs=1e-3)  # past BREAK's 0.35
    assert {s.break_score for s in unseen} == {None}
    assert {s.signal for s in unseen} == {"NEUTRAL"} and unseen[-1].in_play
    # in view of an ordinary defence, the belief starts neutral and the first snap that sees
    # it moves it half the way (smoothing_max_step): 0.388, strong enough for a call alone
    seen = run([*(snap(i, 479.80, 1.0, seen=False) for i in range(30)), snap(30, 479.80, 1.0)])
    raw = seen[-1].break_score_raw
    assert raw is not None
    assert seen[-1].break_score == pytest.approx(CFG.smoothing_max_step * raw)
    assert seen[-1].signal == "BREAK"
    # a belief formed out of view is not carried into view: fuel +1 beyond the book, then a
    # wall in view (barrier -0.6) moves a neutral belief toward that snap's score
    walled = [snap(30, 479.80, 1.0, defence=WALL)]
    after = run([*(snap(i, 479.80, 1.0, seen=False) for i in range(30)), *walled])
    wall_raw = after[30].break_score_raw
    assert wall_raw is not None and wall_raw < CFG.signal_enter
    assert after[30].break_score == pytest.approx(CFG.smoothing_max_step * wall_raw)


def test_a_belief_from_an_earlier_approach_fades_while_the_level_is_out_of_sight() -> None:
    # fuel +1 in view 30 cents away (beyond call reach) builds a belief of 0.78; the level
    # then leaves the visible book for a minute, and comes back 20 cents away with fuel +0.3
    # (raw 0.479). The old belief has faded to nothing and one snap moves it half the way:
    # 0.24, no call; the same evidence held for about 0.9 s makes the BREAK
    # (0.479 - 0.35 = 0.54 of the way from 0.24 left: 0.5^t = 0.54 at t = 0.89 s)
    earlier = [snap(i, 479.70, 1.0) for i in range(30)]
    gone = [snap(30 + i, 479.70, 1.0, seen=False) for i in range(600)]
    back = [snap(630 + i, 479.80, 0.3) for i in range(12)]
    signals = run([*earlier, *gone, *back])
    assert (signals[29].break_score or 0) > 0.7
    first = signals[630]
    assert first.break_score_raw == pytest.approx(0.479, abs=1e-3)
    assert first.break_score == pytest.approx(0.24, abs=1e-3)
    assert first.in_play and first.signal == "NEUTRAL"
    called = [s.signal for s in signals[630:]]
    assert called.index("BREAK") == 9  # 0.9 s of the same evidence


def test_a_belief_carries_across_the_level_with_its_sign_turned() -> None:
    # BREAK formed on the resistance as price rises into it (the fuel and the tape agree);
    # then spot is through, 6 cents above: the level is a support now, and price going on up
    # is a bounce off it. The smoothed score goes on from the negated belief (-0.776 plus a
    # tenth of a second's step toward the new raw 0.255: -0.707), not from +0.776 read the
    # other way round: for as long as the smoothing took to forget it, a break *down*
    below = [snap(i, 479.90, 1.0) for i in range(30)]
    above = snap(30, 480.06, 1.0)
    signals = run([*below, above])
    assert signals[29].side == "resistance" and signals[29].signal == "BREAK"
    crossed = signals[30]
    assert crossed.side == "support"
    assert crossed.break_score is not None and crossed.break_score < -CFG.signal_enter
    assert crossed.break_score_robust is not None and crossed.break_score_robust < 0


def test_a_level_keeps_its_side_while_spot_wavers_across_it_inside_the_touch_band() -> None:
    # approached from below: a resistance; spot 3 cents above it is still inside the band, the
    # same test (as the outcome labels count it), so still the resistance; 6 cents above, out
    # of the band on the other side, it is a support
    path = [479.90, 479.97, 480.03, 479.99, 480.04, 480.06, 480.02]
    sides = [s.side for s in run([snap(i, x, 0.5) for i, x in enumerate(path)])]
    assert sides == ["resistance"] * 5 + ["support"] * 2


def test_dealers_hedging_says_nothing_of_direction_while_price_sits_on_the_level() -> None:
    # tape tanh(0.03 / 0.05) = 0.537 toward the resistance, barrier 0, fuel -0.8 (DAMPEN):
    # arriving, raw = (0.35 * 0.537^2 - 0.2 * 0.8^2) / (0.35 * 0.537 + 0.2 * 0.8) = -0.078
    approach = [snap(i, 479.90, -0.8) for i in range(3)]
    touch = snap(3, 479.97, -0.8)  # inside the 5-cent touch band
    after = [snap(4 + i, 479.93, -0.8) for i in range(60)]  # back out, for 6 s
    signals = run([*approach, touch, *after])
    assert signals[2].break_score_raw == pytest.approx(-0.078, abs=1e-3)
    assert "price on the level" not in signals[2].reason
    # within 5 s of the touch the damping holds price on the level: the tape alone speaks
    assert signals[4].break_score_raw == pytest.approx(0.537, abs=1e-3)
    assert signals[4].fuel.score == pytest.approx(-0.8)  # the reading itself is still published
    assert "price on the level: no direction" in signals[4].reason
    # more than 5 s after it, an approach again: the damping counts against the break
    assert signals[-1].break_score_raw == pytest.approx(-0.078, abs=1e-3)
    # dealers short gamma: with the approach (BREAK) on the way, no direction on the level
    amplify = run([snap(0, 479.90, 0.8), snap(1, 479.97, 0.8), snap(2, 479.93, 0.8)])
    assert amplify[0].break_score_raw is not None and amplify[0].break_score_raw > 0.6
    assert amplify[2].break_score_raw == pytest.approx(0.537, abs=1e-3)  # the tape alone


def test_the_same_dealer_gamma_weighs_less_against_a_wall() -> None:
    # a GEX whose hedge reads +0.5 against ordinary queues of 11 lots (q = 1) is three times
    # smaller against a wall three times as thick: tanh(atanh(0.5) / 3) = 0.181
    ordinary = snap(0, 479.92, 0.5)  # in play either way, 3 s out at the wall's pace
    walled = dataclasses.replace(ordinary, bids=WALL, asks=WALL)
    (plain,), (wall,) = run([ordinary]), run([walled])
    assert plain.fuel.score == pytest.approx(0.5)
    assert wall.fuel.score == pytest.approx(0.181, abs=1e-3)
    assert wall.fuel.hedge_lots_per_tick == pytest.approx(plain.fuel.hedge_lots_per_tick or 0)
    assert (plain.fuel.lots_to_clear, wall.fuel.lots_to_clear) == (11.0, 33.0)
    assert wall.fuel.regime == plain.fuel.regime == "AMPLIFY"  # the dealers' position, as read
    assert "lots a tick against 33.0" in wall.reason
