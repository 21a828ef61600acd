"""ingest -> Kafka -> signals dataflow -> signals topic -> WebSocket, on real DBN data."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import databento as db
import numpy as np
import pytest
import uvicorn
from websockets.sync.client import connect

from bridge.app import create_app
from bridge.consumer import SignalsConsumer
from snapline.kafka.catalog import TopicCatalog
from snapline.settings import Settings
from tests.conftest import ESH4_MBP10, ESH4_TRADES, ESM4_MBP10, ESM4_TRADES
from tests.integration.kafka_helpers import free_port, read_all, signals_of, snapline

pytestmark = pytest.mark.integration


class _Bridge:
    def __init__(self, settings: Settings) -> None:
        topic = TopicCatalog.from_settings(settings).name("signals")
        consumer = SignalsConsumer(settings.kafka, topic, from_beginning=True)
        self.port = free_port()
        self.server = uvicorn.Server(
            uvicorn.Config(
                create_app(consumer), host="127.0.0.1", port=self.port, log_level="warning"
            )
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> _Bridge:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def test_signals_reach_a_websocket_client_with_the_files_values(settings: Settings) -> None:
    level = 5200.0 / 10  # ESM4 traded near 5200 on 2024-05-08
    s = settings.model_copy(update={"levels": [level]})
    with _Bridge(s) as bridge, connect(f"ws://127.0.0.1:{bridge.port}/ws") as ws:
        ingest = snapline(s, "ingest", "dbn", str(ESM4_MBP10), str(ESM4_TRADES))
        assert ingest.returncode == 0, ingest.stderr
        assert "169 records to" in ingest.stdout
        flow = snapline(s, "run", "signals", "--until-end")
        assert flow.returncode == 0, flow.stderr
        expected = len(read_all(s, TopicCatalog.from_settings(s).name("signals")))
        received: list[dict[str, Any]] = []
        deadline = time.monotonic() + 60  # heartbeats keep recv() from timing out alone
        while len(received) < expected and time.monotonic() < deadline:
            message = json.loads(ws.recv(timeout=10))
            if "type" not in message:  # heartbeats and control messages aside
                received.append(message)
    assert expected > 20
    rec = db.DBNStore.from_bytes(ESM4_MBP10.read_bytes()).to_ndarray()
    rec = rec[(rec["flags"] & 0x80) != 0]
    ts = rec["ts_recv"].astype(np.int64)
    for sig in received:
        r = rec[np.searchsorted(ts, sig["ts_event_ns"], side="right") - 1]
        assert sig["spot"] == pytest.approx((r["bid_px_00"] + r["ask_px_00"]) / 2e10, abs=1e-9)
        if sig["level_price"] == level:
            side = "bid" if sig["side"] == "support" else "ask"
            px = np.array([r[f"{side}_px_{i:02d}"] for i in range(10)]) / 1e9
            sz = np.array([r[f"{side}_sz_{i:02d}"] for i in range(10)])
            assert sig["barrier"]["depth"] == int(sz[np.abs(px - level * 10) <= 1.0].sum())


def test_kafka_path_equals_in_process_replay(
    settings: Settings, tmp_path: Path, esh4_replay: tuple[Path, Path]
) -> None:
    s = settings.model_copy(update={"levels": [480.5]})
    assert snapline(s, "ingest", "dbn", str(ESH4_MBP10), str(ESH4_TRADES)).returncode == 0
    flow = snapline(s, "run", "signals", "--until-end")
    assert flow.returncode == 0, flow.stderr
    via_kafka = signals_of(read_all(s, TopicCatalog.from_settings(s).name("signals")))
    out, events_out = esh4_replay  # the same sample and level, replayed in process
    in_process = [json.loads(line) for line in out.read_text().splitlines()]
    for sig in [*via_kafka, *in_process]:
        sig.pop("ts_publish_ns")
    assert len(via_kafka) > 80_000
    assert via_kafka == in_process

    # the level events on the topic, read back by `snapline events`, are the replay's too
    exported = tmp_path / "from_topic.jsonl"
    review = snapline(s, "events", "--out", str(exported), "--format", "jsonl")
    assert review.returncode == 0, review.stderr
    topic_events, replay_events = (
        [json.loads(line) for line in path.read_text().splitlines()]
        for path in (exported, events_out)
    )
    for e in [*topic_events, *replay_events]:
        e.pop("ts_publish_ns")
    assert {e["kind"] for e in replay_events} >= {"APPROACH", "TEST_START"}
    assert topic_events == replay_events


def test_signals_are_keyed_by_level_and_spread_over_partitions(settings: Settings) -> None:
    assert snapline(settings, "ingest", "dbn", str(ESM4_MBP10), str(ESM4_TRADES)).returncode == 0
    assert snapline(settings, "run", "signals", "--until-end").returncode == 0
    msgs = read_all(settings, TopicCatalog.from_settings(settings).name("signals"))
    partition_of: dict[bytes, set[int]] = {}
    for m in msgs:
        assert json.loads(m.value())["level_id"].encode() == m.key()
        partition_of.setdefault(m.key(), set()).add(m.partition())
    assert all(len(p) == 1 for p in partition_of.values())  # one level, one partition: ordered
