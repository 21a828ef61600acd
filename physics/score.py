"""Smoothing and the call with hysteresis: pure functions of the previous state."""

from __future__ import annotations

import bisect
import math
from collections import deque
from typing import Literal, cast

from physics.config import PRICE_EPS, PhysicsConfig
from physics.tape import toward_through_defence
from schemas.level_signal import Call

CallName = Literal["BREAK", "BOUNCE", "NEUTRAL"]


def kept_after(dt_ns: int, half_life_s: float) -> float:
    """The share of a past value kept after ``dt_ns`` of event time (negative: none passed)."""
    return math.pow(0.5, max(dt_ns, 0) / 1e9 / half_life_s)


def ewma(
    prev: float | None, prev_ts_ns: int | None, x: float, ts_ns: int, half_life_s: float
) -> float:
    """Event-time EWMA: the weight of the past halves every ``half_life_s`` seconds."""
    if prev is None or prev_ts_ns is None:
        return x
    alpha = 1.0 - kept_after(ts_ns - prev_ts_ns, half_life_s)
    return prev + alpha * (x - prev)


def belief_step(
    prev: float | None,
    prev_ts_ns: int | None,
    x: float,
    ts_ns: int,
    half_life_s: float,
    snap_ns: int,
    max_step: float,
) -> float:
    """A level's smoothed score after an in-view snap scores ``x``: the event-time EWMA, with
    two guards for a level that drifts in and out of sight.

    Time unobserved (the gap since the last in-view snap, beyond one snap) fades the belief
    toward neutral at the same half-life: evidence seen a minute ago, at another distance,
    says little about this approach. And one snap moves the belief at most ``max_step`` of the
    way to its reading, so the first snap in view (or the first after a long gap) cannot make
    a call alone: ``max_step`` 0.5 needs a reading of at least twice the call threshold."""
    if prev is None or prev_ts_ns is None:
        return max_step * x
    faded = prev * kept_after(ts_ns - prev_ts_ns - snap_ns, half_life_s)
    alpha = min(1.0 - kept_after(ts_ns - prev_ts_ns, half_life_s), max_step)
    return faded + alpha * (x - faded)


def call_with_hysteresis(prev: CallName, smoothed: float, enter: float, exit_: float) -> CallName:
    """BREAK at ``smoothed >= enter``, BOUNCE at ``<= -enter``; a call holds while
    ``|smoothed| >= exit``."""
    if smoothed >= enter:
        return "BREAK"
    if smoothed <= -enter:
        return "BOUNCE"
    if prev == "BREAK" and smoothed >= exit_:
        return "BREAK"
    if prev == "BOUNCE" and smoothed <= -exit_:
        return "BOUNCE"
    return "NEUTRAL"


def call_step(
    held: CallName,
    smoothed: float | None,
    *,
    in_play: bool,
    abstain: bool,
    reset: bool,
    enter: float,
    exit_: float,
) -> tuple[CallName, Call]:
    """One snap of a level's call: the call it holds after the snap, and the one it publishes.

    ``smoothed`` is the snap's smoothed score, None when no evidence was scored (the held call
    is then left as it was). The call is published only in play, and ABSTAIN replaces it when
    the evidence is missing or stale. ``reset`` (the level is beyond the call distance, or
    leaving the active set) clears the held call after publishing, so a call is formed only
    within reach. The dataflow's level step and the evaluation's threshold sensitivity both run
    this, so the evaluation's recomputed calls are the dataflow's own."""
    if smoothed is not None:
        held = call_with_hysteresis(held, smoothed, enter, exit_)
    published: Call = "ABSTAIN" if abstain else held if in_play else "NEUTRAL"
    return ("NEUTRAL" if reset else held), published


def moves_the_call(raw: float | None, barrier: float | None) -> bool:
    """Whether a snap's raw score feeds the smoothed (and robust) score and so the call:
    evidence was scored, and the level's defence (the barrier) is in view. Outside the visible
    book the tape and the fuel are still scored and published raw, but they say how price
    moves and what dealers will do, not whether this level holds; a belief they built alone
    there carried a BREAK into play at the edge of the book, on a level price then never
    tested (a quiet session of the scenario suite). The smoothed score and call held before
    stay as they were; the event-time smoothing forgets them over the gap."""
    return raw is not None and barrier is not None


def level_in_play(
    distance: float,
    velocity: float | None,
    s: int,
    approached: bool,
    cfg: PhysicsConfig,
    thickness: float = 1.0,
    ratio: float | None = None,
) -> bool:
    """A call forecasts a test, so it is made only while one may come: spot within the touch
    band, or within ``call_distance_spy`` and on course to reach the band within
    ``approach_horizon_s`` at its tape-window velocity through the defence (``u / q`` toward
    the level, as the tape scores it: ``thickness`` is the barrier's q, 1 when unobserved;
    ``s`` is the direction of a break, -1 support / +1 resistance). An unknown velocity (the
    first window) does not rule it out. A level price is leaving behind, or standing still
    beside, gets no call. Nor does one spot has not yet been outside the touch band of
    (``approached``): a test begins when price comes to a level from one side, and inside the
    band from the start there was none.

    Within one ES tick of the band (``es_tick / ratio``, the snap's live ES/SPY ratio, the
    configured one without it) and not moving away, a test is
    one quote change off, and a velocity measured in whole ticks cannot time a gap smaller than
    one: a wall holding price there slows it through the defence to an arrival "in 13 s", but
    that is the test under way, and its call is the one the level needs."""
    if not approached:
        return False
    # timed by arrival_s itself, so a published eta_s and in_play never disagree at the horizon
    eta_s = arrival_s(distance, velocity, s, cfg, thickness)
    if eta_s == 0.0:  # inside the band, as the outcome labels count it
        return True
    if distance > cfg.call_distance_spy:
        return False
    if velocity is None:
        return True
    if distance - cfg.touch_band_spy <= cfg.es_tick / (ratio or cfg.es_spy_ratio) + PRICE_EPS:
        return s * velocity >= 0
    return eta_s is not None and eta_s <= cfg.approach_horizon_s


def arrival_s(
    distance: float, velocity: float | None, s: int, cfg: PhysicsConfig, thickness: float = 1.0
) -> float | None:
    """Seconds until spot reaches the level's touch band at its tape-window velocity through
    the defence (``level_in_play`` holds it to the horizon): ``(d - b) / (s u / q)``; 0 inside
    the band; None while spot is not moving toward the level or its velocity is unknown."""
    gap = distance - cfg.touch_band_spy
    if gap <= PRICE_EPS:
        return 0.0
    toward = 0.0 if velocity is None else toward_through_defence(velocity, s, thickness)
    return gap / toward if toward > 0 else None


def out_of_play_reason(distance: float, eta_s: float | None, cfg: PhysicsConfig) -> str:
    """Why an approached level is out of play, in the terms of ``level_in_play`` (``eta_s``
    from ``arrival_s``)."""
    if distance > cfg.call_distance_spy:
        return f"${distance:.2f} from spot, beyond the ${cfg.call_distance_spy:.2f} of a call"
    if eta_s is None:
        return "spot is not moving toward it"
    return (
        f"at its {cfg.tape_window_s:g} s velocity through the defence spot would reach it in "
        f"{eta_s:.0f} s, beyond {cfg.approach_horizon_s:g} s"
    )


def combine(scores: dict[str, float | None], weights: dict[str, float]) -> float | None:
    """The evidence present, each reading weighted by its weight and by its own strength:
    ``sum(w |x| x) / sum(w |x|)``. Missing evidence drops out; None when nothing is present, 0
    when every reading is 0.

    A reading of 0 says nothing either way, so it is not counted as evidence of NEUTRAL: in a
    plain weighted mean a clear wall (barrier -0.8) beside a tape that says little (+0.2)
    and an even gamma book (0) pooled to -0.27, no call; here it is -0.64."""
    present = {k: v for k, v in scores.items() if v is not None and weights.get(k, 0.0) > 0}
    if not present:
        return None
    strength = {k: weights[k] * abs(v) for k, v in present.items()}
    total = sum(strength.values())
    return sum(strength[k] * v for k, v in present.items()) / total if total > 0 else 0.0


def turned(call: str) -> str:
    """A call read from the other side of its level: BREAK <-> BOUNCE, anything else kept."""
    return {"BREAK": "BOUNCE", "BOUNCE": "BREAK"}.get(call, call)


def across_the_level(smoothed: float | None, call: CallName) -> tuple[float | None, CallName]:
    """The smoothed score and held call of a level whose side has just turned (spot crossed
    it). Scores are signed by the side (positive: through the level), so a break of a
    resistance is a bounce off the support it becomes: the belief about where price goes
    carries over with its sign turned, instead of reading the other way for as long as the
    smoothing takes to forget it."""
    return (None if smoothed is None else -smoothed), cast(CallName, turned(call))


class RollingMedian:
    """Median of the last ``size`` values (a level's recent depth, for WALL)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._window: deque[float] = deque()
        self._sorted: list[float] = []

    def add(self, x: float) -> None:
        self._window.append(x)
        bisect.insort(self._sorted, x)
        if len(self._window) > self.size:
            old = self._window.popleft()
            del self._sorted[bisect.bisect_left(self._sorted, old)]

    def negate(self) -> None:
        """Every value's sign turned (the robust score of a level whose side turned)."""
        self._window = deque(-x for x in self._window)
        self._sorted = [-x for x in reversed(self._sorted)]  # negated, the order reverses

    def median(self) -> float | None:
        n = len(self._sorted)
        if n == 0:
            return None
        mid = n // 2
        return self._sorted[mid] if n % 2 else (self._sorted[mid - 1] + self._sorted[mid]) / 2
