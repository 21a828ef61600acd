"""LevelEvents from a level's published signal: the detector is ``physics.events``."""

from __future__ import annotations

from physics.config import PhysicsConfig
from physics.events import Detected, LevelWatch, Observation, observe
from schemas.level_event import LevelEvent
from schemas.level_signal import LevelSignal


def events_at(watch: LevelWatch, signal: LevelSignal, cfg: PhysicsConfig) -> list[LevelEvent]:
    observation = Observation(
        ts_ns=signal.ts_event_ns,
        spot=signal.spot,
        level=signal.level_price,
        signal=signal.signal,
        barrier_state=signal.barrier.state,
        barrier_filled=signal.barrier.filled,
        tape_score=signal.tape.score,
    )
    return [_event(d, signal) for d in observe(watch, observation, cfg)]


def _event(d: Detected, s: LevelSignal) -> LevelEvent:
    test = d.test
    test_call = test.call if test is not None and test.call in ("BREAK", "BOUNCE") else None
    correct = test_call == d.kind if d.kind in ("BREAK", "BOUNCE") and test_call else None
    return LevelEvent.model_validate(
        {
            "event_id": _event_id(d, s),
            "kind": d.kind,
            "ts_event_ns": s.ts_event_ns,
            "ts_publish_ns": 0,
            "level_id": s.level_id,
            "level_price": s.level_price,
            "level_kinds": s.level_kinds,
            "side": s.side,
            "spot": s.spot,
            "distance": s.distance,
            "signal": s.signal,
            "confidence": s.confidence,
            "break_score": s.break_score,
            "reason": s.reason,
            "barrier_state": s.barrier.state,
            "barrier_score": s.barrier.score,
            "barrier_depth": s.barrier.depth,
            "tape_score": s.tape.score,
            "tape_ofi": s.tape.ofi,
            "fuel_regime": s.fuel.regime,
            "fuel_score": s.fuel.score,
            "test_side": test.side if test is not None else None,
            "test_touch_ns": test.touch_ns if test is not None else None,
            "test_call": test_call,
            "call_correct": correct,
        }
    )


def _event_id(d: Detected, s: LevelSignal) -> str:
    # several pending tests can be decided at one snap: their touch time tells them apart
    suffix = f"|{d.test.touch_ns}" if d.test is not None and d.kind != "TEST_START" else ""
    return f"{s.level_id}|{s.ts_event_ns}|{d.kind}{suffix}"
