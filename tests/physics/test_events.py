"""Level events: the online test detector agrees with the offline labeller on any path."""

from __future__ import annotations

import numpy as np
import pytest

from physics.config import PhysicsConfig
from physics.events import LevelWatch, Observation, observe
from physics.outcomes import label_tests

CFG = PhysicsConfig()
LEVEL = 480.0


def _obs(ts_ns: int, spot: float, signal: str = "NEUTRAL", barrier: str = "NEUTRAL",
         filled: int = 0, tape: float | None = None) -> Observation:  # fmt: skip
    return Observation(ts_ns, spot, LEVEL, signal, barrier, filled, tape)


def _online(ts: np.ndarray, spot: np.ndarray) -> list[tuple[str, int, str, int]]:
    """(side, touch_ns, outcome, decided_ns) from the detector; undecided ones censored."""
    w = LevelWatch()
    done: list[tuple[str, int, str, int]] = []
    for t, s in zip(ts, spot, strict=True):
        for d in observe(w, _obs(int(t), float(s)), CFG):
            if d.kind in ("BREAK", "BOUNCE", "CENSORED") and d.test is not None:
                decided = int(t) if d.kind != "CENSORED" else -1
                done.append((d.test.side, d.test.touch_ns, d.kind, decided))
    done += [(p.side, p.touch_ns, "CENSORED", -1) for p in w.pending]
    return sorted(done, key=lambda x: x[1])


@pytest.mark.parametrize("seed", range(12))
def test_online_tests_equal_label_tests_on_random_walks(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 3000
    ts = np.cumsum(rng.integers(100, 400, n)).astype(np.int64) * 1_000_000
    steps = rng.choice([-0.02, -0.01, 0.0, 0.01, 0.02], n) + rng.normal(0, 0.01, n) * (seed % 3)
    x = np.empty(n)
    x[0] = rng.uniform(-0.5, 0.5)
    for i in range(1, n):  # mean-reverting around the level, so it gets tested often
        x[i] = 0.995 * x[i - 1] + steps[i]
    spot = np.round(LEVEL + x, 2)
    offline = label_tests(
        ts, spot, LEVEL, CFG.touch_band_spy, CFG.outcome_move_spy,
        int(CFG.outcome_horizon_s * 1e9),
    )  # fmt: skip
    expected = [
        (t.side, t.touch_ns, t.outcome, t.decided_ns if t.decided_ns is not None else -1)
        for t in offline
    ]
    assert _online(ts, spot) == expected
    assert len(expected) >= 3


def test_a_scripted_approach_test_call_and_break() -> None:
    w = LevelWatch()
    path = [
        (0, 481.00, "NEUTRAL"),
        (1, 480.45, "NEUTRAL"),  # within 0.50: APPROACH
        (2, 480.20, "BREAK"),  # CALL_ISSUED before the touch
        (3, 480.04, "BREAK"),  # TEST_START from above: a support test
        (4, 479.90, "BREAK"),
        (5, 479.79, "BREAK"),  # 0.21 through: BREAK
    ]
    kinds = [[d.kind for d in observe(w, _obs(t * 10**9, s, sig), CFG)] for t, s, sig in path]
    assert kinds == [[], ["APPROACH"], ["CALL_ISSUED"], ["TEST_START"], [], ["BREAK"]]


def test_the_call_standing_at_the_touch_is_the_tests_call_and_a_bounce_ends_it() -> None:
    w = LevelWatch()
    seq = [(0, 479.50, "NEUTRAL"), (1, 479.97, "BOUNCE"), (2, 479.80, "BOUNCE"),
           (3, 479.77, "NEUTRAL")]  # fmt: skip
    events = [d for t, s, sig in seq for d in observe(w, _obs(t * 10**9, s, sig), CFG)]
    assert [d.kind for d in events] == ["APPROACH", "TEST_START", "CALL_ISSUED", "BOUNCE"]
    assert events[-1].test is not None and events[-1].test.call == "BOUNCE"
    assert events[-1].test.side == "resistance"


def test_barrier_events_near_the_level_only() -> None:
    w = LevelWatch()
    assert observe(w, _obs(0, 481.0, barrier="WALL"), CFG) == []
    far = observe(w, _obs(1, 481.0, barrier="VACUUM"), CFG)
    assert far == []  # a wall pulled a dollar away is not an event
    observe(w, _obs(2, 480.10, barrier="WALL"), CFG)
    observe(w, _obs(3, 480.10, barrier="NEUTRAL"), CFG)  # flicker: the wall is still the state
    kinds = [d.kind for d in observe(w, _obs(4, 480.08, barrier="VACUUM"), CFG)]
    assert kinds == ["WALL_PULLED"]
    observe(w, _obs(5, 480.08, barrier="WALL"), CFG)
    again = observe(w, _obs(6, 480.08, barrier="VACUUM"), CFG)
    assert again == []  # within the cooldown
    later = 4 + int(CFG.event_cooldown_s * 1e9)
    observe(w, _obs(later, 480.07, barrier="WALL"), CFG)
    kinds = [d.kind for d in observe(w, _obs(later + 1, 480.06, barrier="ABSORPTION"), CFG)]
    assert kinds == ["ABSORPTION"]
    swept = observe(w, _obs(later + 2, 479.90, barrier="VACUUM", filled=30, tape=-0.8), CFG)
    assert "SWEEP" in [d.kind for d in swept]


def test_censored_after_the_horizon() -> None:
    w = LevelWatch()
    observe(w, _obs(0, 480.30), CFG)
    observe(w, _obs(1, 480.02), CFG)  # test starts
    horizon = int(CFG.outcome_horizon_s * 1e9)
    assert [d.kind for d in observe(w, _obs(1 + horizon, 480.10), CFG)] == []
    assert [d.kind for d in observe(w, _obs(2 + horizon, 480.10), CFG)] == ["CENSORED"]
