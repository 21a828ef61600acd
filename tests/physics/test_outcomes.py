import numpy as np
import pytest

from physics.outcomes import brier, label_tests, wilson

S = 1_000_000_000


def path(*prices: float) -> tuple[np.ndarray, np.ndarray]:
    return np.arange(len(prices), dtype=np.int64) * S, np.array(prices)


def test_support_break_and_bounce() -> None:
    # down to 480, through by 0.20: BREAK; a jump back up through it is a resistance test
    # that breaks at once; then from above it holds and rises 0.20: BOUNCE
    ts, spot = path(480.30, 480.10, 480.02, 479.90, 479.79, 480.30, 480.04, 480.12, 480.25)
    tests = label_tests(ts, spot, 480.0, touch_band=0.05, move=0.20, horizon_ns=300 * S)
    assert [(t.side, t.touch_ns // S, t.outcome, t.decided_ns) for t in tests] == [
        ("support", 2, "BREAK", 4 * S),
        ("resistance", 5, "BREAK", 5 * S),
        ("support", 6, "BOUNCE", 8 * S),
    ]


def test_resistance_and_censoring() -> None:
    ts, spot = path(479.80, 479.97, 480.05, 479.99)  # never decides before the data ends
    (t,) = label_tests(ts, spot, 480.0, 0.05, 0.20, 300 * S)
    assert (t.side, t.outcome, t.decided_ns) == ("resistance", "CENSORED", None)


def test_grinding_at_the_level_is_one_test() -> None:
    ts, spot = path(480.2, 480.04, 480.01, 479.98, 480.03, 480.02, 480.3)
    assert len(label_tests(ts, spot, 480.0, 0.05, 0.20, 300 * S)) == 1


def test_horizon_censors() -> None:
    ts, spot = path(480.3, 480.02, 480.1, 480.12, 480.1)
    (t,) = label_tests(ts, spot, 480.0, 0.05, 0.20, horizon_ns=1 * S)
    assert t.outcome == "CENSORED"


def test_scores() -> None:
    assert brier(np.array([1.0, 0.0, 0.5]), np.array([True, False, True])) == pytest.approx(
        0.25 / 3
    )
    lo, hi = wilson(8, 10)
    assert lo == pytest.approx(0.490, abs=1e-3)
    assert hi == pytest.approx(0.943, abs=1e-3)


def test_a_jump_through_the_band_is_a_touch() -> None:
    ts, spot = path(480.3, 480.2, 479.9, 479.75)  # never sampled within 0.05 of 480
    (t,) = label_tests(ts, spot, 480.0, 0.05, 0.20, 300 * S)
    assert (t.side, t.touch_ns, t.outcome) == ("support", 2 * S, "BREAK")


def test_a_moving_level_is_tested_where_it_stands() -> None:
    # spot holds at 480.30 while the VWAP (unknown at first) climbs to meet it from below: a
    # support test at 480.27; spot then falls 0.24 through the VWAP of that moment: BREAK
    ts, spot = path(480.30, 480.30, 480.30, 480.30, 480.30, 480.04)
    vwap = np.array([np.nan, 480.10, 480.20, 480.27, 480.28, 480.28])
    (t,) = label_tests(ts, spot, vwap, 0.05, 0.20, 300 * S)
    assert (t.side, t.touch_ns // S, t.level, t.outcome) == ("support", 3, 480.27, "BREAK")


def test_a_level_that_appears_at_spot_has_no_approach_side() -> None:
    ts, spot = path(480.30, 480.30, 480.10)
    assert label_tests(ts, spot, np.array([np.nan, 480.29, 480.29]), 0.05, 0.20, 300 * S) == []
