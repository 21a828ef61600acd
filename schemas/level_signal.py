"""LevelSignal: the product, one JSON object per active level per snap (DESIGN §6).

Never rename a field without bumping ``LEVEL_SIGNAL_VERSION``; adding optional fields is free.
Evidence that was not observed is ``null``, never a fake zero.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

LEVEL_SIGNAL_VERSION = 1

Side = Literal["support", "resistance"]
Call = Literal["BREAK", "BOUNCE", "NEUTRAL", "ABSTAIN"]
BarrierState = Literal["VACUUM", "WALL", "ABSORPTION", "WEAK", "NEUTRAL", "UNOBSERVED"]
FuelRegime = Literal["AMPLIFY", "DAMPEN", "NEUTRAL", "MISSING"]


class _Model(BaseModel):
    # Every field is always serialised, so the published schema lists them all as required.
    model_config = ConfigDict(
        frozen=True, extra="forbid", json_schema_serialization_defaults_required=True
    )


class Barrier(_Model):
    """Liquidity defending the level in ES MBP-10, within the band (sizes in contracts)."""

    state: BarrierState
    score: float | None = Field(description="[-1, 1], positive favours BREAK; null if unscored")
    observable: bool = Field(description="the level lies inside the visible MBP-10 ladder")
    depth: int = Field(ge=0, description="defending size in band now")
    added: int = Field(ge=0)
    cancelled: int = Field(ge=0)
    filled: int = Field(ge=0)
    defending_price: float | None = Field(description="defending quote nearest the level, SPY $")
    defending_size: int | None = Field(ge=0)
    pull_ratio: float | None = None
    time_to_clear_s: float | None = None
    resilience: float | None = Field(
        default=None, description="[0, 1] aggression absorbed while the depth held (additive)"
    )
    thickness: float | None = Field(
        default=None,
        ge=0,
        description="the defence against an ordinary one, > 1 thicker: band depth against the "
        "side's median queue times the band prices it can rest on, or the largest queue in band "
        "against wall_queue_multiple median queues, whichever is more; null if unscored "
        "(additive)",
    )
    hidden: int = Field(
        default=0,
        ge=0,
        description="traded in band over the window beyond the displayed drop: size that was "
        "never shown, an iceberg's reserve (additive)",
    )
    refill_half_life_s: float | None = Field(
        default=None,
        ge=0,
        description="median time for size added in band to replace half of each fill over the "
        "window; null: nothing filled, or no fill was half replaced (additive)",
    )
    refilled_share: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="share of the size filled in band over the window that was half replaced; "
        "null: nothing filled (additive)",
    )


class Tape(_Model):
    """ES trade aggression over the tape window."""

    score: float | None
    ofi: float | None = Field(description="(buy - sell) / (buy + sell); null when nothing traded")
    buy_volume: int = Field(ge=0)
    sell_volume: int = Field(ge=0)
    velocity: float | None = Field(description="spot change, SPY $ per second")


class Fuel(_Model):
    """Dealer gamma near the level from SPY options; MISSING without an options feed."""

    score: float | None = Field(
        description="-sign(GEX_L) tanh(hedge_lots_per_tick / lots_to_clear) in [-1, 1]: the "
        "dealers' hedge against the book; null: no data"
    )
    regime: FuelRegime = Field(
        description="the dealers' gamma at the level: -tanh(GEX_L / G_ref) against the regime "
        "threshold (short gamma AMPLIFY, long gamma DAMPEN), whatever the book"
    )
    gex_near_level: float | None = Field(
        description="dealer $ gamma per 1% near the level (baseline convention)"
    )
    gex_band: tuple[float, float] | None = Field(
        default=None, description="min and max GEX_L over the three dealer-position models"
    )
    models_disagree: bool | None = Field(
        default=None, description="the day's flow alone and the baseline differ in sign here"
    )
    hedge_lots_per_tick: float | None = Field(
        default=None,
        ge=0,
        description="ES lots the dealers' hedge trades per ES tick moved (additive)",
    )
    lots_to_clear: float | None = Field(
        default=None,
        ge=0,
        description="ES lots a tick of the move must clear here: the defending side's median "
        "queue, times the thickness where thicker (additive)",
    )


class Health(_Model):
    """Age of each input at the snap; large ages mean stale evidence."""

    book_age_ms: float | None
    last_trade_age_ms: float | None
    greeks_as_of_ns: int | None = None
    spy_quote_age_ms: float | None = Field(
        default=None, description="age of the SPY quote behind the live ES/SPY ratio"
    )


class LevelSignal(_Model):
    """One level at one snap: the call, its evidence, and how fresh that evidence is."""

    schema_version: int = LEVEL_SIGNAL_VERSION
    ts_event_ns: int = Field(description="the snap time (event time), Unix ns UTC")
    ts_publish_ns: int = Field(description="wall-clock time the signal left the dataflow")
    snap_seq: int = Field(ge=0, description="snaps this level has published, from 0")
    snap_levels: int = Field(
        ge=1,
        description="levels published for this snap: a consumer holding this many has it all",
    )
    level_id: str = Field(
        description="the level's price in cents ('480.00'), or for a level that moves with the "
        "market its kind ('vwap', 'zero_gamma'): the same id while it moves"
    )
    level_price: float = Field(description="SPY $")
    active: bool = Field(
        default=True,
        description="false on the last signal of a level leaving the active set (spot moved "
        "away): a consumer keeping the latest signal per level drops it (additive)",
    )
    level_kinds: list[str]
    side: Side = Field(
        description="support: spot above the level, a break goes down; resistance: spot below, "
        "a break goes up. Kept while spot is inside the touch band (one test), turned once it "
        "leaves the band on the other side"
    )
    spot: float = Field(description="SPY $ (ES mid / ratio)")
    distance: float = Field(ge=0, description="|spot - level_price|, SPY $")
    eta_s: float | None = Field(
        default=None,
        ge=0,
        description="seconds until spot reaches the level's touch band at its velocity over the "
        "tape window, through the level's defence (the in-play rule's timing); 0 inside the band; "
        "null while spot is not moving toward the level or its velocity is not known yet "
        "(additive)",
    )
    in_play: bool = Field(
        default=False,
        description="a test of the level may come: spot inside its touch band, or within the "
        "call distance and due in the band within the approach horizon; a BREAK/BOUNCE is "
        "published only in play (additive)",
    )
    ratio: float = Field(description="ES / SPY ratio used for this snap")
    best_bid: float | None = Field(description="ES best bid in SPY $")
    best_ask: float | None = Field(description="ES best ask in SPY $")
    barrier: Barrier
    tape: Tape
    fuel: Fuel
    break_score_raw: float | None = Field(
        description="the evidence pooled by strength, in [-1, 1], positive favours BREAK; null: "
        "none observed"
    )
    break_score: float | None = Field(
        description="smoothed (EWMA) break score in [-1, 1], over the snaps that saw the "
        "level's defence (barrier observed): starts at 0, one snap moves it at most "
        "smoothing_max_step (0.5) of the way to its raw score, fades toward 0 while the "
        "defence is out of view; null until one saw it"
    )
    break_score_robust: float | None = Field(
        default=None,
        description="rolling median of the raw score over the last snaps that saw the defence",
    )
    signal: Call
    confidence: float = Field(ge=0, le=1)
    reason: str
    health: Health
