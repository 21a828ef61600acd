"""``snapline ingest sim``: the simulated session produced live into the raw topics.

The session is simulated a second at a time, just ahead of the wall clock; its ES records go
out as DBN micro-batches with the headers a DBN file's would carry, its Polygon traffic
through the connector's own frame and page parsers. Everything is merged by receive time and
paced, so the dataflow sees what live feeds would send.
"""

from __future__ import annotations

import heapq
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from connectors.pacing import Pacer
from connectors.polygon.capture import traffic_messages
from connectors.polygon.messages import SequenceTracker
from connectors.raw_writer import RawWriter
from schemas.dbn import MBP10_NESTED_DTYPE, TRADE_DTYPE
from schemas.envelope import RawHeaders
from simulator.params import SessionParams
from simulator.polygon_feed import CollectSink
from simulator.scenarios import Plan
from simulator.session import SessionSim

log = logging.getLogger(__name__)

SOURCE = "sim"
DBN_VERSION = 3
STEP_NS = 1_000_000_000  # simulated this far ahead of what is sent


@dataclass(frozen=True, slots=True)
class _Out:
    ts_recv_ns: int
    role: str
    key: bytes | None
    value: bytes
    headers: RawHeaders | None
    reason: str | None = None


@dataclass
class SimFeed:
    sim: SessionSim
    sink: CollectSink
    writer: RawWriter
    pacer: Pacer
    end_ns: int
    max_run: int = 256
    # like the live connector, a micro-batch also closes once it spans this much time: a run
    # of 256 records sent at its last record's time would reach the dataflow after snaps
    # that should have held its first ones
    flush_ns: int = 20_000_000
    sequences: SequenceTracker = field(default_factory=SequenceTracker)
    messages: int = 0

    def run(self, stop: threading.Event, pregenerate: bool = False) -> None:
        """Until the session ends or ``stop``; what was produced is flushed either way.
        ``pregenerate``: simulate everything first (bursts faster than the simulator can
        compute live, for benchmarks; start the session far enough ahead of now)."""
        step = self.end_ns if pregenerate else STEP_NS
        try:
            while self.sim.t < self.end_ns and not stop.is_set():
                horizon = min(self.sim.t + step, self.end_ns)
                while self.sim.t < horizon:
                    self.sim.step()
                for out in heapq.merge(*self._batch(), key=lambda o: o.ts_recv_ns):
                    if stop.is_set():
                        return
                    self.pacer.wait_until(out.ts_recv_ns)
                    self._send(out)
        finally:
            self.writer.producer.flush()

    def _send(self, out: _Out) -> None:
        if out.headers is None:
            self.writer.dead_letter(out.role, out.value, out.reason or "", SOURCE)
            return
        self.writer.send(out.role, out.key, out.value, out.headers)
        self.messages += 1

    def _batch(self) -> list[Iterator[_Out]]:
        mbp, trades = self.sim.out.drain()
        traffic, self.sink.items = self.sink.items, []
        return [
            self._dbn("es_mbp10", "mbp-10", np.frombuffer(mbp, MBP10_NESTED_DTYPE)),
            self._dbn("es_trades", "trades", np.frombuffer(trades, TRADE_DTYPE)),
            self._polygon(traffic),
        ]

    def _dbn(self, role: str, schema: str, records: np.ndarray) -> Iterator[_Out]:
        key = str(self.sim.out.instrument_id).encode()
        ts = records["ts_recv"].astype(np.int64)
        start = 0
        while start < records.size:
            closes = int(np.searchsorted(ts, ts[start] + self.flush_ns, side="right"))
            end = min(start + self.max_run, max(closes, start + 1))
            run, start = records[start:end], end
            headers = RawHeaders.model_validate({
                "schema": f"dbn.{schema}", "source": SOURCE,
                "ts_recv_ns": int(run["ts_recv"][-1]), "records": run.size, "encoding": "dbn",
                "dbn_version": DBN_VERSION,
            })  # fmt: skip
            yield _Out(int(run["ts_recv"][-1]), role, key, run.tobytes(), headers)

    def _polygon(self, traffic: list[tuple[int, str, str]]) -> Iterator[_Out]:
        for ts, market, body in traffic:
            for m in traffic_messages(SOURCE, ts, market, body.encode(), self.sequences):
                yield _Out(ts, m.role, m.key, m.value, m.headers, m.reason)

    def describe(self) -> str:
        return f"simulated feed: {self.messages} messages; {self.writer.describe()}"


def session_feed(
    writer: RawWriter, pacer: Pacer, start_ns: int, seed: int = 0, open_spy: float = 480.0,
    ratio: float = 10.0, sp: SessionParams | None = None, flush_ms: float = 20.0,
) -> SimFeed:  # fmt: skip
    """A simulated session from ``start_ns`` (e.g. now, for a live-looking feed), batched as
    the live Databento connector batches (``flush_ms``)."""
    sp = sp or SessionParams()
    sink = CollectSink()
    plan = Plan("quiet", open_spy, "support", seed, ratio, sp.hours * 3600, start_ns=start_ns)
    end = start_ns + int(sp.hours * 3600 * 1e9)
    return SimFeed(
        SessionSim(plan, sink, sp), sink, writer, pacer, end, flush_ns=int(flush_ms * 1e6)
    )
