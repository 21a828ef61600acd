"""Replay source: DBN files and Polygon captures, read by the same code live ingest uses.

Each file is one partition; it yields exactly the messages ``snapline ingest dbn`` (or the
Polygon connector, for a capture) would produce, so in-process replay and the Kafka path see
identical bytes. A capture line the connector would dead-letter stops the replay, naming it.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from bytewax.inputs import FixedPartitionedSource, StatefulSourcePartition

from connectors.databento.messages import SkipCounts, file_messages
from connectors.polygon.capture import strict_capture
from dataflows.io.alignment import AlignedReader, Alignment, Timed
from dataflows.signals.items import SourceItem
from schemas.envelope import RawMessage

Item = SourceItem
# A batch ends at this many messages too: a capture's messages hold one record each, and the
# snaps a batch makes due wait for the slowest input (200 levels: 240 MB, 330 MB without it)
BATCH_MESSAGES = 64


def file_partition(i: int) -> str:
    return f"file:{i}"


@dataclasses.dataclass
class ReplayCounts:
    """What a replay read, per raw role (DBN records, or Polygon messages), and the signals
    it wrote."""

    records: Counter[str] = dataclasses.field(default_factory=Counter)
    written: Counter[str] = dataclasses.field(default_factory=Counter)  # filled by the sink

    def es_records(self) -> int:
        return self.records["es_mbp10"] + self.records["es_trades"]


def _capture_messages(path: Path) -> Iterator[tuple[int, int, RawMessage]]:
    return ((1, headers.ts_recv_ns, msg) for headers, msg in strict_capture(path))


def _messages(path: Path, max_run: int) -> Iterator[tuple[int, int, RawMessage]]:
    """Each message with how many records it carries and its (last record's) receive time."""
    if ".jsonl" in path.suffixes:
        return _capture_messages(path)
    found = file_messages(path, max_run, "databento.file", SkipCounts())
    return ((headers.records, headers.ts_recv_ns, msg) for headers, msg in found)


class _FilePartition(StatefulSourcePartition[Item, int]):
    def __init__(
        self,
        name: str,
        path: Path,
        max_run: int,
        resume_at: int,
        counts: ReplayCounts,
        alignment: Alignment,
    ) -> None:
        self._name = name
        self._counts = counts
        self._offset = resume_at
        found = itertools.islice(_messages(path, max_run), resume_at, None)
        self._reader = AlignedReader(name, self._numbered(found), alignment, BATCH_MESSAGES)

    def _numbered(self, found: Iterator[Timed]) -> Iterator[Timed]:
        """Each message stamped with this partition and its offset, its records counted."""
        for records, ts_ns, msg in found:
            self._counts.records[msg.role] += records
            self._offset += 1  # before the yield: a snapshot taken after the batch counts it
            yield (
                records,
                ts_ns,
                dataclasses.replace(msg, partition=self._name, offset=self._offset - 1),
            )

    def next_batch(self) -> list[Item]:
        return self._reader.next_batch()

    def snapshot(self) -> int:
        return self._offset


class ReplayFileSource(FixedPartitionedSource[Item, int]):
    """DBN files (``*.dbn``, ``*.dbn.zst``...) and Polygon captures (``*.jsonl[.zst]``)."""

    def __init__(
        self, paths: list[Path], max_run: int = 256, counts: ReplayCounts | None = None
    ) -> None:
        self.paths = paths
        self.max_run = max_run
        self.counts = counts or ReplayCounts()  # in process: read back after the run
        self.alignment = Alignment()  # no file reads far ahead of the others

    @property
    def partitions(self) -> tuple[str, ...]:
        return tuple(file_partition(i) for i in range(len(self.paths)))

    def list_parts(self) -> list[str]:
        return list(self.partitions)

    def build_part(self, step_id: str, for_part: str, resume_state: int | None) -> _FilePartition:
        i = int(for_part.split(":", 1)[1])
        return _FilePartition(
            for_part, self.paths[i], self.max_run, resume_state or 0, self.counts, self.alignment
        )
