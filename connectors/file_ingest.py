"""``snapline ingest dbn``: recorded files -> raw topics, bytes unchanged, deliveries confirmed.

DBN files (ES book and trades) and Polygon captures (options, SPY, chain snapshots) are merged
by receive time, so pacing holds across them; the same readers feed in-process replay.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from connectors.databento.messages import SkipCounts, file_messages
from connectors.pacing import Pacer
from connectors.polygon.capture import read_capture
from schemas.envelope import DLQ_REASON, DLQ_SOURCE, RawMessage
from snapline.kafka.catalog import TopicCatalog
from snapline.kafka.producer import TrackedProducer


@dataclass(slots=True)
class IngestReport:
    messages: int = 0
    records: dict[str, int] = field(default_factory=dict)  # topic -> records
    skipped: SkipCounts = field(default_factory=SkipCounts)
    dead_letters: dict[str, int] = field(default_factory=dict)  # topic -> messages

    def describe(self) -> str:
        parts = [f"{n} records to {t}" for t, n in sorted(self.records.items())]
        text = f"{self.messages} messages: " + (", ".join(parts) or "nothing routed")
        if self.skipped.by_rtype:
            text += f"; not routed (no raw topic for them): {self.skipped.describe()}"
        if self.dead_letters:
            dead = ", ".join(f"{n} to {t}" for t, n in sorted(self.dead_letters.items()))
            text += f"; dead letters: {dead}"
        return text


@dataclass(frozen=True, slots=True)
class _Out:
    ts_recv_ns: int
    msg: RawMessage
    records: int = 1
    reason: str | None = None  # set: the connector would dead-letter it


def _dbn(path: Path, max_run: int, source: str, skipped: SkipCounts) -> Iterator[_Out]:
    for headers, msg in file_messages(path, max_run, source, skipped):
        yield _Out(headers.ts_recv_ns, msg, headers.records)


def _capture(path: Path) -> Iterator[_Out]:
    last = 0
    for m in read_capture(path):
        if m.headers is None:  # no time of its own: it goes out in its place in the file
            yield _Out(last, RawMessage(m.role, m.key, m.value, []), 1, f"{m.where}: {m.reason}")
            continue
        last = m.headers.ts_recv_ns
        yield _Out(last, RawMessage(m.role, m.key, m.value, m.headers.to_kafka()))


def is_capture(path: Path) -> bool:
    return ".jsonl" in path.suffixes


def ingest_files(
    paths: list[Path],
    producer: TrackedProducer,
    catalog: TopicCatalog,
    pacer: Pacer,
    max_run: int,
    source: str = "databento.file",
) -> IngestReport:
    """Produce every routed message of every file; on a bad file, deliver what came before it,
    then raise the file's error."""
    report = IngestReport()
    streams = [
        _capture(path) if is_capture(path) else _dbn(path, max_run, source, report.skipped)
        for path in paths
    ]
    try:
        for out in heapq.merge(*streams, key=lambda o: o.ts_recv_ns):
            pacer.wait_until(out.ts_recv_ns)
            msg = out.msg
            if out.reason is not None:
                topic = catalog.dlq(msg.role)
                dlq = [(DLQ_REASON, out.reason.encode()), (DLQ_SOURCE, b"polygon.capture")]
                producer.produce(topic, msg.value, key=msg.key, headers=dlq)
                report.dead_letters[topic] = report.dead_letters.get(topic, 0) + 1
                continue
            topic = catalog.name(msg.role)
            producer.produce(topic, msg.value, key=msg.key, headers=msg.headers)
            report.messages += 1
            report.records[topic] = report.records.get(topic, 0) + out.records
    finally:
        producer.flush()
    return report
