"""The market step's options side keeps its chain between greeks rows and brings only the
customer net of traded contracts up to date: the chain it prices must be, to the bit, the one
built afresh from the book at that snap."""

from __future__ import annotations

import dataclasses

import numpy as np

from dataflows.signals.items import OptionEvent
from dataflows.signals.options import OptionsState
from physics import fuel as fu
from tests.physics.test_fuel import CFG, SESSION, TEN_ET, real_rows

SECOND = 1_000_000_000


def _event(i: int, ts_ns: int, kind: str, ticker: str, **values: object) -> OptionEvent:
    return OptionEvent("opts", i, ts_ns, kind, ticker, **values)  # type: ignore[arg-type]


def _same(a: fu.Chain, b: fu.Chain) -> None:
    for f in dataclasses.fields(fu.Chain):
        assert np.array_equal(getattr(a, f.name), getattr(b, f.name), equal_nan=True), f.name


def test_the_kept_chain_equals_a_chain_built_afresh_after_trades_and_greeks() -> None:
    rows = real_rows()
    state = OptionsState(CFG)
    for i, row in enumerate(rows):
        state.add(_event(i, TEN_ET, "greeks", row["details"]["ticker"], row=row))
    n = len(rows)
    state.advance(TEN_ET)
    first = state.at_snap(TEN_ET, 673.0).chain
    assert first is not None
    _same(first, fu.chain_of(state.book, TEN_ET, SESSION, CFG))
    in_chain = fu.chain_tickers(state.book, SESSION)
    traded = [in_chain[0], in_chain[len(in_chain) // 2], "O:SPY251010C00999000"]  # last: new
    t = TEN_ET
    for k in range(30):
        t += SECOND
        ticker = traded[k % len(traded)]
        state.add(_event(n + 2 * k, t, "quote", ticker, bid=1.0, ask=1.1))
        price = 1.1 if k % 5 else 1.0  # mostly customers buying at the ask
        state.add(_event(n + 2 * k + 1, t, "trade", ticker, price=price, size=7))
        if k % 4 == 0:
            continue  # several trades between two snaps
        state.advance(t)
        kept = state.at_snap(t, 673.0).chain
        assert kept is not None
        _same(kept, fu.chain_of(state.book, t, SESSION, CFG))
    moved = state.at_snap(t, 673.0).chain
    assert moved is not None and not np.array_equal(moved.net, first.net)  # the trades count
    # a greeks row may bring a contract in: the chain is built again
    row = dict(rows[0], open_interest=rows[0]["open_interest"] + 500)
    t += SECOND
    state.add(_event(10_000, t, "greeks", row["details"]["ticker"], row=row))
    state.advance(t)
    again = state.at_snap(t, 673.0).chain
    assert again is not None
    _same(again, fu.chain_of(state.book, t, SESSION, CFG))
    assert not np.array_equal(again.oi, moved.oi)
