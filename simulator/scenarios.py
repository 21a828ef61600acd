"""Seeded scenarios around one level, both sides; the outcome is whatever the book did.

Every scenario starts with price ten ticks away and order flow leaning toward the level. At
the level, one mechanism differs: a wall that refills (``wall``), an iceberg that absorbs
(``absorption``), bids or offers pulled as price nears (``vacuum``), one large marketable
order (``sweep``); ``quiet`` never comes near. The truth file records what price then did,
labelled by the same rule as the evaluation (``physics.outcomes``), not what was intended.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from connectors.polygon.capture import CaptureWriter
from physics.book import two_sided_mids
from physics.config import PhysicsConfig
from physics.fuel import session_date
from physics.outcomes import label_tests
from schemas.dbn import F_LAST, MBP10_NESTED_DTYPE, prices
from simulator.book import SimBook
from simulator.dbn_writer import DbnEventWriter, levels
from simulator.options_world import GammaFocus, OptionsWorld
from simulator.params import OptionsSimParams, SimParams
from simulator.polygon_feed import PolygonFeed, Sink

Side = Literal["support", "resistance"]
SCENARIOS = ("wall", "absorption", "vacuum", "sweep", "short_gamma", "long_gamma", "quiet")
# The push toward the level is spent some seconds after the touch in these: what happens then
# is up to the defence (a wall, an iceberg, the dealers' hedge).
EXHAUSTED = ("wall", "absorption", "long_gamma")
GAMMA: dict[str, GammaFocus] = {"short_gamma": "short", "long_gamma": "long"}
TICK = 0.25
START_NS = 1_735_828_200_000_000_000  # 2025-01-02 14:30 UTC: 09:30 New York, a Thursday


@dataclass(frozen=True, slots=True)
class Plan:
    name: str
    level_spy: float
    side: Side
    seed: int
    ratio: float = 10.0
    duration_s: float = 240.0
    params: SimParams = field(default_factory=SimParams)
    options: OptionsSimParams = field(default_factory=OptionsSimParams)
    start_ns: int = START_NS


def plan_digest(plan: Plan) -> str:
    """A digest of everything a plan asks for (scenario, level, side, seed, ratio, length and
    every simulator parameter), recorded in its truth: files simulated for another plan, or
    with other parameters, are not reused for this one."""
    return hashlib.sha256(repr(plan).encode()).hexdigest()[:16]


def reusable_truth(plan: Plan, out_dir: Path) -> dict[str, Any] | None:
    """The truth of ``plan`` already simulated into ``out_dir`` (its digest matches and every
    file it names is there), or None: then the run is simulated again, over what is there (a
    truth cut short by an interrupted run included). The simulator's code is not in the
    digest: after changing it, simulate again."""
    path = out_dir / f"{_stem(plan)}.truth.json"
    try:
        truth = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    if not isinstance(truth, dict):
        return None
    names = [*truth.get("files", []), truth.get("options")]
    if truth.get("plan_digest") != plan_digest(plan) or not all(
        isinstance(n, str) and (out_dir / n).is_file() for n in names
    ):
        return None
    return truth


def _stem(plan: Plan) -> str:
    return f"{plan.name}-{plan.side}-seed{plan.seed}"


class _Sim:
    def __init__(self, plan: Plan, sink: Sink) -> None:
        self.plan = plan
        self.p = p = plan.params
        self.rng = np.random.default_rng(plan.seed)
        self.book = SimBook()
        self.out = DbnEventWriter(instrument_id=1, symbol="ESH5")
        self.level = round(plan.level_spy * plan.ratio / TICK)
        self.s = -1 if plan.side == "support" else 1  # direction of a break
        self.t = plan.start_ns
        self.touched_ns: int | None = None
        self.iceberg_left = p.iceberg_total
        self.swept = False
        away = p.quiet_away_ticks if plan.name == "quiet" else p.start_away_ticks
        mid = self.level - self.s * away  # support: start above the level
        lo, hi = p.initial_queue
        for i in range(20):
            self.book.add(True, mid - i, int(self.rng.integers(lo, hi)))
            self.book.add(False, mid + 1 + i, int(self.rng.integers(lo, hi)))
        if plan.name in ("wall", "absorption"):
            size = p.wall_lots if plan.name == "wall" else p.iceberg_show
            self.book.add_held(self._defending_bid(), self.level, size)
        world = OptionsWorld(
            plan.options, session_date(plan.start_ns), (mid + 0.5) * TICK / plan.ratio, self.rng,
            plan.level_spy, GAMMA.get(plan.name),
        )  # fmt: skip
        self.feed = PolygonFeed(world, sink, plan.ratio)

    # -- mechanics ----------------------------------------------------------------------
    def _defending_bid(self) -> bool:
        return self.s == -1  # bids defend a support

    def _mid_tick(self) -> float:
        bb, ba = self.book.best_bid(), self.book.best_ask()
        assert bb is not None  # the spread keeper leaves both sides populated
        assert ba is not None
        return (bb + ba) / 2

    def _emit(self, action: str, bid: bool, tick: int, size: int, last: bool = True) -> None:
        recv = self.t + self.p.latency_ns
        self.out.book_record(self.book, action, bid, tick, size, self.t, recv, last)

    def _add(self, bid: bool, tick: int, size: int, held: bool = False) -> None:
        (self.book.add_held if held else self.book.add)(bid, tick, size)
        self._emit("A", bid, tick, size)

    def _cancel(self, bid: bool, tick: int, size: int) -> None:
        gone = self.book.cancel(bid, tick, size)
        if gone:
            self._emit("C", bid, tick, gone)

    def _market(self, buy: bool, size: int, limit: int | None = None) -> None:
        """Prints first (the book as it stood), then the resting size they took."""
        before = levels(self.book)
        fills = self.book.market(buy, size, limit)
        for tick, take in fills:
            self.out.trade(before, buy, tick, take, self.t, self.t + self.p.latency_ns)
        for i, (tick, take) in enumerate(fills):
            self._emit("C", not buy, tick, take, last=i == len(fills) - 1)

    def _keep_one_tick_spread(self) -> None:
        """Market makers close a gap at once: price moves only when a queue empties."""
        while True:
            bb, ba = self.book.best_bid(), self.book.best_ask()
            if bb is None:
                self._add(True, (ba or self.level) - 1, self.p.refill_lots)
            elif ba is None:
                self._add(False, bb + 1, self.p.refill_lots)
            elif ba - bb > 1:  # a quote steps in one tick from the other side
                bid = self.rng.random() < 0.5
                self._add(bid, ba - 1 if bid else bb + 1, self.p.refill_lots)
            else:
                return

    # -- the flow -------------------------------------------------------------------------
    def _rate(self) -> float:
        """Book events per second now."""
        return self.p.events_per_s

    def _buy_probability(self) -> float:
        toward = 0.5 + self.p.lean * self.s  # lean toward the level (support: sellers)
        if self.plan.name == "quiet":
            return 0.5
        if self.touched_ns is None:
            return toward
        after_s = (self.t - self.touched_ns) / 1e9
        if self.plan.name in EXHAUSTED and after_s > self.p.exhaustion_s:
            return 0.5 - self.p.exhaustion_lean * self.s  # spent: the other side takes over
        return toward

    def _agents(self) -> None:
        p, name, lvl, bid = self.p, self.plan.name, self.level, self._defending_bid()
        if name == "wall" and self.book.held_at(bid, lvl) < p.wall_refill_below:
            self._add(bid, lvl, p.wall_refill_lots, held=True)
        elif name == "absorption" and not self.book.held_at(bid, lvl) and self.iceberg_left > 0:
            refill = min(p.iceberg_show, self.iceberg_left)  # the slice shown once filled
            self.iceberg_left -= refill
            self._add(bid, lvl, refill, held=True)
        elif (
            name == "vacuum"
            and abs(self._mid_tick() - lvl) <= p.vacuum_near_ticks
            and self.rng.random() < p.vacuum_pull_p
        ):
            for tick in range(lvl - 4, lvl + 5):
                if self._queue(bid, tick):
                    self._cancel(bid, tick, int(self._queue(bid, tick) * p.vacuum_pull_share) or 1)
        elif name == "sweep" and self.touched_ns is not None and not self.swept:
            self.swept = True
            self._market(self.s == 1, p.sweep_lots, lvl + self.s * p.sweep_through_ticks)

    def _queue(self, bid: bool, tick: int) -> int:
        return (self.book.bids if bid else self.book.asks).get(tick, 0)

    def step(self) -> None:
        p = self.p
        self.t += int(self.rng.exponential(1e9 / self._rate()))
        u = self.rng.random()
        bid = self.rng.random() < 0.5
        best = self.book.best_bid() if bid else self.book.best_ask()
        assert best is not None
        away = int(self.rng.geometric(p.touch_decay)) - 1  # most activity at the touch
        tick = best - away if bid else best + away
        lots = int(self.rng.integers(*p.order_lots))
        if u < p.p_add:
            self._add(bid, tick, lots)
        elif u < p.p_add + p.p_cancel:
            # Each resting order cancels at its own rate, so a queue loses a share of itself:
            # queues settle where adds and cancels balance instead of growing all day.
            share = self.rng.uniform(0, 2 * p.cancel_share)
            self._cancel(bid, tick, max(1, round(self.book.crowd_at(bid, tick) * share)))
        else:
            size = int(min(self.rng.geometric(p.trade_lots_p), p.trade_lots_max))
            self._market(self.rng.random() < self._buy_probability(), size)
        self._keep_one_tick_spread()
        self._agents()
        self._keep_one_tick_spread()
        hedge = self.feed.advance(self.t, self._mid_tick() * TICK)
        if hedge:  # the dealers' delta hedge, as marketable orders
            self._market(hedge > 0, abs(hedge))
            self._keep_one_tick_spread()
        if self.touched_ns is None and abs(self._mid_tick() - self.level) <= p.touch_ticks:
            self.touched_ns = self.t


def run_scenario(plan: Plan, out_dir: Path, cfg: PhysicsConfig | None = None) -> dict[str, Any]:
    """Simulate, write ``<stem>.mbp-10.dbn.zst``, ``<stem>.trades.dbn.zst`` and the truth."""
    if plan.name not in SCENARIOS:
        msg = f"unknown scenario {plan.name!r}; choose from {', '.join(SCENARIOS)}"
        raise ValueError(msg)
    cfg = cfg or PhysicsConfig(es_spy_ratio=plan.ratio)
    stem = _stem(plan)
    options_path = out_dir / f"{stem}.polygon.jsonl.zst"
    end = START_NS + int(plan.duration_s * 1e9)
    with CaptureWriter(options_path) as capture:
        sim = _Sim(plan, capture)
        while sim.t < end:
            sim.step()
    mbp, trades = sim.out.drain()
    files = sim.out.write(out_dir, stem, START_NS, end, mbp, trades)
    # The truth is read off the book as written: consistent (F_LAST) records with a price on
    # both sides (a side swept empty carries DBN's undefined price, which is no mid).
    rec = np.frombuffer(mbp, dtype=MBP10_NESTED_DTYPE)
    rec = rec[(rec["flags"] & F_LAST) != 0]
    top = rec["levels"][:, 0]
    ok, mid = two_sided_mids(prices(top["bid_px"]), prices(top["ask_px"]))
    tests = label_tests(
        rec["ts_recv"][ok].astype(np.int64), mid / plan.ratio, plan.level_spy,
        cfg.touch_band_spy, cfg.outcome_move_spy, int(cfg.outcome_horizon_s * 1e9),
    )  # fmt: skip
    truth: dict[str, Any] = {
        "scenario": plan.name,
        "seed": plan.seed,
        "level": plan.level_spy,
        "approach_side": plan.side,
        "es_spy_ratio": plan.ratio,
        "plan_digest": plan_digest(plan),
        "files": [p.name for p in files],
        "options": options_path.name,
        "tests": [
            {
                "side": t.side,
                "touch_ns": t.touch_ns,
                "outcome": t.outcome,
                "decided_ns": t.decided_ns,
            }
            for t in tests
        ],
        "outcome": tests[0].outcome if tests else "NO_TEST",
    }
    (out_dir / f"{stem}.truth.json").write_text(json.dumps(truth, indent=2))
    return truth
