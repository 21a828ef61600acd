"""Replay source: DBN files read by the same code the ingest connector uses.

Each file is one partition; it yields exactly the messages ``snapline ingest dbn`` would
produce, so in-process replay and the Kafka path see identical bytes.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from pathlib import Path

from bytewax.inputs import FixedPartitionedSource, StatefulSourcePartition

from connectors.databento.dbn_file import open_dbn
from connectors.databento.messages import SkipCounts, to_messages
from dataflows.signals.items import IdleTick, PartitionEnd
from schemas.envelope import RawMessage

log = logging.getLogger(__name__)
BATCH = 64


def file_partition(i: int) -> str:
    return f"file:{i}"


class _FilePartition(StatefulSourcePartition[RawMessage | PartitionEnd | IdleTick, int]):
    def __init__(self, name: str, path: Path, max_run: int, resume_at: int) -> None:
        self._name = name
        self._path = path
        self._skipped = SkipCounts()
        info, runs = open_dbn(path, max_run)
        messages = to_messages(info, runs, "databento.file", self._skipped)
        self._messages: Iterator[RawMessage] = itertools.islice(messages, resume_at, None)
        self._offset = resume_at
        self._done = False

    def next_batch(self) -> list[RawMessage | PartitionEnd | IdleTick]:
        if self._done:
            raise StopIteration
        batch: list[RawMessage | PartitionEnd | IdleTick] = []
        for msg in itertools.islice(self._messages, BATCH):
            batch.append(
                RawMessage(msg.role, msg.key, msg.value, msg.headers, self._name, self._offset)
            )
            self._offset += 1
        if len(batch) < BATCH:
            self._done = True
            batch.append(PartitionEnd(self._name))
            if self._skipped.by_rtype:
                log.info(
                    "%s: records without a raw topic: %s", self._path, self._skipped.describe()
                )
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
