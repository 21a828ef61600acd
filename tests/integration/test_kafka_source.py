"""The project's own Kafka source against the real broker: batches cut in event time."""

from __future__ import annotations

import time

import pytest
from confluent_kafka import Producer

from dataflows.io.batch_span import MAX_BATCH_SPAN_NS
from dataflows.io.kafka_source import KafkaRawSource
from dataflows.signals.items import PartitionEnd
from schemas.envelope import RawMessage
from snapline.kafka.catalog import TopicCatalog
from snapline.settings import Settings
from tests.conftest import poll_in_turn

pytestmark = pytest.mark.integration
SECOND = 1_000_000_000


def _drain(part: object) -> list[list[object]]:
    """Batches until the partition ends (a poll may come back empty while the fetch runs)."""
    batches: list[list[object]] = []
    deadline = time.monotonic() + 30
    while not (batches and batches[-1] and isinstance(batches[-1][-1], PartitionEnd)):
        assert time.monotonic() < deadline, "the source never reached the end"
        batch = part.next_batch()  # type: ignore[attr-defined]
        if batch:
            batches.append(batch)
    return batches


def test_a_quiet_retained_topic_comes_in_batches_of_ten_seconds_and_resumes_exactly(
    settings: Settings,
) -> None:
    # a quiet hour: 40 messages a minute apart, then 30 a second apart. One poll takes them
    # all; a batch must still end once it spans 10 s, and a resume from its snapshot must
    # read what the poll had brought beyond the cut, once.
    topic = TopicCatalog.from_settings(settings).name("es_mbp10")
    times = [i * 60 * SECOND for i in range(40)] + [
        40 * 60 * SECOND + i * SECOND for i in range(30)
    ]
    producer = Producer(settings.kafka.client_config())
    for i, ts in enumerate(times):
        headers = [("schema", b"dbn.mbp-10"), ("ts_recv_ns", str(ts).encode())]
        producer.produce(topic, value=f"m{i}".encode(), headers=headers, partition=0)
    assert producer.flush(10) == 0

    source = KafkaRawSource(settings.kafka, {"es_mbp10": topic}, until_end=True)
    name = f"{topic}#0"
    part = source.build_part("raw", name, None)
    first = _drain_one(part)
    resumed_at = part.snapshot()
    assert [m.offset for m in first] == [0, 1]  # the second is a minute on: cut there
    assert resumed_at == 2

    part.close()
    part = source.build_part("raw", name, resumed_at)
    batches = _drain(part)
    msgs = [m for b in batches for m in b if isinstance(m, RawMessage)]
    assert [m.value for m in first + msgs] == [f"m{i}".encode() for i in range(len(times))]
    for b in batches:
        ts = [times[m.offset] for m in b if isinstance(m, RawMessage)]
        assert len(ts) < 2 or ts[-2] - ts[0] < MAX_BATCH_SPAN_NS  # cut at once, not later
        if ts and ts[0] < 40 * 60 * SECOND:
            assert len(ts) <= 2  # the quiet part: a minute apart, so two at most
        assert len(ts) <= 11  # a second apart: 10 s is 11 messages
    part.close()


def _drain_one(part: object) -> list[RawMessage]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        batch = part.next_batch()  # type: ignore[attr-defined]
        msgs = [m for m in batch if isinstance(m, RawMessage)]
        if msgs:
            return msgs
    raise AssertionError("nothing came from the topic")


def test_a_rerun_reads_no_partition_far_ahead_of_the_slowest(settings: Settings) -> None:
    # five retained minutes: the book a message a second (a batch spans 10 s), the options a
    # hundred a second (a poll of 500 spans 5 s). Polled in turn, the book would gain 5 s on
    # the options each round.
    catalog = TopicCatalog.from_settings(settings)
    book, options = catalog.name("es_mbp10"), catalog.name("options_trades")
    producer = Producer(settings.kafka.client_config())
    for topic, every_ns in ((book, SECOND), (options, SECOND // 100)):
        for ts in range(0, 300 * SECOND, every_ns):
            headers = [("schema", b"x"), ("ts_recv_ns", str(ts).encode())]
            producer.produce(topic, value=b"m", headers=headers, partition=0)
            producer.poll(0)
    assert producer.flush(30) == 0

    source = KafkaRawSource(
        settings.kafka, {"es_mbp10": book, "options_trades": options}, until_end=True
    )
    parts = {name: source.build_part("raw", name, None) for name in source.list_parts()}
    worst, delivered = poll_in_turn(parts)
    assert delivered == 300 + 30_000  # nothing held back for good
    assert worst < 3 * MAX_BATCH_SPAN_NS / SECOND  # unaligned, the book ends minutes ahead
