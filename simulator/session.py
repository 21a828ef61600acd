"""A whole regular-hours session of ES with SPY and its 0DTE options, streamed to files.

Activity follows the day's U shape (busy open and close, quieter midday); the order-flow tilt
wanders (an Ornstein-Uhlenbeck process) so price trends, tests levels and turns; the dealers
hedge the chain's gamma in ES all day. Records are flushed chunk by chunk, so memory stays
flat however long the session.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from datetime import time as clock
from pathlib import Path
from typing import IO

import numpy as np
import zstandard

from connectors.polygon.capture import CaptureWriter
from physics.options import NEW_YORK
from schemas.dbn import MBP10_NESTED_DTYPE, TRADE_DTYPE
from simulator.params import SessionParams
from simulator.polygon_feed import Sink
from simulator.scenarios import TICK, Plan, _Sim

OPEN_ET = clock(9, 30)


def open_ns(day: date) -> int:
    return int(datetime.combine(day, OPEN_ET, NEW_YORK).timestamp()) * 1_000_000_000


class SessionSim(_Sim):
    """The scenario book without a scenario: time-varying activity and a wandering tilt."""

    def __init__(self, plan: Plan, sink: Sink, sp: SessionParams) -> None:
        super().__init__(plan, sink)
        self.sp = sp
        self.day_s = sp.hours * 3600
        self.norm = float(np.mean(self.activity(np.linspace(0, self.day_s, 4001))))
        self.lean = 0.0
        self._lean_at = plan.start_ns
        self._events = 0

    def activity(self, t_s: np.ndarray | float) -> np.ndarray:
        sp = self.sp
        rush_open = sp.open_boost * np.exp(-np.asarray(t_s) / (sp.open_decay_min * 60))
        rush_close = sp.close_boost * np.exp(
            -(self.day_s - np.asarray(t_s)) / (sp.close_rise_min * 60)
        )
        return np.asarray(1.0 + rush_open + rush_close)

    def _rate(self) -> float:
        t_s, sp = (self.t - self.plan.start_ns) / 1e9, self.sp
        if sp.burst_start_s <= t_s < sp.burst_start_s + sp.burst_s:
            return sp.burst_events_per_s
        shape = (
            1.0
            + sp.open_boost * math.exp(-t_s / (sp.open_decay_min * 60))
            + sp.close_boost * math.exp(-(self.day_s - t_s) / (sp.close_rise_min * 60))
        )  # activity(), for one instant: this runs once per event
        return sp.events_per_s * shape / self.norm

    def _buy_probability(self) -> float:
        dt = (self.t - self._lean_at) / 1e9
        if dt >= 1.0:  # exact OU transition over dt
            sp, decay = self.sp, math.exp(-dt / self.sp.lean_revert_s)
            noise = sp.lean_sigma * math.sqrt(1 - decay * decay) * self.rng.standard_normal()
            self.lean = float(np.clip(self.lean * decay + noise, -sp.lean_max, sp.lean_max))
            self._lean_at = self.t
        return 0.5 + self.lean

    def _agents(self) -> None:
        # no scenario at a level: only the crowd and the dealers; the book is kept to what
        # trades (scenarios are short enough not to need it)
        self._events += 1
        if self._events % self.p.prune_every == 0:
            self.book.prune(self.p.keep_ticks)


@dataclass(frozen=True, slots=True)
class SessionReport:
    files: list[Path]
    mbp_records: int
    trade_records: int
    capture_lines: int
    seconds: float
    per_minute: list[int]  # MBP-10 records in each minute of the session

    def describe(self) -> str:
        pm = self.per_minute
        return (
            f"{self.mbp_records:,} MBP-10 and {self.trade_records:,} trade records, "
            f"{self.capture_lines:,} Polygon capture lines in {self.seconds:.0f} s "
            f"({self.mbp_records / max(self.seconds, 1e-9):,.0f} records/s); records per "
            f"minute: first {pm[0]:,}, midday {pm[len(pm) // 2]:,}, last {pm[-1]:,}"
        )


def simulate_session(
    day: date,
    out_dir: Path,
    seed: int = 0,
    open_spy: float = 480.0,
    ratio: float = 10.0,
    sp: SessionParams | None = None,
    progress: Callable[[float], None] | None = None,
) -> SessionReport:
    """Write ``session-<day>.{mbp-10,trades}.dbn.zst``, ``.polygon.jsonl.zst`` and ``.json``."""
    sp = sp or SessionParams()
    start = open_ns(day)
    end = start + int(sp.hours * 3600 * 1e9)
    stem = out_dir / f"session-{day.isoformat()}"
    out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    minutes = np.zeros(math.ceil(sp.hours * 60), np.int64)
    counts = [0, 0]
    with (
        CaptureWriter(stem.with_suffix(".polygon.jsonl.zst")) as capture,
        _dbn_out(stem, "mbp-10") as mbp_out,
        _dbn_out(stem, "trades") as trades_out,
    ):
        plan = Plan("quiet", open_spy, "support", seed, ratio, sp.hours * 3600, start_ns=start)
        sim = SessionSim(plan, capture, sp)
        mbp_out.write(sim.out.metadata("mbp-10", start, end))
        trades_out.write(sim.out.metadata("trades", start, end))
        chunk_end = start
        while sim.t < end:
            chunk_end = min(chunk_end + int(sp.chunk_s * 1e9), end)
            while sim.t < chunk_end:
                sim.step()
            mbp, trades = sim.out.drain()
            ts = np.frombuffer(mbp, MBP10_NESTED_DTYPE)["ts_recv"].astype(np.int64)
            np.add.at(minutes, np.minimum((ts - start) // 60_000_000_000, minutes.size - 1), 1)
            counts[0] += ts.size
            counts[1] += len(trades) // TRADE_DTYPE.itemsize
            mbp_out.write(mbp)
            trades_out.write(trades)
            if progress is not None:
                progress((chunk_end - start) / (end - start))
    report = SessionReport(
        [stem.with_suffix(s) for s in (".mbp-10.dbn.zst", ".trades.dbn.zst", ".polygon.jsonl.zst")],
        counts[0], counts[1], capture.lines, time.perf_counter() - t0, minutes.tolist(),
    )  # fmt: skip
    summary = {
        "date": day.isoformat(), "seed": seed, "open_spy": open_spy, "es_spy_ratio": ratio,
        "last_spy": round(sim._mid_tick() * TICK / ratio, 3), "params": sp.model_dump(),
        "mbp_records": report.mbp_records, "trade_records": report.trade_records,
        "capture_lines": report.capture_lines, "records_per_minute": report.per_minute,
        "files": [f.name for f in report.files],
    }  # fmt: skip
    stem.with_suffix(".json").write_text(json.dumps(summary, indent=1))
    return report


def _dbn_out(stem: Path, schema: str) -> IO[bytes]:
    raw = stem.with_suffix(f".{schema}.dbn.zst").open("wb")
    return zstandard.ZstdCompressor(level=3).stream_writer(raw)
