"""The options world as Polygon/Massive sends it: WebSocket frames (option trades and quotes,
SPY quotes) and paginated chain snapshots, in the vendor's field names and units.

WebSocket times are Unix milliseconds, REST times nanoseconds, as the vendor's are. Frames
and pages go to a ``Sink`` (a capture file, or the live feed of ``snapline ingest sim``).
"""

from __future__ import annotations

import base64
import json
import math
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlencode

import numpy as np

from simulator.option_tape import OPTION_EXCHANGES
from simulator.options_world import OptionPrint, OptionsWorld, half_spread

NS_PER_MS = 1_000_000
STOCK_EXCHANGES = (4, 7, 11, 12, 15, 19, 21)
REST_BASE = "https://api.massive.com"


class Sink(Protocol):
    def frame(self, ts_recv_ns: int, market: str, body: str) -> None: ...
    def page(self, ts_recv_ns: int, body: str) -> None: ...


@dataclass
class CollectSink:
    """Keeps what was sent, in order: (ts_recv_ns, market or "chain", body)."""

    items: list[tuple[int, str, str]] = field(default_factory=list)

    def frame(self, ts_recv_ns: int, market: str, body: str) -> None:
        self.items.append((ts_recv_ns, market, body))

    def page(self, ts_recv_ns: int, body: str) -> None:
        self.items.append((ts_recv_ns, "chain", body))


def _dumps(doc: Any) -> str:
    return json.dumps(doc, separators=(",", ":"))


@dataclass
class PolygonFeed:
    """Advances the options world with ES time and writes what the vendor would send."""

    world: OptionsWorld
    sink: Sink
    ratio: float  # ES / SPY
    seq: dict[str, int] = field(default_factory=dict)
    _t_ns: int | None = None
    _next_chain_ns: int = 0
    _next_quote_ns: int = 0
    _last_spy: tuple[float, float] | None = None
    _day: dict[int, dict[str, float]] = field(default_factory=dict)  # contract -> OHLC

    def advance(self, t_ns: int, es_mid: float) -> int:
        """Everything up to ``t_ns``; returns the ES lots the dealers hedge now (+ buy)."""
        spot = es_mid / self.ratio
        if self._t_ns is not None and t_ns > self._t_ns:
            for pr in self.world.prints(self._t_ns, t_ns, spot):
                self._print(pr)
        self._t_ns = t_ns
        if t_ns >= self._next_quote_ns:
            self._next_quote_ns = t_ns + int(self.world.p.spy_quote_every_s * 1e9)
            self._spy_quote(t_ns, spot)
        if t_ns >= self._next_chain_ns:
            self._next_chain_ns = t_ns + int(self.world.p.chain_every_s * 1e9)
            self.chain(t_ns, spot)
        return self.world.hedge(t_ns, spot, self.ratio)

    def _recv(self, t_ns: int) -> int:
        return t_ns + self.world.p.latency_ms * NS_PER_MS

    def _next_seq(self, key: str) -> int:
        self.seq[key] = self.seq.get(key, 0) + int(self.world.rng.integers(1, 40))
        return self.seq[key]

    def _print(self, pr: OptionPrint) -> None:
        sym, rng = self.world.tickers[pr.index], self.world.rng
        ms = pr.ts_ns // NS_PER_MS
        quote = {
            "ev": "Q", "sym": sym, "bx": int(rng.choice(OPTION_EXCHANGES)),
            "ax": int(rng.choice(OPTION_EXCHANGES)), "bp": pr.bid, "ap": pr.ask,
            "bs": int(rng.integers(1, 200)), "as": int(rng.integers(1, 200)), "t": ms,
            "q": self._next_seq("Q" + sym),
        }  # fmt: skip
        trade = {
            "ev": "T", "sym": sym, "x": int(rng.choice(OPTION_EXCHANGES)), "p": pr.price,
            "s": pr.size, "c": [209], "t": ms, "q": self._next_seq("T" + sym),
        }  # fmt: skip
        self.sink.frame(self._recv(pr.ts_ns), "options", _dumps([quote, trade]))
        day = self._day.setdefault(pr.index, {"open": pr.price, "high": pr.price,
                                              "low": pr.price})  # fmt: skip
        day["high"], day["low"] = max(day["high"], pr.price), min(day["low"], pr.price)
        day["close"], day["t"] = pr.price, pr.ts_ns

    def _spy_quote(self, t_ns: int, spot: float) -> None:
        bid = math.floor(spot * 100) / 100  # one-cent NBBO around the ES-implied price
        quote = (round(bid, 2), round(bid + 0.01, 2))
        if quote == self._last_spy:
            return
        self._last_spy = quote
        rng = self.world.rng
        event = {
            "ev": "Q", "sym": self.world.root, "bx": int(rng.choice(STOCK_EXCHANGES)),
            "bp": quote[0], "bs": 100 * int(rng.integers(1, 30)),
            "ax": int(rng.choice(STOCK_EXCHANGES)), "ap": quote[1],
            "as": 100 * int(rng.integers(1, 30)), "c": 1, "i": [604],
            "t": t_ns // NS_PER_MS, "q": self._next_seq("SPY"), "z": 2,
        }  # fmt: skip
        self.sink.frame(self._recv(t_ns), "stocks", _dumps([event]))

    # -- the REST snapshot ----------------------------------------------------------------
    def chain(self, t_ns: int, spot: float) -> None:
        """One poll of ``/v3/snapshot/options/SPY``: every page, as the client follows
        ``next_url`` (stamped with the poll's time, so the traffic stays in time order)."""
        rows = self.rows(t_ns, spot)
        limit = self.world.p.page_limit
        for start in range(0, len(rows), limit):
            body: dict[str, Any] = {
                "results": rows[start : start + limit],
                "status": "OK",
                "request_id": f"{int(self.world.rng.integers(1 << 62)):032x}",
            }
            if start + limit < len(rows):
                body["next_url"] = self._next_url(rows[start + limit - 1], limit)
            self.sink.page(self._recv(t_ns), _dumps(body))

    def _next_url(self, last_row: dict[str, Any], limit: int) -> str:
        cursor = urlencode({"ap": last_row["details"]["ticker"], "as": "",
                            "expiration_date": self.world.session.isoformat(),
                            "limit": limit, "order": "asc", "sort": "ticker"})  # fmt: skip
        token = base64.urlsafe_b64encode(cursor.encode()).decode().rstrip("=")
        return f"{REST_BASE}/v3/snapshot/options/{self.world.root}?cursor={token}"

    def rows(self, t_ns: int, spot: float) -> list[dict[str, Any]]:
        w = self.world
        g = w.greeks(spot, t_ns)
        half = half_spread(g.price)
        out = []
        for i in np.argsort(w.tickers, kind="stable"):
            price, strike, call = float(g.price[i]), float(w.strikes[i]), bool(w.is_call[i])
            bid, ask = round(max(price - half[i], 0.01), 2), round(price + half[i], 2)
            out.append({
                "break_even_price": round(strike + price if call else strike - price, 4),
                "day": self._day_stats(int(i)),
                "details": {
                    "contract_type": "call" if call else "put", "exercise_style": "american",
                    "expiration_date": w.session.isoformat(), "shares_per_contract": 100,
                    "strike_price": strike, "ticker": w.tickers[i],
                },
                "greeks": {"delta": float(g.delta[i]), "gamma": float(g.gamma[i]),
                           "theta": float(g.theta[i]), "vega": float(g.vega[i])},
                "implied_volatility": float(g.iv[i]),
                "last_quote": {
                    "ask": ask, "ask_size": int(w.rng.integers(1, 200)), "bid": bid,
                    "bid_size": int(w.rng.integers(1, 200)), "last_updated": t_ns,
                    "midpoint": round((bid + ask) / 2, 4), "timeframe": "REAL-TIME",
                },
                "open_interest": int(w.oi[i]),
                "underlying_asset": {"ticker": w.root, "price": round(spot, 2),
                                     "last_updated": t_ns, "timeframe": "REAL-TIME"},
            })  # fmt: skip
        return out

    def _day_stats(self, i: int) -> dict[str, Any]:
        day = self._day.get(i)
        volume = int(self.world.volume[i])
        if day is None or volume == 0:
            return {}
        return {
            "close": day["close"], "high": day["high"], "low": day["low"], "open": day["open"],
            "last_updated": int(day["t"]), "volume": volume,
            "vwap": round(float(self.world.notional[i]) / volume, 4),
        }  # fmt: skip
