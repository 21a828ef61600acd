"""``snapline ingest dbn``: DBN files -> raw topics, records unchanged, deliveries confirmed."""

from __future__ import annotations

import heapq
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from connectors.databento.dbn_file import open_dbn
from connectors.databento.messages import SkipCounts, to_messages
from connectors.pacing import Pacer
from schemas.envelope import RawHeaders, RawMessage
from snapline.kafka.catalog import TopicCatalog
from snapline.kafka.producer import TrackedProducer

log = logging.getLogger(__name__)


@dataclass(slots=True)
class IngestReport:
    messages: int = 0
    records: dict[str, int] = field(default_factory=dict)  # topic -> records
    skipped: SkipCounts = field(default_factory=SkipCounts)

    def describe(self) -> str:
        parts = [f"{n} records to {t}" for t, n in sorted(self.records.items())]
        text = f"{self.messages} messages: " + (", ".join(parts) or "nothing routed")
        if self.skipped.by_rtype:
            text += f"; not routed (no raw topic for them): {self.skipped.describe()}"
        return text


def ingest_files(
    paths: list[Path],
    producer: TrackedProducer,
    catalog: TopicCatalog,
    pacer: Pacer,
    max_run: int,
    source: str = "databento.file",
) -> IngestReport:
    """Produce every routed record of every file; on a bad file, deliver what came before it,
    then raise the file's error."""
    report = IngestReport()
    streams = [_timed(path, max_run, source, report.skipped) for path in paths]
    try:
        # Files are merged by receive time so that pacing holds across them (book + trades).
        for ts_recv_ns, records, msg in heapq.merge(*streams, key=lambda t: t[0]):
            pacer.wait_until(ts_recv_ns)
            topic = catalog.name(msg.role)
            producer.produce(topic, msg.value, key=msg.key, headers=msg.headers)
            report.messages += 1
            report.records[topic] = report.records.get(topic, 0) + records
    finally:
        producer.flush()
    return report


def _timed(
    path: Path, max_run: int, source: str, skipped: SkipCounts
) -> Iterator[tuple[int, int, RawMessage]]:
    info, runs = open_dbn(path, max_run)
    log.info("%s: DBN v%s %s %s", path, info.version, info.dataset, info.schema or "mixed")
    for msg in to_messages(info, runs, source, skipped):
        headers = RawHeaders.from_kafka(msg.headers)
        yield headers.ts_recv_ns, headers.records, msg
