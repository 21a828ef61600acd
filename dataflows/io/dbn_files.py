"""Replay source: DBN files read by the same code the ingest connector uses.

Each file is one partition; it yields exactly the messages ``snapline ingest dbn`` would
produce, so in-process replay and the Kafka path see identical bytes.
"""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

from bytewax.inputs import FixedPartitionedSource, StatefulSourcePartition

from connectors.databento.messages import SkipCounts, file_messages
from dataflows.signals.items import IdleTick, PartitionEnd
from schemas.envelope import RawMessage

BATCH = 64


def file_partition(i: int) -> str:
    return f"file:{i}"


class _FilePartition(StatefulSourcePartition[RawMessage | PartitionEnd | IdleTick, int]):
    def __init__(self, name: str, path: Path, max_run: int, resume_at: int) -> None:
        self._name = name
        messages = file_messages(path, max_run, "databento.file", SkipCounts())
        self._messages = itertools.islice(messages, resume_at, None)
        self._offset = resume_at
        self._done = False

    def next_batch(self) -> list[RawMessage | PartitionEnd | IdleTick]:
        if self._done:
            raise StopIteration
        batch: list[RawMessage | PartitionEnd | IdleTick] = []
        for _, msg in itertools.islice(self._messages, BATCH):
            batch.append(dataclasses.replace(msg, partition=self._name, offset=self._offset))
            self._offset += 1
        if len(batch) < BATCH:
            self._done = True
            batch.append(PartitionEnd(self._name))
        return batch

    def snapshot(self) -> int:
        return self._offset


class DbnFileSource(FixedPartitionedSource[RawMessage | PartitionEnd | IdleTick, int]):
    def __init__(self, paths: list[Path], max_run: int = 256) -> None:
        self.paths = paths
        self.max_run = max_run

    @property
    def partitions(self) -> tuple[str, ...]:
        return tuple(file_partition(i) for i in range(len(self.paths)))

    def list_parts(self) -> list[str]:
        return list(self.partitions)

    def build_part(self, step_id: str, for_part: str, resume_state: int | None) -> _FilePartition:
        i = int(for_part.split(":", 1)[1])
        return _FilePartition(for_part, self.paths[i], self.max_run, resume_state or 0)
