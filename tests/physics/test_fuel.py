"""Fuel from SPY options: tickers, gamma, customer side, dealer gamma near a level, walls and
the zero-gamma flip, on hand-made chains and the two real captured SPY chain pages."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from physics.config import PhysicsConfig
from physics.fuel import (
    Chain,
    FuelBook,
    apply_greeks_row,
    apply_option_quote,
    apply_option_trade,
    chain_of,
    customer_side,
    directional_fuel,
    fuel_at,
    fuel_score,
    gamma_levels,
    hedge_lots_per_tick,
    kernel,
    lots_to_clear,
    zero_gamma,
)
from physics.options import OptionTickerError, bs_gamma, parse_ticker
from physics.score import combine

CFG = PhysicsConfig()
POLYGON = Path(__file__).parents[1] / "data" / "polygon"
SESSION = date(2025, 10, 10)
TEN_ET = int(datetime(2025, 10, 10, 14, 0, tzinfo=UTC).timestamp() * 1e9)  # 10:00 New York


def real_rows() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for path in sorted(POLYGON.glob("rest_v3_snapshot_options_SPY__*.json")):
        rows += json.loads(path.read_text())["results"]
    return rows


def real_book() -> FuelBook:
    book = FuelBook()
    for row in real_rows():
        apply_greeks_row(book, row, TEN_ET, CFG)
    return book


def test_occ_tickers() -> None:
    c = parse_ticker("O:SPY251010P00672500")
    assert (c.root, c.expiry, c.is_call, c.strike) == ("SPY", SESSION, False, 672.5)
    for bad in ("SPY", "O:SPY251310C00673000", "O:SPY251010X00673000"):
        with pytest.raises(OptionTickerError, match=r"OCC option ticker|no valid expiry"):
            parse_ticker(bad)


def test_bs_gamma_textbook_value() -> None:
    # S = K = 100, sigma 20%, 1 year, r = 0: gamma = phi(0.1) / (100 * 0.2) = 0.0198476
    g = bs_gamma(100.0, np.array([100.0, 100.0]), np.array([0.2, 0.0]), np.array([1.0, 1.0]))
    assert g[0] == pytest.approx(0.0198476, abs=1e-7)
    assert np.isnan(g[1])  # no IV, no gamma


def test_repriced_gamma_is_close_to_the_vendors_on_the_real_capture() -> None:
    # captured 2025-10-08 04:00 UTC, spot near 673: re-pricing with the row's own IV and
    # ~2.5 days to expiry lands near the vendor's gamma for the at-the-money call
    row = real_rows()[0]
    t = datetime(2025, 10, 10, 20, 0, tzinfo=UTC) - datetime(2025, 10, 8, 4, 0, tzinfo=UTC)
    ours = bs_gamma(673.0, np.array([673.0]), np.array([row["implied_volatility"]]),
                    np.array([t.total_seconds() / (365 * 86400)]))[0]  # fmt: skip
    assert ours == pytest.approx(row["greeks"]["gamma"], rel=0.25)


@pytest.mark.parametrize(
    ("price", "bid", "ask", "last", "last_side", "expected"),
    [
        (1.10, 1.00, 1.10, None, 0, 1),  # at the ask: customer buy
        (1.00, 1.00, 1.10, None, 0, -1),  # at the bid: customer sell
        (1.08, 1.00, 1.10, None, 0, 1),  # inside, nearer the ask
        (1.05, 1.00, 1.10, None, 0, 0),  # at the mid: unknown
        (1.20, None, None, 1.10, 0, 1),  # no quote: uptick
        (1.00, None, None, 1.10, 0, -1),  # downtick
        (1.10, None, None, 1.10, -1, -1),  # zero tick: as the last
        (1.10, None, None, None, 0, 0),  # first print, no quote
    ],
)
def test_customer_side(
    price: float, bid: float | None, ask: float | None, last: float | None, last_side: int,
    expected: int,
) -> None:  # fmt: skip
    assert customer_side(price, bid, ask, last, last_side) == expected


def test_kernel_is_triangular() -> None:
    w = kernel(np.array([671.0, 672.0, 673.0, 674.5, 675.0]), 673.0, 2.0)
    assert w.tolist() == [0.0, 0.5, 1.0, 0.25, 0.0]


def test_worked_example_dampen_then_amplify_after_customers_buy_puts() -> None:
    """docs/physics.md, Fuel: the numbers there are these."""
    book = real_book()
    chain = chain_of(book, TEN_ET, SESSION, CFG)
    assert chain.strike.size == 20
    before = fuel_at(chain, 673.0, 673.0, CFG)
    assert before is not None
    assert before.gex_near_level == pytest.approx(2.727e8, rel=1e-3)
    assert before.regime_score == pytest.approx(-0.797, abs=1e-3)
    assert before.regime == "DAMPEN" and not before.models_disagree
    for _ in range(3):  # 24,000 puts bought at the ask by customers
        apply_option_quote(book, "O:SPY251010P00672000", 1.00, 1.10)
        apply_option_trade(book, "O:SPY251010P00672000", 1.10, 8000)
    after = fuel_at(chain_of(book, TEN_ET, SESSION, CFG), 673.0, 673.0, CFG)
    assert after is not None
    assert after.gex_near_level == pytest.approx(-7.790e8, rel=1e-3)
    assert after.regime_score == pytest.approx(0.996, abs=1e-3)
    assert after.regime == "AMPLIFY"
    lo, hi = after.gex_band
    assert lo <= after.gex_near_level <= hi < 0


def test_no_contract_near_the_level_is_no_evidence() -> None:
    chain = chain_of(real_book(), TEN_ET, SESSION, CFG)
    assert fuel_at(chain, 700.0, 673.0, CFG) is None


def test_walls_and_flip_on_the_real_chain() -> None:
    levels = gamma_levels(chain_of(real_book(), TEN_ET, SESSION, CFG), 673.0, CFG)
    assert levels.call_wall == 675.0  # OI 16,166: the largest call gamma above spot
    assert levels.put_wall == 672.0
    assert levels.zero_gamma == pytest.approx(672.86, abs=0.01)


def _chain(strikes: list[float], calls: list[bool], oi: list[float]) -> Chain:
    n = len(strikes)
    return Chain(
        strike=np.array(strikes), is_call=np.array(calls), iv=np.full(n, 0.15),
        vendor_gamma=np.zeros(n), oi=np.array(oi), net=np.zeros(n),
        t_years=np.full(n, 0.25 / 365),
    )  # fmt: skip


def test_zero_gamma_between_a_put_cluster_and_a_call_cluster_and_none_when_far() -> None:
    chain = _chain([495, 500, 505], [False, True, True], [10_000, 10_000, 10_000])
    flip = zero_gamma(chain, 500.0, CFG)
    assert flip is not None and 495 < flip < 500
    one_sided = _chain([500, 505], [True, True], [10_000, 10_000])
    assert zero_gamma(one_sided, 500.0, CFG) is None


def test_open_interest_flips_after_the_open_are_ignored_then_accepted() -> None:
    row = real_rows()[0]
    book = FuelBook()
    open_ns = int(datetime(2025, 10, 10, 13, 35, tzinfo=UTC).timestamp() * 1e9)  # 09:35 ET
    apply_greeks_row(book, row, open_ns, CFG)
    flipped = {**row, "open_interest": 999}
    apply_greeks_row(book, flipped, open_ns + 60 * 10**9, CFG)  # 09:36: still settling
    st = book.contracts[row["details"]["ticker"]]
    assert st.open_interest == row["open_interest"] and book.counters.oi_flips_ignored == 1
    apply_greeks_row(book, flipped, open_ns + 30 * 60 * 10**9, CFG)  # 10:05: settled
    assert st.open_interest == 999


def test_rows_without_greeks_or_ticker_are_counted_and_contribute_nothing() -> None:
    book = FuelBook()
    apply_greeks_row(book, {"details": {"ticker": "O:SPY251010C00673000"}}, TEN_ET, CFG)
    apply_greeks_row(book, {"details": {}}, TEN_ET, CFG)
    assert book.counters.rows_without_greeks == 1 and book.counters.bad_rows == 1
    assert chain_of(book, TEN_ET, SESSION, CFG).strike.size == 0


def test_implausible_vendor_numbers_are_ignored_and_counted() -> None:
    book = FuelBook()
    row = {**real_rows()[0], "implied_volatility": 1e-168, "open_interest": 1e300}
    row["greeks"] = {**row["greeks"], "gamma": 1e300}
    apply_greeks_row(book, row, TEN_ET, CFG)
    st = book.contracts[row["details"]["ticker"]]
    assert st.iv is None and st.vendor_gamma is None and st.open_interest is None
    apply_option_trade(book, row["details"]["ticker"], 1.5, 10**12)
    assert book.counters.implausible_values == 4 and st.customer_net == 0


def test_dealers_hedging_gives_no_direction_while_price_sits_on_the_level() -> None:
    # docs/physics.md, Fuel: barrier -0.16, tape +0.18 and fuel -0.80 (DAMPEN) pool to -0.43,
    # a BOUNCE; price touched the level 0.5 s ago, so the damping holds it there both ways
    w = {"barrier": CFG.weight_barrier, "tape": CFG.weight_tape, "fuel": CFG.weight_fuel}
    arriving = directional_fuel(-0.8, None, CFG.fuel_on_level_s)  # never touched: an approach
    assert arriving == -0.8
    assert combine({"barrier": -0.16, "tape": 0.18, "fuel": arriving}, w) == pytest.approx(
        -0.4345, abs=1e-4
    )
    on_level = directional_fuel(-0.8, 0.5, CFG.fuel_on_level_s)
    assert on_level == 0.0  # read, and says neither way: not missing
    assert combine({"barrier": -0.16, "tape": 0.18, "fuel": on_level}, w) == pytest.approx(
        -0.0013, abs=1e-4
    )
    left_long_ago = CFG.fuel_on_level_s + 0.1
    assert directional_fuel(-0.8, left_long_ago, CFG.fuel_on_level_s) == -0.8
    # dealers short gamma chase the approach (BREAK), and on the level whichever wobble comes
    assert directional_fuel(0.8, None, CFG.fuel_on_level_s) == 0.8
    assert directional_fuel(0.8, 0.5, CFG.fuel_on_level_s) == 0.0
    assert directional_fuel(None, 0.5, CFG.fuel_on_level_s) is None  # missing stays missing


def test_the_fuel_weighs_the_dealers_hedge_against_the_book_it_trades_into() -> None:
    # docs/physics.md, Fuel: short gamma of $500M per 1% at S = 500, R = 10 hedges 200,000 SPY
    # shares per $1, 5,000 per ES tick ($0.025 of SPY), 10 ES lots of 500 shares each
    hedge = hedge_lots_per_tick(-5e8, 500.0, 10.0, CFG)
    assert hedge == pytest.approx(10.0)
    ordinary = lots_to_clear(1.0, 40.0, CFG)  # queues of 40 lots, an ordinary band
    assert ordinary == 40.0
    assert fuel_score(-5e8, hedge, ordinary) == pytest.approx(0.245, abs=1e-3)  # AMPLIFY, weak
    wall = lots_to_clear(5.0, 40.0, CFG)  # a defence five times as thick: 200 lots a tick
    assert fuel_score(-5e8, hedge, wall) == pytest.approx(0.050, abs=1e-3)
    # a thin band is crossed on the push, which clears ordinary queues: no stronger fuel there
    assert lots_to_clear(0.1, 40.0, CFG) == 40.0
    assert lots_to_clear(None, 40.0, CFG) == 40.0  # the defence out of view
    assert lots_to_clear(1.0, 0.0, CFG) == CFG.vacuum_eps  # an empty side: one lot
    # long gamma of $5B per 1%: 100 lots a tick against 40, the defence more than doubled
    long_gamma = hedge_lots_per_tick(5e9, 500.0, 10.0, CFG)
    assert fuel_score(5e9, long_gamma, ordinary) == pytest.approx(-0.987, abs=1e-3)  # DAMPEN
    assert fuel_score(0.0, 0.0, ordinary) == 0.0
