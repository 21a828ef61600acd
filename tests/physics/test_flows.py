import numpy as np

from physics.flows import PriceFlows, price_flows

NAN = np.nan
TICK = 0.25


def bids(*levels: tuple[float, int]) -> tuple[np.ndarray, np.ndarray]:
    px = np.full(10, NAN)
    sz = np.zeros(10, np.int64)
    for i, (p, s) in enumerate(levels):
        px[i], sz[i] = p, s
    return px, sz


def run(books: list[tuple[np.ndarray, np.ndarray]], trades=()) -> PriceFlows:  # type: ignore[no-untyped-def]
    px = np.stack([b[0] for b in books])
    sz = np.stack([b[1] for b in books])
    t = list(trades)
    return price_flows(
        px, sz, True, TICK,
        np.array([r for r, _, _ in t], np.int64),
        np.array([round(p / TICK) for _, p, _ in t], np.int64),
        np.array([s for _, _, s in t], np.int64),
    )  # fmt: skip


def flows(books: list[tuple[np.ndarray, np.ndarray]], trades=()):  # type: ignore[no-untyped-def]
    out = run(books, trades)
    return {
        (int(r), int(k) * TICK): (int(a), int(c), int(f))
        for r, k, a, c, f in zip(
            out.row, out.price_tick, out.added, out.cancelled, out.filled, strict=True
        )
    }


def test_added_cancelled_and_filled_by_price() -> None:
    b0 = bids((4800.0, 10), (4799.75, 20))
    b1 = bids((4800.0, 4), (4799.75, 25))  # 6 left 4800 (4 of them traded), 5 joined 4799.75
    assert flows([b0, b1], trades=[(1, 4800.0, 4)]) == {
        (1, 4800.0): (0, 2, 4),
        (1, 4799.75): (5, 0, 0),
    }


def test_top_clearing_is_not_read_as_index_shifts() -> None:
    b0 = bids((4800.0, 10), (4799.75, 20), (4799.5, 30))
    b1 = bids((4799.75, 20), (4799.5, 30))  # the 4800 level traded away; the rest untouched
    assert flows([b0, b1], trades=[(1, 4800.0, 10)]) == {(1, 4800.0): (0, 0, 10)}


def test_prices_leaving_the_visible_window_are_not_cancels() -> None:
    full0 = [(4800.0 - 0.25 * i, 10) for i in range(10)]  # shows down to 4797.75
    full1 = [(4800.25, 7), *full0[:9]]  # a better bid pushes 4797.75 out of view
    assert flows([bids(*full0), bids(*full1)]) == {(1, 4800.25): (7, 0, 0)}


def hidden(books, trades):  # type: ignore[no-untyped-def]
    out = run(books, trades)
    return {
        int(k) * TICK: (int(f), int(h))
        for k, f, h in zip(out.price_tick, out.filled, out.hidden, strict=True)
    }


def test_volume_traded_beyond_the_displayed_drop_is_hidden() -> None:
    # 30 lots trade at 4800.00 while its bid only goes 10 -> 4: 6 filled from the display,
    # 24 from a reserve that was never shown; 4799.75 trades 5 without changing: all hidden
    b0 = bids((4800.0, 10), (4799.75, 20))
    b1 = bids((4800.0, 4), (4799.75, 20))
    trades = [(1, 4800.0, 30), (1, 4799.75, 5), (1, 4800.25, 9)]  # 4800.25: above the bids
    assert hidden([b0, b1], trades) == {4800.0: (6, 24), 4799.75: (0, 5)}
