"""The Quix peer's own book maths on the worked examples of docs/physics.md."""

from __future__ import annotations

import pytest

from bench import peer_book as pb

T = 0.25  # ES tick


def row(bids: list[tuple[float, int]], asks: list[tuple[float, int]] = ()) -> pb.Row:  # type: ignore[assignment]
    def side(levels: list[tuple[float, int]]) -> tuple[list[int | None], list[int]]:
        ticks: list[int | None] = [round(p / T) for p, _ in levels] + [None] * (10 - len(levels))
        return ticks, [s for _, s in levels] + [0] * (10 - len(levels))

    (bt, bs), (at, az) = side(bids), side(list(asks))
    return [0, bt, bs, at, az]


def test_flows_by_price_split_a_decrease_into_filled_and_pulled() -> None:
    before = row([(4800.0, 10), (4799.75, 20)])
    after = row([(4800.0, 4), (4799.75, 25)])
    changes = {tk * T: d for s, tk, d in pb.deltas(before, after)}
    assert changes == {4800.0: -6, 4799.75: 5}
    assert pb.split_flow(-6, traded=4) == (0, 2, 4)  # 4 filled, 2 pulled
    assert pb.split_flow(5, traded=0) == (5, 0, 0)


def test_a_price_scrolling_out_of_a_full_ladder_is_not_a_cancel() -> None:
    full = [(4800.0 - i * T, 10) for i in range(10)]
    shifted = [(4800.0 - i * T, 10) for i in range(1, 11)]  # the top traded away
    changes = pb.deltas(row(full), row(shifted))
    assert changes == [[pb.BIDS, round(4800.0 / T), -10]]  # only the top; 4797.50 came into view


def test_depth_in_the_band_and_observability() -> None:
    book = row([(4800.0, 10), (4799.75, 20), (4799.5, 30), (4799.25, 40)])
    lo, hi = pb.band(479.95 * 10, 1 * T, T)  # h = one tick here, as the doc's example
    assert pb.band_depth(book, pb.BIDS, lo, hi) == 20 + 30 + 40
    full = row([(4800.0 - i * T, 1) for i in range(10)])
    edge = pb.shared_edge(full, full, pb.BIDS)
    assert pb.within(4797.75 / T, edge, pb.BIDS)
    assert not pb.within(4797.5 / T, edge, pb.BIDS)  # past the deepest visible price
    # a window whose start showed less: the two books share only the prices both show
    earlier = row([(4800.5 - i * T, 1) for i in range(10)])  # down to 4798.25
    edge = pb.shared_edge(full, earlier, pb.BIDS)
    assert not pb.within(4797.75 / T, edge, pb.BIDS)
    lo, hi = pb.band(4798.25, 1.0, T)
    assert pb.cut(lo, hi, edge, pb.BIDS) == (round(4798.25 / T), hi)
    assert pb.band_depth(full, pb.BIDS, *pb.cut(lo, hi, edge, pb.BIDS)) == 5  # 4798.25-4799.25


def test_barrier_worked_examples() -> None:
    v, score = pb.barrier(200, 120, 30, 30, 30, 40.0, 9, 3.0, 1.0)
    assert v == pytest.approx(80 / 201)  # the net outflow; 50 of the 80 were pulled
    assert score == pytest.approx(0.6653, abs=1e-4)
    _, wall = pb.barrier(100, 160, 40, 10, 10, 10.0, 9, 3.0, 1.0)
    assert wall == pytest.approx(-0.5390, abs=1e-4)
    _, one_queue = pb.barrier(1080, 1080, 600, 0, 0, 60.0, 9, 3.0, 1.0)  # a single-queue wall
    assert one_queue == pytest.approx(-0.834, abs=1e-3)
    _, quiet = pb.barrier(540, 540, 60, 0, 0, 60.0, 9, 3.0, 1.0)  # nothing either way
    assert quiet == pytest.approx(0.0, abs=1e-3)


def test_the_band_prices_a_side_can_rest_on() -> None:
    touch = row([(4799.75, 10)], [(4800.0, 10)])
    lo, hi = pb.band(4800.0, 4 * T, T)
    assert pb.restable(touch, pb.ASKS, lo, hi) == 5  # 4800.00-4801.00, above the best bid
    assert pb.restable(touch, pb.BIDS, lo, hi) == 4  # 4799.00-4799.75, below the best ask
    assert pb.restable(row([(4799.75, 10)]), pb.BIDS, lo, hi) == 9  # no asks: all of it
    assert pb.largest_queue(row([(4800.0, 7), (4799.75, 30), (4790.0, 99)]), pb.BIDS, lo, hi) == 30
