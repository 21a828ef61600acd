import numpy as np

from physics.book import Book, at, side_evidence

NAN = np.nan


def ladder(top: float, step: float, sizes: list[int]) -> tuple[np.ndarray, np.ndarray]:
    px = np.array([top + i * step for i in range(len(sizes))] + [NAN] * (10 - len(sizes)))
    sz = np.array(sizes + [0] * (10 - len(sizes)), dtype=np.int64)
    return px, sz


def test_depth_in_band_and_nearest_quote() -> None:
    bid_px, bid_sz = ladder(4800.0, -0.25, [10, 20, 30, 40, 50, 60, 70, 80, 90, 100])
    ev = side_evidence(bid_px, bid_sz, np.array([4799.5]), half_band=0.25, bids=True)
    s = at(ev, 0)
    assert s.depth == 20 + 30 + 40  # 4799.75, 4799.50, 4799.25
    assert (s.quote_px, s.quote_sz) == (4799.5, 30)
    assert s.observable


def test_level_beyond_the_visible_ladder_is_unobservable_not_empty() -> None:
    bid_px, bid_sz = ladder(4800.0, -0.25, [5] * 10)  # visible down to 4797.75
    ev = side_evidence(bid_px, bid_sz, np.array([4795.0, 4797.75]), half_band=1.0, bids=True)
    far, edge = at(ev, 0), at(ev, 1)
    assert not far.observable and far.depth == 0 and far.quote_px is None
    assert edge.observable and edge.depth == 5 * 5


def test_thin_book_shows_everything() -> None:
    ask_px, ask_sz = ladder(4800.25, 0.25, [7, 8])
    ev = side_evidence(ask_px, ask_sz, np.array([4810.0]), half_band=1.0, bids=False)
    assert at(ev, 0).observable and at(ev, 0).depth == 0


def test_mid_needs_both_sides_uncrossed() -> None:
    bid_px, bid_sz = ladder(4800.0, -0.25, [1])
    ask_px, ask_sz = ladder(4800.25, 0.25, [1])
    assert Book(bid_px, bid_sz, ask_px, ask_sz).mid() == 4800.125
    assert Book(bid_px, bid_sz, np.full(10, NAN), ask_sz).mid() is None
    assert Book(ask_px, ask_sz, bid_px, bid_sz).mid() is None  # crossed
