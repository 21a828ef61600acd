import numpy as np
import pytest

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


def _oracle(px, sz, bids_side, trades):  # type: ignore[no-untyped-def]
    """The definition, one transition and one price at a time: size change at each price both
    books show inside both visible windows, and the volume traded there in between."""
    out = {}
    for r in range(1, len(px)):
        books = []
        for p, s in ((px[r - 1], sz[r - 1]), (px[r], sz[r])):
            shown = {round(x / TICK): int(z) for x, z in zip(p, s, strict=True) if x == x}
            full = len(shown) == 10
            floor = (min(shown) if bids_side else max(shown)) if full and shown else None
            books.append((shown, floor))
        floors = [f for _, f in books if f is not None]
        shared = (max(floors) if bids_side else min(floors)) if floors else None

        def inside(k: int, shared: int | None = shared) -> bool:
            return shared is None or (k >= shared if bids_side else k <= shared)

        before = {k: z for k, z in books[0][0].items() if inside(k)}
        after = {k: z for k, z in books[1][0].items() if inside(k)}
        best = px[r - 1][0]
        traded: dict[int, int] = {}
        for row, k, v in trades:
            through = best == best and (k * TICK <= best if bids_side else k * TICK >= best)
            if row == r and inside(k) and through:
                traded[k] = traded.get(k, 0) + v
        for k in sorted(before.keys() | after.keys() | traded.keys()):
            d, t = after.get(k, 0) - before.get(k, 0), traded.get(k, 0)
            if d or t:
                filled = min(max(-d, 0), t)
                out[(r, k)] = (max(d, 0), max(-d, 0) - filled, filled, t - filled)
    return out


@pytest.mark.parametrize("calm", [0.0, 0.8])
@pytest.mark.parametrize("bids_side", [True, False])
@pytest.mark.parametrize("seed", range(6))
def test_flows_match_the_definition_on_random_ladders(
    seed: int, bids_side: bool, calm: float
) -> None:
    # ladders that trade through their top, refill, thin out below ten prices and scroll;
    # calm ones mostly keep their prices from one update to the next (sizes change, trades
    # print on a ladder in place: index is price there)
    rng = np.random.default_rng(seed)
    n, step = 400, -1 if bids_side else 1
    top = 19_200
    px, sz = np.full((n, 10), NAN), np.zeros((n, 10), np.int64)
    for r in range(n):
        if r and rng.random() < calm:
            px[r] = px[r - 1]
            changed = rng.random(10) < 0.2
            sz[r] = np.where(changed, rng.integers(0, 30, 10), sz[r - 1])
            continue
        top += int(rng.choice([-1, 0, 0, 0, 1]))
        shown = 10 if rng.random() < 0.8 else int(rng.integers(0, 10))
        gaps = np.cumsum(1 + (rng.random(shown) < 0.2))  # occasionally an empty price
        for j in range(shown):
            px[r, j] = (top + step * int(gaps[j] - 1)) * TICK
            sz[r, j] = rng.integers(1, 30) if r == 0 or rng.random() < 0.3 else sz[r - 1, j]
    trades = [
        (int(rng.integers(0, n + 1)), top_tick, int(rng.integers(1, 20)))
        for top_tick in rng.integers(19_150, 19_250, 300)
    ]
    trades += [
        (r, round(px[r - 1, 0] / TICK), 5) for r in range(1, n, 7) if px[r - 1, 0] == px[r - 1, 0]
    ]
    out = price_flows(
        px, sz, bids_side, TICK,
        np.array([t[0] for t in trades], np.int64),
        np.array([t[1] for t in trades], np.int64),
        np.array([t[2] for t in trades], np.int64),
    )  # fmt: skip
    got = {
        (int(r), int(k)): (int(a), int(c), int(f), int(h))
        for r, k, a, c, f, h in zip(
            out.row, out.price_tick, out.added, out.cancelled, out.filled, out.hidden, strict=True
        )
    }
    assert len(got) == len(out.row)  # one row per (transition, price)
    assert np.all(np.diff(out.row) >= 0)  # in book order
    assert got == _oracle(px, sz, bids_side, trades)
