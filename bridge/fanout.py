"""Fan-out hub: a bounded queue per client, so a slow client never stalls the others.

A client that keeps up gets every message, in order. One whose queue fills (``queue_size``)
gets, from then until it has caught up, only the newest signal per level (the older ones are
coalesced away, counted); once its oldest pending message is ``slow_after_s`` old, or more than
``max_pending`` are pending (events are never coalesced), it is disconnected with a clear
reason. New clients start from the latest signal of every level.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from bridge.metrics import BridgeMetrics
from bridge.subscriptions import Meta, Subscription, wants


@dataclass(slots=True, eq=False)  # identity, not value: clients live in a set
class Client:
    """A FIFO of messages while it keeps up; once ``queue_size`` is reached, the latest
    message per key only (coalesced) until it has caught up."""

    sub: Subscription
    queue_size: int
    fifo: deque[tuple[str, str, float]] = field(default_factory=deque)  # key, text, since
    coalesced: OrderedDict[str, tuple[str, float]] | None = None
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    closed_reason: str | None = None

    def put(self, key: str, text: str, now: float) -> int:
        """Queue a message; returns how many older ones were coalesced away."""
        if self.coalesced is None and len(self.fifo) < self.queue_size:
            self.fifo.append((key, text, now))
            return 0
        dropped = 0
        if self.coalesced is None:  # the queue is full: from now on, latest per key
            self.coalesced = OrderedDict()
            for k, t, since in self.fifo:
                dropped += self._coalesce(k, t, since)
            self.fifo.clear()
        return dropped + self._coalesce(key, text, now)

    def _coalesce(self, key: str, text: str, now: float) -> int:
        assert self.coalesced is not None
        old = self.coalesced.pop(key, None)
        self.coalesced[key] = (text, old[1] if old else now)  # waiting since the first
        return int(old is not None)

    def next_message(self) -> tuple[str, float] | None:
        if self.fifo:
            _, text, since = self.fifo.popleft()
            return text, since
        if self.coalesced:
            text, since = self.coalesced.popitem(last=False)[1]
            if not self.coalesced:
                self.coalesced = None  # caught up
            return text, since
        return None

    def pending(self) -> int:
        return len(self.fifo) + len(self.coalesced or ())

    def oldest(self) -> float | None:
        if self.fifo:
            return self.fifo[0][2]
        if self.coalesced:
            return next(iter(self.coalesced.values()))[1]
        return None

    def clear(self) -> None:
        self.fifo.clear()
        self.coalesced = None


class Hub:
    def __init__(
        self,
        metrics: BridgeMetrics,
        queue_size: int = 1024,
        max_pending: int = 2000,
        slow_after_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.metrics = metrics
        self.queue_size = queue_size
        self.max_pending = max_pending
        self.slow_after_s = slow_after_s
        self.clock = clock
        self.clients: set[Client] = set()
        self.latest: dict[str, tuple[str, Meta]] = {}  # level id -> last signal

    def join(self, sub: Subscription) -> Client:
        client = Client(sub, self.queue_size)
        self.clients.add(client)
        self.metrics.clients.set(len(self.clients))
        self._snapshot(client)
        return client

    def resubscribe(self, client: Client, sub: Subscription) -> None:
        client.sub = sub
        client.clear()
        self._snapshot(client)

    def leave(self, client: Client) -> None:
        self.clients.discard(client)
        self.metrics.clients.set(len(self.clients))

    def _snapshot(self, client: Client) -> None:
        now = self.clock()
        for text, meta in self.latest.values():
            if wants(client.sub, meta):
                client.put(meta.key, text, now)
        client.wake.set()

    def publish(self, text: str, is_event: bool) -> None:
        """Called on the event loop for each consumed signal or event."""
        meta = Meta.of(text, is_event)
        self.metrics.received.labels("event" if is_event else "signal").inc()
        if not is_event:
            if meta.active:
                self.latest[meta.level_id] = (text, meta)
            else:  # the level left the active set: new clients do not get it
                self.latest.pop(meta.level_id, None)
        now = self.clock()
        for client in list(self.clients):
            if not wants(client.sub, meta):
                continue
            dropped = client.put(meta.key, text, now)
            if dropped:
                self.metrics.coalesced.inc(dropped)
            client.wake.set()
            self._check_slow(client, now)

    def _check_slow(self, client: Client, now: float) -> None:
        oldest = client.oldest()
        if oldest is None:
            return
        if client.pending() > self.max_pending:
            reason = f"too slow: more than {self.max_pending} messages pending"
        elif now - oldest > self.slow_after_s:
            reason = f"too slow: {now - oldest:.1f} s behind"
        else:
            return
        client.closed_reason = reason
        client.clear()
        self.metrics.slow_disconnects.inc()
        self.leave(client)
        client.wake.set()
