"""The bronze lake as a source: raw messages per original partition, in offset order, so a
re-run from the lake sees exactly what a re-run from the topics would."""

from __future__ import annotations

from bytewax.inputs import FixedPartitionedSource, StatefulSourcePartition

from dataflows.io.alignment import Alignment
from dataflows.io.batch_span import BatchSpan
from dataflows.signals.items import IdleTick, PartitionEnd
from lake.read import bronze_messages
from schemas.envelope import RawMessage, int_header

Item = RawMessage | PartitionEnd | IdleTick  # IdleTick never comes from files
BATCH = 256


class _LakePartition(StatefulSourcePartition[Item, int]):
    def __init__(
        self, name: str, messages: list[RawMessage], start: int, alignment: Alignment
    ) -> None:
        self._name = name
        self._messages = messages
        self._i = start
        self._ended = False
        self._alignment = alignment
        alignment.join(name)

    def next_batch(self) -> list[Item]:
        if self._i >= len(self._messages):
            if self._ended:
                raise StopIteration
            self._ended = True
            self._alignment.ended(self._name)
            return [PartitionEnd(self._name)]
        if self._alignment.held(self._name):
            return []  # read ahead of the slowest partition: wait for it (polled in 1 ms)
        batch: list[Item] = []
        span = BatchSpan()  # as the Kafka source cuts its batches
        reached: int | None = None
        for m in self._messages[self._i : self._i + BATCH]:
            batch.append(m)
            ts_ns = int_header(m.headers, "ts_recv_ns")
            reached = reached if ts_ns is None else ts_ns
            if span.full_after(ts_ns, max(int_header(m.headers, "records") or 1, 1)):
                break
        self._i += len(batch)
        self._alignment.read_to(self._name, reached)
        return batch

    def snapshot(self) -> int:
        return self._i


class BronzeLakeSource(FixedPartitionedSource[Item, int]):
    def __init__(self, root: str, roles: tuple[str, ...]) -> None:
        self._by_partition = bronze_messages(root, roles)
        self.alignment = Alignment()  # no partition reads far ahead of the others

    @property
    def partitions(self) -> tuple[str, ...]:
        return tuple(self._by_partition)

    def list_parts(self) -> list[str]:
        return list(self._by_partition)

    def build_part(self, step_id: str, for_part: str, resume_state: int | None) -> _LakePartition:
        messages = self._by_partition[for_part]
        return _LakePartition(for_part, messages, resume_state or 0, self.alignment)
