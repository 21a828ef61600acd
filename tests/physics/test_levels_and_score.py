import pytest

from physics.config import PhysicsConfig
from physics.levels import active_levels, level_id, round_levels
from physics.score import (
    RollingMedian,
    across_the_level,
    arrival_s,
    belief_step,
    call_step,
    call_with_hysteresis,
    ewma,
    level_in_play,
    out_of_play_reason,
)


def test_round_levels_within_distance() -> None:
    assert round_levels(480.4, 1.0, 1.0) == [480.0, 481.0]
    assert round_levels(480.0, 1.0, 1.0) == [479.0, 480.0, 481.0]


def test_coincident_levels_merge_and_keep_every_kind() -> None:
    levels = active_levels(480.4, [480.0, 480.25], PhysicsConfig())
    assert [(lv.level_id, lv.kinds) for lv in levels] == [
        ("480.00", ("explicit", "round")),
        ("480.25", ("explicit",)),
        ("481.00", ("round",)),
    ]
    assert level_id(480.004) == "480.00"


def test_a_moving_level_keeps_its_kind_as_identity_and_does_not_merge() -> None:
    cfg = PhysicsConfig()
    for vwap in (480.00, 480.13, 480.14):
        levels = active_levels(480.4, [480.0], cfg, [(vwap, "vwap"), (481.37, "zero_gamma")])
        ids = {lv.level_id: (lv.price, lv.kinds) for lv in levels}
        assert ids["vwap"] == (vwap, ("vwap",))  # one level wherever it stands
        assert ids["480.00"] == (480.0, ("explicit", "round"))  # not merged into at 480.00
        assert ids["zero_gamma"] == (481.37, ("zero_gamma",))


def test_ewma_halves_the_gap_every_half_life() -> None:
    assert ewma(None, None, 0.8, 0, 1.0) == 0.8
    assert ewma(0.0, 0, 1.0, 1_000_000_000, 1.0) == pytest.approx(0.5)
    assert ewma(0.0, 0, 1.0, 2_000_000_000, 1.0) == pytest.approx(0.75)


SNAP_NS = 100_000_000


def test_belief_starts_neutral_and_one_snap_moves_it_at_most_max_step() -> None:
    assert belief_step(None, None, 0.38, 0, 1.0, SNAP_NS, 0.5) == pytest.approx(0.19)
    assert belief_step(None, None, 0.38, 0, 1.0, SNAP_NS, 1.0) == pytest.approx(0.38)
    # snap after snap the plain EWMA: 0.1 s at a 1 s half-life moves it 6.7% of the way
    step = belief_step(0.4, 0, 0.5, SNAP_NS, 1.0, SNAP_NS, 0.5)
    assert step == pytest.approx(0.4 + (1 - 0.5**0.1) * 0.1)


def test_belief_fades_to_neutral_while_its_level_is_out_of_sight() -> None:
    # a 0.40 formed 76 s before, then one snap reading 0.38: no stale call waiting
    assert belief_step(0.40, 0, 0.38, 76 * 10**9, 1.0, SNAP_NS, 0.5) == pytest.approx(0.19)
    # out of sight for one half-life (plus the snap): the old belief counts half
    faded = 0.40 * 0.5
    expected = faded + 0.5 * (0.38 - faded)  # dt 1.1 s would move it 53%: capped at 50%
    assert belief_step(0.40, 0, 0.38, 1_100_000_000, 1.0, SNAP_NS, 0.5) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("prev", "s", "expected"),
    [
        ("NEUTRAL", 0.35, "BREAK"),
        ("NEUTRAL", 0.30, "NEUTRAL"),
        ("BREAK", 0.25, "BREAK"),  # holds above the exit threshold
        ("BREAK", 0.19, "NEUTRAL"),
        ("BOUNCE", -0.21, "BOUNCE"),
        ("BREAK", -0.40, "BOUNCE"),
    ],
)
def test_hysteresis(prev: str, s: float, expected: str) -> None:
    assert call_with_hysteresis(prev, s, 0.35, 0.20) == expected  # type: ignore[arg-type]


def test_call_step_publishes_in_play_holds_out_of_play_and_resets_out_of_reach() -> None:
    kw = {"enter": 0.35, "exit_": 0.20}
    # formed while out of play: held, not published
    assert call_step("NEUTRAL", 0.5, in_play=False, abstain=False, reset=False, **kw) == (
        "BREAK",
        "NEUTRAL",
    )
    # held through a snap without evidence (no score): published once in play
    assert call_step("BREAK", None, in_play=True, abstain=False, reset=False, **kw) == (
        "BREAK",
        "BREAK",
    )
    # missing or stale evidence publishes ABSTAIN but keeps the call held
    assert call_step("BREAK", 0.3, in_play=True, abstain=True, reset=False, **kw) == (
        "BREAK",
        "ABSTAIN",
    )
    # beyond the call distance: published as usual, then cleared
    assert call_step("BOUNCE", -0.5, in_play=True, abstain=False, reset=True, **kw) == (
        "NEUTRAL",
        "BOUNCE",
    )


def test_config_rejects_exit_above_enter() -> None:
    with pytest.raises(ValueError, match="signal_exit"):
        PhysicsConfig(signal_enter=0.2, signal_exit=0.3)


@pytest.mark.parametrize(
    ("distance", "velocity", "s", "in_play"),
    [
        (0.04, -0.05, 1, True),  # at the level: in play whichever way spot goes
        (0.15, 0.03, 1, True),  # below a resistance, rising toward it: band in 3.3 s
        (0.15, -0.03, 1, False),  # falling away from it: no test coming, no call
        (0.15, -0.03, -1, True),  # above a support, falling toward it
        (0.15, None, -1, True),  # no history yet: not known to be leaving
        (0.11, 0.0, -1, False),  # flat: never arrives
        (0.30, 0.05, 1, False),  # beyond the call distance
    ],
)
def test_a_level_is_in_play_while_a_test_may_come(
    distance: float, velocity: float | None, s: int, in_play: bool
) -> None:
    assert level_in_play(distance, velocity, s, True, PhysicsConfig()) is in_play
    # spot has never been outside this level's touch band: no approach, no test, no call
    assert level_in_play(distance, velocity, s, False, PhysicsConfig()) is False


def test_a_tick_of_drift_far_from_the_band_is_not_an_approach() -> None:
    # docs/physics.md: one ES tick in just over the 5 s window toward a resistance 11 cents up
    # reaches the band in 12 s through an ordinary defence, beyond the 5 s it was measured over
    assert not level_in_play(0.11, 0.00497, 1, True, PhysicsConfig())
    # the same drift one cent from the band arrives in 2 s; four ticks a window from 11 cents, 3 s
    assert level_in_play(0.06, 0.00497, 1, True, PhysicsConfig())
    assert level_in_play(0.11, 0.02, 1, True, PhysicsConfig())
    # a longer horizon extrapolates the same velocity further
    assert level_in_play(0.11, 0.00497, 1, True, PhysicsConfig(approach_horizon_s=15.0))


def test_one_tick_from_the_band_a_test_is_under_way_unless_price_leaves() -> None:
    cfg = PhysicsConfig()  # one ES tick is 0.25 / 10 = $0.025 of SPY
    # two cents from the band under a wall five times as thick, drifting one tick a window:
    # 0.02 / (0.005 / 5) = 20 s through the defence, but one quote change puts spot in the band
    assert arrival_s(0.07, 0.005, 1, cfg, 5.0) == pytest.approx(20.0)
    assert level_in_play(0.07, 0.005, 1, True, cfg, thickness=5.0)
    assert level_in_play(0.07, 0.0, 1, True, cfg, thickness=5.0)  # held there, not moving
    assert not level_in_play(0.07, -0.005, 1, True, cfg, thickness=5.0)  # leaving it
    # a tick and a half out, the velocity times the arrival again: 0.0375 / (0.005 / 5) s
    assert not level_in_play(0.0875, 0.005, 1, True, cfg, thickness=5.0)
    # the same for a support (s = -1): price falling toward it is in play, rising away is not
    assert level_in_play(0.07, -0.005, -1, True, cfg, thickness=5.0)
    assert not level_in_play(0.07, 0.005, -1, True, cfg, thickness=5.0)


def test_the_tick_rule_reads_one_tick_at_the_live_ratio() -> None:
    cfg = PhysicsConfig()
    # 2.6 cents outside the band, drifting one tick a window through a wall five times as thick:
    # at the configured ratio (10) one ES tick is $0.025 of SPY, so 0.026 is beyond it and the
    # velocity times the arrival (0.026 / 0.001 = 26 s: not in play); at a live ratio of 9 one
    # tick is $0.0278, and a quote change puts spot in the band
    assert not level_in_play(0.076, 0.005, 1, True, cfg, thickness=5.0)
    assert not level_in_play(0.076, 0.005, 1, True, cfg, thickness=5.0, ratio=10.0)
    assert level_in_play(0.076, 0.005, 1, True, cfg, thickness=5.0, ratio=9.0)


def test_arrival_is_timed_through_the_defence() -> None:
    cfg = PhysicsConfig()
    # 13 cents from a vacuum (q = 0.2), one tick a window: 0.08 / (0.005 / 0.2) = 3.2 s
    assert level_in_play(0.13, 0.005, 1, True, cfg, thickness=0.2)
    assert not level_in_play(0.13, 0.005, 1, True, cfg)  # 16 s through an ordinary one
    # three cents from a wall three times as thick, one tick a window: 0.03 / (0.005 / 3) = 18 s
    assert not level_in_play(0.08, 0.005, 1, True, cfg, thickness=3.0)
    assert level_in_play(0.08, 0.01, 1, True, cfg)  # two ticks a window, ordinary: 3 s
    # moving away, no defence brings price back
    assert not level_in_play(0.07, -0.005, 1, True, cfg, thickness=0.05)


def test_in_play_and_the_published_arrival_time_agree_at_the_horizon() -> None:
    cfg = PhysicsConfig()
    # 11 cents to the band at 2.2 cents a second: 5 s, the horizon itself (in floating point
    # 0.022 * 5 falls short of 0.11, while 0.11 / 0.022 is 5.0)
    assert arrival_s(0.16, 0.022, 1, cfg) == cfg.approach_horizon_s
    assert level_in_play(0.16, 0.022, 1, True, cfg)


def test_the_arrival_time_is_published() -> None:
    cfg = PhysicsConfig()
    # docs/physics.md: 0.15 from a resistance at +0.03 $/s through an ordinary defence, 3.3 s;
    # from 0.13 toward a vacuum (q = 0.2) at one tick a window, 3.2 s
    assert arrival_s(0.15, 0.03, 1, cfg) == pytest.approx(0.10 / 0.03)
    assert arrival_s(0.13, 0.005, 1, cfg, thickness=0.2) == pytest.approx(3.2)
    assert arrival_s(0.04, -0.5, 1, cfg) == 0.0  # inside the touch band: arrived
    assert arrival_s(0.15, -0.03, 1, cfg) is None  # leaving it
    assert arrival_s(0.15, 0.0, 1, cfg) is None  # standing still
    assert arrival_s(0.15, None, 1, cfg) is None  # no velocity yet
    assert arrival_s(0.15, -0.03, -1, cfg) == pytest.approx(10 / 3)  # a support, price falling


def test_an_out_of_play_level_says_why() -> None:
    cfg = PhysicsConfig()

    def why(distance: float, velocity: float, thickness: float = 1.0) -> str:
        eta = arrival_s(distance, velocity, 1, cfg, thickness)
        return out_of_play_reason(distance, eta, cfg)

    assert why(0.30, 0.05) == "$0.30 from spot, beyond the $0.25 of a call"
    assert why(0.15, -0.03) == "spot is not moving toward it"
    assert why(0.11, 0.005) == (
        "at its 5 s velocity through the defence spot would reach it in 12 s, beyond 5 s"
    )
    assert why(0.07, 0.005, thickness=3.0).endswith("in 12 s, beyond 5 s")


def test_across_the_level_the_belief_keeps_its_direction() -> None:
    assert across_the_level(0.5, "BREAK") == (-0.5, "BOUNCE")  # through the level: it held on
    assert across_the_level(-0.4, "BOUNCE") == (0.4, "BREAK")
    assert across_the_level(None, "NEUTRAL") == (None, "NEUTRAL")
    m = RollingMedian(3)
    for x in (0.1, 0.2, 0.9, -0.3):
        m.add(x)
    m.negate()
    assert m.median() == -0.2  # of -0.2, -0.9, 0.3
    m.add(-1.0)  # the oldest (-0.2) leaves
    assert m.median() == -0.9
