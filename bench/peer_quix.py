"""The peer: snapline's per-level barrier and tape features, written in Quix Streams.

    raw.es.mbp10  ─ decode ──────┬─ concat ─ apply(stateful=True): barrier per level ─┐
    raw.es.trades ─ decode ─┬────┘  (one state per ES instrument)                       ├─▶ out
                            └─ rows ─ hopping window (5 s, every snap) ─ final(): tape ─┘

Decoding reuses snapline's pure helper (``dataflows.signals.decode``: numpy views over the DBN
bytes); everything after it (merge, state, windows, output) is Quix's. Run it as
``python -m bench.peer_quix --out-topic NAME`` with snapline's settings in the environment
(topic prefix, levels); it reads each raw topic to the end that was there when it started,
then stops.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
import uuid
from functools import partial
from typing import Any

from confluent_kafka import Consumer, TopicPartition
from quixstreams import Application, State, message_context
from quixstreams.dataframe.windows import Sum

from bench.common import ES_ROLES
from bench.peer_market import PeerConfig, step
from dataflows.signals.decode import decode
from dataflows.signals.items import BookBatch, TradeBatch
from schemas.envelope import RawMessage
from snapline.kafka.catalog import TopicCatalog
from snapline.kafka.clients import base_config
from snapline.settings import Settings


def build_app(
    s: Settings, out_topic: str, stop_at: dict[tuple[str, int], int], state_dir: str
) -> Application:
    catalog = TopicCatalog.from_settings(s)
    left = dict(stop_at)
    names = [catalog.name(role) for role in ES_ROLES]
    if any(tp[1] != 0 for tp in stop_at):
        msg = "the peer follows one partition per raw ES topic (as topics.yaml defines them)"
        raise ValueError(msg)

    def processed(topic: str, partition: int, offset: int) -> None:
        # until-end: every input partition has reached the end it had at the start
        if offset + 1 >= left.get((topic, partition), math.inf):
            left.pop((topic, partition))
            if not left:
                app.stop()

    app = Application(
        broker_address=s.kafka.bootstrap_servers,
        consumer_group=f"peer-quix-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        state_dir=state_dir,
        use_changelog_topics=False,  # as snapline without --recovery: state is not replicated
        loglevel="WARNING",
        on_message_processed=processed,
        consumer_extra_config={"fetch.max.bytes": 16 * 1024 * 1024},  # as snapline's source
    )
    physics = s.physics
    has = (any(t == names[0] for t, _ in stop_at), any(t == names[1] for t, _ in stop_at))
    cfg = PeerConfig(physics, tuple(s.levels), has)
    topics = {
        role: app.topic(catalog.name(role), value_deserializer="bytes", key_deserializer="bytes")
        for role in ES_ROLES
    }
    out = app.topic(out_topic, value_serializer="json", key_serializer="bytes")
    books = app.dataframe(topics["es_mbp10"]).apply(partial(_decode, "es_mbp10"), metadata=True)
    trades = app.dataframe(topics["es_trades"]).apply(partial(_decode, "es_trades"), metadata=True)

    barrier = books.concat(trades).apply(partial(_step, cfg, stop_at), stateful=True, expand=True)
    barrier.to_topic(out)

    tape = (
        trades.apply(_trade_rows, expand=True)
        .set_timestamp(lambda value, key, ts, headers: value["ms"])
        .hopping_window(duration_ms=int(physics.tape_window_s * 1000), step_ms=physics.snap_ms)
        .agg(buy=Sum("buy"), sell=Sum("sell"))
        .final()
        .apply(_tape_row)
    )
    tape.to_topic(out)
    return app


def _decode(role: str, value: bytes, key: bytes, ts: int, headers: Any) -> BookBatch | TradeBatch:
    hs = [(k, v if isinstance(v, bytes) else str(v).encode()) for k, v in headers or []]
    decoded = decode(RawMessage(role, key, value, hs))
    if not isinstance(decoded, BookBatch | TradeBatch):
        msg = f"cannot decode a {role} message: {decoded}"
        raise ValueError(msg)
    return decoded


def _step(
    cfg: PeerConfig, ends: dict[tuple[str, int], int], batch: BookBatch | TradeBatch,
    state: State[str, Any],
) -> list[dict[str, Any]]:  # fmt: skip
    ctx = message_context()
    last = ctx.offset + 1 >= ends.get((ctx.topic, ctx.partition), 0)
    return step(cfg, batch, state, last)


def _trade_rows(batch: BookBatch | TradeBatch) -> list[dict[str, int]]:
    """One row per trade, for the window. Its time in ms is ``ceil(ns / 1e6) - 1``, so Quix's
    ``[start, end)`` windows in ms hold exactly the trades of ``(end - 5 s, end]`` in ns, as
    snapline's tape window."""
    assert isinstance(batch, TradeBatch)
    return [
        {"ms": -(-t // 1_000_000) - 1, "buy": z if b else 0, "sell": z if a else 0}
        for t, z, b, a in zip(
            batch.ts_ns.tolist(),
            batch.size.tolist(),
            batch.is_buy.tolist(),
            batch.is_sell.tolist(),
            strict=True,
        )
    ]


def _tape_row(w: dict[str, Any]) -> dict[str, Any]:
    buy, sell = int(w["buy"]), int(w["sell"])
    total = buy + sell
    ofi = (buy - sell) / total if total else None
    return {"kind": "tape", "ts_ns": int(w["end"]) * 1_000_000, "buy": buy, "sell": sell,
            "ofi": ofi}  # fmt: skip


def end_offsets(s: Settings) -> dict[tuple[str, int], int]:
    """Each non-empty raw ES partition's end now (what until-end reads to)."""
    catalog = TopicCatalog.from_settings(s)
    c = Consumer(base_config(s.kafka, **{"group.id": "peer-quix-ends"}))
    try:
        ends = {}
        for role in ES_ROLES:
            topic = catalog.name(role)
            for p in c.list_topics(topic, timeout=10).topics[topic].partitions:
                high = c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
                if high > 0:
                    ends[(topic, p)] = high
        return ends
    finally:
        c.close()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out-topic", required=True)
    args = ap.parse_args(argv)
    s = Settings()
    t0 = time.perf_counter()
    ends = end_offsets(s)
    if not ends:  # nothing to read: the until-end stop would never come
        print("peer_quix: the raw ES topics are empty", file=sys.stderr)
        return
    with tempfile.TemporaryDirectory() as state_dir:
        build_app(s, args.out_topic, ends, state_dir).run()
    print(f"peer_quix: read to the end in {time.perf_counter() - t0:.2f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
