"""Liquidity flow at each price between consecutive MBP-10 books: added, cancelled, filled.

Accounting is by price, not by depth index: when the top level clears, MBP-10 indices shift
and index-wise differences would invent cancels. A price is compared only where both books
show it (inside both visible windows); a price that leaves the window is not a cancel.
Decreases are split into fills (matched by trades at that price in between) and cancels
(the rest): displayed size that leaves without trading is a pulled claim. Volume traded at a
price beyond its displayed drop is hidden: an iceberg's reserve, shown only as it trades.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class PriceFlows:
    """One row per (book transition, price) whose displayed size changed."""

    row: I64  # index of the later book of the transition
    price_tick: I64  # price in ticks
    added: I64
    cancelled: I64
    filled: I64
    hidden: I64  # traded beyond the displayed drop: size that was never shown


def visible_floor(px: F64, bids: bool) -> F64:
    """Per book row, the deepest price the ladder shows; +-inf when it shows the whole side."""
    full = ~np.isnan(px).any(axis=1)
    if bids:
        return np.where(full, np.where(np.isnan(px), np.inf, px).min(axis=1), -np.inf)
    return np.where(full, np.where(np.isnan(px), -np.inf, px).max(axis=1), np.inf)


def price_flows(
    px: F64,
    sz: I64,
    bids: bool,
    tick: float,
    trade_row: I64,
    trade_tick: I64,
    trade_size: I64,
) -> PriceFlows:
    """Flows for transitions ``i-1 -> i`` over book rows ``px``/``sz`` of shape (n, 10).

    Trades (already restricted to those that can fill this side: sell-aggressor trades for
    bids, buy-aggressor for asks, and trades without an aggressor flag for either) are
    given by the index of the first book row at or after them (``trade_row``) and their price
    in ticks; a decrease at a price is a fill up to the volume traded there in between.
    """
    n = px.shape[0]
    if n < 2:
        return _empty()
    floor = visible_floor(px, bids)
    # A price counts if both books of the transition show it.
    shared = np.maximum(floor[:-1], floor[1:]) if bids else np.minimum(floor[:-1], floor[1:])
    rows = np.arange(1, n)
    prev_keys, prev_sz = _entries(px[:-1], sz[:-1], shared, bids, rows, tick)
    cur_keys, cur_sz = _entries(px[1:], sz[1:], shared, bids, rows, tick)
    book_keys, inverse = np.unique(np.concatenate([prev_keys, cur_keys]), return_inverse=True)
    book_delta = np.bincount(
        inverse, weights=np.concatenate([-prev_sz, cur_sz]), minlength=len(book_keys)
    ).astype(np.int64)
    tkeys, tvol = _trades_in_view(
        trade_row, trade_tick, trade_size, shared, px[:-1, 0], bids, n, tick
    )
    # every price whose size changed, and every price that traded (an iceberg may not change)
    keys = np.union1d(book_keys[book_delta != 0], tkeys)
    delta = _lookup(keys, book_keys, book_delta)
    traded = _lookup(keys, tkeys, tvol)
    decrease = np.maximum(-delta, 0)
    filled = np.minimum(decrease, traded)
    return PriceFlows(
        row=(keys >> 32).astype(np.int64),
        price_tick=(keys & 0xFFFFFFFF).astype(np.int64) - _OFFSET,
        added=np.maximum(delta, 0),
        cancelled=decrease - filled,
        filled=filled,
        hidden=traded - filled,
    )


# (row, price tick) packed into one int64 key; ticks are offset to stay non-negative.
_OFFSET = 1 << 31


def _pack(row: I64, tick: I64) -> I64:
    return (row.astype(np.int64) << 32) | (tick.astype(np.int64) + _OFFSET)


def _entries(px: F64, sz: I64, shared: F64, bids: bool, rows: I64, tick: float) -> tuple[I64, F64]:
    defined = ~np.isnan(px)
    inside = px >= shared[:, None] - 1e-9 if bids else px <= shared[:, None] + 1e-9
    keep = defined & inside
    ticks = np.rint(np.where(keep, px, 0.0) / tick).astype(np.int64)
    row_grid = np.broadcast_to(rows[:, None], px.shape)
    return _pack(row_grid[keep], ticks[keep]), sz[keep].astype(np.float64)


def _trades_in_view(
    trade_row: I64, trade_tick: I64, trade_size: I64, shared: F64, top: F64, bids: bool,
    n: int, tick: float,
) -> tuple[I64, I64]:  # fmt: skip
    """Volume per (transition, price) of the trades that can have filled this side: inside
    both books' visible windows and at or through the earlier book's best price (a bid is hit
    at its price or lower; a print above the best bid was not on the bids)."""
    ok = (trade_row >= 1) & (trade_row < n)
    row, tk, size = trade_row[ok], trade_tick[ok], trade_size[ok]
    floor, best = shared[row - 1], top[row - 1]
    price = tk * tick
    if bids:
        inside = (price >= floor - 1e-9) & (price <= best + 1e-9)
    else:
        inside = (price <= floor + 1e-9) & (price >= best - 1e-9)
    if not inside.any():
        return np.empty(0, np.int64), np.empty(0, np.int64)
    tkeys, tinv = np.unique(_pack(row[inside], tk[inside]), return_inverse=True)
    volume = np.bincount(tinv, weights=size[inside].astype(np.float64)).astype(np.int64)
    return tkeys, volume


def _lookup(keys: I64, table_keys: I64, values: I64) -> I64:
    """``values`` at ``keys`` in sorted ``table_keys``; 0 where a key is absent."""
    if table_keys.size == 0:
        return np.zeros(keys.size, np.int64)
    pos = np.searchsorted(table_keys, keys)
    pos_ok = np.minimum(pos, len(table_keys) - 1)
    hit = (pos < len(table_keys)) & (table_keys[pos_ok] == keys)
    return np.where(hit, values[pos_ok], 0).astype(np.int64)


def _empty() -> PriceFlows:
    z = np.empty(0, np.int64)
    return PriceFlows(z, z, z, z, z, z)
