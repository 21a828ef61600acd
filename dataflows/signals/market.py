"""Global market state: event-time sequencing, the snap clock, and per-snap evidence.

Inputs arrive per partition in time order, but partitions interleave arbitrarily. A snap at
time T is emitted only once every partition has moved past T (its watermark), so the output
depends on the data alone, never on arrival order: Kafka and file replay agree byte for byte.
Live, a partition whose source has caught up (found nothing new) holds the snap back only by
a small slack (the producer's batching), and one quiet for longer than the allowed lateness
stops holding it at all (the event clock runs on with the wall clock); late events are
counted and land in the next snap. A partition that is still delivering keeps its own
watermark, even if behind.
"""

from __future__ import annotations

import logging
import operator
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from dataflows.signals.columns import Column
from dataflows.signals.items import (
    BookBatch,
    IdleTick,
    LevelInput,
    MarketInput,
    OptionEvent,
    PartitionEnd,
    SnapContext,
    TradeBatch,
)
from dataflows.signals.options import OptionsState
from dataflows.signals.price_window import PriceWindow
from physics.barrier import band_scores, restable_prices, touch_ticks
from physics.book import (
    Book,
    SideAtLevel,
    SideEvidence,
    at_each,
    cut_at_edge,
    shared_edges,
    sides_evidence,
)
from physics.config import PRICE_EPS, PhysicsConfig
from physics.flows import price_flows, visible_floor
from physics.levels import Level, active_levels
from physics.score import ewma
from physics.session_levels import SessionState, apply_trades, session_levels
from physics.tape import TapeSums, TapeWindow, velocity

log = logging.getLogger(__name__)
_Ts = TypeVar("_Ts", int, npt.NDArray[np.int64])
NEVER = -(2**63)
_SIDES = np.array([True] * 3 + [False] * 3)  # bids: now, now shared, start; asks: the same
FOREVER = 2**63 - 1


@dataclass(frozen=True, slots=True)
class MarketConfig:
    physics: PhysicsConfig
    partitions: tuple[str, ...]  # every input partition whose watermark gates the snap
    explicit_levels: tuple[float, ...] = ()
    instrument_id: int | None = None  # None: the first ES instrument seen
    live: bool = False
    lateness_ms: int = 250  # live: how long a quiet partition may hold back the snap
    idle_slack_ms: int = 10  # live: a caught-up partition holds the snap this long at most


@dataclass(slots=True)
class Counters:
    """Records and snaps the market step could not use, and why; logged, never silent."""

    late_records: int = 0
    other_instrument_records: int = 0
    snaps_without_spot: int = 0

    def describe(self) -> str:
        return (
            f"{self.late_records} late records (into the next snap), "
            f"{self.other_instrument_records} records of other instruments (ignored), "
            f"{self.snaps_without_spot} snaps without a two-sided book (not published)"
        )


class MarketState:
    """Everything global the signals need; ``add`` returns the level inputs now due."""

    def __init__(self, cfg: MarketConfig, clock_ns: Callable[[], int]) -> None:
        self.cfg = cfg
        self.clock_ns = clock_ns
        self.watermark_ns = dict.fromkeys(cfg.partitions, NEVER)
        self.caught_up: set[str] = set()  # live: partitions whose source had nothing new
        self.ended: set[str] = set()
        self.instrument_id = cfg.instrument_id
        self.book = Column(
            bid_px=np.empty((0, 10)), bid_sz=np.empty((0, 10), np.int64),
            ask_px=np.empty((0, 10)), ask_sz=np.empty((0, 10), np.int64),
        )  # fmt: skip
        self.trades = Column(
            price=np.empty(0),
            size=np.empty(0, np.int64),
            is_buy=np.empty(0, bool),
            is_sell=np.empty(0, bool),
        )
        window_ns = int(cfg.physics.barrier_window_s * 1e9)
        self.flows = {bids: PriceWindow(window_ns) for bids in (True, False)}  # per book side
        self.flowed_ns = NEVER  # book rows up to here have their flows computed
        self.max_ts_ns = NEVER
        self.next_snap_ns: int | None = None
        self.spots: deque[tuple[int, float]] = deque()
        self.anchor: tuple[int, int] | None = None  # live: (event clock, wall clock then)
        self.heard_ns: dict[str, int] = {}  # live: wall clock of each partition's last data
        self.counters = Counters()
        self.options = OptionsState(cfg.physics)
        self.session = SessionState()  # VWAP, opening range, prior day
        self.ratio: float | None = None  # live ES/SPY, smoothed
        self.ratio_ns: int | None = None
        self.active: dict[str, Level] = {}  # the levels of the last snap
        self._evidence_seen: tuple[bytes, list[SideEvidence]] | None = None
        # per side (bids True): the inputs of its last scoring and the result
        self._side_seen: dict[bool, tuple[tuple[object, ...], bytes, list[SideAtLevel]]] = {}
        self._tape_sums: TapeSums | None = None  # the trades' running sums, while snapping

    # -- input ----------------------------------------------------------------------------
    def add(self, item: MarketInput) -> list[LevelInput]:
        return self.add_all([item])

    def add_all(self, items: list[MarketInput]) -> list[LevelInput]:
        """Take a batch of inputs, then emit the snaps they make due: once per batch, so the
        per-snap and per-flow work runs on many records at a time."""
        for item in items:
            self._take(item)
        return self._emit_due(self._watermark())

    def _take(self, item: MarketInput) -> None:
        if isinstance(item, PartitionEnd):
            self.ended.add(item.partition)
        elif isinstance(item, IdleTick):
            self.caught_up.add(item.partition)
        elif isinstance(item, BookBatch):
            self._advance(item.partition, item.max_ts_ns)
            if self._wanted(item.instrument_id, len(item.ts_ns)):
                self.book.append(
                    item.ts_ns, bid_px=item.bid_px, bid_sz=item.bid_sz,
                    ask_px=item.ask_px, ask_sz=item.ask_sz,
                )  # fmt: skip
        elif isinstance(item, TradeBatch):
            self._advance(item.partition, item.max_ts_ns)
            if self._wanted(item.instrument_id, len(item.ts_ns)):
                self.trades.append(
                    item.ts_ns,
                    price=item.price,
                    size=item.size,
                    is_buy=item.is_buy,
                    is_sell=item.is_sell,
                )
        elif isinstance(item, OptionEvent):
            self._advance(item.partition, item.ts_ns)
            self.options.add(item)

    def finish(self) -> list[LevelInput]:
        """Every input has ended: emit the snaps that cover the last events."""
        out = self._emit_due(FOREVER)
        log.info("market step finished: %s", self.counters.describe())
        return out

    def _advance(self, partition: str, ts_ns: int) -> None:
        self.caught_up.discard(partition)
        self.watermark_ns[partition] = max(self.watermark_ns.get(partition, NEVER), ts_ns)
        self.max_ts_ns = max(self.max_ts_ns, ts_ns)
        if self.cfg.live:
            now = self.clock_ns()
            self.anchor = (max(ts_ns, self._event_clock(now)), now)
            self.heard_ns[partition] = now

    def _event_clock(self, now_ns: int) -> int:
        """Live estimate of event time: the newest event, run on by the wall clock since."""
        if self.anchor is None:
            return NEVER
        ts, wall = self.anchor
        return ts + (now_ns - wall)

    def _wanted(self, instrument_id: int, n: int) -> bool:
        if self.instrument_id is None:
            self.instrument_id = instrument_id
        if instrument_id != self.instrument_id:
            if not self.counters.other_instrument_records:
                log.warning(
                    "following ES instrument %s; ignoring records of instrument %s (and any "
                    "other; set SNAPLINE_INSTRUMENT_ID to choose)",
                    self.instrument_id,
                    instrument_id,
                )
            self.counters.other_instrument_records += n
            return False
        return True

    def _watermark(self) -> int:
        floor = NEVER
        lateness_ns = self.cfg.lateness_ms * 1_000_000
        slack_ns = self.cfg.idle_slack_ms * 1_000_000
        now = self.clock_ns()
        if self.anchor is not None:
            floor = self._event_clock(now) - lateness_ns
        marks = []
        for p, wm in self.watermark_ns.items():
            if p in self.ended:
                marks.append(FOREVER)
            elif p in self.caught_up and self.anchor is not None:
                # Live: its source found nothing new, so what comes next was received after
                # now (less the producer's batching): it holds the snap only that long.
                marks.append(max(wm, self._event_clock(now) - slack_ns))
            elif now - self.heard_ns.get(p, NEVER) > lateness_ns:
                # Live: a partition quiet for longer than the lateness cannot hold the snap
                # back; one still delivering (if behind, as in a fast replay) keeps its own mark.
                marks.append(max(wm, floor))
            else:
                marks.append(wm)
        return min(marks, default=FOREVER)

    # -- snaps ----------------------------------------------------------------------------
    def _emit_due(self, watermark_ns: int) -> list[LevelInput]:
        snapped = (
            NEVER if self.next_snap_ns is None else self.next_snap_ns - self.cfg.physics.snap_ns
        )
        self._thin_book()
        late = self.book.consolidate(snapped) + self.trades.consolidate(snapped)
        if late:
            before = self.counters.late_records
            self.counters.late_records += late
            if len(str(before)) < len(str(self.counters.late_records)) or not before:
                # 1, 10, 100...: visible without flooding the log
                log.warning(
                    "%d records so far arrived after their snap; they count from the next",
                    self.counters.late_records,
                )
        if self.book.ts.size == 0:
            return []
        snap = self.cfg.physics.snap_ns
        if self.next_snap_ns is None:
            self.next_snap_ns = _ceil_to(int(self.book.ts[0]), snap)
        bound = self.max_ts_ns + snap if watermark_ns == FOREVER else watermark_ns
        if self.next_snap_ns < bound:  # flows are read only by snaps: account them in batches
            self._account_flows(bound)
            self._tape_sums = self._trade_sums(self.next_snap_ns, bound)
        gap_ns = int(self.cfg.physics.max_book_gap_s * 1e9)
        out: list[LevelInput] = []
        while self.next_snap_ns < bound:
            t = self.next_snap_ns
            idx = int(np.searchsorted(self.book.ts, t, side="right")) - 1
            if idx >= 0 and t - int(self.book.ts[idx]) <= gap_ns:
                out += self._snap(t, idx)
            elif idx + 1 < self.book.ts.size:  # silent book: skip ahead to its next update
                self.next_snap_ns = _ceil_to(int(self.book.ts[idx + 1]), snap)
                continue
            else:
                break
            self.next_snap_ns = t + snap
        self._tape_sums = None  # the next batch brings trades
        self._trim()
        return out

    def _snap(self, t: int, idx: int) -> list[LevelInput]:
        c = self.book.cols
        book = Book(c["bid_px"][idx], c["bid_sz"][idx], c["ask_px"][idx], c["ask_sz"][idx])
        mid = book.mid()
        if mid is None:
            self.counters.snaps_without_spot += 1
            return []
        p = self.cfg.physics
        self.options.advance(t)
        ratio, spy_age_ms = self._ratio(t, mid)
        spot = mid / ratio
        fuel = self.options.at_snap(t, spot)
        tc = self.trades.cols
        apply_trades(self.session, self.trades.ts, tc["price"], tc["size"], t, p)
        tracked = [*fuel.gamma_levels, *session_levels(self.session, t, ratio)]
        levels = active_levels(spot, self.cfg.explicit_levels, p, tracked, fuel.strikes)
        # a level that left the active set publishes once more, marked inactive, so that a
        # consumer holding the latest signal per level knows to drop it
        now_ids = {lv.level_id for lv in levels}
        leaving = {lid for lid in self.active if lid not in now_ids}
        levels = sorted([*levels, *(self.active[lid] for lid in leaving)], key=_level_id)
        self.active = {lv.level_id: lv for lv in levels if lv.level_id not in leaving}
        ctx = SnapContext(
            ts_ns=t,
            ratio=ratio,
            spot=spot,
            book=book,
            tape=self._tape(t),
            velocity=self._velocity(t, spot),
            book_age_ms=(t - int(self.book.ts[idx])) / 1e6,
            last_trade_age_ms=self._last_trade_age_ms(t),
            n_levels=len(levels),
            greeks_as_of_ns=fuel.greeks_as_of_ns,
            spy_quote_age_ms=spy_age_ms,
        )
        level_es = np.array([lv.price for lv in levels]) * ratio
        half_band = p.band_ticks * p.es_tick
        start = self._book_at(t - int(p.barrier_window_s * 1e9))
        bids_now, bids_seen, bids_start, asks_now, asks_seen, asks_start = self._evidence(
            book, start, level_es, half_band
        )
        # each level's band in ticks (a level need not sit on a tick)
        lo = np.ceil((level_es - half_band) / p.es_tick - PRICE_EPS).astype(np.int64)
        hi = np.floor((level_es + half_band) / p.es_tick + PRICE_EPS).astype(np.int64)
        touch_lo, touch_hi = touch_ticks(level_es, lo, hi, p.touch_band_spy * ratio, p.es_tick)
        sides = {}
        for bids, now_ev, seen_ev, start_ev in (
            (True, bids_now, bids_seen, bids_start),
            (False, asks_now, asks_seen, asks_start),
        ):
            # refill is read on the side that defends the level: bids at or below spot, asks
            # at or above, both within a hair of it (the other side's is never published)
            defends = level_es <= mid + 1e-6 if bids else level_es >= mid - 1e-6
            found = self.flows[bids].band_at(t, lo, hi, defends)
            other_best = (book.ask_px if bids else book.bid_px)[0]
            # cached evidence and flows come back as the very same objects while unchanged;
            # the opposite best price and the touch ticks by their bytes (an empty side's NaN
            # equals itself)
            inputs = (now_ev, seen_ev, start_ev, found)
            at_touch = (lo, touch_hi) if bids else (touch_lo, hi)  # where a test trades
            key = other_best.tobytes() + touch_lo.tobytes() + touch_hi.tobytes()
            seen = self._side_seen.get(bids)
            if seen is not None and seen[1] == key and all(map(operator.is_, seen[0], inputs)):
                sides[bids] = seen[2]  # a quiet book: the same evidence as the last snap
                continue
            flows, refills = found
            # the thickness weighs the band as the book shows it now; the outflow compares
            # the two books over the prices both show
            shown_lo, shown_hi = cut_at_edge(lo, hi, now_ev.edge / p.es_tick, bids)
            restable = restable_prices(shown_lo, shown_hi, other_best / p.es_tick, bids)
            absorbed = self.flows[bids].filled_in(t, *at_touch)  # for the resilience
            scores = band_scores(
                start_ev.depth, now_ev.depth, now_ev.peak, absorbed, flows.filled,
                now_ev.typical_queue, restable, p, depth_compared=seen_ev.depth,
            )  # fmt: skip
            sides[bids] = at_each(now_ev, start_ev, flows, refills, scores)
            self._side_seen[bids] = (inputs, key, sides[bids])
        fuels = fuel.at([lv.price for lv in levels])
        return [
            LevelInput(
                lv, ctx, sides[True][i], sides[False][i], fuels[i], lv.level_id in leaving
            )
            for i, lv in enumerate(levels)
        ]  # fmt: skip

    def _evidence(
        self, book: Book, start: Book, level_es: np.ndarray, half_band: float
    ) -> list[SideEvidence]:
        """Per side: the book now as it shows, the book now over the prices it shares with
        the book at the window's start, and that start book over the same prices. One
        vectorised pass, reused while the books and levels are those it last saw (a quiet
        book, snap after snap). The window's change is measured over the shared prices: depth
        coming into view at the ladder's far end is not depth added."""
        parts = [book.bid_px, book.bid_sz, book.ask_px, book.ask_sz]
        parts += [start.bid_px, start.bid_sz, start.ask_px, start.ask_sz, level_es]
        key = b"".join([a.tobytes() for a in parts])  # stacked only when something changed
        if self._evidence_seen is not None and self._evidence_seen[0] == key:
            return self._evidence_seen[1]
        px = np.stack(
            [book.bid_px, book.bid_px, start.bid_px, book.ask_px, book.ask_px, start.ask_px]
        )
        sz = np.stack(
            [book.bid_sz, book.bid_sz, start.bid_sz, book.ask_sz, book.ask_sz, start.ask_sz]
        )
        own = visible_floor(px, _SIDES)
        both = shared_edges(own[[0, 3]], own[[2, 5]], _SIDES[[0, 3]])
        edges = np.array([own[0], both[0], both[0], own[3], both[1], both[1]])
        found = sides_evidence(px, sz, level_es, half_band, _SIDES, edges)
        self._evidence_seen = (key, found)
        return found

    def _ratio(self, t: int, es_mid: float) -> tuple[float, float | None]:
        """ES/SPY from the latest SPY quote (smoothed in event time), or the configured one
        without a fresh quote; and the quote's age."""
        p = self.cfg.physics
        quoted_ns, spy_mid = self.options.spy_mid_ns, self.options.spy_mid
        if quoted_ns is None or spy_mid is None:
            return p.es_spy_ratio, None
        age_ms = (t - quoted_ns) / 1e6
        if age_ms > p.ratio_stale_s * 1000:
            return p.es_spy_ratio, age_ms
        self.ratio = ewma(self.ratio, self.ratio_ns, es_mid / spy_mid, t, p.ratio_half_life_s)
        self.ratio_ns = t
        return self.ratio, age_ms

    def _book_at(self, t: int) -> Book:
        """The book as of ``t`` (the oldest kept one if ``t`` precedes it)."""
        i = max(int(np.searchsorted(self.book.ts, t, side="right")) - 1, 0)
        c = self.book.cols
        return Book(c["bid_px"][i], c["bid_sz"][i], c["ask_px"][i], c["ask_sz"][i])

    def _account_flows(self, bound: int) -> None:
        """Flows of every book transition now complete: rows before ``bound``, whose trades
        have all arrived (the watermark is past them)."""
        ts = self.book.ts
        first = int(np.searchsorted(ts, self.flowed_ns, side="right"))
        last = int(np.searchsorted(ts, bound, side="left"))
        lo = max(first - 1, 0)
        if last - lo < 2:
            return
        rows = slice(lo, last)
        tick = self.cfg.physics.es_tick
        tr = self.trades
        t_lo = int(np.searchsorted(tr.ts, ts[lo], side="right"))
        t_hi = int(np.searchsorted(tr.ts, ts[last - 1], side="right"))
        trade_row = np.searchsorted(ts[rows], tr.ts[t_lo:t_hi], side="left").astype(np.int64)
        trade_tick = np.rint(tr.cols["price"][t_lo:t_hi] / tick).astype(np.int64)
        trade_size = tr.cols["size"][t_lo:t_hi]
        # sellers fill bids, buyers fill asks; a trade without an aggressor flag may be either
        hits = {True: ~tr.cols["is_buy"][t_lo:t_hi], False: ~tr.cols["is_sell"][t_lo:t_hi]}
        c = self.book.cols
        for bids, px, sz in ((True, c["bid_px"], c["bid_sz"]), (False, c["ask_px"], c["ask_sz"])):
            m = hits[bids]
            pf = price_flows(
                px[rows], sz[rows], bids, tick, trade_row[m], trade_tick[m], trade_size[m]
            )
            self.flows[bids].append(
                ts[rows][pf.row],
                pf.price_tick,
                added=pf.added,
                cancelled=pf.cancelled,
                filled=pf.filled,
                hidden=pf.hidden,
            )
        self.flowed_ns = int(ts[last - 1])

    def _thin_book(self) -> None:
        """Before the book's buffers would grow: of the rows whose flows are accounted, keep
        only those a snap can still ask for, the last book of each snap interval and of each
        interval shifted back by the barrier window (snaps fall on multiples of the snap
        period; each reads the book at its time and at its window's start). A busy book
        keeps two rows per snap instead of every update of the window."""
        pending = sum(part["ts"].size for part in self.book.pending)
        if self.book.fits(pending):
            return
        ts = self.book.ts
        done = int(np.searchsorted(ts, self.flowed_ns, side="right")) - 1  # flows start here
        if done < 1:
            return
        snap = self.cfg.physics.snap_ns
        window_ns = int(self.cfg.physics.barrier_window_s * 1e9)
        kept = np.ones(ts.size, bool)
        now, nxt = ts[:done], ts[1 : done + 1]  # a row is the last of its interval when the
        kept[:done] = (_ceil_to(now, snap) != _ceil_to(nxt, snap)) | (  # next is in another
            _ceil_to(now + window_ns, snap) != _ceil_to(nxt + window_ns, snap)
        )
        kept[0] = True  # the oldest: the window's start before the book began
        self.book.keep(kept, pending)

    def _trade_sums(self, first_ns: int, bound_ns: int) -> TapeSums:
        """Running sums over the trades that snaps from ``first_ns`` up to ``bound_ns`` can
        see: a fast replay's trades run far ahead of the book, and summing them all cost more
        than the snaps."""
        ts, c = self.trades.ts, self.trades.cols
        lo = int(np.searchsorted(ts, first_ns - int(self.cfg.physics.tape_window_s * 1e9), "right"))
        hi = int(np.searchsorted(ts, bound_ns, side="right"))
        return TapeSums.of(ts[lo:hi], c["size"][lo:hi], c["is_buy"][lo:hi], c["is_sell"][lo:hi])

    def _tape(self, t: int) -> TapeWindow:
        assert self._tape_sums is not None  # taken for the batch's snaps
        return self._tape_sums.window(t, int(self.cfg.physics.tape_window_s * 1e9))

    def _velocity(self, t: int, spot: float) -> float | None:
        horizon = t - int(self.cfg.physics.tape_window_s * 1e9)
        while self.spots and self.spots[0][0] < horizon:
            self.spots.popleft()
        then = self.spots[0] if self.spots else None
        self.spots.append((t, spot))
        if then is None:
            return None
        return velocity(then[1], spot, (t - then[0]) / 1e9)

    def _last_trade_age_ms(self, t: int) -> float | None:
        i = int(np.searchsorted(self.trades.ts, t, side="right")) - 1
        return None if i < 0 else (t - int(self.trades.ts[i])) / 1e6

    def _trim(self) -> None:
        """Forget what no future snap can need: old books and trades outside the window."""
        if self.next_snap_ns is None:
            return
        p = self.cfg.physics
        done = self.next_snap_ns - p.snap_ns
        # keep the book as of the oldest barrier-window start a future snap can ask for, and
        # the last row whose flows are accounted (the next transition starts from it)
        window_start = min(done - int(p.barrier_window_s * 1e9), self.flowed_ns)
        self.book.drop_before(int(np.searchsorted(self.book.ts, window_start, side="right")) - 1)
        horizon = min(done - int(p.tape_window_s * 1e9), self.flowed_ns)
        first_in_window = int(np.searchsorted(self.trades.ts, horizon, side="right"))
        last_done = int(np.searchsorted(self.trades.ts, done, side="right")) - 1
        # keep the last trade already snapped too: it dates "last trade age" in later snaps
        self.trades.drop_before(min(first_in_window, max(last_done, 0)))


def _level_id(level: Level) -> str:
    return level.level_id


def _ceil_to(ts_ns: _Ts, step_ns: int) -> _Ts:
    """The next multiple of ``step_ns`` at or after ``ts_ns`` (a time or an array of them)."""
    return -(-ts_ns // step_ns) * step_ns
