"""File sinks for in-process replay: JSON lines ordered by (snap time, key)."""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path
from typing import IO

from bytewax.outputs import DynamicSink, StatelessSinkPartition

from dataflows.signals.items import SinkRecord
from schemas.envelope import DLQ_OFFSET, DLQ_REASON, DLQ_SOURCE
from snapline.errors import InputError

log = logging.getLogger(__name__)


class _JsonlPartition(StatelessSinkPartition[SinkRecord]):
    """Writes whole snaps in time order, each sorted by key.

    Bytewax groups a batch by key in keyed steps, so records reach the sink out of time order;
    a snap is written once all ``group_size`` of its records are in and no earlier snap is
    still open. Memory holds only the snaps still in flight.
    """

    def __init__(self, fh: IO[bytes], written: Counter[str]) -> None:
        self._fh = fh
        self._written = written
        self._open: dict[int, list[SinkRecord]] = {}
        self._written_ts: int | None = None

    def write_batch(self, items: list[SinkRecord]) -> None:
        for r in items:
            if self._written_ts is not None and r.timestamp_ns <= self._written_ts:
                msg = (
                    f"record for snap {r.timestamp_ns} arrived after snap "
                    f"{self._written_ts} was written"
                )
                raise RuntimeError(msg)
            self._open.setdefault(r.timestamp_ns, []).append(r)
        self._write_complete()

    def _write_complete(self, everything: bool = False) -> None:
        for ts in sorted(self._open):
            group = self._open[ts]
            if not everything and len(group) < group[0].group_size:
                return
            for r in sorted(group, key=lambda r: r.key or b""):
                self._fh.write(r.value + b"\n")
            self._written["lines"] += len(group)
            del self._open[ts]
            self._written_ts = ts

    def close(self) -> None:
        self._write_complete(everything=True)
        self._fh.close()


class JsonlSink(DynamicSink[SinkRecord]):
    """Writes record values, one per line. Single worker: the file is one ordered stream."""

    def __init__(self, path: Path, written: Counter[str] | None = None) -> None:
        self.path = path
        # the lines written (key "lines"), readable after an in-process run
        self.written: Counter[str] = Counter() if written is None else written

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _JsonlPartition:
        return _JsonlPartition(_one_file(self.path, worker_count), self.written)


class _SortedPartition(StatelessSinkPartition[SinkRecord]):
    """Holds every record and writes them at close, by (time, key); the order within one key
    and time is kept. For sparse streams (level events), where a snap's count is unknown."""

    def __init__(self, fh: IO[bytes]) -> None:
        self._fh = fh
        self._held: list[SinkRecord] = []

    def write_batch(self, items: list[SinkRecord]) -> None:
        self._held.extend(items)

    def close(self) -> None:
        for r in sorted(self._held, key=lambda r: (r.timestamp_ns, r.key or b"")):
            self._fh.write(r.value + b"\n")
        self._fh.close()


class SortedJsonlSink(DynamicSink[SinkRecord]):
    """Like ``JsonlSink`` for streams without a fixed count per snap (sorted at close)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _SortedPartition:
        return _SortedPartition(_one_file(self.path, worker_count))


def _one_file(path: Path, worker_count: int) -> IO[bytes]:
    if worker_count != 1:
        msg = "the JSON-lines sink writes one ordered file; run replay with one worker"
        raise ValueError(msg)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.open("wb")


class _FailPartition(StatelessSinkPartition[SinkRecord]):
    def write_batch(self, items: list[SinkRecord]) -> None:
        if items:
            h = dict(items[0].headers or [])
            where = f"{h[DLQ_SOURCE].decode()}@{h[DLQ_OFFSET].decode()}"
            msg = f"undecodable message {where}: {h[DLQ_REASON].decode()}"
            raise InputError(msg)


class FailOnBadInput(DynamicSink[SinkRecord]):
    """For replay from files: input that got past the file reader and still fails is fatal."""

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _FailPartition:
        return _FailPartition()


class _LogPartition(StatelessSinkPartition[SinkRecord]):
    def __init__(self) -> None:
        self.count = 0

    def write_batch(self, items: list[SinkRecord]) -> None:
        for r in items:
            self.count += 1
            h = dict(r.headers or [])
            log.warning(
                "re-run skipped undecodable message %s@%s (%s); the live run dead-lettered it",
                h[DLQ_SOURCE].decode(),
                h[DLQ_OFFSET].decode(),
                h[DLQ_REASON].decode(),
            )

    def close(self) -> None:
        if self.count:
            log.warning("re-run skipped %d undecodable messages in all", self.count)


class LogBadInput(DynamicSink[SinkRecord]):
    """For re-runs over retained topics: bad messages were dead-lettered when they first
    arrived; a re-run names and counts them instead of publishing them again."""

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _LogPartition:
        return _LogPartition()
