"""The options side of the market step: SPY option inputs applied in event-time order, and
the fuel evidence of each snap (the maths is ``physics.fuel``)."""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from dataflows.signals.items import OptionEvent
from physics import fuel as fu
from physics.config import PhysicsConfig
from physics.levels import KIND_CALL_WALL, KIND_PUT_WALL, KIND_ZERO_GAMMA


@dataclass(frozen=True, slots=True)
class SnapFuel:
    """What one snap knows from options."""

    chain: fu.Chain | None
    spot: float
    cfg: PhysicsConfig
    greeks_as_of_ns: int | None = None
    gamma_levels: list[tuple[float, str]] = field(default_factory=list)
    strikes: list[float] = field(default_factory=list)

    def at(self, levels: list[float]) -> list[fu.FuelEvidence | None]:
        if self.chain is None:
            return [None] * len(levels)
        return fu.fuel_at_levels(self.chain, np.array(levels), self.spot, self.cfg)


class OptionsState:
    """Pending option inputs (applied once the snap passes them) and the session's book."""

    def __init__(self, cfg: PhysicsConfig) -> None:
        self.cfg = cfg
        self.book = fu.FuelBook()
        self.session: date | None = None
        self.pending: list[tuple[int, str, int, OptionEvent]] = []  # heap by time, then source
        self.levels: list[tuple[float, str]] = []
        self.levels_ns: int | None = None
        self.spy_mid: float | None = None  # the latest SPY quote mid, for the live ratio
        self.spy_mid_ns: int | None = None
        # the chain, its strikes and each ticker's row, as of the last greeks row (re-dated
        # per snap); the contracts traded since then (their customer net moved)
        self._chain: tuple[fu.Chain, list[float], dict[str, int]] | None = None
        self._traded: set[str] = set()

    def add(self, item: OptionEvent) -> None:
        heapq.heappush(self.pending, (item.ts_ns, item.partition, item.offset, item))

    def advance(self, t_ns: int) -> None:
        """Apply every input dated at or before ``t_ns`` (in time order)."""
        session = fu.session_date(t_ns)
        if session != self.session:  # a new trading day: yesterday's flow is not today's
            self.book, self.session, self.levels, self.levels_ns = fu.FuelBook(), session, [], None
            self._chain = None
        while self.pending and self.pending[0][0] <= t_ns:
            self._apply(heapq.heappop(self.pending)[3])

    def at_snap(self, t_ns: int, spot: float) -> SnapFuel:
        """Fuel evidence at a snap (after ``advance(t_ns)``)."""
        session = fu.session_date(t_ns)
        as_of = self.book.greeks_as_of_ns
        if as_of is None or t_ns - as_of > self.cfg.fuel_stale_s * 1e9:
            return SnapFuel(None, spot, self.cfg, as_of)  # no chain yet, or a stale one
        if self._chain is None:
            tickers = fu.chain_tickers(self.book, session)
            built = fu.chain_of(self.book, t_ns, session, self.cfg, tickers)
            strikes = sorted({float(k) for k in built.strike})
            self._chain = (built, strikes, {t: i for i, t in enumerate(tickers)})
            self._traded = set()
        elif self._traded:
            built, strikes, index = self._chain
            built = fu.with_customer_net(built, index, self.book, sorted(self._traded))
            self._chain, self._traded = (built, strikes, index), set()
        chain, strikes = fu.dated(self._chain[0], t_ns, session, self.cfg), self._chain[1]
        if chain.strike.size == 0:
            return SnapFuel(None, spot, self.cfg, as_of)
        every_ns = int(self.cfg.gamma_levels_every_s * 1e9)
        if self.levels_ns is None or t_ns - self.levels_ns >= every_ns:
            self.levels, self.levels_ns = _gamma_levels(chain, spot, self.cfg), t_ns
        return SnapFuel(chain, spot, self.cfg, as_of, self.levels, strikes)

    def _apply(self, e: OptionEvent) -> None:
        if e.kind == "greeks" and e.row is not None:
            fu.apply_greeks_row(self.book, e.row, e.ts_ns, self.cfg)
            self._chain = None  # contracts may enter or leave the chain: built again
        elif e.kind == "trade":
            fu.apply_option_trade(self.book, e.ticker, e.price, e.size)
            self._traded.add(e.ticker)  # quotes change no chain
        elif e.kind == "quote":
            fu.apply_option_quote(self.book, e.ticker, e.bid, e.ask)
        elif e.kind == "spy_quote" and 0 < e.bid <= e.ask:
            self.spy_mid, self.spy_mid_ns = (e.bid + e.ask) / 2, e.ts_ns


def _gamma_levels(chain: fu.Chain, spot: float, cfg: PhysicsConfig) -> list[tuple[float, str]]:
    g = fu.gamma_levels(chain, spot, cfg)
    found = [
        (g.call_wall, KIND_CALL_WALL),
        (g.put_wall, KIND_PUT_WALL),
        (g.zero_gamma, KIND_ZERO_GAMMA),
    ]
    return [(round(price, 2), kind) for price, kind in found if price is not None]
