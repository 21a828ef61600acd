import numpy as np

from evaluation.metrics import (
    CallInputs,
    LevelSeries,
    clustered_ci,
    recalled,
    score_tests,
    summarise,
    threshold_summary,
    threshold_tests,
)
from physics.config import PhysicsConfig
from physics.outcomes import wilson

S = 1_000_000_000


def series(price: float, calls: list[tuple[int, str, float]]) -> LevelSeries:
    return LevelSeries(
        price,
        ("round",),
        np.array([t * S for t, _, _ in calls], np.int64),
        np.array([c for _, c, _ in calls]),
        np.array([x for _, _, x in calls]),
    )


def test_the_call_counted_is_the_one_published_at_or_before_the_touch() -> None:
    ts = np.arange(10, dtype=np.int64) * S
    spot = np.array([480.3, 480.2, 480.1, 480.03, 479.9, 479.75, 479.7, 479.7, 479.7, 479.7])
    lv = series(
        480.0, [(0, "NEUTRAL", 0.0), (2, "BREAK", 0.5), (3, "BREAK", 0.6), (4, "BOUNCE", -0.9)]
    )
    cfg = PhysicsConfig(lead_times_s=(1.0, 3.0), min_tests=1)
    (s,) = score_tests(ts, spot, [lv], cfg)
    assert (s.test.outcome, s.test.touch_ns, s.call, s.break_score) == (
        "BREAK",
        3 * S,
        "BREAK",
        0.6,
    )
    assert s.lead_calls == {1.0: "BREAK", 3.0: "NEUTRAL"}
    assert s.lead_s == 1.0  # BREAK since 2 s, unbroken to the touch at 3 s
    summary = summarise([s], cfg)
    assert summary["lead_time_s"]["all"] == {"n": 1, "median": 1.0, "p25": 1.0, "p75": 1.0}
    assert summary["lead_time_s"]["wrong"]["n"] == 0
    assert summary["hit_rate"]["value"] == 1.0
    assert summary["per_class"]["BREAK"]["recall"]["value"] == 1.0


def test_rates_below_the_minimum_are_withheld() -> None:
    ts = np.arange(6, dtype=np.int64) * S
    spot = np.array([480.3, 480.02, 480.3, 480.3, 480.3, 480.3])
    (s,) = score_tests(ts, spot, [series(480.0, [(0, "BOUNCE", -0.5)])], PhysicsConfig())
    summary = summarise([s], PhysicsConfig())  # min_tests 30
    assert s.test.outcome == "BOUNCE"
    assert summary["hit_rate"] == {"n": 1, "value": None, "note": "withheld: fewer than 30"}
    assert summary["probability"]["n"] == 1
    assert "brier" not in summary["probability"]


def test_clustered_interval_widens_when_sessions_disagree() -> None:
    # 50 tests right in one session, 50 wrong in another: as a sample of 100 independent tests
    # the rate looks pinned near 50%; as two sessions it says almost nothing.
    clustered = clustered_ci(np.array([50.0, 0.0]), np.array([50.0, 50.0]))
    lo, hi = wilson(50, 100)
    assert clustered == [0.0, 1.0]
    assert hi - lo < 0.2


def test_clustered_interval_worked_example() -> None:
    # p = 10/30; residuals -1/3, 5/3, -4/3; se = sqrt(3/2 * 14/3) / 30 = 0.08819
    lo, hi = clustered_ci(np.array([3.0, 5.0, 2.0]), np.array([10.0, 10.0, 10.0])) or (0, 0)
    assert (round(lo, 4), round(hi, 4)) == (0.1605, 0.5062)
    assert clustered_ci(np.array([3.0]), np.array([10.0])) is None


def test_rates_cluster_on_the_session_given() -> None:
    ts = np.arange(6, dtype=np.int64) * S
    spot = np.array([480.3, 480.02, 480.3, 480.3, 480.3, 480.3])
    lv = series(480.0, [(0, "BOUNCE", -0.5)])
    cfg = PhysicsConfig(min_tests=1)
    tests = [
        *score_tests(ts, spot, [lv], cfg, session="run-a"),
        *score_tests(ts, spot, [lv], cfg, session="run-b"),
    ]
    summary = summarise(tests, cfg)
    assert summary["sessions"] == 2
    assert summary["hit_rate"]["sessions"] == 2
    assert summary["hit_rate"]["ci95_clustered"] == [1.0, 1.0]  # both right: no spread
    (dated,) = score_tests(ts, spot, [lv], cfg)
    assert dated.session == "1969-12-31"  # the New York date of the touch by default


def test_the_lead_time_is_how_long_the_call_at_the_touch_had_stood() -> None:
    # a resistance at 480 touched at 5 s (it bounces) and 15 s (it breaks): BOUNCE from 1 s,
    # broken by NEUTRAL at 3 s, BOUNCE again from 4 s: it has stood 1 s at the first touch;
    # BREAK from 7 s has stood 8 s at the second
    ts = np.arange(25, dtype=np.int64) * S
    spot = np.array([479.7] * 5 + [479.97] + [479.7] * 9 + [479.97] + [480.3] * 9)
    calls = [(0, "NEUTRAL", 0.0), (1, "BOUNCE", -0.5), (3, "NEUTRAL", 0.0), (4, "BOUNCE", -0.5)]
    calls += [(7, "BREAK", 0.5), (8, "BREAK", 0.6), (20, "NEUTRAL", 0.0)]
    cfg = PhysicsConfig(min_tests=2)
    tests = score_tests(ts, spot, [series(480.0, calls)], cfg)
    assert [(t.test.touch_ns // S, t.call, t.lead_s) for t in tests] == [
        (5, "BOUNCE", 1.0),
        (15, "BREAK", 8.0),
    ]
    lead = summarise(tests, cfg)["lead_time_s"]
    assert lead["all"] == lead["right"] == {"n": 2, "median": 4.5, "p25": 2.75, "p75": 6.25}
    assert lead["wrong"] == {"n": 0, "median": None, "note": "withheld: fewer than 2"}


def test_tests_are_counted_by_the_fuel_regime_at_the_touch() -> None:
    # the same path as above: dealers dampening at the first touch (it bounces), amplifying at
    # the second (it breaks); the second call is BREAK, the first BOUNCE: both right
    ts = np.arange(25, dtype=np.int64) * S
    spot = np.array([479.7] * 5 + [479.97] + [479.7] * 9 + [479.97] + [480.3] * 9)
    lv = LevelSeries(
        480.0, ("round",), np.array([0, 4, 10], np.int64) * S,
        np.array(["NEUTRAL", "BOUNCE", "BREAK"]), np.array([0.0, -0.5, 0.5]),
        regimes=np.array(["MISSING", "DAMPEN", "AMPLIFY"]),
    )  # fmt: skip
    cfg = PhysicsConfig(min_tests=1)
    tests = score_tests(ts, spot, [lv], cfg)
    assert [(t.regime, t.call, t.test.outcome) for t in tests] == [
        ("DAMPEN", "BOUNCE", "BOUNCE"),
        ("AMPLIFY", "BREAK", "BREAK"),
    ]
    by = summarise(tests, cfg)["by_regime"]
    assert by["DAMPEN"]["base_rate_break"]["value"] == 0.0
    assert by["AMPLIFY"]["base_rate_break"]["value"] == 1.0
    assert by["AMPLIFY"]["hit_rate"]["value"] == by["DAMPEN"]["hit_rate"]["value"] == 1.0


def test_calls_made_again_at_other_thresholds_follow_the_smoothed_score() -> None:
    # a resistance at 480 approached from 479.80: the smoothed score climbs to 0.45 at the touch
    # (t = 4 s), having passed 0.25 at 2 s; price then breaks
    ts = np.arange(12, dtype=np.int64) * S
    spot = np.array(
        [479.8, 479.85, 479.9, 479.93, 480.02, 480.1, 480.2, 480.3, 480.3, 480.3, 480.3, 480.3]
    )
    scores = [0.0, 0.1, 0.25, 0.3, 0.45, 0.5]
    published = ["NEUTRAL", "NEUTRAL", "NEUTRAL", "NEUTRAL", "BREAK", "BREAK"]
    lv = LevelSeries(
        480.0, ("round",), ts[:6], np.array(published), np.array(scores),
        calling=CallInputs(
            scored=np.ones(6, bool), in_play=np.ones(6, bool),
            distance=np.abs(spot[:6] - 480.0), active=np.ones(6, bool),
        ),
    )  # fmt: skip
    cfg = PhysicsConfig(min_tests=1, sensitivity_signal_enter=(0.2, 0.35, 0.5))
    # at the configured 0.35 / 0.20 the published calls come back
    assert recalled(lv, 0.35, cfg).signal.tolist() == published
    # at 0.2 the call comes two snaps earlier; at 0.5 not until after the touch
    assert recalled(lv, 0.2, cfg).signal.tolist()[2:5] == ["BREAK"] * 3
    by_enter = threshold_tests(ts, spot, [lv], cfg)
    assert [by_enter[e][0].call for e in (0.2, 0.35, 0.5)] == ["BREAK", "BREAK", "NEUTRAL"]
    table = threshold_summary(by_enter, cfg)
    assert table["0.5"]["coverage"]["value"] == 0.0
    assert table["0.2"]["hit_rate"]["value"] == 1.0
    # a level beyond the call distance does not carry a call formed there into reach
    far = LevelSeries(
        480.0, ("round",), ts[:3], np.array(["NEUTRAL"] * 3), np.array([0.5, 0.3, 0.3]),
        calling=CallInputs(
            np.ones(3, bool), np.array([False, True, True]), np.array([0.4, 0.2, 0.1]),
            np.ones(3, bool),
        ),
    )  # fmt: skip
    assert recalled(far, 0.35, cfg).signal.tolist() == ["NEUTRAL"] * 3
    # signals without in_play cannot be called again: the table says so
    assert "note" in threshold_summary(
        threshold_tests(ts, spot, [series(480.0, [(0, "NEUTRAL", 0.0)])], cfg), cfg
    )


def test_calls_into_the_test_are_read_on_its_side_until_the_outcome_is_known() -> None:
    # a resistance touched at 4 s (spot 480.02), through to 480.06 at 5 s: the signal there is
    # the support's BOUNCE, this test's BREAK; decided (0.20 through) at 7 s
    ts = np.arange(10, dtype=np.int64) * S
    spot = np.array([479.8, 479.85, 479.9, 479.93, 480.02, 480.06, 480.1, 480.25, 480.3, 480.3])
    lv = LevelSeries(
        480.0, ("round",), ts[:8],
        np.array(["NEUTRAL"] * 4 + ["BREAK", "BOUNCE", "NEUTRAL", "BOUNCE"]),
        np.array([0.0, 0.1, 0.2, 0.3, 0.4, -0.5, -0.3, -0.5]),
        sides=np.array(["resistance"] * 5 + ["support"] * 3),
    )  # fmt: skip
    cfg = PhysicsConfig(min_tests=1, after_touch_s=(1.0, 2.0, 3.0))
    (t,) = score_tests(ts, spot, [lv], cfg)
    assert (t.test.side, t.test.outcome, t.test.decided_ns) == ("resistance", "BREAK", 7 * S)
    assert t.after_calls == {1.0: "BREAK", 2.0: "NEUTRAL", 3.0: "DECIDED"}
    after = summarise([t], cfg)["hit_rate_after_touch_s"]
    assert after["1.0"]["hit_rate"]["value"] == 1.0
    assert after["2.0"]["coverage"]["value"] == 0.0
    assert after["3.0"]["undecided"] == 0


def test_calls_made_again_turn_with_the_side_as_the_dataflow_does() -> None:
    # BREAK on the resistance at 0.5; spot through, the support's score -0.3 (0.3 the other
    # way round, in the hold zone): the held call turned with the side is BOUNCE, published
    ts = np.array([0, 1], np.int64) * S
    lv = LevelSeries(
        480.0, ("round",), ts, np.array(["BREAK", "BOUNCE"]), np.array([0.5, -0.3]),
        calling=CallInputs(np.ones(2, bool), np.ones(2, bool), np.array([0.04, 0.06]),
                           np.ones(2, bool)),
        sides=np.array(["resistance", "support"]),
    )  # fmt: skip
    assert recalled(lv, 0.35, PhysicsConfig()).signal.tolist() == ["BREAK", "BOUNCE"]
