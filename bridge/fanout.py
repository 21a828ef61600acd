"""Fan-out hub: per-client pending messages, latest per level, so a slow client never stalls
the others and never holds more than one message per level.

A client that keeps up gets every message. One that falls behind gets, per level, only the
newest signal it has not yet been sent (the older ones are coalesced away, counted); once its
oldest pending message is ``slow_after_s`` old, or its pending events exceed ``max_pending``, it
is disconnected with a clear reason. New clients start from the latest signal of every level.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from bridge.metrics import BridgeMetrics
from bridge.subscriptions import Meta, Subscription, wants


@dataclass(slots=True, eq=False)  # identity, not value: clients live in a set
class Client:
    sub: Subscription
    pending: OrderedDict[str, tuple[str, float]] = field(default_factory=OrderedDict)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    closed_reason: str | None = None

    def next_message(self) -> tuple[str, float] | None:
        if not self.pending:
            return None
        return self.pending.popitem(last=False)[1]


class Hub:
    def __init__(
        self,
        metrics: BridgeMetrics,
        max_pending: int = 2000,
        slow_after_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.metrics = metrics
        self.max_pending = max_pending
        self.slow_after_s = slow_after_s
        self.clock = clock
        self.clients: set[Client] = set()
        self.latest: dict[str, tuple[str, Meta]] = {}  # level id -> last signal

    def join(self, sub: Subscription) -> Client:
        client = Client(sub)
        self.clients.add(client)
        self.metrics.clients.set(len(self.clients))
        self._snapshot(client)
        return client

    def resubscribe(self, client: Client, sub: Subscription) -> None:
        client.sub = sub
        client.pending.clear()
        self._snapshot(client)

    def leave(self, client: Client) -> None:
        self.clients.discard(client)
        self.metrics.clients.set(len(self.clients))

    def _snapshot(self, client: Client) -> None:
        now = self.clock()
        for text, meta in self.latest.values():
            if wants(client.sub, meta):
                client.pending[meta.key] = (text, now)
        client.wake.set()

    def publish(self, text: str, is_event: bool) -> None:
        """Called on the event loop for each consumed signal or event."""
        meta = Meta.of(text, is_event)
        self.metrics.received.labels("event" if is_event else "signal").inc()
        if not is_event:
            self.latest[meta.level_id] = (text, meta)
        now = self.clock()
        for client in list(self.clients):
            if not wants(client.sub, meta):
                continue
            waiting_since = now
            if meta.key in client.pending:  # keep the time the level started waiting
                waiting_since = client.pending.pop(meta.key)[1]
                self.metrics.coalesced.inc()
            client.pending[meta.key] = (text, waiting_since)
            client.wake.set()
            self._check_slow(client, now)

    def _check_slow(self, client: Client, now: float) -> None:
        oldest = next(iter(client.pending.values()))[1]
        if len(client.pending) > self.max_pending:
            reason = f"too slow: more than {self.max_pending} messages pending"
        elif now - oldest > self.slow_after_s:
            reason = f"too slow: {now - oldest:.1f} s behind"
        else:
            return
        client.closed_reason = reason
        client.pending.clear()
        self.metrics.slow_disconnects.inc()
        self.leave(client)
        client.wake.set()
