"""Bridge load test: many WebSocket clients (a few deliberately slow) on loopback.

Signals for ``levels`` levels are produced to a topic of their own every ``snap_ms``, stamped
with the snap time; ``snapline bridge`` (a separate process) fans them out; the clients, in this
process, record receipt - snap time. Healthy clients must receive every signal (checked by each
level's ``snap_seq``); slow ones get the latest per level, then are disconnected. The bridge's
resident memory is sampled throughout.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import websockets

from bench.common import wait_for_port
from snapline.kafka.catalog import TopicCatalog
from snapline.kafka.clients import require_broker
from snapline.kafka.producer import TrackedProducer
from snapline.kafka.topics import apply_topics, delete_topics
from snapline.settings import Settings


@dataclass
class LoadResult:
    clients: int
    slow_clients: int
    levels: int
    snap_ms: int
    seconds: float
    published: int
    latencies_ms: list[float] = field(default_factory=list)
    healthy_missing: int = 0
    healthy_complete: int = 0
    slow_disconnected: int = 0
    slow_received: int = 0
    bridge_rss_mb: list[float] = field(default_factory=list)
    healthy_seen: list[dict[str, list[int]]] = field(default_factory=list)
    warm: asyncio.Event = field(default_factory=asyncio.Event)

    def summary(self) -> dict[str, Any]:
        lat = sorted(self.latencies_ms)

        def pct(p: float) -> float:
            return round(lat[min(int(p * len(lat)), len(lat) - 1)], 2) if lat else float("nan")

        return {
            "clients": self.clients,
            "slow_clients": self.slow_clients,
            "levels": self.levels,
            "snap_ms": self.snap_ms,
            "seconds": self.seconds,
            "signals_published": self.published,
            "deliveries_measured": len(lat),
            "latency_ms": {"p50": pct(0.5), "p90": pct(0.9), "p99": pct(0.99), "max": pct(1.0)},
            "healthy_clients_complete": self.healthy_complete,
            "healthy_signals_missing": self.healthy_missing,
            "slow_clients_disconnected": self.slow_disconnected,
            "slow_clients_signals_received": self.slow_received,
            "bridge_rss_mb": {
                "start": round(self.bridge_rss_mb[0], 1) if self.bridge_rss_mb else None,
                "max": round(max(self.bridge_rss_mb), 1) if self.bridge_rss_mb else None,
                "end": round(self.bridge_rss_mb[-1], 1) if self.bridge_rss_mb else None,
            },
        }


WARMUP = "warmup"
PAD = "x" * 900  # real LevelSignals are 0.9-1.5 KB of JSON: the load is sized like them


def _signal(level: float, seq: int, ts_ns: int) -> bytes:
    lid = f"{level:.2f}"
    return json.dumps(
        {
            "reason": PAD,
            "level_id": lid,
            "level_kinds": ["round"],
            "distance": 0.1,
            "snap_seq": seq,
            "ts_event_ns": ts_ns,
            "signal": "NEUTRAL",
            "spot": level + 0.1,
        }
    ).encode()


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def _client(
    url: str, slow: bool, result: LoadResult, expected: dict[str, list[int]], ready: asyncio.Event
) -> None:
    seen: dict[str, list[int]] = {}
    if not slow:
        result.healthy_seen.append(seen)
    sock = socket.socket()
    if slow:  # a small receive window: the bridge's buffers for this client fill quickly
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    host, port = url.removeprefix("ws://").split("/")[0].split(":")
    sock.connect((host, int(port)))
    try:
        async with websockets.connect(url, sock=sock, max_queue=None if not slow else 4) as ws:
            ready.set()
            async for raw in ws:
                now = time.time_ns()
                msg = json.loads(raw)
                if "type" in msg:
                    continue
                if msg["level_id"] == WARMUP:
                    result.warm.set()
                    continue
                if slow:
                    result.slow_received += 1
                    await asyncio.sleep(1.0)  # a client that cannot keep up
                    continue
                result.latencies_ms.append((now - msg["ts_event_ns"]) / 1e6)
                seen.setdefault(msg["level_id"], []).append(msg["snap_seq"])
    except websockets.ConnectionClosedError as exc:
        if slow:
            result.slow_disconnected += 1
        del exc
    except websockets.ConnectionClosed as exc:
        if slow and exc.rcvd is not None and exc.rcvd.code == 1013:
            result.slow_disconnected += 1


async def _run(
    s: Settings, port: int, bridge_pid: int, clients: int, slow: int, levels: int,
    snap_ms: int, seconds: float, topic: str,
) -> LoadResult:  # fmt: skip
    result = LoadResult(clients, slow, levels, snap_ms, seconds, 0)
    expected: dict[str, list[int]] = {f"{480 + i:.2f}": [] for i in range(levels)}
    url = f"ws://127.0.0.1:{port}/ws"
    readies = [asyncio.Event() for _ in range(clients)]
    tasks = [
        asyncio.create_task(_client(url, i < slow, result, expected, readies[i]))
        for i in range(clients)
    ]
    await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), timeout=60)
    producer = TrackedProducer(s.kafka, **{"linger.ms": 0})
    while not result.warm.is_set():  # the bridge's consumer is assigned and delivering
        producer.produce(topic, _signal(0.0, 0, time.time_ns()).replace(b'"0.00"', b'"warmup"'))
        producer.flush()
        await asyncio.sleep(0.2)
    t0 = time.monotonic()
    seq = 0
    while time.monotonic() - t0 < seconds:
        ts = time.time_ns()
        for i in range(levels):
            level = 480.0 + i
            producer.produce(topic, _signal(level, seq, ts), f"{level:.2f}".encode())
            expected[f"{level:.2f}"].append(seq)
            result.published += 1
        producer._producer.poll(0)
        seq += 1
        result.bridge_rss_mb.append(_rss_mb(bridge_pid))
        await asyncio.sleep(max(t0 + seq * snap_ms / 1000 - time.monotonic(), 0))
    producer.flush()
    await asyncio.sleep(2.0)  # let the last snaps arrive
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for seen in result.healthy_seen:
        missing = sum(len(set(want) - set(seen.get(lid, []))) for lid, want in expected.items())
        result.healthy_missing += missing
        result.healthy_complete += missing == 0
    return result


def run_bridge_load(
    clients: int = 500, slow: int = 5, levels: int = 5, snap_ms: int = 250, seconds: float = 20,
    port: int = 8877,
) -> dict[str, Any]:  # fmt: skip
    """Everything on loopback; the topics are created for the run and deleted after."""
    base = Settings()
    s = base.model_copy(update={"topic_prefix": f"bench{uuid.uuid4().hex[:6]}."})
    catalog = TopicCatalog.from_settings(s)
    admin = require_broker(s.kafka)
    apply_topics(admin, catalog)
    env = {**os.environ, "SNAPLINE_TOPIC_PREFIX": s.topic_prefix,
           "SNAPLINE_BRIDGE__MAX_CONNECTIONS": str(clients + 10)}  # fmt: skip
    bridge = subprocess.Popen(
        [sys.executable, "-m", "snapline", "bridge", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        wait_for_port(port)
        result = asyncio.run(
            _run(
                s,
                port,
                bridge.pid,
                clients,
                slow,
                levels,
                snap_ms,
                seconds,
                catalog.name("signals"),
            )
        )
    finally:
        bridge.terminate()
        bridge.wait(10)
        if bridge.stderr is not None:
            bridge.stderr.close()
        delete_topics(admin, [spec.name for spec in catalog.specs])
    return result.summary()


def describe(summary: dict[str, Any]) -> str:
    lat = summary["latency_ms"]
    rss = summary["bridge_rss_mb"]
    return (
        f"{summary['clients']} clients ({summary['slow_clients']} slow), {summary['levels']} "
        f"levels every {summary['snap_ms']} ms for {summary['seconds']} s: "
        f"{summary['deliveries_measured']:,} deliveries, latency from snap p50 {lat['p50']} ms, "
        f"p90 {lat['p90']} ms, p99 {lat['p99']} ms, max {lat['max']} ms; healthy clients "
        f"complete {summary['healthy_clients_complete']}/"
        f"{summary['clients'] - summary['slow_clients']} (missing "
        f"{summary['healthy_signals_missing']}); slow clients disconnected "
        f"{summary['slow_clients_disconnected']}; bridge RSS {rss['start']} -> max "
        f"{rss['max']} -> {rss['end']} MB"
    )
