"""Kafka sink that honours the requested partition and fails on a failed delivery.

Bytewax's bundled sink ignores ``partition`` and drops failed deliveries silently; this one
passes the partition through (or lets the murmur2 partitioner place the key, as Java clients
and rpk do) and raises ``DeliveryError`` on the next batch or at close.
"""

from __future__ import annotations

from typing import Any

from bytewax.outputs import DynamicSink, StatelessSinkPartition

from dataflows.signals.items import SinkRecord
from snapline.kafka.producer import TrackedProducer
from snapline.settings import KafkaSettings

FLUSH_TIMEOUT_S = 30.0


class _KafkaSinkPartition(StatelessSinkPartition[SinkRecord]):
    def __init__(self, producer: TrackedProducer, durable: bool) -> None:
        self._producer = producer
        self._durable = durable

    def write_batch(self, items: list[SinkRecord]) -> None:
        for r in items:
            # The Kafka timestamp stays the publish time: stamping event time would let
            # time-based retention delete a re-run over old data as soon as it is written.
            self._producer.produce(
                r.topic, r.value, key=r.key, headers=r.headers, partition=r.partition
            )
        if self._durable:
            # With recovery, an epoch's snapshot may only be taken once its output is in
            # Kafka: a crash after it must not lose what the snapshot says was written.
            self._producer.flush(FLUSH_TIMEOUT_S)

    def close(self) -> None:
        self._producer.flush(FLUSH_TIMEOUT_S)


class KafkaSink(DynamicSink[SinkRecord]):
    """``durable``: every batch is acknowledged before the next step (for recovery)."""

    def __init__(self, kafka: KafkaSettings, durable: bool = False, **overrides: Any) -> None:
        self.kafka = kafka
        self.durable = durable
        self.overrides = overrides

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _KafkaSinkPartition:
        return _KafkaSinkPartition(TrackedProducer(self.kafka, **self.overrides), self.durable)
