"""Read a topic as it stands now: every partition from the start to its current end."""

from __future__ import annotations

import time
from collections.abc import Iterator

from confluent_kafka import Consumer, TopicPartition

from snapline.errors import TopicError
from snapline.kafka.clients import base_config
from snapline.settings import KafkaSettings


def read_to_end(kafka: KafkaSettings, topic: str, timeout_s: float = 30.0) -> Iterator[bytes]:
    """Values of every message now in ``topic``; stops at the ends seen when it started."""
    consumer = Consumer(
        base_config(kafka, **{"group.id": "snapline-read", "enable.auto.commit": False})
    )
    try:
        meta = consumer.list_topics(topic, timeout=timeout_s).topics.get(topic)
        if meta is None or meta.error is not None or not meta.partitions:
            msg = f"topic {topic!r} does not exist (run `snapline topics apply`)"
            raise TopicError(msg)
        ends = {}
        for p in meta.partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout_s)
            if high > low:
                ends[p] = high
        consumer.assign([TopicPartition(topic, p, 0) for p in ends])
        deadline = time.monotonic() + timeout_s
        while ends:
            if time.monotonic() > deadline:
                msg = f"reading {topic!r} stalled: partitions {sorted(ends)} did not reach the end"
                raise TopicError(msg)
            for m in consumer.consume(500, 0.2):
                if m.error() is not None:
                    msg = f"reading {topic!r}: {m.error()}"
                    raise TopicError(msg)
                p, offset = m.partition(), m.offset()
                if p in ends and offset is not None and offset < ends[p]:
                    yield m.value() or b""
                    deadline = time.monotonic() + timeout_s
                    if offset + 1 >= ends[p]:
                        del ends[p]
    finally:
        consumer.close()
