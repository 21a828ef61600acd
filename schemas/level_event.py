"""LevelEvent: a discrete moment at a level (``levels.events``, DESIGN §3).

One message per event, keyed by level id. ``event_id`` is deterministic (level, snap time,
kind), so a consumer that sees an event twice (a re-run, a restart) drops it by id.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from schemas.level_signal import BarrierState, Call, FuelRegime, Side, _Model

LEVEL_EVENT_VERSION = 1

EventKind = Literal[
    "APPROACH",
    "TEST_START",
    "WALL_PULLED",
    "ABSORPTION",
    "SWEEP",
    "CALL_ISSUED",
    "BREAK",
    "BOUNCE",
    "CENSORED",
]


class LevelEvent(_Model):
    """What happened at a level at one snap, with the evidence standing at that moment."""

    schema_version: int = LEVEL_EVENT_VERSION
    event_id: str = Field(
        description="'<level_id>|<ts_event_ns>|<kind>[|<test_touch_ns>]', unique per event"
    )
    kind: EventKind
    ts_event_ns: int = Field(description="the snap at which it happened, Unix ns UTC")
    ts_publish_ns: int
    level_id: str
    level_price: float
    level_kinds: list[str]
    side: Side
    spot: float
    distance: float = Field(ge=0)
    signal: Call = Field(description="the level's call at this snap")
    confidence: float = Field(ge=0, le=1)
    break_score: float | None
    reason: str = Field(description="the signal's one-line reason at this snap")
    barrier_state: BarrierState
    barrier_score: float | None
    barrier_depth: int = Field(ge=0)
    tape_score: float | None
    tape_ofi: float | None
    fuel_regime: FuelRegime
    fuel_score: float | None
    test_side: Side | None = Field(
        description="test events: the side spot came from (support: from above)"
    )
    test_touch_ns: int | None = Field(description="test events: when the test began")
    test_call: Literal["BREAK", "BOUNCE"] | None = Field(
        description="outcome events: the first call standing during the test, if any"
    )
    call_correct: bool | None = Field(
        description="BREAK/BOUNCE events: whether that call matched the outcome"
    )
