"""Kafka source for raw topics, owning the edges Bytewax's bundled one leaves open.

- An unreachable broker is a clear error within seconds (the bundled source hangs).
- ``until_end`` stops each partition at the end of what was retained when the run started.
- Live, an idle partition emits ``IdleTick`` so the snap clock can follow the wall clock.
- Each partition resumes from its own offset (the snapshot), so recovery needs no group.
- A batch ends after ``MAX_BATCH_SPAN_NS`` of receive time, as in file replay: a re-run over
  retained quiet data would otherwise hold hours of snaps in one 500-message poll. What a
  poll brought beyond the cut waits for the next batch; the snapshot is the first offset not
  yet delivered, so a resume reads the held messages again.
- Until the end (a re-run), no partition reads more than a batch span ahead of the slowest
  one still delivering (``dataflows/io/alignment.py``): a re-run over a day of retained
  topics would otherwise hold the book's hours ahead of the options, decoded. Live, data
  comes at the pace it happens, and receive times stamped by different hosts' clocks must
  not hold one feed behind another: not aligned.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bytewax.inputs import FixedPartitionedSource, StatefulSourcePartition
from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    TopicPartition,
)

from dataflows.io.alignment import Alignment
from dataflows.io.batch_span import BatchSpan
from dataflows.signals.items import IdleTick, PartitionEnd, SourceItem
from schemas.envelope import RawMessage, int_header
from snapline.errors import BrokerError
from snapline.kafka.clients import base_config, require_broker
from snapline.settings import KafkaSettings

log = logging.getLogger(__name__)
Item = SourceItem
CONSUME_BATCH = 500
IDLE_POLL = timedelta(milliseconds=10)
WATERMARK_TIMEOUT_S = 10.0


def partition_name(topic: str, partition: int) -> str:
    return f"{topic}#{partition}"


class _KafkaPartition(StatefulSourcePartition[Item, int]):
    def __init__(
        self,
        consumer: Consumer,
        tp: TopicPartition,
        role: str,
        end_offset: int | None,
        idle_tick: timedelta | None,
        now: Callable[[], datetime],
        alignment: Alignment,
    ) -> None:
        self._consumer = consumer
        self._role = role
        self._name = partition_name(tp.topic, tp.partition)
        self._next_offset = tp.offset if tp.offset >= 0 else 0
        self._end = end_offset
        self._idle_tick = idle_tick
        self._now = now
        self._awake: datetime | None = None
        self._last_tick = now()
        self._delivering = False
        self._finished = False
        self._held: deque[Message] = deque()  # polled, not yet delivered (a batch was cut)
        self._alignment = alignment
        alignment.join(self._name)

    def next_batch(self) -> list[Item]:
        if self._finished:
            raise StopIteration
        if self._end is not None and self._next_offset >= self._end:
            self._finished = True
            self._alignment.ended(self._name)
            return [PartitionEnd(self._name)]
        if self._alignment.held(self._name):
            return []  # read ahead of the slowest partition: wait for it (polled in 1 ms)
        if not self._held:
            self._held.extend(self._consumer.consume(CONSUME_BATCH, 0))
        polled = bool(self._held)
        out: list[Item] = []
        span = BatchSpan()
        reached: int | None = None
        while self._held:
            m = self._held.popleft()
            err = m.error()
            if err is not None:
                if err.code() == KafkaError._PARTITION_EOF:
                    continue
                raise KafkaException(err)
            offset = int(m.offset() or 0)  # set on every message that carries no error
            if self._end is not None and offset >= self._end:
                continue  # produced after the run started: not ours in until-end mode
            headers = [(str(k), _as_bytes(v)) for k, v in list(m.headers() or [])]
            value = m.value() or b""
            out.append(RawMessage(self._role, m.key(), value, headers, self._name, offset))
            self._next_offset = offset + 1
            records = max(int_header(headers, "records") or 1, 1)
            ts_ns = int_header(headers, "ts_recv_ns")
            reached = reached if ts_ns is None else ts_ns
            if span.full_after(ts_ns, records):
                break
        if out:
            self._alignment.read_to(self._name, reached)
        self._awake = None if polled else self._now() + IDLE_POLL
        # Caught up (nothing new): say so at once after data, then every idle tick, so the
        # snap need not wait on a partition that has nothing to send.
        due = self._delivering or (
            self._idle_tick is not None and self._now() - self._last_tick >= self._idle_tick
        )
        if not out and self._idle_tick is not None and due:
            self._last_tick = self._now()
            out.append(IdleTick(self._name))
        self._delivering = bool(out) and not isinstance(out[-1], IdleTick)
        return out

    def next_awake(self) -> datetime | None:
        return self._awake

    def snapshot(self) -> int:
        return self._next_offset

    def close(self) -> None:
        self._consumer.close()


@dataclass(frozen=True, slots=True)
class StartAt:
    """Where a run without a recovery snapshot starts reading each partition: the oldest
    retained message (default), the first at or after a broker timestamp, or given offsets
    (``{"raw.es.mbp10#0": 1200}``; partitions not named start at the beginning)."""

    timestamp_ms: int | None = None
    offsets: dict[str, int] = field(default_factory=dict)


class KafkaRawSource(FixedPartitionedSource[Item, int]):
    """Every partition of the given raw topics (role -> topic name)."""

    def __init__(
        self,
        kafka: KafkaSettings,
        topics: dict[str, str],
        until_end: bool = False,
        idle_tick: timedelta | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        start: StartAt | None = None,
    ) -> None:
        self.kafka = kafka
        self.topics = topics
        self.until_end = until_end
        self.idle_tick = idle_tick
        self.now = now
        self.start = start or StartAt()
        self._parts: tuple[str, ...] | None = None
        # a re-run: no partition reads far ahead of the others (live: none is held)
        self.alignment = Alignment() if until_end else Alignment(max_lead_ns=None)

    @property
    def partitions(self) -> tuple[str, ...]:
        """All partitions, read from the broker once; fails fast if it cannot be reached."""
        if self._parts is None:
            meta = require_broker(self.kafka).list_topics(timeout=self.kafka.connect_timeout_s)
            parts: list[str] = []
            for topic in self.topics.values():
                if topic not in meta.topics or meta.topics[topic].error is not None:
                    msg = f"topic {topic} does not exist; create it with `snapline topics apply`"
                    raise BrokerError(msg)
                parts += [partition_name(topic, p) for p in sorted(meta.topics[topic].partitions)]
            self._parts = tuple(parts)
        return self._parts

    def list_parts(self) -> list[str]:
        return list(self.partitions)

    def build_part(self, step_id: str, for_part: str, resume_state: int | None) -> _KafkaPartition:
        topic, _, p = for_part.rpartition("#")
        role = next(r for r, t in self.topics.items() if t == topic)
        consumer = Consumer(self._consumer_config())
        offset = resume_state
        if offset is None:
            offset = self._start_offset(consumer, for_part, TopicPartition(topic, int(p)))
        tp = TopicPartition(topic, int(p), offset)
        consumer.assign([tp])  # assignment, not a group: offsets live in Bytewax snapshots
        end = None
        if self.until_end:
            _, end = consumer.get_watermark_offsets(tp, timeout=WATERMARK_TIMEOUT_S)
        return _KafkaPartition(consumer, tp, role, end, self.idle_tick, self.now, self.alignment)

    def _start_offset(self, consumer: Consumer, name: str, tp: TopicPartition) -> int:
        if name in self.start.offsets:
            return self.start.offsets[name]
        if self.start.timestamp_ms is None:
            return int(OFFSET_BEGINNING)
        tp.offset = self.start.timestamp_ms
        (found,) = consumer.offsets_for_times([tp], timeout=WATERMARK_TIMEOUT_S)
        if found.offset >= 0:
            return int(found.offset)
        _, high = consumer.get_watermark_offsets(tp, timeout=WATERMARK_TIMEOUT_S)
        return int(high)  # nothing that recent: start at the end

    def _consumer_config(self) -> dict[str, Any]:
        return base_config(
            self.kafka,
            **{
                "group.id": "snapline-signals-unused",  # required by librdkafka, never joined
                "enable.auto.commit": False,
                "enable.partition.eof": False,
                "fetch.max.bytes": 16 * 1024 * 1024,
                # librdkafka's prefetch per partition: 32 MB is some 90 full ES messages
                # (seconds of a re-run's work); at 256 MB a re-run of an hour peaked at 660 MB
                # instead of 250, at the same speed. Live, a consumer that falls behind
                # leaves the rest in the broker, not in memory.
                "queued.max.messages.kbytes": 32 * 1024,
            },
        )


def _as_bytes(value: str | bytes | None) -> bytes:
    if value is None:
        return b""
    return value.encode() if isinstance(value, str) else value
