"""The bronze lake as a source: raw messages per original partition, in offset order, so a
re-run from the lake sees exactly what a re-run from the topics would. Each partition reads its
files one by one as the run asks (``lake.read.bronze_messages``), not the lake at once."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from bytewax.inputs import FixedPartitionedSource, StatefulSourcePartition

from dataflows.io.alignment import Alignment
from dataflows.io.batch_span import BatchSpan
from dataflows.signals.items import IdleTick, PartitionEnd
from lake.read import BronzePiece, bronze_messages, bronze_partitions
from schemas.envelope import RawMessage, int_header

Item = RawMessage | PartitionEnd | IdleTick  # IdleTick never comes from files
BATCH = 256


class _LakePartition(StatefulSourcePartition[Item, int]):
    def __init__(
        self, name: str, messages: Iterator[RawMessage], start: int, alignment: Alignment
    ) -> None:
        self._name = name
        self._messages = itertools.islice(messages, start, None)
        self._i = start
        self._ended = False
        self._alignment = alignment
        alignment.join(name)

    def next_batch(self) -> list[Item]:
        if self._ended:
            raise StopIteration
        if self._alignment.held(self._name):
            return []  # read ahead of the slowest partition: wait for it (polled in 1 ms)
        batch: list[Item] = []
        span = BatchSpan()  # as the Kafka source cuts its batches
        reached: int | None = None
        for m in self._messages:
            batch.append(m)
            self._i += 1
            ts_ns = int_header(m.headers, "ts_recv_ns")
            reached = reached if ts_ns is None else ts_ns
            full = span.full_after(ts_ns, max(int_header(m.headers, "records") or 1, 1))
            if full or len(batch) >= BATCH:
                self._alignment.read_to(self._name, reached)
                return batch
        self._ended = True
        self._alignment.ended(self._name)
        batch.append(PartitionEnd(self._name))
        return batch

    def snapshot(self) -> int:
        return self._i


class BronzeLakeSource(FixedPartitionedSource[Item, int]):
    def __init__(self, root: str, roles: tuple[str, ...]) -> None:
        self._pieces: dict[str, list[BronzePiece]] = bronze_partitions(root, roles)
        self.alignment = Alignment()  # no partition reads far ahead of the others

    @property
    def partitions(self) -> tuple[str, ...]:
        return tuple(self._pieces)

    def list_parts(self) -> list[str]:
        return list(self._pieces)

    def build_part(self, step_id: str, for_part: str, resume_state: int | None) -> _LakePartition:
        messages = bronze_messages(for_part, self._pieces[for_part])
        return _LakePartition(for_part, messages, resume_state or 0, self.alignment)
