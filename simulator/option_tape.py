"""Option trade frames in Polygon/Massive's WebSocket format, for a chain of contracts.

Prices wander around each contract's last known price (the chain row's ``day.close`` or
``day.vwap``); sizes are small and heavy-tailed like option prints; sequence numbers rise per
ticker with gaps, as the vendor's do. Seeded, so tests and the demo are reproducible.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

OPTION_EXCHANGES = (302, 303, 304, 308, 309, 312, 313, 316, 319, 322, 323, 325)


@dataclass(frozen=True, slots=True)
class TapeParams:
    trades: int = 1000
    start_ms: int = 1_759_930_200_000  # 2025-10-08 13:30 UTC, the open
    mean_gap_ms: float = 40.0  # exponential inter-arrival
    max_events_per_frame: int = 4
    tick_spy: float = 0.01
    mean_size: float = 6.0  # geometric sizes, contracts
    price_step_ticks: float = 2.0  # random walk step, in ticks


def option_trade_frames(
    chain_rows: list[dict[str, Any]], params: TapeParams, seed: int
) -> list[bytes]:
    """Wire frames (JSON arrays of ``T`` events) for the contracts in ``chain_rows``."""
    rng = np.random.default_rng(seed)
    tickers, prices = _contracts(chain_rows)
    if not tickers:
        return []
    sequence = {t: int(rng.integers(1_000, 100_000)) for t in tickers}
    t_ms = params.start_ms
    frames: list[bytes] = []
    remaining = params.trades
    while remaining > 0:
        n = min(int(rng.integers(1, params.max_events_per_frame + 1)), remaining)
        t_ms += int(rng.exponential(params.mean_gap_ms)) + 1
        frames.append(
            json.dumps(
                [_trade(rng, params, tickers, prices, sequence, t_ms) for _ in range(n)]
            ).encode()
        )
        remaining -= n
    return frames


def _contracts(rows: list[dict[str, Any]]) -> tuple[list[str], dict[str, float]]:
    prices: dict[str, float] = {}
    for row in rows:
        ticker = row.get("details", {}).get("ticker")
        day = row.get("day", {})
        price = day.get("close") or day.get("vwap") or 1.0
        if isinstance(ticker, str):
            prices[ticker] = float(price)
    return sorted(prices), prices


def _trade(
    rng: np.random.Generator,
    params: TapeParams,
    tickers: list[str],
    prices: dict[str, float],
    sequence: dict[str, int],
    t_ms: int,
) -> dict[str, Any]:
    sym = tickers[int(rng.integers(len(tickers)))]
    step = rng.normal(0.0, params.price_step_ticks) * params.tick_spy
    prices[sym] = max(round(prices[sym] + step, 2), params.tick_spy)
    sequence[sym] += int(rng.integers(1, 50))
    return {
        "ev": "T",
        "sym": sym,
        "x": int(rng.choice(OPTION_EXCHANGES)),
        "p": prices[sym],
        "s": int(rng.geometric(1.0 / params.mean_size)),
        "c": [209],
        "t": t_ms,
        "q": sequence[sym],
    }
