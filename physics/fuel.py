"""Fuel: dealer gamma near a level from SPY options (DESIGN §5), pure functions over a small
per-session state.

Dealer position per contract = a baseline convention (dealers long calls: ``+OI``; short puts:
``-OI``) minus the customers' net buying today. Customer side of a print: the quote rule first
(at or above the ask: a customer buy; at or below the bid: a sell; inside: the nearer side, at
the mid: unknown), the tick rule when there is no quote (uptick buy, downtick sell, zero tick:
as the last). Dollar gamma per 1% move: ``G = pos · Γ · 100 · S² · 0.01``. Near a level:
``GEX_L = Σ G_i · w(K_i - L)``, ``w`` triangular of half-width ``h``. Its regime is named by
``-tanh(GEX_L / G_ref)``: dealers long gamma sell rallies and buy dips (dampen, negative,
bounce); short gamma chase (amplify, positive, break). As evidence at a level the fuel weighs
their hedge, in ES lots per tick moved, against the lots a tick of the move must clear there
(``fuel_score``). The sign convention is contested, so GEX_L is also computed under the
opposite convention and from the day's flow alone; their range is the band, and
``models_disagree`` says when the flow alone and the baseline differ in sign at the level.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any, Literal

import numpy as np

from physics.config import PhysicsConfig
from physics.options import (
    NEW_YORK,
    OptionContract,
    OptionTickerError,
    bs_gamma,
    parse_ticker,
    years_to_expiry,
)

Regime = Literal["AMPLIFY", "DAMPEN", "NEUTRAL"]
CUSTOMER_BUY, CUSTOMER_SELL, UNKNOWN = 1, -1, 0
# Vendor numbers beyond these are not market data (a corrupt or hostile row): ignored and
# counted, so one row cannot overflow the gamma sums into inf or NaN (found by tests/fuzz).
IV_RANGE = (1e-3, 20.0)  # implied volatility, per year: 0.1% to 2000%
MAX_GAMMA = 1e3  # per share, per $1
MAX_CONTRACTS = 10**8  # open interest, trade size
MAX_PRICE = 1e6  # option premium or quote, $


@dataclass(slots=True)
class ContractState:
    contract: OptionContract
    iv: float | None = None
    vendor_gamma: float | None = None
    open_interest: int | None = None
    oi_locked: bool = False  # within the settle window the first OI seen holds
    customer_net: int = 0  # contracts bought minus sold by customers today
    last_price: float | None = None
    last_side: int = UNKNOWN
    bid: float | None = None
    ask: float | None = None


@dataclass(slots=True)
class FuelCounters:
    greeks_rows: int = 0
    rows_without_greeks: int = 0  # no gamma/IV or no OI: the contract contributes nothing yet
    bad_rows: int = 0  # no parsable ticker/strike
    oi_flips_ignored: int = 0
    implausible_values: int = 0  # IV, gamma, OI, size or price out of bounds: ignored
    trades: int = 0
    trades_unclassified: int = 0
    trades_unknown_contract: int = 0


@dataclass(slots=True)
class FuelBook:
    """Everything fuel needs, for one session."""

    contracts: dict[str, ContractState] = field(default_factory=dict)
    counters: FuelCounters = field(default_factory=FuelCounters)
    greeks_as_of_ns: int | None = None


# -- inputs -------------------------------------------------------------------------------
def apply_greeks_row(book: FuelBook, row: dict[str, Any], ts_ns: int, cfg: PhysicsConfig) -> None:
    """One ``/v3/snapshot/options`` result row (every field optional but the contract)."""
    book.counters.greeks_rows += 1
    ticker = _get(row, "details", "ticker")
    try:
        contract = parse_ticker(ticker) if isinstance(ticker, str) else None
    except OptionTickerError:
        contract = None
    if contract is None:
        book.counters.bad_rows += 1
        return
    st = book.contracts.setdefault(contract.ticker, ContractState(contract))
    iv, gamma, oi = (
        _within(book, _num(row.get("implied_volatility")), *IV_RANGE),
        _within(book, _num(_get(row, "greeks", "gamma")), -MAX_GAMMA, MAX_GAMMA),
        _within(book, _num(row.get("open_interest")), 0, MAX_CONTRACTS),
    )
    st.iv = iv if iv is not None and iv > 0 else st.iv
    st.vendor_gamma = gamma if gamma is not None else st.vendor_gamma
    if oi is not None:
        _set_open_interest(book, st, int(oi), ts_ns, cfg)
    quote = row.get("last_quote")
    if isinstance(quote, dict):
        st.bid = _within(book, _num(quote.get("bid")), 0, MAX_PRICE)
        st.ask = _within(book, _num(quote.get("ask")), 0, MAX_PRICE)
    if (st.iv is None and st.vendor_gamma is None) or st.open_interest is None:
        book.counters.rows_without_greeks += 1
    book.greeks_as_of_ns = max(book.greeks_as_of_ns or 0, ts_ns)


def _set_open_interest(
    book: FuelBook, st: ContractState, oi: int, ts_ns: int, cfg: PhysicsConfig
) -> None:
    """Polygon's OI can flip between two days' values for ~25 minutes after the open: inside
    ``oi_settle_minutes`` after the open the first value seen holds; after it, the latest."""
    changed = st.open_interest is not None and oi != st.open_interest
    if changed and st.oi_locked and _minutes_after_open(ts_ns, cfg) < cfg.oi_settle_minutes:
        book.counters.oi_flips_ignored += 1
        return
    st.open_interest = oi
    st.oi_locked = 0 <= _minutes_after_open(ts_ns, cfg) < cfg.oi_settle_minutes


def _minutes_after_open(ts_ns: int, cfg: PhysicsConfig) -> float:
    local = datetime.fromtimestamp(ts_ns / 1e9, UTC).astimezone(NEW_YORK)
    opened = datetime.combine(local.date(), cfg.session_open_et, NEW_YORK)
    return (local - opened).total_seconds() / 60


def apply_option_quote(book: FuelBook, ticker: str, bid: float, ask: float) -> None:
    st = book.contracts.get(ticker)
    if st is not None:
        st.bid, st.ask = bid, ask


def customer_side(
    price: float, bid: float | None, ask: float | None, last_price: float | None, last_side: int
) -> int:
    """+1 a customer bought, -1 sold, 0 unknown (see the module docstring)."""
    if bid is not None and ask is not None and 0 < bid <= ask:
        if price >= ask:
            return CUSTOMER_BUY
        if price <= bid:
            return CUSTOMER_SELL
        mid = (bid + ask) / 2
        if price > mid:
            return CUSTOMER_BUY
        if price < mid:
            return CUSTOMER_SELL
        return UNKNOWN
    if last_price is None:
        return UNKNOWN
    if price > last_price:
        return CUSTOMER_BUY
    if price < last_price:
        return CUSTOMER_SELL
    return last_side


def apply_option_trade(book: FuelBook, ticker: str, price: float, size: int) -> None:
    book.counters.trades += 1
    if not (0 <= price <= MAX_PRICE and 0 <= size <= MAX_CONTRACTS):
        book.counters.implausible_values += 1
        return
    st = book.contracts.get(ticker)
    if st is None:
        try:
            st = book.contracts.setdefault(ticker, ContractState(parse_ticker(ticker)))
        except OptionTickerError:
            book.counters.trades_unknown_contract += 1
            return
    side = customer_side(price, st.bid, st.ask, st.last_price, st.last_side)
    if side == UNKNOWN:
        book.counters.trades_unclassified += 1
    st.customer_net += side * size
    st.last_price, st.last_side = price, side


# -- evidence -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Chain:
    """The session's usable contracts as arrays (those with OI and a gamma or an IV)."""

    strike: np.ndarray
    is_call: np.ndarray
    iv: np.ndarray  # NaN: none, use the vendor gamma
    vendor_gamma: np.ndarray
    oi: np.ndarray
    net: np.ndarray
    t_years: np.ndarray


def chain_tickers(book: FuelBook, session: date) -> list[str]:
    """Contracts expiring on ``session`` (0DTE) with what gamma needs, in ticker order: sums
    over the chain then do not depend on the order rows arrived in (Kafka partitions
    interleave them differently from a file), to the last bit."""
    return [
        ticker
        for ticker, st in sorted(book.contracts.items())
        if st.contract.expiry == session
        and st.open_interest is not None
        and (st.iv is not None or st.vendor_gamma is not None)
    ]


def chain_of(
    book: FuelBook, now_ns: int, session: date, cfg: PhysicsConfig, tickers: list[str] | None = None
) -> Chain:
    """The chain of ``chain_tickers`` (given, or found), as of ``now_ns``."""
    names = chain_tickers(book, session) if tickers is None else tickers
    use = [book.contracts[t] for t in names]
    chain = Chain(
        strike=np.array([s.contract.strike for s in use], np.float64),
        is_call=np.array([s.contract.is_call for s in use], bool),
        iv=np.array([s.iv if s.iv is not None else np.nan for s in use], np.float64),
        vendor_gamma=np.array([s.vendor_gamma or 0.0 for s in use], np.float64),
        oi=np.array([s.open_interest or 0 for s in use], np.float64),
        net=np.array([s.customer_net for s in use], np.float64),
        t_years=np.empty(len(use), np.float64),
    )
    return dated(chain, now_ns, session, cfg)


def with_customer_net(
    chain: Chain, index: dict[str, int], book: FuelBook, traded: Iterable[str]
) -> Chain:
    """``chain`` with the customer net of the ``traded`` contracts brought up to date
    (``index``: a ticker's row in the chain). Trades change nothing else in a chain: what
    enters it (OI, IV or gamma) comes with greeks rows only."""
    rows = [(index[t], book.contracts[t].customer_net) for t in traded if t in index]
    if not rows:
        return chain
    net = chain.net.copy()
    for i, value in rows:
        net[i] = value
    return replace(chain, net=net)


def dated(chain: Chain, now_ns: int, session: date, cfg: PhysicsConfig) -> Chain:
    """The chain as of ``now_ns``: every contract expires on ``session``, so one time left."""
    left = years_to_expiry(now_ns, session, cfg.option_expiry_et, cfg.min_time_to_expiry_s)
    return replace(chain, t_years=np.full(chain.strike.size, left))


def gamma_at(chain: Chain, spot: float | np.ndarray, cfg: PhysicsConfig) -> np.ndarray:
    """Per-share gamma at ``spot``: re-priced from IV (sticky strike), else the vendor's (a
    column of spots gives a row per spot)."""
    repriced = bs_gamma(spot, chain.strike, chain.iv, chain.t_years, cfg.option_rate)
    return np.where(np.isnan(repriced), chain.vendor_gamma, repriced)


def positions(chain: Chain) -> dict[str, np.ndarray]:
    """Dealer contracts under the three models."""
    sign = np.where(chain.is_call, 1.0, -1.0)
    return {
        "baseline": sign * chain.oi - chain.net,  # dealers long calls, short puts
        "opposite": -sign * chain.oi - chain.net,
        "flow_only": -chain.net,
    }


def dollar_gamma(
    pos: np.ndarray, gamma: np.ndarray, spot: float | np.ndarray, cfg: PhysicsConfig
) -> np.ndarray:
    """$ of underlying dealers must trade per 1% move: pos · Γ · multiplier · S² · 0.01."""
    out: np.ndarray = pos * gamma * cfg.option_multiplier * spot * spot * 0.01
    return out


def kernel(strike: np.ndarray, level: np.ndarray | float, half_width: float) -> np.ndarray:
    return np.maximum(1.0 - np.abs(strike - level) / half_width, 0.0)


@dataclass(frozen=True, slots=True)
class FuelEvidence:
    """The dealers' gamma at a level, from the options alone (no book)."""

    regime_score: float  # -tanh(GEX_L / G_ref): names the regime (the score is fuel_score)
    regime: Regime
    gex_near_level: float  # baseline model, $ per 1%
    gex_band: tuple[float, float]  # min and max over the three models
    models_disagree: bool


def fuel_at(chain: Chain, level: float, spot: float, cfg: PhysicsConfig) -> FuelEvidence | None:
    """Fuel at one level; None when no contract lies within the kernel."""
    return fuel_at_levels(chain, np.array([level]), spot, cfg)[0]


def fuel_at_levels(
    chain: Chain, levels: np.ndarray, spot: float, cfg: PhysicsConfig
) -> list[FuelEvidence | None]:
    """Fuel at each level (the chain priced once for all); None where no contract lies
    within the kernel."""
    w = kernel(chain.strike[None, :], levels[:, None], cfg.fuel_kernel_half_width_spy)
    near = np.any(w > 0, axis=1)
    if not near.any():
        return [None] * len(levels)
    gamma = gamma_at(chain, spot, cfg)
    gex = {
        name: (dollar_gamma(pos, gamma, spot, cfg)[None, :] * w).sum(axis=1).tolist()
        for name, pos in positions(chain).items()
    }
    return [
        _evidence({name: g[i] for name, g in gex.items()}, cfg) if near[i] else None
        for i in range(len(levels))
    ]


def _evidence(gex: dict[str, float], cfg: PhysicsConfig) -> FuelEvidence:
    regime_score = -math.tanh(gex["baseline"] / cfg.fuel_gex_ref)
    # the day's observed flow contradicts the assumed convention at this level
    tiny = cfg.fuel_gex_ref * 1e-3
    base, flow = gex["baseline"], gex["flow_only"]
    disagree = abs(base) > tiny and abs(flow) > tiny and (base > 0) != (flow > 0)
    return FuelEvidence(
        regime_score=regime_score,
        regime=regime(regime_score, cfg.fuel_regime_threshold),
        gex_near_level=gex["baseline"],
        gex_band=(min(gex.values()), max(gex.values())),
        models_disagree=disagree,
    )


def directional_fuel(
    score: float | None, since_touch_s: float | None, on_level_s: float
) -> float | None:
    """The fuel as evidence of which way a test goes: as read on an approach, and no direction
    (0) while price touched the level within ``on_level_s``.

    Dealers hedge against a move (long gamma, DAMPEN) or with it (short gamma, AMPLIFY). On
    the way to a level the move is the approach, so damping turns it back (BOUNCE) and
    chasing carries it through (BREAK). Once price sits on the level the move is whichever
    wobble comes next, either way: long gamma holds price there (a pin), short gamma pushes
    it off in the wobble's direction, and neither says which way the test is decided."""
    if score is None or since_touch_s is None or since_touch_s > on_level_s:
        return score
    return 0.0


def hedge_lots_per_tick(gex_per_pct: float, spot: float, ratio: float, cfg: PhysicsConfig) -> float:
    """ES lots the dealers' delta hedge trades for each ES tick that price moves. GEX is
    dollars of delta per 1% of spot, so ``GEX / (0.01 S²)`` SPY shares per $1 of SPY; one ES
    tick is ``es_tick / R`` dollars of SPY, and one ES lot carries the delta of
    ``es_point_value · R`` SPY shares (ES is about R times SPY)."""
    shares_per_dollar = abs(gex_per_pct) / (0.01 * spot * spot)
    return shares_per_dollar * (cfg.es_tick / ratio) / (cfg.es_point_value * ratio)


def lots_to_clear(thickness: float | None, typical_queue: float, cfg: PhysicsConfig) -> float:
    """ES lots a tick of the move must clear at a level: the defending side's ordinary queue,
    times the level's thickness where its defence is thicker than ordinary (a wall). A thin
    band is crossed on the push, which clears ordinary queues, so it counts as ordinary; an
    unseen defence too. Never below ``vacuum_eps`` (an empty side)."""
    q = 1.0 if thickness is None else max(thickness, 1.0)
    return max(q * typical_queue, cfg.vacuum_eps)


def fuel_score(gex_per_pct: float, hedge_lots: float, clear_lots: float) -> float:
    """The fuel as evidence at a level, ``-sign(GEX) · tanh(g)`` with the feedback gain
    ``g = hedge_lots / clear_lots``: the hedge traded per tick moved against what the tick
    must clear. At ``g = 1`` short gamma feeds a move as fast as the book takes it (AMPLIFY,
    toward a break) and long gamma adds as much again to the defence (DAMPEN, toward a
    bounce); a hedge small beside the book says little either way."""
    if gex_per_pct == 0.0:
        return 0.0
    return -math.copysign(math.tanh(hedge_lots / clear_lots), gex_per_pct)


def regime(score: float, threshold: float) -> Regime:
    if score >= threshold:
        return "AMPLIFY"
    if score <= -threshold:
        return "DAMPEN"
    return "NEUTRAL"


# -- gamma levels -------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class GammaLevels:
    call_wall: float | None
    put_wall: float | None
    zero_gamma: float | None


def gamma_levels(chain: Chain, spot: float, cfg: PhysicsConfig) -> GammaLevels:
    """Call wall: the strike ≥ spot with the most call gamma x OI (in $ per 1%); put wall: the
    strike ≤ spot with the most put gamma x OI; zero gamma: where the baseline dealer gamma,
    re-priced on a grid of spots, changes sign nearest spot (None beyond the max distance)."""
    if chain.strike.size == 0:
        return GammaLevels(None, None, None)
    exposure = dollar_gamma(chain.oi, gamma_at(chain, spot, cfg), spot, cfg)
    return GammaLevels(
        _wall(chain.strike, exposure, chain.is_call & (chain.strike >= spot)),
        _wall(chain.strike, exposure, ~chain.is_call & (chain.strike <= spot)),
        zero_gamma(chain, spot, cfg),
    )


def _wall(strike: np.ndarray, exposure: np.ndarray, mask: np.ndarray) -> float | None:
    if not np.any(mask):
        return None
    strikes, inverse = np.unique(strike[mask], return_inverse=True)
    totals = np.bincount(inverse, weights=exposure[mask])
    return float(strikes[int(np.argmax(totals))])


def zero_gamma(chain: Chain, spot: float, cfg: PhysicsConfig) -> float | None:
    step, width = cfg.flip_grid_step_spy, cfg.flip_grid_half_width_spy
    grid = spot + np.arange(-width, width + step / 2, step)
    pos = positions(chain)["baseline"]
    at = grid[:, None]  # every grid spot against every contract, in one pass
    total = np.sum(dollar_gamma(pos, gamma_at(chain, at, cfg), at, cfg), axis=1)
    crossings = np.flatnonzero(np.sign(total[:-1]) * np.sign(total[1:]) < 0)
    if crossings.size == 0:
        return None
    flips = [
        float(grid[i] + (grid[i + 1] - grid[i]) * total[i] / (total[i] - total[i + 1]))
        for i in crossings
    ]
    nearest = min(flips, key=lambda f: abs(f - spot))
    return nearest if abs(nearest - spot) <= cfg.flip_max_distance_spy else None


def session_date(ts_ns: int) -> date:
    """The New York trading date of an instant (0DTE = contracts expiring on it)."""
    return datetime.fromtimestamp(ts_ns / 1e9, UTC).astimezone(NEW_YORK).date()


def _get(row: dict[str, Any], *path: str) -> Any:
    cur: Any = row
    for p in path:
        cur = cur.get(p) if isinstance(cur, dict) else None
    return cur


def _within(book: FuelBook, value: float | None, low: float, high: float) -> float | None:
    """``value`` if it lies in [low, high]; None (and counted) if it is out of bounds."""
    if value is None or low <= value <= high:
        return value
    book.counters.implausible_values += 1
    return None


def _num(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None
