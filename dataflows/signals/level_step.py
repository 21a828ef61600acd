"""Per-level state: side, smoothing, the call with hysteresis, and the LevelSignal itself.

The scores here are placeholders until the physics engine lands (issue #4): barrier, tape and
fuel scores are reported as ``null`` (not computed), never as evidence of neutrality.
"""

from __future__ import annotations

from dataclasses import dataclass

from dataflows.signals.items import LevelInput
from physics.book import SideAtLevel
from physics.config import PhysicsConfig
from physics.score import CallName, call_with_hysteresis, ewma
from schemas.level_signal import Barrier, Fuel, Health, LevelSignal, Side, Tape


@dataclass(frozen=True, slots=True)
class LevelState:
    snap_seq: int
    side: Side
    smoothed: float
    smoothed_ts_ns: int
    call: CallName


def side_of(spot: float, level: float, previous: Side | None) -> Side:
    """Support below spot, resistance above; exactly at the level, keep the previous side."""
    if spot > level:
        return "support"
    if spot < level:
        return "resistance"
    return previous or "support"


def step(
    state: LevelState | None, inp: LevelInput, cfg: PhysicsConfig
) -> tuple[LevelState, LevelSignal]:
    ctx = inp.context
    side = side_of(ctx.spot, inp.level.price, state.side if state else None)
    defending = inp.bids if side == "support" else inp.asks
    raw = 0.0  # no scored evidence until issue #4: the weights renormalise over nothing
    smoothed = ewma(
        state.smoothed if state else None,
        state.smoothed_ts_ns if state else None,
        raw,
        ctx.ts_ns,
        cfg.smoothing_half_life_s,
    )
    call = call_with_hysteresis(
        state.call if state else "NEUTRAL", smoothed, cfg.signal_enter, cfg.signal_exit
    )
    seq = state.snap_seq + 1 if state else 0
    signal = LevelSignal(
        ts_event_ns=ctx.ts_ns,
        ts_publish_ns=0,  # stamped when the signal leaves the dataflow
        snap_seq=seq,
        snap_levels=ctx.n_levels,
        level_id=inp.level.level_id,
        level_price=inp.level.price,
        level_kinds=list(inp.level.kinds),
        side=side,
        spot=ctx.spot,
        distance=abs(ctx.spot - inp.level.price),
        ratio=ctx.ratio,
        best_bid=_spy(ctx.book.best_bid(), ctx.ratio),
        best_ask=_spy(ctx.book.best_ask(), ctx.ratio),
        barrier=_barrier(defending, ctx.ratio),
        tape=Tape(
            score=None,
            ofi=ctx.tape.ofi,
            buy_volume=ctx.tape.buy_volume,
            sell_volume=ctx.tape.sell_volume,
            velocity=ctx.velocity,
        ),
        fuel=Fuel(score=None, regime="MISSING", gex_near_level=None),
        break_score_raw=raw,
        break_score=smoothed,
        signal=call,
        confidence=min(abs(smoothed), 1.0),
        reason="no scored evidence yet: depth and tape are measured, scoring is not wired",
        health=Health(book_age_ms=ctx.book_age_ms, last_trade_age_ms=ctx.last_trade_age_ms),
    )
    return LevelState(seq, side, smoothed, ctx.ts_ns, call), signal


def _barrier(side: SideAtLevel, ratio: float) -> Barrier:
    return Barrier(
        state="NEUTRAL" if side.observable else "UNOBSERVED",
        score=None,
        observable=side.observable,
        depth=side.depth,
        added=0,
        cancelled=0,
        filled=0,
        defending_price=_spy(side.quote_px, ratio),
        defending_size=side.quote_sz,
    )


def _spy(es_price: float | None, ratio: float) -> float | None:
    return None if es_price is None else es_price / ratio
