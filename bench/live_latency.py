"""Live latency: the simulated session at the wall clock's pace, with a burst, through the
whole live path (raw topics -> ``run signals`` tailing -> signals topic -> ``snapline
bridge`` -> a WebSocket client), everything on loopback.

The session is stamped from a few seconds ahead of now and pre-generated (a 50,000 events/s
burst is faster than the simulator computes), then produced at the wall clock's pace. For
every signal of the tracked level: published - snap time (``ts_publish_ns - ts_event_ns``,
read back from the topic) and WebSocket receipt - snap time. A snap is missed when a snap
time between the first and last published is absent.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from typing import Any

import numpy as np
import websockets

from bench.common import wait_for_port
from connectors.pacing import Pace, Pacer
from connectors.raw_writer import RawWriter
from connectors.sim_feed import session_feed
from simulator.params import SessionParams
from snapline.kafka.catalog import TopicCatalog
from snapline.kafka.clients import require_broker
from snapline.kafka.producer import TrackedProducer
from snapline.kafka.snapshot_read import read_to_end
from snapline.kafka.topics import apply_topics, delete_topics
from snapline.settings import Settings

LEVEL = 480.0
SIM_RECORDS_PER_S = 15_000  # pre-generation speed to plan for (slower than this one here)


def _pct(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    a = np.asarray(values)
    return {f"p{p}": round(float(np.percentile(a, p)), 2) for p in (50, 90, 99)} | {
        "max": round(float(a.max()), 2), "n": len(values),
    }  # fmt: skip


async def _listen(
    url: str, received: list[tuple[int, dict[str, Any]]], stop: asyncio.Event
) -> None:
    async with websockets.connect(url, max_queue=None) as ws:
        while not stop.is_set():
            try:
                raw = await asyncio.wait_for(ws.recv(), timeout=0.5)
            except TimeoutError:
                continue
            msg = json.loads(raw)
            if "level_id" in msg:
                received.append((time.time_ns(), msg))


def run_live_latency(
    seconds: float = 40.0, burst_s: float = 5.0, burst_events_per_s: float = 50_000.0,
    port: int = 8878,
) -> dict[str, Any]:  # fmt: skip
    base = Settings()
    s = base.model_copy(update={"topic_prefix": f"lat{uuid.uuid4().hex[:6]}.", "levels": [LEVEL]})
    catalog = TopicCatalog.from_settings(s)
    admin = require_broker(s.kafka)
    apply_topics(admin, catalog)
    env = {**os.environ, "SNAPLINE_TOPIC_PREFIX": s.topic_prefix,
           "SNAPLINE_LEVELS": json.dumps([LEVEL]), "RUST_BACKTRACE": "0"}  # fmt: skip
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "snapline", *args],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for args in (["run", "signals"], ["bridge", "--port", str(port)])
    ]
    sp = SessionParams(hours=seconds / 3600, burst_start_s=seconds / 2 - burst_s / 2,
                       burst_s=burst_s, burst_events_per_s=burst_events_per_s)  # fmt: skip
    # The session starts once it is generated and the processes are up: stamped from then.
    records = 1.3 * (seconds * sp.events_per_s + burst_s * burst_events_per_s)
    start_ns = time.time_ns() + int((5.0 + records / SIM_RECORDS_PER_S) * 1e9)
    pacer = Pacer(Pace(1.0), clock=time.time)
    pacer.anchor(start_ns, start_ns / 1e9)  # event time is wall time
    writer = RawWriter(TrackedProducer(s.kafka, **{"linger.ms": 1}), catalog)
    feed = session_feed(writer, pacer, start_ns, seed=7, sp=sp)
    received: list[tuple[int, dict[str, Any]]] = []
    try:
        wait_for_port(port)
        stop = asyncio.Event()

        async def main() -> None:
            listener = asyncio.create_task(_listen(f"ws://127.0.0.1:{port}/ws", received, stop))
            await asyncio.to_thread(feed.run, threading.Event(), True)
            await asyncio.sleep(3.0)  # the last snaps
            stop.set()
            await listener

        asyncio.run(main())
        published = [json.loads(v) for v in read_to_end(s.kafka, catalog.name("signals"))]
    finally:
        for p in procs:
            p.terminate()
            p.wait(15)
        delete_topics(admin, [spec.name for spec in catalog.specs])
    return _summary(published, received, sp, start_ns, feed.sim.out.sequence, s.physics.snap_ms)


def _summary(
    published: list[dict[str, Any]], received: list[tuple[int, dict[str, Any]]],
    sp: SessionParams, start_ns: int, es_records: int, snap_ms: int,
) -> dict[str, Any]:  # fmt: skip
    mine = [x for x in published if x["level_id"] == f"{LEVEL:.2f}"]
    snaps = sorted({x["ts_event_ns"] for x in mine})
    step = snap_ms * 1_000_000
    expected = (snaps[-1] - snaps[0]) // step + 1 if snaps else 0
    burst = (
        start_ns + int(sp.burst_start_s * 1e9),
        start_ns + int((sp.burst_start_s + sp.burst_s) * 1e9),
    )

    def in_burst(ts: int) -> bool:
        return burst[0] <= ts < burst[1] + step

    pub = [(x["ts_publish_ns"] - x["ts_event_ns"]) / 1e6 for x in mine]
    ws = [(t - m["ts_event_ns"]) / 1e6 for t, m in received if m["level_id"] == f"{LEVEL:.2f}"]
    return {
        "seconds": round(sp.hours * 3600, 1),
        "burst": {"seconds": sp.burst_s, "events_per_s": sp.burst_events_per_s},
        "es_records": es_records,
        "snap_ms": snap_ms,
        "snaps_published": len(snaps),
        "snaps_missed": int(expected - len(snaps)),
        "snaps_from_to_s": [
            round((snaps[0] - start_ns) / 1e9, 1),
            round((snaps[-1] - start_ns) / 1e9, 1),
        ]
        if snaps
        else [],
        "publish_minus_snap_ms": _pct(pub),
        "publish_minus_snap_ms_in_burst": _pct(
            [
                (x["ts_publish_ns"] - x["ts_event_ns"]) / 1e6
                for x in mine
                if in_burst(x["ts_event_ns"])
            ]
        ),
        "websocket_minus_snap_ms": _pct(ws),
    }


def describe(summary: dict[str, Any]) -> str:
    p, b, w = (summary["publish_minus_snap_ms"], summary["publish_minus_snap_ms_in_burst"],
               summary["websocket_minus_snap_ms"])  # fmt: skip
    return (
        f"{summary['seconds']} s live session, {summary['es_records']:,} ES records, burst "
        f"{summary['burst']['events_per_s']:,.0f} events/s for {summary['burst']['seconds']} s; "
        f"{summary['snaps_published']} snaps ({summary['snaps_from_to_s']} s), "
        f"{summary['snaps_missed']} missed\n"
        f"published - snap: p50 {p.get('p50')} p99 {p.get('p99')} max {p.get('max')} ms; "
        f"in the burst p50 {b.get('p50')} p99 {b.get('p99')} ms\n"
        f"WebSocket receipt - snap: p50 {w.get('p50')} p99 {w.get('p99')} max {w.get('max')} ms"
    )
