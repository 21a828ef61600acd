"""Per-level state and the LevelSignal: side, barrier/tape/fuel scores, smoothing, the call.

The maths is in ``physics/``; this module joins it for one level at one snap. Evidence that
was not observed (no options feed, a level outside the visible book) is ``null`` and drops
out of the score; it is never a fake zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dataflows.signals.items import LevelInput, SnapContext
from dataflows.signals.level_events import events_at
from physics import barrier as bar
from physics.book import SideAtLevel
from physics.config import PRICE_EPS, PhysicsConfig
from physics.events import LevelWatch
from physics.fuel import directional_fuel, fuel_score, hedge_lots_per_tick, lots_to_clear
from physics.levels import side_of
from physics.score import (
    CallName,
    RollingMedian,
    across_the_level,
    arrival_s,
    belief_step,
    call_step,
    combine,
    level_in_play,
    moves_the_call,
    out_of_play_reason,
)
from physics.tape import tape_score
from schemas.level_event import LevelEvent
from schemas.level_signal import Barrier, BarrierState, Fuel, Health, LevelSignal, Side, Tape

NO_FUEL = Fuel(score=None, regime="MISSING", gex_near_level=None)  # frozen: shared, not rebuilt


@dataclass(slots=True)
class LevelState:
    """Mutable per-level state, owned by the keyed step for this level only."""

    depth_median: RollingMedian
    raw_median: RollingMedian  # the robust smoother: one outlier snap cannot flip it
    snap_seq: int = -1
    side: Side | None = None
    smoothed: float | None = None
    smoothed_ts_ns: int | None = None
    call: CallName = "NEUTRAL"
    watch: LevelWatch = field(default_factory=LevelWatch)  # the level-events detector
    approached: bool = False  # spot has been outside the touch band: a touch is a test
    touched_ns: int | None = None  # the last snap spot was inside the touch band


@dataclass(frozen=True, slots=True)
class LevelOutput:
    signal: LevelSignal
    events: list[LevelEvent]


def step(
    state: LevelState | None, inp: LevelInput, cfg: PhysicsConfig
) -> tuple[LevelState, LevelOutput]:
    st = state or LevelState(
        RollingMedian(cfg.depth_median_snaps), RollingMedian(cfg.robust_window_snaps)
    )
    ctx = inp.context
    side = side_of(ctx.spot, inp.level.price, st.side, cfg.touch_band_spy)
    if st.side is not None and side != st.side:
        st.smoothed, st.call = across_the_level(st.smoothed, st.call)
        st.raw_median.negate()
    st.side = side
    s = -1 if st.side == "support" else 1
    defending = inp.bids if st.side == "support" else inp.asks
    barrier = _barrier(defending, ctx, st, cfg)
    # an unobserved defence (outside the visible book) neither slows nor speeds the approach
    q = 1.0 if barrier.thickness is None else barrier.thickness
    tape = _tape(ctx, s, cfg, barrier.resilience or 0.0, q)
    fuel = _fuel(inp, defending, barrier.thickness, ctx, cfg)
    distance = abs(ctx.spot - inp.level.price)
    # since price was last on the level before this snap: the touch itself reads the approach
    since_touch = None if st.touched_ns is None else (ctx.ts_ns - st.touched_ns) / 1e9
    if distance <= cfg.touch_band_spy + PRICE_EPS:
        st.touched_ns = ctx.ts_ns
    weights = {"barrier": cfg.weight_barrier, "tape": cfg.weight_tape, "fuel": cfg.weight_fuel}
    directed = directional_fuel(fuel.score, since_touch, cfg.fuel_on_level_s)
    on_level = directed != fuel.score
    raw = combine({"barrier": barrier.score, "tape": tape.score, "fuel": directed}, weights)
    in_view = moves_the_call(raw, barrier.score)
    # the belief about this level's test is formed only in sight of its defence
    if in_view and raw is not None:
        st.raw_median.add(raw)
        st.smoothed = belief_step(
            st.smoothed,
            st.smoothed_ts_ns,
            raw,
            ctx.ts_ns,
            cfg.smoothing_half_life_s,
            cfg.snap_ns,
            cfg.smoothing_max_step,
        )
        st.smoothed_ts_ns = ctx.ts_ns
    stale = ctx.book_age_ms > cfg.stale_book_ms
    st.approached = st.approached or distance > cfg.touch_band_spy + PRICE_EPS
    # a level leaving the active set publishes its last signal without a call
    in_play = not inp.leaving and level_in_play(
        distance, ctx.velocity, s, st.approached, cfg, q, ctx.ratio
    )
    eta_s = arrival_s(distance, ctx.velocity, s, cfg, q)
    out_of_play = None if in_play else out_of_play_reason(distance, eta_s, cfg)
    st.call, signal = call_step(
        st.call,
        st.smoothed if in_view else None,
        in_play=in_play,
        abstain=raw is None or stale,
        reset=inp.leaving or distance > cfg.call_distance_spy,
        enter=cfg.signal_enter,
        exit_=cfg.signal_exit,
    )
    st.snap_seq += 1
    published = LevelSignal(
        ts_event_ns=ctx.ts_ns,
        ts_publish_ns=0,  # stamped when the signal leaves the dataflow
        snap_seq=st.snap_seq,
        snap_levels=ctx.n_levels,
        level_id=inp.level.level_id,
        level_price=inp.level.price,
        level_kinds=list(inp.level.kinds),
        side=st.side,
        spot=ctx.spot,
        distance=distance,
        eta_s=eta_s,
        in_play=in_play,
        ratio=ctx.ratio,
        best_bid=_spy(ctx.book.best_bid(), ctx.ratio),
        best_ask=_spy(ctx.book.best_ask(), ctx.ratio),
        barrier=barrier,
        tape=tape,
        fuel=fuel,
        break_score_raw=raw,
        break_score=st.smoothed,
        break_score_robust=st.raw_median.median(),
        signal=signal,
        confidence=min(abs(st.smoothed or 0.0), 1.0) if signal != "ABSTAIN" else 0.0,
        reason=_reason(
            signal, barrier, tape, fuel, on_level, stale, out_of_play, inp.leaving, st, ctx
        ),
        active=not inp.leaving,
        health=Health(
            book_age_ms=ctx.book_age_ms,
            last_trade_age_ms=ctx.last_trade_age_ms,
            greeks_as_of_ns=ctx.greeks_as_of_ns,
            spy_quote_age_ms=ctx.spy_quote_age_ms,
        ),
    )
    return st, LevelOutput(published, events_at(st.watch, published, cfg))


def _barrier(d: SideAtLevel, ctx: SnapContext, st: LevelState, cfg: PhysicsConfig) -> Barrier:
    # sellers hit the bids that defend a support; buyers lift the asks of a resistance
    aggression = ctx.tape.sell_volume if st.side == "support" else ctx.tape.buy_volume
    state: BarrierState = "UNOBSERVED"
    score = None
    resilience = 0.0
    thickness = None
    if d.observable and d.score is not None:  # scored with every level of the snap at once
        score, resilience, thickness = d.score, d.resilience, d.thickness
        state = bar.barrier_state(score, d.depth, st.depth_median.median(), d.added, d.filled, cfg)
        st.depth_median.add(d.depth)
    return Barrier(
        state=state,
        score=score,
        observable=d.observable,
        depth=d.depth,
        added=d.added,
        cancelled=d.cancelled,
        filled=d.filled,
        hidden=d.hidden,
        refill_half_life_s=d.refill_half_life_s,
        refilled_share=d.refilled_share,
        defending_price=_spy(d.quote_px, ctx.ratio),
        defending_size=d.quote_sz,
        pull_ratio=bar.pull_ratio(d.cancelled, d.filled),
        time_to_clear_s=bar.time_to_clear_s(d.depth, aggression, cfg.tape_window_s),
        resilience=resilience,
        thickness=thickness,
    )


def _fuel(
    inp: LevelInput,
    defending: SideAtLevel,
    thickness: float | None,
    ctx: SnapContext,
    cfg: PhysicsConfig,
) -> Fuel:
    f = inp.fuel
    if f is None:  # no options feed, stale greeks, or no 0DTE strike near this level
        return NO_FUEL
    # the dealers' hedge weighed against the book it trades into, not against a fixed size
    hedge = hedge_lots_per_tick(f.gex_near_level, ctx.spot, ctx.ratio, cfg)
    clear = lots_to_clear(thickness, defending.typical_queue, cfg)
    return Fuel(
        score=fuel_score(f.gex_near_level, hedge, clear),
        regime=f.regime,
        gex_near_level=f.gex_near_level,
        gex_band=f.gex_band,
        models_disagree=f.models_disagree,
        hedge_lots_per_tick=hedge,
        lots_to_clear=clear,
    )


def _tape(ctx: SnapContext, s: int, cfg: PhysicsConfig, absorbed: float, q: float) -> Tape:
    return Tape(
        score=tape_score(ctx.tape.ofi, ctx.velocity, s, cfg.velocity_ref_spy, absorbed, q),
        ofi=ctx.tape.ofi,
        buy_volume=ctx.tape.buy_volume,
        sell_volume=ctx.tape.sell_volume,
        velocity=ctx.velocity,
    )


def _reason(
    signal: str,
    barrier: Barrier,
    tape: Tape,
    fuel: Fuel,
    on_level: bool,
    stale: bool,
    out_of_play: str | None,
    leaving: bool,
    st: LevelState,
    ctx: SnapContext,
) -> str:
    if leaving:
        return "left the active set: spot moved away; this is its last signal until it returns"
    if stale:
        return f"abstain: book is {ctx.book_age_ms / 1000:.1f} s old"
    if signal == "ABSTAIN":
        return "abstain: no evidence observed at this level"
    if out_of_play is not None and not st.approached:
        return "not in play: spot has been at this level since it appeared, with no approach yet"
    if out_of_play is not None:
        return f"not in play: {out_of_play}"
    parts = []
    if barrier.score is not None:
        parts.append(
            f"barrier {barrier.state.lower()} {barrier.score:+.2f} (depth {barrier.depth}, "
            f"+{barrier.added} -{barrier.cancelled} pulled -{barrier.filled} filled)"
        )
    else:
        parts.append("level outside the visible book")
    if tape.score is not None:
        ofi = "n/a" if tape.ofi is None else f"{tape.ofi:+.2f}"
        parts.append(f"tape {tape.score:+.2f} (ofi {ofi})")
    if fuel.score is None:
        parts.append("no options data near the level")
    else:
        gex = (fuel.gex_near_level or 0.0) / 1e6
        doubt = ", models disagree" if fuel.models_disagree else ""
        pin = ", price on the level: no direction" if on_level else ""
        hedge, clear = fuel.hedge_lots_per_tick or 0.0, fuel.lots_to_clear or 0.0
        weighed = f"{hedge:,.1f} lots a tick against {clear:,.1f}"
        parts.append(
            f"fuel {fuel.regime.lower()} {fuel.score:+.2f} "
            f"(GEX ${gex:+,.0f}M/1%, {weighed}{doubt}{pin})"
        )
    return f"{signal}: " + "; ".join(parts)


def _spy(es_price: float | None, ratio: float) -> float | None:
    return None if es_price is None else es_price / ratio
