"""Every constant of the simulated market in one typed config (ES ticks, lots, seconds)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class SimParams(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    events_per_s: float = Field(default=400.0, gt=0, description="book events, Poisson")
    latency_ns: int = Field(default=20_000, ge=0, description="exchange to capture")
    start_away_ticks: int = Field(default=10, ge=1, description="first mid, from the level")
    quiet_away_ticks: int = Field(default=40, ge=1, description="the quiet scenario's start")
    initial_queue: tuple[int, int] = (30, 90)  # lots per price at the start, uniform
    p_add: float = Field(default=0.46, gt=0, lt=1)
    p_cancel: float = Field(default=0.40, gt=0, lt=1)  # the rest are marketable orders
    order_lots: tuple[int, int] = (1, 25)  # limit order sizes, uniform
    cancel_share: float = Field(default=0.3, gt=0, le=0.5, description="mean share cancelled")
    touch_decay: float = Field(default=0.35, gt=0, le=1, description="geometric p of depth")
    trade_lots_p: float = Field(default=0.2, gt=0, le=1, description="geometric p of size")
    trade_lots_max: int = Field(default=60, ge=1)
    refill_lots: int = Field(default=20, ge=1, description="market makers closing a gap")
    lean: float = Field(default=0.14, ge=0, lt=0.5, description="buy-probability tilt")
    exhaustion_s: float = Field(default=20.0, gt=0, description="push spent after touch")
    exhaustion_lean: float = Field(default=0.15, ge=0, lt=0.5)
    wall_lots: int = 600
    wall_refill_below: int = 150
    wall_refill_lots: int = 300
    iceberg_show: int = 40
    iceberg_total: int = 2_000
    vacuum_near_ticks: int = 8
    vacuum_pull_p: float = Field(default=0.3, gt=0, le=1)
    vacuum_pull_share: float = Field(default=0.9, gt=0, le=1)
    sweep_lots: int = 900
    sweep_through_ticks: int = 12
    touch_ticks: int = Field(default=2, ge=0, description="mid this close: touched")
    keep_ticks: int = Field(default=60, ge=20, description="queues kept either side of touch")
    prune_every: int = Field(default=2_000, ge=1, description="events between book prunes")


class OptionsSimParams(BaseModel):
    """SPY and its 0DTE chain around the simulated ES (SPY dollars, contracts, seconds)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    strikes_each_side: int = Field(default=15, ge=1, description="strikes either side of spot")
    strike_step: float = Field(default=1.0, gt=0)
    atm_iv: float = Field(default=0.14, gt=0, description="0DTE at-the-money implied vol")
    iv_skew: float = Field(default=-1.5, description="d(IV)/d(ln K/S): puts richer")
    iv_curve: float = Field(default=40.0, ge=0, description="smile curvature in ln K/S")
    oi_atm: int = Field(default=6_000, ge=0, description="open interest at the money")
    oi_decay_spy: float = Field(default=6.0, gt=0, description="OI e-folds away from spot")
    oi_round_boost: float = Field(default=2.0, ge=1, description="OI multiple at $5 strikes")
    trades_per_s: float = Field(default=8.0, ge=0, description="customer option prints")
    strike_spread_spy: float = Field(default=3.0, gt=0, description="flow e-folds from spot")
    trade_size_mean: float = Field(default=6.0, ge=1, description="geometric, contracts")
    block_p: float = Field(default=0.01, ge=0, le=1, description="share of block prints")
    block_size: tuple[int, int] = (50, 400)
    hedge_every_s: float = Field(default=0.5, gt=0, description="dealers re-hedge delta")
    hedge_max_lots: int = Field(default=150, ge=1, description="ES lots per re-hedge, at most")
    chain_every_s: float = Field(default=60.0, gt=0, description="REST snapshot polls")
    page_limit: int = Field(default=25, ge=1, le=250, description="rows per snapshot page")
    spy_quote_every_s: float = Field(default=0.1, gt=0, description="SPY NBBO updates")
    latency_ms: int = Field(default=2, ge=0, description="vendor event to our receipt")
    # The scenarios' gamma at the level: open interest placed on the level's strike and the
    # share of customer flow that trades it, with the probability a customer buys.
    level_oi: int = Field(default=100_000, ge=0)
    level_flow_share: float = Field(default=0.4, ge=0, le=1)
    level_buy_p: float = Field(default=0.75, ge=0, le=1)


class SessionParams(BaseModel):
    """A whole regular-hours session: activity over the day and the drift of order flow."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    hours: float = Field(default=6.5, gt=0, le=6.5, description="from 09:30 New York")
    events_per_s: float = Field(default=430.0, gt=0, description="day average: ~10M events")
    open_boost: float = Field(default=2.5, ge=0, description="extra activity at the open, x")
    close_boost: float = Field(default=1.8, ge=0, description="extra activity into the close")
    open_decay_min: float = Field(default=25.0, gt=0, description="the open's rush e-folds")
    close_rise_min: float = Field(default=20.0, gt=0, description="the close's rush builds")
    lean_sigma: float = Field(default=0.01, ge=0, description="order-flow tilt, stationary sd")
    lean_revert_s: float = Field(default=120.0, gt=0, description="tilt mean reversion time")
    lean_max: float = Field(default=0.2, ge=0, lt=0.5)
    chunk_s: float = Field(default=10.0, gt=0, description="records flushed this often")
    # A burst of book activity (a news spike, a busy open), for latency benchmarks.
    burst_start_s: float = Field(default=0.0, ge=0, description="from the start")
    burst_s: float = Field(default=0.0, ge=0, description="0: no burst")
    burst_events_per_s: float = Field(default=50_000.0, gt=0)
