import numpy as np

from physics.book import Book, at_each, cut_at_edge, shared_edges, side_evidence, sides_evidence
from physics.flows import visible_floor

NAN = np.nan


def ladder(top: float, step: float, sizes: list[int]) -> tuple[np.ndarray, np.ndarray]:
    px = np.array([top + i * step for i in range(len(sizes))] + [NAN] * (10 - len(sizes)))
    sz = np.array(sizes + [0] * (10 - len(sizes)), dtype=np.int64)
    return px, sz


def test_depth_in_band_and_nearest_quote() -> None:
    bid_px, bid_sz = ladder(4800.0, -0.25, [10, 20, 30, 40, 50, 60, 70, 80, 90, 100])
    ev = side_evidence(bid_px, bid_sz, np.array([4799.5]), half_band=0.25, bids=True)
    (s,) = at_each(ev)
    assert s.depth == 20 + 30 + 40  # 4799.75, 4799.50, 4799.25
    assert (s.quote_px, s.quote_sz) == (4799.5, 30)
    assert s.observable


def test_level_beyond_the_visible_ladder_is_unobservable_not_empty() -> None:
    bid_px, bid_sz = ladder(4800.0, -0.25, [5] * 10)  # visible down to 4797.75
    ev = side_evidence(bid_px, bid_sz, np.array([4795.0, 4797.75]), half_band=1.0, bids=True)
    far, edge = at_each(ev)
    assert not far.observable and far.depth == 0 and far.quote_px is None
    assert edge.observable and edge.depth == 5 * 5


def test_thin_book_shows_everything() -> None:
    ask_px, ask_sz = ladder(4800.25, 0.25, [7, 8])
    ev = side_evidence(ask_px, ask_sz, np.array([4810.0]), half_band=1.0, bids=False)
    (s,) = at_each(ev)
    assert s.observable and s.depth == 0


def test_mid_needs_both_sides_uncrossed() -> None:
    bid_px, bid_sz = ladder(4800.0, -0.25, [1])
    ask_px, ask_sz = ladder(4800.25, 0.25, [1])
    assert Book(bid_px, bid_sz, ask_px, ask_sz).mid() == 4800.125
    assert Book(bid_px, bid_sz, np.full(10, NAN), ask_sz).mid() is None
    assert Book(ask_px, ask_sz, bid_px, bid_sz).mid() is None  # crossed


def test_stacked_sides_match_the_definition_row_by_row() -> None:
    # bid and ask ladders of every length, levels inside, between and beyond them
    rng = np.random.default_rng(7)
    rows, bids = [], []
    for i in range(40):
        is_bid = bool(i % 2)
        sizes = [int(x) for x in rng.integers(1, 50, int(rng.integers(0, 11)))]
        rows.append(ladder(4800.0 if is_bid else 4800.25, -0.25 if is_bid else 0.25, sizes))
        bids.append(is_bid)
    px, sz = np.stack([r[0] for r in rows]), np.stack([r[1] for r in rows])
    levels = np.array([4795.0, 4798.9, 4799.5, 4800.1, 4801.3, 4806.0])
    found = sides_evidence(px, sz, levels, 0.5, np.array(bids))
    for (p, s), is_bid, ev in zip(rows, bids, found, strict=True):
        shown = [(float(x), int(z)) for x, z in zip(p, s, strict=True) if x == x]
        sizes = sorted(z for _, z in shown)
        k = len(sizes)
        assert ev.typical_queue == (0.0 if not k else (sizes[(k - 1) // 2] + sizes[k // 2]) / 2)
        for j, lv in enumerate(levels):
            band = [(x, z) for x, z in shown if lv - 0.5 - 1e-9 <= x <= lv + 0.5 + 1e-9]
            assert ev.depth[j] == sum(z for _, z in band)
            near = min(band, key=lambda q, lv=lv: abs(q[0] - lv), default=None)
            assert (ev.quote_sz[j], ev.quote_px[j] if near else None) == (
                (near[1], near[0]) if near else (0, None)
            )
            if not shown:
                assert ev.observable[j]  # an empty side hides nothing
                continue
            deepest = min(x for x, _ in shown) if is_bid else max(x for x, _ in shown)
            reaches = lv >= deepest if is_bid else lv <= deepest
            assert ev.observable[j] == (k < 10 or reaches)


def test_two_books_compared_over_the_prices_both_show() -> None:
    # the bid ladder showed down to 4798.25 at the window's start and shows down to 4797.75
    # now: over the shared prices a level at 4798.00 is beyond both, and the band of one at
    # 4799.00 (4798.00-4800.00) counts 4798.25 and up in both books
    now_px, now_sz = ladder(4800.0, -0.25, [10] * 10)
    then_px, then_sz = ladder(4800.5, -0.25, [10] * 10)
    px, sz = np.stack([now_px, then_px]), np.stack([now_sz, then_sz])
    sides = np.array([True, True])
    edge = shared_edges(
        visible_floor(px[:1], sides[:1]), visible_floor(px[1:], sides[1:]), sides[:1]
    )
    assert edge.tolist() == [4798.25]
    levels = np.array([4798.0, 4799.0])
    now, then = sides_evidence(px, sz, levels, 1.0, sides, np.repeat(edge, 2))
    assert not now.observable[0] and not then.observable[0]
    assert (now.depth[1], then.depth[1]) == (8 * 10, 8 * 10)  # 4798.25-4800.00 in both
    own = side_evidence(now_px, now_sz, levels, 1.0, bids=True)
    assert own.observable[0] and own.depth[1] == 9 * 10  # the book now, as it shows


def test_a_band_is_cut_at_the_deepest_price_its_side_shows() -> None:
    lo, hi = np.array([19196, 19204]), np.array([19204, 19212])  # two bands, in ticks
    # bids shown down to tick 19200: the lower band keeps 19200..19204, the upper is whole
    b_lo, b_hi = cut_at_edge(lo, hi, 19200.0, bids=True)
    assert b_lo.tolist() == [19200, 19204] and b_hi.tolist() == [19204, 19212]
    # asks shown up to tick 19208: the upper band ends there
    a_lo, a_hi = cut_at_edge(lo, hi, 19208.0, bids=False)
    assert a_lo.tolist() == [19196, 19204] and a_hi.tolist() == [19204, 19208]
    # a side showing its whole book (edge at infinity) cuts nothing
    assert cut_at_edge(lo, hi, -np.inf, bids=True)[0].tolist() == lo.tolist()
