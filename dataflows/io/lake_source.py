"""The bronze lake as a source: raw messages per original partition, in offset order, so a
re-run from the lake sees exactly what a re-run from the topics would."""

from __future__ import annotations

from bytewax.inputs import FixedPartitionedSource, StatefulSourcePartition

from dataflows.signals.items import IdleTick, PartitionEnd
from lake.read import bronze_messages
from schemas.envelope import RawMessage

Item = RawMessage | PartitionEnd | IdleTick  # IdleTick never comes from files
BATCH = 256


class _LakePartition(StatefulSourcePartition[Item, int]):
    def __init__(self, name: str, messages: list[RawMessage], start: int) -> None:
        self._name = name
        self._messages = messages
        self._i = start
        self._ended = False

    def next_batch(self) -> list[Item]:
        if self._i >= len(self._messages):
            if self._ended:
                raise StopIteration
            self._ended = True
            return [PartitionEnd(self._name)]
        batch: list[Item] = list(self._messages[self._i : self._i + BATCH])
        self._i += len(batch)
        return batch

    def snapshot(self) -> int:
        return self._i


class BronzeLakeSource(FixedPartitionedSource[Item, int]):
    def __init__(self, root: str, roles: tuple[str, ...]) -> None:
        self._by_partition = bronze_messages(root, roles)

    @property
    def partitions(self) -> tuple[str, ...]:
        return tuple(self._by_partition)

    def list_parts(self) -> list[str]:
        return list(self._by_partition)

    def build_part(self, step_id: str, for_part: str, resume_state: int | None) -> _LakePartition:
        return _LakePartition(for_part, self._by_partition[for_part], resume_state or 0)
