"""Event-time alignment of a source's partitions (Flink's watermark alignment, in one process).

The market step emits a snap only once every input has moved past it, so whatever a fast
input reads ahead of the slowest one waits in memory, decoded. Partitions are polled in turn
and each poll reads a batch, but a batch spans less receive time on a dense input (64
capture lines at the open) than on a sparse one (10 s of book), so without a bound the book
runs ahead by seconds each round: a whole simulated day replayed at 5 GB, the book's every
record decoded while the options capture trailed hours behind. Here a partition that has
read more than ``max_lead_ns`` past the slowest partition still reading waits (its poll
returns nothing) until that one catches up. Output is unchanged: the snaps depend on the data
alone, never on the order the inputs arrive in.

The slowest is taken over the partitions built in this process (a cluster's processes each
align their own) that have not ended; one not yet read is never held, so the slowest always
reads and no partition waits forever. For inputs read to their end (files, a re-run over
retained topics), not a live tail: live, data comes at the pace it happened, and receive
times stamped by different hosts' clocks must not hold one feed behind another.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

from dataflows.io.batch_span import MAX_BATCH_SPAN_NS, BatchSpan
from dataflows.signals.items import PartitionEnd, SourceItem
from schemas.envelope import RawMessage

NEVER = -(2**63)


class Alignment:
    def __init__(self, max_lead_ns: int | None = MAX_BATCH_SPAN_NS) -> None:
        self._max_lead_ns = max_lead_ns  # None: no partition is ever held
        self._reached: dict[str, int] = {}  # receive time each delivering partition read to
        self._lock = threading.Lock()  # a process's workers are threads sharing the source

    def join(self, name: str) -> None:
        """A partition of this process starts reading."""
        with self._lock:
            self._reached[name] = NEVER

    def held(self, name: str) -> bool:
        """Whether ``name`` has read more than the lead past the slowest other partition."""
        if self._max_lead_ns is None:
            return False
        with self._lock:
            mine = self._reached.get(name, NEVER)
            others = [t for p, t in self._reached.items() if p != name]
        return bool(others) and mine - min(others) > self._max_lead_ns

    def read_to(self, name: str, ts_ns: int | None) -> None:
        """``name`` delivered messages up to receive time ``ts_ns`` (None: no readable
        time, its place is unchanged)."""
        with self._lock:
            before = self._reached.get(name, NEVER)
            self._reached[name] = before if ts_ns is None else max(before, ts_ns)

    def ended(self, name: str) -> None:
        """``name`` has nothing more to read: it holds no partition back."""
        with self._lock:
            self._reached.pop(name, None)


Timed = tuple[int, int | None, RawMessage]  # records it carries, receive time, the message


class AlignedReader:
    """A partition read to its end (a file, the lake) in batches that end after a batch span
    of receive time or ``max_messages``; nothing is read while the partition is held, and
    the alignment hears where each batch got to."""

    def __init__(
        self, name: str, stream: Iterator[Timed], alignment: Alignment, max_messages: int
    ) -> None:
        self._name = name
        self._stream = stream
        self._alignment = alignment
        self._max_messages = max_messages
        self._ended = False
        alignment.join(name)

    def next_batch(self) -> list[SourceItem]:
        """The next batch ([] while held); the last one ends with ``PartitionEnd``, and a
        call after it raises ``StopIteration``, as Bytewax expects."""
        if self._ended:
            raise StopIteration
        if self._alignment.held(self._name):
            return []  # read ahead of the slowest partition: wait for it (polled in 1 ms)
        batch: list[SourceItem] = []
        span = BatchSpan()
        reached: int | None = None
        for records, ts_ns, msg in self._stream:
            batch.append(msg)
            reached = reached if ts_ns is None else ts_ns
            if span.full_after(ts_ns, records) or len(batch) >= self._max_messages:
                self._alignment.read_to(self._name, reached)
                return batch
        self._ended = True
        self._alignment.ended(self._name)
        batch.append(PartitionEnd(self._name))
        return batch
