"""Fan-out hub: one bounded queue per client, so a slow client never stalls the others.

A client whose queue is full is disconnected (counted) rather than allowed to hold memory or
the loop; the latest signal per level is kept so a new client starts with a full picture.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass


@dataclass(slots=True, eq=False)  # identity, not value: clients live in a set
class Client:
    queue: asyncio.Queue[str]
    overflowed: bool = False


@dataclass(slots=True)
class HubStats:
    received: int = 0
    delivered: int = 0
    slow_disconnects: int = 0


class Hub:
    def __init__(self, queue_size: int = 1024) -> None:
        self.queue_size = queue_size
        self.clients: set[Client] = set()
        self.latest: dict[str, str] = {}  # level id -> last signal JSON
        self.stats = HubStats()

    def join(self) -> Client:
        client = Client(asyncio.Queue(self.queue_size))
        for text in self.latest.values():
            client.queue.put_nowait(text)  # bounded by the number of levels, below queue_size
        self.clients.add(client)
        return client

    def leave(self, client: Client) -> None:
        self.clients.discard(client)

    def publish(self, level_id: str, text: str) -> None:
        """Called on the event loop for each consumed signal."""
        self.stats.received += 1
        self.latest[level_id] = text
        for client in list(self.clients):
            try:
                client.queue.put_nowait(text)
            except asyncio.QueueFull:
                self.stats.slow_disconnects += 1
                client.overflowed = True
                self.clients.discard(client)
