"""The market step's event-time sequencing, with hand-built batches and a fake clock."""

from __future__ import annotations

import numpy as np
import pytest

from dataflows.signals.items import BookBatch, LevelInput, PartitionEnd, TradeBatch
from dataflows.signals.level_step import step
from dataflows.signals.market import MarketConfig, MarketState
from physics.config import PhysicsConfig

MS = 1_000_000
T0 = 1_700_000_000_000 * MS  # on the 100 ms grid


def book(part: str, *ts_ms: int, bid: float = 4800.0, instrument_id: int = 1) -> BookBatch:
    """Ten bids of 10 down from ``bid``, ten asks of 5 up from one tick above it."""
    n = len(ts_ms)
    steps = 0.25 * np.arange(10)
    return BookBatch(
        partition=part,
        instrument_id=instrument_id,
        ts_ns=np.array([T0 + t * MS for t in ts_ms], np.int64),
        bid_px=np.tile(bid - steps, (n, 1)),
        bid_sz=np.full((n, 10), 10, np.int64),
        ask_px=np.tile(bid + 0.25 + steps, (n, 1)),
        ask_sz=np.full((n, 10), 5, np.int64),
        max_ts_ns=T0 + max(ts_ms) * MS,
    )


def trades(part: str, *ts_ms: int, size: int = 2) -> TradeBatch:
    n = len(ts_ms)
    return TradeBatch(
        partition=part,
        instrument_id=1,
        ts_ns=np.array([T0 + t * MS for t in ts_ms], np.int64),
        price=np.full(n, 4800.0),
        size=np.full(n, size, np.int64),
        is_buy=np.ones(n, bool),
        is_sell=np.zeros(n, bool),
    )


def summary(out: list[LevelInput]) -> list[tuple[int, str, int, int]]:
    return [
        (
            (li.context.ts_ns - T0) // MS,
            li.level.level_id,
            li.bids.depth,
            li.context.tape.buy_volume,
        )
        for li in out
    ]


def run(items: list[object], cfg: MarketConfig, clock: list[int] | None = None) -> list[LevelInput]:
    state = MarketState(cfg, lambda: clock[0] if clock else 0)
    out: list[LevelInput] = []
    for item in items:
        out += state.add(item)  # type: ignore[arg-type]
    return out + state.finish()


CFG = MarketConfig(PhysicsConfig(), partitions=("book", "tape"), explicit_levels=(479.95,))


def test_output_does_not_depend_on_how_partitions_interleave() -> None:
    b1, b2 = book("book", 10, 120), book("book", 250, 330, bid=4800.25)
    t1, t2 = trades("tape", 50), trades("tape", 260, 310)
    end = [PartitionEnd("book"), PartitionEnd("tape")]
    a = run([b1, b2, t1, t2, *end], CFG)
    b = run([t1, b1, t2, b2, *end], CFG)
    assert summary(a) == summary(b)
    assert [s[0] for s in summary(a) if s[1] == "479.95"] == [100, 200, 300, 400]
    # each snap counts the 5 s of trades up to it: 260 is in the 300 ms snap, 310 is not
    assert [s[3] for s in summary(a) if s[1] == "479.95"] == [2, 2, 4, 6]


def test_a_snap_waits_for_every_partition() -> None:
    state = MarketState(CFG, lambda: 0)
    assert state.add(book("book", 10, 250)) == []  # the tape partition has said nothing yet
    out = state.add(trades("tape", 230))
    assert sorted({(li.context.ts_ns - T0) // MS for li in out}) == [100, 200]


def test_live_quiet_partition_holds_the_snap_back_only_for_the_lateness() -> None:
    live = MarketConfig(PhysicsConfig(), ("book", "tape"), (479.95,), live=True, lateness_ms=250)
    clock = [10**9]
    state = MarketState(live, lambda: clock[0])
    assert state.add(book("book", 10, 150)) == []  # tape silent, no wall time passed
    clock[0] += 300 * MS  # 300 ms of wall clock later: event clock ~450 ms, minus 250 lateness
    out = state.add(book("book", 160))
    assert sorted({(li.context.ts_ns - T0) // MS for li in out}) == [100]
    late = trades("tape", 50)  # dated before the published 100 ms snap
    state.add(late)
    assert state.counters.late_records == 1


def test_live_caught_up_partition_holds_the_snap_only_for_the_slack() -> None:
    from dataflows.signals.items import IdleTick

    live = MarketConfig(PhysicsConfig(), ("book", "tape"), (479.95,), live=True,
                        lateness_ms=250, idle_slack_ms=10)  # fmt: skip
    clock = [10**9]
    state = MarketState(live, lambda: clock[0])
    assert state.add(book("book", 10, 95)) == []  # the tape has said nothing
    state.add(IdleTick("tape"))  # its source polled: nothing new
    clock[0] += 8 * MS  # event clock ~103 ms: within the slack of the 100 ms snap
    assert state.add(book("book", 103)) == []
    clock[0] += 4 * MS  # ~111 ms: past it
    out = state.add(book("book", 111))
    assert sorted({(li.context.ts_ns - T0) // MS for li in out}) == [100]
    state.add(trades("tape", 105))  # data again: its own mark rules until the next idle tick
    clock[0] += 100 * MS
    assert state.add(book("book", 211)) == []


def test_other_instruments_are_counted_not_mixed_in() -> None:
    state = MarketState(CFG, lambda: 0)
    state.add(book("book", 10))
    state.add(book("book", 20, bid=5000.0, instrument_id=2))
    state.add(PartitionEnd("book"))
    out = state.add(PartitionEnd("tape")) + state.finish()
    assert out
    assert all(li.context.book.best_bid() == 4800.0 for li in out)
    assert state.counters.other_instrument_records == 1


def test_live_a_lagging_but_delivering_partition_keeps_its_own_mark() -> None:
    live = MarketConfig(PhysicsConfig(), ("book", "tape"), (479.95,), live=True, lateness_ms=250)
    clock = [10**9]
    state = MarketState(live, lambda: clock[0])
    out = state.add(trades("tape", 10))
    out += state.add(book("book", 10, 5_000))  # the book runs far ahead (a fast replay)
    for t in (120, 260):
        clock[0] += 100 * MS  # the tape keeps delivering, 100 ms apart in wall time
        out += state.add(trades("tape", t))
    # the snaps follow the tape's own progress, not the book's event time: nothing is late
    assert sorted({(li.context.ts_ns - T0) // MS for li in out}) == [100, 200]
    assert state.counters.late_records == 0


def test_the_ratio_follows_spy_quotes_and_falls_back_when_they_go_stale() -> None:
    from dataflows.signals.items import OptionEvent

    cfg = MarketConfig(PhysicsConfig(ratio_stale_s=1.0), ("book", "tape", "spy"), (479.95,))
    quote = OptionEvent("spy", 0, T0 + 150 * MS, "spy_quote", "SPY", bid=479.0, ask=479.2)
    out = run(
        [book("book", 10, 120, 2500), quote, PartitionEnd("book"), PartitionEnd("tape"),
         PartitionEnd("spy")],
        cfg,
    )  # fmt: skip
    ratio = {(li.context.ts_ns - T0) // MS: li.context.ratio for li in out}
    es_mid = 4800.125
    assert ratio[100] == 10.0  # no quote yet: the configured ratio
    assert ratio[200] == pytest.approx(es_mid / 479.1)  # the first quote sets it
    assert ratio[2500] == 10.0  # 2.35 s later the quote is stale
    spot = {(li.context.ts_ns - T0) // MS: li.context.spot for li in out}
    assert spot[200] == pytest.approx(479.1)


@pytest.mark.parametrize(("buyer", "filled", "pulled"), [(False, 6, 0), (True, 0, 6)])
def test_only_sellers_fill_bids(buyer: bool, filled: int, pulled: int) -> None:
    # the best bid (4800.00) drops from 10 to 4 while 6 lots trade at 4800.00: a seller
    # hitting it filled them; a buyer's print there cannot have, so the bid was pulled
    before, after = book("book", 10), book("book", 120)
    after.bid_sz[0, 0] = 4
    tape = trades("tape", 50, size=6)
    tape.is_buy[:], tape.is_sell[:] = buyer, not buyer
    out = run([before, after, tape, PartitionEnd("book"), PartitionEnd("tape")], CFG)
    (bids,) = [
        li.bids for li in out if (li.context.ts_ns - T0) // MS == 200 and li.level.price == 479.95
    ]
    assert (bids.filled, bids.cancelled) == (filled, pulled)


def test_resilience_counts_the_fills_a_test_of_the_level_trades() -> None:
    # sellers fill 6 at the best bid, 4800.00: inside the band of a support at 479.95 (ES
    # 4799.50) and of one at 480.00, but a trade at 4800.00 puts spot at 480.0125, $0.0625
    # from 479.95 (outside its touch band): flow in its band, not aggression it absorbed
    before, after = book("book", 10), book("book", 120)
    after.bid_sz[0, 0] = 4
    tape = trades("tape", 50, size=6)
    tape.is_buy[:], tape.is_sell[:] = False, True
    cfg = MarketConfig(PhysicsConfig(), partitions=("book", "tape"), explicit_levels=(479.95,))
    out = run([before, after, tape, PartitionEnd("book"), PartitionEnd("tape")], cfg)
    bids = {li.level.level_id: li.bids for li in out if (li.context.ts_ns - T0) // MS == 200}
    assert bids["479.95"].filled == bids["480.00"].filled == 6
    assert bids["479.95"].resilience == 0.0
    assert bids["480.00"].resilience > 0.0


def test_a_level_leaving_the_active_set_publishes_once_more_marked_leaving() -> None:
    # round levels are active within $1 of spot: 481.00 is in play at spot 480.01 and leaves
    # when the bid drops to 4795.00 (spot 479.51: 481.00 is $1.49 away), 478.00 joins
    near, far = book("book", 10), book("book", 120, bid=4795.0)
    out = run([near, far, PartitionEnd("book"), PartitionEnd("tape")], CFG)
    by_snap: dict[int, dict[str, bool]] = {}
    for li in out:
        by_snap.setdefault((li.context.ts_ns - T0) // MS, {})[li.level.level_id] = li.leaving
    assert by_snap[100]["481.00"] is False
    assert by_snap[200]["481.00"] is True  # its last input
    assert "481.00" not in by_snap.get(300, {})
    assert not any(by_snap[200][lid] for lid in by_snap[200] if lid != "481.00")
    # its level step publishes that last signal inactive and without a call
    state = None
    for li in (li for li in out if li.level.level_id == "481.00"):
        state, published = step(state, li, CFG.physics)
    assert (published.signal.active, published.signal.signal) == (False, "NEUTRAL")
    assert published.signal.reason.startswith("left the active set")


def test_a_filled_queue_that_comes_back_has_a_refill_half_life() -> None:
    # the bid at 4800.00 (in the band of 479.95 x 10) loses 6 to a seller at 150 ms, shows 4
    # at 200 ms and 10 again at 450 ms: half of the fill is back 0.25 s after it
    b = book("book", 10, 200, 450)
    b.bid_sz[1, 0] = 4
    sold = TradeBatch(
        "tape", 1, np.array([T0 + 150 * MS], np.int64), np.array([4800.0]),
        np.array([6], np.int64), np.zeros(1, bool), np.ones(1, bool),
    )  # fmt: skip
    out = run([b, sold, PartitionEnd("book"), PartitionEnd("tape")], CFG)
    at_level = {(li.context.ts_ns - T0) // MS: li.bids for li in out if li.level.price == 479.95}
    assert (at_level[300].filled, at_level[300].refill_half_life_s) == (6, None)
    assert at_level[300].refilled_share == 0.0  # nothing back yet
    assert (at_level[500].refill_half_life_s, at_level[500].refilled_share) == (0.25, 1.0)
    assert at_level[100].refill_half_life_s is None and at_level[100].refilled_share is None


def test_each_signal_says_when_spot_reaches_the_level() -> None:
    # the bid falls a tick every 100 ms toward a support at 479.80 (ES 4798.00), then stops
    cfg = MarketConfig(PhysicsConfig(), partitions=("book", "tape"), explicit_levels=(479.80,))
    falling = [book("book", 10 + 100 * i, bid=4800.0 - 0.25 * i) for i in range(9)]
    still = book("book", 1000, 1500, 2000, bid=4798.0)
    out = run([*falling, still, PartitionEnd("book"), PartitionEnd("tape")], cfg)
    state, signals = None, []
    for li in (li for li in out if li.level.price == 479.80):
        state, published = step(state, li, cfg.physics)
        signals.append(published.signal)
    approaching = [s for s in signals if s.distance > 0.05 + 1e-9 and (s.tape.velocity or 0) < 0]
    assert len(approaching) >= 3
    for s in approaching:  # the distance left over the pace through the defence
        pace = -(s.tape.velocity or 0.0) / (s.barrier.thickness or 1.0)
        assert s.eta_s == pytest.approx((s.distance - 0.05) / pace)
    etas = [s.eta_s for s in approaching]
    assert etas == sorted(etas, reverse=True)  # sooner as it comes
    assert signals[-1].distance <= 0.05 and signals[-1].eta_s == 0.0  # arrived
    assert signals[0].eta_s is None  # no velocity in the first snap


def test_depth_that_scrolls_into_view_is_not_depth_added() -> None:
    # spot rises four ticks: the ask ladder (ten prices of 5) showed up to 4802.50 and now
    # shows up to 4803.50. The outflow compares the two books only over the prices both show,
    # so the asks that came into view at the ladder's far end do not read as a defence that
    # grew (a wall); the thickness weighs the band as the book shows it now
    cfg = MarketConfig(
        PhysicsConfig(), partitions=("book", "tape"), explicit_levels=(480.25, 480.30)
    )
    low, high = book("book", 10), book("book", 2000, bid=4801.0)
    out = run([low, high, PartitionEnd("book"), PartitionEnd("tape")], cfg)
    asks = {li.level.level_id: li.asks for li in out if (li.context.ts_ns - T0) // MS == 2000}
    inside, edge = asks["480.25"], asks["480.30"]
    assert inside.depth == 9 * 5  # published as the book shows it now: 4801.50-4803.50
    assert inside.depth_start == 5 * 5  # the start showed 4801.50-4802.50 of the band
    # the same five prices now: nothing left and nothing came (v = 0, not -20/46); nine
    # prices of an ordinary 5 lots (q = 1): nothing either way
    assert inside.thickness == pytest.approx(1.0)
    assert inside.score == pytest.approx(0.0, abs=1e-9)
    # at the ladder's edge: the level is in view, its band only up to 4803.50, and none of
    # it was shown at the window's start (v = 0 again)
    assert edge.observable and edge.depth == 7 * 5
    assert edge.thickness == pytest.approx(1.0)  # seven prices shown, seven counted
    assert edge.score == pytest.approx(0.0, abs=1e-9)


def _walk(seed: int, seconds: float, per_s: int) -> tuple[BookBatch, TradeBatch]:
    """A random book: the best bid wanders by ticks, sizes churn, sellers hit the bid."""
    rng = np.random.default_rng(seed)
    n = int(seconds * per_s)
    ts = T0 + np.sort(rng.integers(0, int(seconds * 1000 * MS), n)).astype(np.int64)
    bid = 4800.0 + 0.25 * np.cumsum(rng.choice([-1, 0, 0, 0, 0, 0, 0, 0, 0, 1], n))
    steps = 0.25 * np.arange(10)
    b = BookBatch(
        partition="book", instrument_id=1, ts_ns=ts,
        bid_px=bid[:, None] - steps, bid_sz=rng.integers(1, 60, (n, 10)),
        ask_px=bid[:, None] + 0.25 + steps, ask_sz=rng.integers(1, 60, (n, 10)),
        max_ts_ns=int(ts[-1]),
    )  # fmt: skip
    m = n // 10
    at = np.sort(rng.choice(n, m, replace=False))
    t = TradeBatch(
        "tape", 1, ts[at], bid[at], rng.integers(1, 9, m), np.zeros(m, bool), np.ones(m, bool)
    )
    return b, t


def _cut(b: BookBatch, t: TradeBatch, rows: int) -> list[BookBatch | TradeBatch]:
    """The two streams in batches of ``rows`` book rows, each with the trades up to it."""
    out: list[BookBatch | TradeBatch] = []
    for lo in range(0, b.ts_ns.size, rows):
        s = slice(lo, lo + rows)
        end = int(b.ts_ns[s][-1])
        out.append(
            BookBatch(
                "book", 1, b.ts_ns[s], b.bid_px[s], b.bid_sz[s], b.ask_px[s], b.ask_sz[s], end
            )
        )
        m = (t.ts_ns > (int(b.ts_ns[lo - 1]) if lo else -1)) & (t.ts_ns <= end)
        out.append(
            TradeBatch("tape", 1, t.ts_ns[m], t.price[m], t.size[m], t.is_buy[m], t.is_sell[m])
        )
    return out


@pytest.mark.parametrize(
    ("seed", "physics"),
    [
        (0, PhysicsConfig()),
        (1, PhysicsConfig(snap_ms=250, barrier_window_s=2.1)),
        (2, PhysicsConfig(snap_ms=150)),
    ],
)
def test_a_busy_book_keeps_only_the_books_a_snap_can_ask_for(
    seed: int, physics: PhysicsConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 20 s of a book updating 2,000 times a second: the rows whose flows are accounted are
    # thinned to the last book of each snap interval (and of each shifted back by the
    # barrier window, which need not be a whole number of snaps), and every published
    # signal is what the whole book gives
    b, t = _walk(seed, 20.0, 2_000)
    items = [*_cut(b, t, 700), PartitionEnd("book"), PartitionEnd("tape")]
    cfg = MarketConfig(physics, ("book", "tape"), explicit_levels=(479.95, 480.1))
    thinned = MarketState(cfg, lambda: 0)
    got = [li for item in items for li in thinned.add(item)] + thinned.finish()  # type: ignore[arg-type]
    assert thinned.book.ts.size < 2_000  # the 5 s window holds 10,000 updates
    monkeypatch.setattr(MarketState, "_thin_book", lambda self: None)
    want = run(items, cfg)
    assert len(got) == len(want) > 100

    def published(out: list[LevelInput]) -> list[str]:
        state: dict[str, object] = {}
        lines = []
        for li in out:
            state[li.level.level_id], pub = step(state.get(li.level.level_id), li, cfg.physics)  # type: ignore[arg-type]
            lines.append(pub.signal.model_dump_json(exclude={"ts_publish_ns"}))
        return lines

    assert published(got) == published(want)


@pytest.mark.parametrize("trade_rows", [50, 5_000, 100_000])
def test_each_snaps_tape_is_its_window_of_trades_when_the_tape_runs_ahead(
    trade_rows: int,
) -> None:
    # a fast replay reads the trade file far ahead of the book: each snap's tape is still the
    # aggressor volume of exactly the trades in its window, (t - tape window, t]
    b, t = _walk(3, 12.0, 1_500)
    books = [x for x in _cut(b, t, 400) if isinstance(x, BookBatch)]
    tapes = [
        TradeBatch("tape", 1, *(a[i : i + trade_rows] for a in (t.ts_ns, t.price, t.size)),
                   t.is_buy[i : i + trade_rows], t.is_sell[i : i + trade_rows])
        for i in range(0, t.ts_ns.size, trade_rows)
    ]  # fmt: skip
    items: list[object] = [tapes[0]]
    for i, bb in enumerate(books):
        items += [bb, *tapes[1 + 2 * i : 3 + 2 * i]]  # the tape two batches ahead of the book
    items += [*tapes[1 + 2 * len(books) :], PartitionEnd("book"), PartitionEnd("tape")]
    out = run(items, CFG)
    window_ns = int(CFG.physics.tape_window_s * 1e9)
    assert len({li.context.ts_ns for li in out}) > 100
    for li in out:
        ts = li.context.ts_ns
        inside = (t.ts_ns > ts - window_ns) & (t.ts_ns <= ts)
        assert li.context.tape.sell_volume == int(t.size[inside & t.is_sell].sum())
        assert li.context.tape.buy_volume == int(t.size[inside & t.is_buy].sum())
