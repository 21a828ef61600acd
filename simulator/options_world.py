"""SPY and its 0DTE options around the simulated ES: a chain with open interest and an IV
smile, Black-Scholes prices and greeks, customer option flow, and the dealers' ES delta hedge.

Dealers hold the other side by the fuel engine's baseline convention (long the calls' open
interest, short the puts'), less what customers bought today. Their delta is re-hedged in ES
on an interval: short gamma buys rallies and sells dips (amplifies the move), long gamma does
the opposite (dampens it). That hedge is order flow in the simulated ES book, so the outcome
of a gamma scenario is made by the same book the barrier and tape engines read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, time
from typing import Literal

import numpy as np

from physics.options import bs_gamma, years_to_expiry
from simulator.params import OptionsSimParams

GammaFocus = Literal["short", "long"]
SHARES_PER_CONTRACT = 100
ES_POINT_VALUE = 50  # dollars per ES point (the engine reads its own: PhysicsConfig.es_point_value)
EXPIRY_ET = time(16, 0)
MIN_EXPIRY_S = 900.0  # as the fuel engine floors it: gamma stays finite near the close

_erf = np.vectorize(math.erf, otypes=[np.float64])


def norm_cdf(x: np.ndarray) -> np.ndarray:
    return np.asarray(0.5 * (1.0 + _erf(x / math.sqrt(2.0))), dtype=np.float64)


@dataclass(frozen=True, slots=True)
class Greeks:
    price: np.ndarray
    delta: np.ndarray
    gamma: np.ndarray
    theta: np.ndarray  # per calendar day
    vega: np.ndarray  # per vol point
    iv: np.ndarray


@dataclass(frozen=True, slots=True)
class OptionPrint:
    ts_ns: int
    index: int  # contract
    price: float
    size: int
    bid: float
    ask: float
    customer_buys: bool


def occ_ticker(root: str, expiry: date, is_call: bool, strike: float) -> str:
    return f"O:{root}{expiry:%y%m%d}{'C' if is_call else 'P'}{round(strike * 1000):08d}"


def half_spread(price: np.ndarray) -> np.ndarray:
    """Option markets quote a cent or two wide for cheap contracts, ~2% for dear ones."""
    return np.maximum(0.01, np.round(price * 0.01, 2))


@dataclass
class OptionsWorld:
    """The chain and the dealers' book over one session; ``step`` is called as ES time runs."""

    p: OptionsSimParams
    session: date
    spot: float  # SPY at the open of the simulation
    rng: np.random.Generator
    level: float | None = None  # a scenario's level: gamma of the ``focus`` kind sits there
    focus: GammaFocus | None = None
    root: str = "SPY"
    strikes: np.ndarray = field(init=False)
    is_call: np.ndarray = field(init=False)
    oi: np.ndarray = field(init=False)
    customer_net: np.ndarray = field(init=False)
    volume: np.ndarray = field(init=False)
    notional: np.ndarray = field(init=False)
    tickers: list[str] = field(init=False)
    hedge_lots: int = 0  # the dealers' ES position
    _next_hedge_ns: int = 0

    def __post_init__(self) -> None:
        p = self.p
        centre = round(self.spot / p.strike_step) * p.strike_step
        ks = centre + p.strike_step * np.arange(-p.strikes_each_side, p.strikes_each_side + 1)
        self.strikes = np.concatenate([ks, ks])
        self.is_call = np.repeat([True, False], ks.size)
        away = np.abs(self.strikes - self.spot)
        oi = p.oi_atm * np.exp(-away / p.oi_decay_spy)
        oi *= np.where(np.isclose(self.strikes % 5, 0), p.oi_round_boost, 1.0)
        oi *= self.rng.uniform(0.6, 1.4, oi.size)
        self.oi = np.round(oi).astype(np.int64)
        if self.level is not None and self.focus is not None:
            # Baseline convention: dealers long calls' OI (long gamma), short puts' (short).
            at = np.isclose(self.strikes, self.level) & (self.is_call == (self.focus == "long"))
            self.oi[at] += p.level_oi
        n = self.strikes.size
        self.customer_net = np.zeros(n, np.int64)
        self.volume = np.zeros(n, np.int64)
        self.notional = np.zeros(n, np.float64)
        self.tickers = [
            occ_ticker(self.root, self.session, bool(c), float(k))
            for c, k in zip(self.is_call, self.strikes, strict=True)
        ]

    # -- pricing --------------------------------------------------------------------------
    def iv(self, spot: float) -> np.ndarray:
        m = np.log(self.strikes / spot)
        return np.asarray(
            np.maximum(self.p.atm_iv + self.p.iv_skew * m + self.p.iv_curve * m * m, 0.03)
        )

    def t_years(self, t_ns: int) -> float:
        return years_to_expiry(t_ns, self.session, EXPIRY_ET, MIN_EXPIRY_S)

    def greeks(self, spot: float, t_ns: int) -> Greeks:
        iv, t = self.iv(spot), self.t_years(t_ns)
        k, sqrt_t = self.strikes, math.sqrt(t)
        d1 = (np.log(spot / k) + 0.5 * iv * iv * t) / (iv * sqrt_t)
        d2 = d1 - iv * sqrt_t
        nd1, nd2 = norm_cdf(d1), norm_cdf(d2)
        call = spot * nd1 - k * nd2
        price = np.where(self.is_call, call, call - spot + k)  # put-call parity, r = 0
        delta = np.where(self.is_call, nd1, nd1 - 1.0)
        pdf = np.exp(-0.5 * d1 * d1) / math.sqrt(2 * math.pi)
        gamma = bs_gamma(spot, k, iv, np.full(k.size, t))
        theta = -spot * pdf * iv / (2 * sqrt_t) / 365.0
        vega = spot * pdf * sqrt_t / 100.0
        return Greeks(np.maximum(price, 0.01), delta, gamma, theta, vega, iv)

    def dealer_position(self) -> np.ndarray:
        baseline = np.where(self.is_call, self.oi, -self.oi)
        return np.asarray(baseline - self.customer_net, dtype=np.int64)

    def dealer_delta_shares(self, spot: float, t_ns: int) -> float:
        g = self.greeks(spot, t_ns)
        return float(np.sum(self.dealer_position() * g.delta) * SHARES_PER_CONTRACT)

    # -- the hedge ------------------------------------------------------------------------
    def hedge(self, t_ns: int, spot: float, ratio: float) -> int:
        """ES lots the dealers trade now (+ buy), at most ``hedge_max_lots`` a re-hedge;
        zero between re-hedges. The first call only records the position they start with."""
        if t_ns < self._next_hedge_ns:
            return 0
        first = self._next_hedge_ns == 0
        self._next_hedge_ns = t_ns + int(self.p.hedge_every_s * 1e9)
        shares_per_lot = ES_POINT_VALUE * ratio  # one ES lot moves like this many SPY shares
        target = -round(self.dealer_delta_shares(spot, t_ns) / shares_per_lot)
        if first:
            self.hedge_lots = target
            return 0
        lots = int(np.clip(target - self.hedge_lots, -self.p.hedge_max_lots, self.p.hedge_max_lots))
        self.hedge_lots += lots
        return lots

    # -- customer flow --------------------------------------------------------------------
    def prints(self, t0_ns: int, t1_ns: int, spot: float) -> list[OptionPrint]:
        """Customer prints in ``[t0, t1)``: Poisson, near spot, at the quote they lift or hit."""
        p = self.p
        n = int(self.rng.poisson(p.trades_per_s * (t1_ns - t0_ns) / 1e9))
        if n == 0:
            return []
        times = np.sort(self.rng.integers(t0_ns, t1_ns, n))
        g = self.greeks(spot, int(times[0]))
        weight = np.exp(-np.abs(self.strikes - spot) / p.strike_spread_spy)
        focus = np.zeros(self.strikes.size, bool)
        if self.level is not None and self.focus is not None:
            focus = np.isclose(self.strikes, self.level)
        out = []
        for ts in times:
            at_level = focus.any() and self.rng.random() < p.level_flow_share
            pool = np.flatnonzero(focus) if at_level else None
            if pool is not None:
                i = int(self.rng.choice(pool))
                buy_p = p.level_buy_p if self.focus == "short" else 1 - p.level_buy_p
            else:
                i = int(self.rng.choice(weight.size, p=weight / weight.sum()))
                buy_p = 0.5
            buys = bool(self.rng.random() < buy_p)
            size = self._size()
            mid = float(g.price[i])
            half = float(half_spread(g.price[i : i + 1])[0])
            bid, ask = round(max(mid - half, 0.01), 2), round(mid + half, 2)
            price = ask if buys else bid
            self.customer_net[i] += size if buys else -size
            self.volume[i] += size
            self.notional[i] += size * price
            out.append(OptionPrint(int(ts), i, price, size, bid, ask, buys))
        return out

    def _size(self) -> int:
        if self.rng.random() < self.p.block_p:
            return int(self.rng.integers(*self.p.block_size))
        return int(self.rng.geometric(1.0 / self.p.trade_size_mean))
