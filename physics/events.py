"""Discrete moments at a level, detected snap by snap (pure; DESIGN §3 ``levels.events``).

Tests and their outcomes follow exactly the rules of ``physics.outcomes.label_tests`` (a test
starts when spot enters the touch band, or jumps across the level, having been outside it; it
is a BREAK when spot then goes ``x`` beyond, a BOUNCE when it goes ``x`` back, CENSORED after
the horizon), but decided online, one observation at a time: both give the same tests on the
same path (a test checks it). Several tests may be pending at once, as offline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from physics.config import PRICE_EPS, PhysicsConfig
from schemas.level_event import EventKind

TestSide = Literal["support", "resistance"]
CALLS = ("BREAK", "BOUNCE")


@dataclass(frozen=True, slots=True)
class Observation:
    """One published snap of a level, as the event detector needs it."""

    ts_ns: int
    spot: float
    level: float
    signal: str  # BREAK / BOUNCE / NEUTRAL / ABSTAIN
    barrier_state: str
    barrier_filled: int
    tape_score: float | None


@dataclass(slots=True)
class PendingTest:
    side: TestSide
    touch_ns: int
    call: str | None  # the first BREAK/BOUNCE call standing during the test


@dataclass(frozen=True, slots=True)
class Detected:
    """An event and the test it concerns (outcome events and TEST_START)."""

    kind: EventKind
    test: PendingTest | None = None


@dataclass(slots=True)
class LevelWatch:
    """Per-level memory of the detector."""

    last_dist: float | None = None
    armed: bool = False  # spot has been outside the touch band since the last test began
    approached: bool = False
    last_signal: str = "NEUTRAL"
    firm_barrier: str | None = None  # the last barrier state other than NEUTRAL/UNOBSERVED
    barrier_event_ns: int | None = None  # the last WALL_PULLED/ABSORPTION (cooldown)
    pending: list[PendingTest] = field(default_factory=list)


def observe(w: LevelWatch, o: Observation, cfg: PhysicsConfig) -> list[Detected]:
    """The events this observation brings, in a fixed order: outcomes of pending tests, then
    APPROACH, TEST_START, barrier events, CALL_ISSUED."""
    dist = o.spot - o.level
    events = _outcomes(w, o, dist, cfg)
    events += _approach(w, abs(dist), cfg)
    inside = abs(dist) <= cfg.touch_band_spy + PRICE_EPS
    crossed = (
        w.last_dist is not None
        and dist * w.last_dist < 0
        and abs(w.last_dist) > cfg.touch_band_spy + PRICE_EPS
    )
    if w.last_dist is None or not w.armed:  # the first sample has no approach side
        w.armed = not inside
    elif inside or crossed:
        side: TestSide = "support" if w.last_dist > 0 else "resistance"
        test = PendingTest(side, o.ts_ns, o.signal if o.signal in CALLS else None)
        w.pending.append(test)
        events.append(Detected("TEST_START", test))
        w.armed = not inside
    events += _barrier_events(w, o, dist, cfg)
    if o.signal in CALLS and o.signal != w.last_signal:
        events.append(Detected("CALL_ISSUED"))
        for t in w.pending:
            t.call = t.call or o.signal
    w.last_signal = o.signal
    w.last_dist = dist
    return events


def _outcomes(w: LevelWatch, o: Observation, dist: float, cfg: PhysicsConfig) -> list[Detected]:
    horizon_ns = int(cfg.outcome_horizon_s * 1e9)
    out: list[Detected] = []
    still: list[PendingTest] = []
    for t in w.pending:
        beyond = -dist if t.side == "support" else dist  # > 0: through the level
        if o.ts_ns > t.touch_ns + horizon_ns:
            out.append(Detected("CENSORED", t))
        elif beyond >= cfg.outcome_move_spy - PRICE_EPS:
            out.append(Detected("BREAK", t))
        elif beyond <= -cfg.outcome_move_spy + PRICE_EPS:
            out.append(Detected("BOUNCE", t))
        else:
            still.append(t)
    w.pending = still
    return out


def _approach(w: LevelWatch, distance: float, cfg: PhysicsConfig) -> list[Detected]:
    if w.approached:
        w.approached = distance <= cfg.approach_rearm_spy
        return []
    if distance <= cfg.approach_distance_spy:
        w.approached = True
        return [Detected("APPROACH")]
    return []


def _barrier_events(
    w: LevelWatch, o: Observation, dist: float, cfg: PhysicsConfig
) -> list[Detected]:
    """WALL_PULLED when a wall (the last firm state) turns to vacuum, ABSORPTION when the
    defence starts absorbing; a state flickering through NEUTRAL does not repeat them, nor
    does one within the cooldown. SWEEP: spot crosses the level on aggressive, filled tape."""
    firm = w.firm_barrier
    if o.barrier_state not in ("NEUTRAL", "UNOBSERVED"):
        w.firm_barrier = o.barrier_state
    if abs(dist) > cfg.approach_distance_spy:
        return []
    out: list[Detected] = []
    cooldown_ns = int(cfg.event_cooldown_s * 1e9)
    cooled = w.barrier_event_ns is None or o.ts_ns - w.barrier_event_ns >= cooldown_ns
    if cooled and o.barrier_state == "VACUUM" and firm == "WALL":
        out.append(Detected("WALL_PULLED"))
    elif cooled and o.barrier_state == "ABSORPTION" and firm != "ABSORPTION":
        out.append(Detected("ABSORPTION"))
    if out:
        w.barrier_event_ns = o.ts_ns
    swept = w.last_dist is not None and dist * w.last_dist < 0
    if swept and o.barrier_filled > 0 and abs(o.tape_score or 0.0) >= cfg.sweep_min_tape_score:
        out.append(Detected("SWEEP"))
    return out
