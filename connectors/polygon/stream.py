"""One Polygon/Massive WebSocket market (options or stocks) through the official client.

``massive.WebSocketClient`` does the handshake (connected -> auth -> subscribe) and hands us raw
frames. Around it: reconnects with capped exponential backoff and jitter (tenacity), resubscribe
(the client keeps its subscription set), an idle watchdog, resend accounting by sequence number,
and a clean stop. An auth failure is final.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from massive import WebSocketClient
from massive.exceptions import AuthError
from pydantic import SecretStr
from tenacity import AsyncRetrying, retry_if_exception_type, wait_exponential_jitter
from websockets.exceptions import ConnectionClosed

from connectors.polygon.messages import SequenceTracker, parse_frame
from connectors.raw_writer import RawWriter
from snapline.errors import VendorAuthError
from snapline.settings import PolygonSettings

log = logging.getLogger(__name__)
# websockets logs every frame at DEBUG, the auth frame with the API key included.
logging.getLogger("websockets.client").setLevel(logging.INFO)

OK_STATUSES = frozenset({"connected", "success", "auth_success"})


class DisconnectedError(Exception):
    """A session ended before any frame arrived (back off before the next attempt)."""


@dataclass(slots=True)
class StreamStats:
    connections: int = 0
    frames: int = 0
    events: int = 0
    rejected: int = 0
    idle_reconnects: int = 0
    statuses: Counter[str] = field(default_factory=Counter)  # non-OK server statuses
    unrouted: Counter[str] = field(default_factory=Counter)  # event types with no topic
    sequences: SequenceTracker = field(default_factory=SequenceTracker)

    def describe(self) -> str:
        text = (
            f"{self.connections} connection(s), {self.frames} frames, {self.events} events, "
            f"{self.sequences.duplicates} resends dropped, {self.rejected} dead-lettered"
        )
        if self.idle_reconnects:
            text += f", {self.idle_reconnects} idle reconnects"
        if self.statuses:
            text += f", server statuses {dict(self.statuses)}"
        if self.unrouted:
            text += f", not routed {dict(self.unrouted)}"
        return text


class PolygonStream:
    """Streams one market into the raw topics until ``stop`` is set."""

    def __init__(
        self,
        market: str,
        api_key: SecretStr,
        cfg: PolygonSettings,
        writer: RawWriter,
        subscriptions: list[str],
        clock_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self.market = market
        self.cfg = cfg
        self.writer = writer
        self.clock_ns = clock_ns
        self.stats = StreamStats()
        self.client = WebSocketClient(
            api_key=api_key.get_secret_value(),
            feed=cfg.ws_host,
            market=market,
            raw=True,
            subscriptions=subscriptions,
            max_reconnects=0,  # every drop comes back here, for backoff and accounting
            secure=cfg.ws_secure,
        )
        self._last_frame = time.monotonic()

    def subscribe(self, *channels: str) -> None:
        """Add channels; the client subscribes them on its next turn (within a second)."""
        if channels:
            self.client.subscribe(*channels)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            retrying = AsyncRetrying(
                retry=retry_if_exception_type(DisconnectedError),
                wait=backoff(self.cfg.reconnect_initial_s, self.cfg.reconnect_max_s),
                stop=lambda _state: stop.is_set(),
                sleep=lambda s: sleep_unless(stop, s),
                before_sleep=lambda s: log.warning(
                    "%s feed: no data before the connection ended; reconnecting (attempt %d)",
                    self.market,
                    s.attempt_number,
                ),
                reraise=True,
            )
            try:
                async for attempt in retrying:
                    with attempt:
                        await self._session(stop)
            except DisconnectedError:
                return  # stopped while backing off

    async def _session(self, stop: asyncio.Event) -> None:
        """One connection; returns after a session that delivered data, raises DisconnectedError
        after one that delivered nothing."""
        frames_before = self.stats.frames
        self.stats.connections += 1
        self._last_frame = time.monotonic()
        connection = asyncio.create_task(self.client.connect(self._on_frame))
        watchdog = asyncio.create_task(self._watch(stop, connection))
        try:
            await connection
        except asyncio.CancelledError:
            if not stop.is_set():
                raise
        except AuthError as exc:
            if self.client.websocket is not None:
                await self.client.close()  # the client leaves the refused socket open
            msg = f"{self.cfg.ws_host}/{self.market} rejected the API key: {exc}"
            raise VendorAuthError(msg) from None
        except (ConnectionClosed, OSError) as exc:
            log.warning("%s feed: connection lost: %s", self.market, exc)
        finally:
            watchdog.cancel()
        if not stop.is_set() and self.stats.frames == frames_before:
            raise DisconnectedError

    async def _watch(self, stop: asyncio.Event, connection: asyncio.Task[None]) -> None:
        """Ends the connection on stop, or when no frame came for ``idle_timeout_s``."""
        while True:
            if stop.is_set():
                if self.client.websocket is not None:
                    await self.client.close()
                else:  # between attempts inside the client
                    connection.cancel()
                return
            idle_s = time.monotonic() - self._last_frame
            if idle_s >= self.cfg.idle_timeout_s:
                self._last_frame = time.monotonic()
                if self.client.websocket is not None:  # else the client is still connecting
                    self.stats.idle_reconnects += 1
                    log.warning("%s feed: no frame for %.0f s; reconnecting", self.market, idle_s)
                    await self.client.close()
                    return
            await sleep_unless(stop, min(self.cfg.idle_timeout_s - idle_s, 1.0))

    async def _on_frame(self, frame: str | bytes) -> None:
        self._last_frame = time.monotonic()
        self.stats.frames += 1
        data = frame.encode() if isinstance(frame, str) else frame
        parsed = parse_frame(data, self.market, self.clock_ns())
        for r in parsed.routed:
            if self.stats.sequences.accept(r.ev, r.sym, r.sequence):
                self.writer.send(r.role, r.key, r.value, r.headers)
                self.stats.events += 1
        for bad in parsed.rejected:
            self.writer.dead_letter(bad.role, bad.value, bad.reason, f"polygon.ws/{self.market}")
            self.stats.rejected += 1
            log.warning("%s feed: dead-lettered: %s", self.market, bad.reason)
        for status in parsed.statuses:
            if status.status not in OK_STATUSES:
                self.stats.statuses[status.status] += 1
                log.warning(
                    "%s feed: server says %s: %s", self.market, status.status, status.message
                )
        self.stats.unrouted.update(parsed.unrouted)


def backoff(first_s: float, max_s: float) -> wait_exponential_jitter:
    """Capped exponential backoff with up to one step of jitter: first_s, 2 first_s, ..."""
    return wait_exponential_jitter(multiplier=first_s, max=max_s, jitter=first_s)


async def sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
