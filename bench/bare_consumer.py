"""The practical limit: a bare confluent-kafka consumer reading the raw ES topics to their end.

It does what any consumer of these topics must do and nothing more: fetch, decompress, and
read each message's ``records`` header (a raw message is a micro-batch of DBN records). It uses
the signals dataflow's own fetch settings, so the two read the broker the same way.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, TopicPartition

from bench.common import ES_ROLES
from snapline.kafka.catalog import TopicCatalog
from snapline.kafka.clients import base_config
from snapline.settings import Settings

BATCH = 500  # as the dataflow's source
TIMEOUT_S = 60.0


@dataclass(frozen=True, slots=True)
class ReadFigures:
    messages: int
    records: int  # DBN records, from the ``records`` headers
    bytes: int  # message values (uncompressed record bytes)
    seconds: float  # from the first fetch to the last message


def consume_to_end(s: Settings, catalog: TopicCatalog) -> ReadFigures:
    consumer = Consumer(
        base_config(
            s.kafka,
            **{
                "group.id": "snapline-bench-bare",  # required by librdkafka, never joined
                "enable.auto.commit": False,
                "fetch.max.bytes": 16 * 1024 * 1024,
                "queued.max.messages.kbytes": 256 * 1024,
            },
        )
    )
    try:
        ends: dict[tuple[str, int], int] = {}
        for role in ES_ROLES:
            topic = catalog.name(role)
            meta = consumer.list_topics(topic, timeout=10).topics[topic]
            for p in meta.partitions:
                _, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
                if high > 0:
                    ends[(topic, p)] = high
        consumer.assign([TopicPartition(t, p, OFFSET_BEGINNING) for t, p in ends])
        return _read(consumer, ends)
    finally:
        consumer.close()


def _read(consumer: Consumer, ends: dict[tuple[str, int], int]) -> ReadFigures:
    left = dict(ends)
    messages = records = size = 0
    t0 = time.perf_counter()
    deadline = time.monotonic() + TIMEOUT_S
    while left:
        if time.monotonic() > deadline:
            msg = f"the raw topics did not read to their end within {TIMEOUT_S:g} s: {left}"
            raise TimeoutError(msg)
        for m in consumer.consume(BATCH, 0.1):
            if m.error() is not None:
                raise KafkaException(m.error())
            messages += 1
            size += len(m.value() or b"")
            records += _records(m.headers())
            tp = (str(m.topic()), int(m.partition() or 0))
            if int(m.offset() or 0) + 1 >= left.get(tp, 0):
                left.pop(tp, None)
    return ReadFigures(messages, records, size, time.perf_counter() - t0)


def _records(headers: list[tuple[str, bytes]] | None) -> int:
    for key, value in headers or []:
        if key == "records":
            return int(value)
    return 1  # the envelope's default: one record per message
