"""``snapline ingest dbn``: DBN files -> raw topics, records unchanged, deliveries confirmed."""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from pathlib import Path

from connectors.databento.messages import SkipCounts, file_messages
from connectors.pacing import Pacer
from snapline.kafka.catalog import TopicCatalog
from snapline.kafka.producer import TrackedProducer


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
    streams = [file_messages(path, max_run, source, report.skipped) for path in paths]
    try:
        # Files are merged by receive time so that pacing holds across them (book + trades).
        for headers, msg in heapq.merge(*streams, key=lambda hm: hm[0].ts_recv_ns):
            pacer.wait_until(headers.ts_recv_ns)
            topic = catalog.name(msg.role)
            producer.produce(topic, msg.value, key=msg.key, headers=msg.headers)
            report.messages += 1
            report.records[topic] = report.records.get(topic, 0) + headers.records
    finally:
        producer.flush()
    return report
