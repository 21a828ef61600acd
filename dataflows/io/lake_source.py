"""The bronze lake as a source: raw messages per original partition, in offset order, so a
re-run from the lake sees exactly what a re-run from the topics would. Each partition reads its
files one by one as the run asks (``lake.read.bronze_messages``), not the lake at once."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from bytewax.inputs import FixedPartitionedSource, StatefulSourcePartition

from dataflows.io.alignment import AlignedReader, Alignment, Timed
from dataflows.signals.items import SourceItem
from lake.read import BronzePiece, bronze_messages, bronze_partitions
from schemas.envelope import RawMessage, int_header

Item = SourceItem
BATCH = 256


class _LakePartition(StatefulSourcePartition[Item, int]):
    def __init__(
        self, name: str, messages: Iterator[RawMessage], start: int, alignment: Alignment
    ) -> None:
        self._i = start
        found = itertools.islice(messages, start, None)
        self._reader = AlignedReader(name, self._timed(found), alignment, BATCH)

    def _timed(self, found: Iterator[RawMessage]) -> Iterator[Timed]:
        """Each message with its records and receive time, read from its headers."""
        for m in found:
            self._i += 1  # before the yield: a snapshot taken after the batch counts it
            records = max(int_header(m.headers, "records") or 1, 1)
            yield records, int_header(m.headers, "ts_recv_ns"), m

    def next_batch(self) -> list[Item]:
        return self._reader.next_batch()

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
