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

from physics.config import PRICE_EPS

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


def visible_floor(px: F64, bids: bool | npt.NDArray[np.bool_]) -> F64:
    """Per ladder row, the deepest price it shows (bids: the lowest, asks: the highest), or
    -inf / +inf when it shows the whole side (fewer than ten defined prices). ``bids``: one
    side for every row, or one per row."""
    full = ~np.isnan(px).any(axis=1)
    deepest = np.where(bids, px.min(axis=1), px.max(axis=1))  # NaN only where not full
    floor: F64 = np.where(full, deepest, np.where(bids, -np.inf, np.inf))
    return floor


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

    Most updates change one queue of one side without moving the ladder: those transitions,
    traded or not, are plain size differences, index by index, with each trade on the column
    that shows its price. Only transitions whose ladder moved are matched price by price
    (``_matched``). Rows come out ascending.
    """
    n = px.shape[0]
    if n < 2:
        return _empty()
    p0, s0, s1 = px[:-1], sz[:-1], sz[1:]
    # a ladder in place shows the very same prices (bit for bit, so undefined levels, NaN,
    # compare equal); anything else (a moved price, even -0.0 for 0.0) is matched price by price
    bits = np.ascontiguousarray(px).view(np.int64)
    moved = ~(bits[:-1] == bits[1:]).all(axis=1)
    tr, ttk, tvol = _trades_in_view(trade_row, trade_tick, trade_size, px, bids, tick)
    still = _in_place(p0, s1 - s0, moved, bids, tick, tr, ttk, tvol)
    rows = np.flatnonzero(moved)
    on = moved[tr]
    local = np.searchsorted(rows, tr[on])  # trades by their row among the moved transitions
    m = _matched(
        px[rows], px[rows + 1], sz[rows], sz[rows + 1], bids, tick, local, ttk[on], tvol[on]
    )
    row = np.concatenate([still.row, rows[m.row]])
    order = np.argsort(row, kind="stable")  # a row's cells keep their order (lone trades last)
    delta = np.concatenate([still.delta, m.delta])[order]
    traded = np.concatenate([still.traded, m.traded])[order]
    decrease = np.maximum(-delta, 0)
    filled = np.minimum(decrease, traded)
    return PriceFlows(
        row=row[order].astype(np.int64) + 1,
        price_tick=np.concatenate([still.price_tick, m.price_tick])[order],
        added=np.maximum(delta, 0),
        cancelled=decrease - filled,
        filled=filled,
        hidden=traded - filled,
    )


@dataclass(frozen=True, slots=True)
class _Changes:
    row: I64  # transition, among those given
    price_tick: I64
    delta: I64  # displayed size after - before
    traded: I64


def _in_place(
    p0: F64, diff: I64, moved: npt.NDArray[np.bool_], bids: bool, tick: float,
    tr: I64, ttk: I64, tvol: I64,
) -> _Changes:  # fmt: skip
    """Changes of the transitions whose ladder stayed in place (``~moved``): ``diff`` is the
    size after - before at each index (overwritten). Both books show the same prices, so
    index is price; a trade prints on the column showing its price, or, shown nowhere but
    inside the window, stands alone after the row's columns. As ``_matched`` gives them."""
    diff[moved] = 0
    on = ~moved[tr]
    tr, ttk, tvol = tr[on], ttk[on], tvol[on]
    ticks = np.rint(p0[tr] / tick)  # NaN (undefined level) matches no trade
    hit = ticks == ttk[:, None]
    on_grid = hit.any(axis=1)
    # a changed or traded cell at a defined price (a size change at an undefined level is none)
    traded_at = tr[on_grid] * diff.shape[1] + hit[on_grid].argmax(axis=1)
    cells = np.flatnonzero(diff)
    cells = cells[~np.isnan(p0.ravel()[cells])]
    only_traded = np.sort(traded_at[diff.ravel()[traded_at] == 0])
    cells = np.insert(cells, np.searchsorted(cells, only_traded), only_traded)
    traded = np.zeros(cells.size, np.int64)
    traded[np.searchsorted(cells, traded_at)] = tvol[on_grid]
    row, col = np.divmod(cells, diff.shape[1])
    # a lone trade must print inside the window the (unchanged) ladder shows
    lone = np.flatnonzero(~on_grid)
    floor = visible_floor(p0[tr[lone]], bids)
    price = ttk[lone] * tick
    lone = lone[(price >= floor - PRICE_EPS) if bids else (price <= floor + PRICE_EPS)]
    at = np.searchsorted(row, tr[lone], side="right")  # after the row's columns
    return _Changes(
        row=np.insert(row, at, tr[lone]),
        price_tick=np.insert(np.rint(p0[row, col] / tick).astype(np.int64), at, ttk[lone]),
        delta=np.insert(diff.ravel()[cells], at, 0),
        traded=np.insert(traded, at, tvol[lone]),
    )


def _matched(
    p0: F64, p1: F64, s0: I64, s1: I64, bids: bool, tick: float,
    tr: I64, ttk: I64, tvol: I64,
) -> _Changes:  # fmt: skip
    """Size change and traded volume at each price of transitions ``p0 -> p1`` (row by row),
    matching prices, not ladder indices, inside the window both books show. Works on a
    (transitions, 20) grid: the prices before, each with the size now shown at it, then the
    prices that appeared."""
    floor0, floor1 = visible_floor(p0, bids), visible_floor(p1, bids)
    shared = np.maximum(floor0, floor1) if bids else np.minimum(floor0, floor1)
    b_tick, b_shown, b_size = _ladder(p0, s0, shared, bids, tick)
    a_tick, a_shown, a_size = _ladder(p1, s1, shared, bids, tick)
    # where each earlier price sits in the later ladder (-1: gone), and which later ones are new
    kept = b_shown & a_shown & (b_tick == a_tick)
    where = np.where(kept, np.arange(p0.shape[1]), -1)
    matched = kept.copy()
    moved = np.flatnonzero(np.any(kept != (b_shown | a_shown), axis=1))
    if moved.size:
        same = (
            (b_tick[moved, :, None] == a_tick[moved, None, :])
            & b_shown[moved, :, None]
            & a_shown[moved, None, :]
        )
        where[moved] = np.where(same.any(axis=2), same.argmax(axis=2), -1)
        matched[moved] = same.any(axis=1)
    size_now = np.where(where >= 0, np.take_along_axis(a_size, np.maximum(where, 0), 1), 0)
    appeared = a_shown & ~matched
    grid_tick = np.concatenate([b_tick, a_tick], axis=1)
    grid_shown = np.concatenate([b_shown, appeared], axis=1)
    grid_delta = np.concatenate([size_now - b_size, np.where(appeared, a_size, 0)], axis=1)
    grid_traded = np.zeros_like(grid_delta)
    # a trade must print inside the window both books show
    ok = (ttk * tick >= shared[tr] - PRICE_EPS) if bids else (ttk * tick <= shared[tr] + PRICE_EPS)
    tr, ttk, tvol = tr[ok], ttk[ok], tvol[ok]
    # a traded price sits in the grid (before or appeared) or, shown in neither, stands alone
    hit = (grid_tick[tr] == ttk[:, None]) & grid_shown[tr]
    on_grid = hit.any(axis=1)
    grid_traded[tr[on_grid], hit[on_grid].argmax(axis=1)] = tvol[on_grid]
    cell = grid_shown & ((grid_delta != 0) | (grid_traded > 0))
    row = np.nonzero(cell)[0]
    lone = ~on_grid
    at = np.searchsorted(row, tr[lone], side="right")  # keeps rows ascending
    return _Changes(
        row=np.insert(row, at, tr[lone]),
        price_tick=np.insert(grid_tick[cell], at, ttk[lone]),
        delta=np.insert(grid_delta[cell], at, 0),
        traded=np.insert(grid_traded[cell], at, tvol[lone]),
    )


def _ladder(
    px: F64, sz: I64, shared: F64, bids: bool, tick: float
) -> tuple[I64, npt.NDArray[np.bool_], I64]:
    """Prices in ticks, whether each is shown inside the shared window, and sizes (0 if not)."""
    inside = px >= shared[:, None] - PRICE_EPS if bids else px <= shared[:, None] + PRICE_EPS
    shown = ~np.isnan(px) & inside
    ticks = np.rint(np.where(shown, px, 0.0) / tick).astype(np.int64)
    return ticks, shown, np.where(shown, sz, 0).astype(np.int64)


def _trades_in_view(
    trade_row: I64, trade_tick: I64, trade_size: I64, px: F64, bids: bool, tick: float
) -> tuple[I64, I64, I64]:
    """Volume per (transition, price) of the trades that can have filled this side: at or
    through the earlier book's best price (a bid is hit at its price or lower; a print above
    the best bid was not on the bids). Transitions are numbered from 0 (rows ``i -> i + 1``),
    ascending. Whether the price is inside both books' windows is checked with the ladders."""
    n = px.shape[0]
    ok = (trade_row >= 1) & (trade_row < n)
    tr, tk, size = trade_row[ok] - 1, trade_tick[ok], trade_size[ok]
    best, price = px[tr, 0], tk * tick
    through = (price <= best + PRICE_EPS) if bids else (price >= best - PRICE_EPS)
    keys, inv = np.unique(_pack(tr[through], tk[through]), return_inverse=True)
    volume = np.bincount(inv, weights=size[through].astype(np.float64), minlength=keys.size)
    return keys >> 32, (keys & 0xFFFFFFFF) - _OFFSET, volume.astype(np.int64)


# (transition, price tick) packed into one int64 key; ticks are offset to stay non-negative.
_OFFSET = 1 << 31


def _pack(row: I64, tick: I64) -> I64:
    return (row.astype(np.int64) << 32) | (tick.astype(np.int64) + _OFFSET)


def _empty() -> PriceFlows:
    z = np.empty(0, np.int64)
    return PriceFlows(z, z, z, z, z, z)
