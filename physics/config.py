"""Every physics constant in one typed, frozen config (DESIGN §5). Nothing is fitted."""

from __future__ import annotations

from datetime import time
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

# Prices are cents (SPY) and quarter points (ES) held as floats: comparisons against a band
# absorb this much float noise. A numeric tolerance, not a setting.
PRICE_EPS = 1e-9


class PhysicsConfig(BaseModel):
    """Mechanical constants of the engine; units are in the names."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    snap_ms: int = Field(default=100, ge=100, le=250, description="publish grid, event time")
    es_spy_ratio: float = Field(
        default=10.0, gt=0, description="ES price / SPY price without a fresh SPY quote"
    )
    ratio_half_life_s: float = Field(
        default=60.0, gt=0, description="live ES/SPY ratio: EWMA half-life, event time"
    )
    ratio_stale_s: float = Field(
        default=30.0, gt=0, description="an older SPY quote: back to es_spy_ratio"
    )
    es_tick: float = Field(default=0.25, gt=0, description="ES minimum price increment, $")
    es_point_value: float = Field(
        default=50.0, gt=0, description="$ per ES point: a lot carries the delta of this x R shares"
    )
    band_ticks: int = Field(default=4, ge=0, description="barrier band half-width, ES ticks")
    round_step_spy: float = Field(default=1.0, gt=0, description="spacing of round levels, $")
    activation_distance_spy: float = Field(
        default=1.0, gt=0, description="levels within this distance of spot publish, $"
    )
    tape_window_s: float = Field(default=5.0, gt=0, description="tape aggression window")
    barrier_window_s: float = Field(default=5.0, gt=0, description="barrier flow window")
    vacuum_eps: float = Field(default=1.0, gt=0, description="contracts; keeps v finite")
    wall_queue_multiple: float = Field(
        default=3.0,
        gt=0,
        description="one queue this many times the side's median is as thick as an ordinary band",
    )
    barrier_state_threshold: float = Field(default=0.3, gt=0, lt=1)
    absorption_min_filled: int = Field(default=20, ge=1, description="contracts in the window")
    weak_depth: int = Field(default=10, ge=0, description="contracts in band")
    depth_median_snaps: int = Field(default=3000, ge=1, description="session-median sample")
    velocity_ref_spy: float = Field(default=0.05, gt=0, description="u_ref, SPY $/s")
    weight_barrier: float = Field(default=0.45, ge=0)
    weight_tape: float = Field(default=0.35, ge=0)
    weight_fuel: float = Field(default=0.20, ge=0)
    fuel_on_level_s: float = Field(
        default=5.0,
        ge=0,
        description="the fuel gives no direction while price touched the level this recently: "
        "dealers' hedging then acts on whichever wobble comes, not on an approach",
    )
    fuel_kernel_half_width_spy: float = Field(
        default=2.0, gt=0, description="h: strikes within this of the level count, triangular"
    )
    fuel_gex_ref: float = Field(
        default=2.5e8,
        gt=0,
        description="G_ref, $ per 1%: names the regime, -tanh(GEX_L / G_ref) against its threshold",
    )
    fuel_regime_threshold: float = Field(
        default=0.25, gt=0, lt=1, description="|tanh(GEX_L / G_ref)| for a regime"
    )
    fuel_stale_s: float = Field(default=900.0, gt=0, description="older greeks: fuel MISSING")
    option_multiplier: int = Field(default=100, ge=1, description="shares per SPY contract")
    option_rate: float = Field(default=0.0, description="risk-free rate in gamma re-pricing")
    option_expiry_et: time = Field(default=time(16, 0), description="0DTE expiry, New York")
    min_time_to_expiry_s: float = Field(
        default=900.0, gt=0, description="time-to-expiry floor: keeps 0DTE gamma finite"
    )
    session_open_et: time = Field(default=time(9, 30), description="regular open, New York")
    session_close_et: time = Field(default=time(16, 0), description="regular close, New York")
    opening_range_minutes: float = Field(
        default=30.0, gt=0, description="the opening range: high/low of this many minutes"
    )
    oi_settle_minutes: float = Field(
        default=25.0, ge=0, description="after the open, open interest may flip: first value holds"
    )
    gamma_levels_every_s: float = Field(
        default=5.0, gt=0, description="call/put walls and zero gamma recomputed this often"
    )
    flip_grid_step_spy: float = Field(default=0.10, gt=0, description="zero-gamma spot grid step")
    flip_grid_half_width_spy: float = Field(default=10.0, gt=0, description="grid reach, $")
    flip_max_distance_spy: float = Field(
        default=5.0, gt=0, description="a zero-gamma crossing further from spot is not reported"
    )
    call_distance_spy: float = Field(
        default=0.25, gt=0, description="a level further than this from spot is not in play"
    )
    touch_band_spy: float = Field(default=0.05, gt=0, description="a test starts this close")
    approach_horizon_s: float = Field(
        default=5.0,
        gt=0,
        description="beyond the touch band, a level is in play while spot, at its tape-window "
        "velocity through the level's defence (u / q), would reach the band within this; the "
        "velocity is measured over the 5 s tape window and not extrapolated further",
    )
    outcome_move_spy: float = Field(default=0.20, gt=0, description="x: move that decides")
    outcome_horizon_s: float = Field(default=300.0, gt=0, description="undecided: censored")
    approach_distance_spy: float = Field(
        default=0.50, gt=0, description="APPROACH event: spot comes this close, $"
    )
    approach_rearm_spy: float = Field(
        default=0.75, gt=0, description="the next APPROACH needs spot this far first, $"
    )
    event_cooldown_s: float = Field(
        default=10.0, ge=0, description="WALL_PULLED / ABSORPTION: at most one per this, per level"
    )
    sweep_min_tape_score: float = Field(
        default=0.5, ge=0, le=1, description="SWEEP: |tape score| when spot crosses the level"
    )
    lead_times_s: tuple[float, ...] = Field(default=(1.0, 5.0, 30.0), description="calls before")
    after_touch_s: tuple[Annotated[float, Field(gt=0)], ...] = Field(
        default=(1.0, 2.0, 5.0),
        description="the evaluation also scores the call this long into a test, on the tests "
        "not yet decided then: how fast the evidence at the level shows what it will do",
    )
    sensitivity_outcome_scales: tuple[Annotated[float, Field(gt=0)], ...] = Field(
        default=(0.5, 1.0, 1.5),
        description="the evaluation labels the tests again with the outcome move, horizon and "
        "touch band each scaled by these, to show how far its rates rest on them",
    )
    sensitivity_signal_enter: tuple[Annotated[float, Field(gt=0, le=1)], ...] = Field(
        default=(0.2, 0.35, 0.5, 0.65),
        description="entry thresholds the evaluation makes the calls again at (exit in the "
        "configured proportion), to show how the hit rate and coverage move with it",
    )
    min_tests: int = Field(default=30, ge=1, description="fewer: no rate is reported")
    stale_book_ms: float = Field(default=5000.0, gt=0, description="older book: ABSTAIN")
    max_book_gap_s: float = Field(
        default=60.0, gt=0, description="no snaps after the book has been silent this long"
    )
    smoothing_half_life_s: float = Field(default=1.0, gt=0, description="EWMA half-life")
    smoothing_max_step: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description="most of the way one in-view snap moves the smoothed score toward its raw "
        "score; a belief starts neutral (0), so one snap makes a call only on a reading of at "
        "least signal_enter / smoothing_max_step",
    )
    robust_window_snaps: int = Field(default=11, ge=1, description="rolling-median smoother")
    signal_enter: float = Field(default=0.35, gt=0, le=1, description="|smoothed| to call")
    signal_exit: float = Field(default=0.20, ge=0, le=1, description="|smoothed| to drop a call")

    @model_validator(mode="after")
    def _hysteresis_is_ordered(self) -> PhysicsConfig:
        if self.signal_exit > self.signal_enter:
            msg = (
                f"signal_exit ({self.signal_exit}) must not exceed "
                f"signal_enter ({self.signal_enter})"
            )
            raise ValueError(msg)
        return self

    @property
    def snap_ns(self) -> int:
        return self.snap_ms * 1_000_000
