"""Delivery to one webhook: JSON POST, HMAC-signed, retried with backoff, strictly in order.

One FIFO per webhook, so alerts of a level arrive in the order they happened; a failing head is
retried (capped exponential backoff with jitter) before anything behind it. 5xx, 429 and
network errors are retried; another 4xx is final for that alert (dead-lettered, counted). A
full queue dead-letters the newest alert rather than grow without bound. Each webhook has its
own queue and task: a dead receiver delays nobody else, and the pipeline never waits on it.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from tenacity import AsyncRetrying, retry_if_exception, wait_exponential_jitter

from alerts.config import Webhook

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Snapline-Signature"
TIMESTAMP_HEADER = "X-Snapline-Timestamp"
ID_HEADER = "X-Snapline-Event-Id"


class RetryableError(Exception):
    """The receiver answered with a status worth retrying (5xx, 429)."""


@dataclass(frozen=True, slots=True)
class Alert:
    event_id: str
    level_id: str
    body: bytes
    partition: int = 0  # of the event it came from, for offset tracking


@dataclass(slots=True)
class DeliveryStats:
    delivered: int = 0
    failed_attempts: int = 0
    rejected: int = 0  # final 4xx
    overflowed: int = 0  # queue full


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256(secret, "<timestamp>.<body>"), as receivers check it."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class WebhookSender:
    def __init__(
        self,
        hook: Webhook,
        dead_letter: Callable[[Alert, str], None],
        on_done: Callable[[Alert], None],
        retry_initial_s: float,
        retry_max_s: float,
        clock_s: Callable[[], float] = time.time,
    ) -> None:
        self.hook = hook
        self.dead_letter = dead_letter
        self.on_done = on_done  # after each alert is delivered or dead-lettered
        self.stats = DeliveryStats()
        self.queue: asyncio.Queue[Alert] = asyncio.Queue(hook.max_queue)
        self._wait = wait_exponential_jitter(
            multiplier=retry_initial_s, max=retry_max_s, jitter=retry_initial_s
        )
        self._clock_s = clock_s

    def offer(self, alert: Alert) -> None:
        try:
            self.queue.put_nowait(alert)
        except asyncio.QueueFull:
            self.stats.overflowed += 1
            self.dead_letter(alert, f"queue for {self.hook.url} full ({self.hook.max_queue})")
            log.error("alert queue for %s is full: dead-lettered %s", self.hook.url, alert.event_id)
            self.on_done(alert)

    async def run(self) -> None:
        async with httpx.AsyncClient(timeout=self.hook.timeout_s) as client:
            while True:
                alert = await self.queue.get()
                await self._deliver(client, alert)
                self.on_done(alert)
                self.queue.task_done()

    async def _deliver(self, client: httpx.AsyncClient, alert: Alert) -> None:
        retrying = AsyncRetrying(
            retry=retry_if_exception(_transient),
            wait=self._wait,
            before_sleep=lambda s: self._count_failure(alert, s.outcome),
        )
        try:
            async for attempt in retrying:
                with attempt:
                    await self._post(client, alert)
        except httpx.HTTPStatusError as exc:
            self.stats.rejected += 1
            reason = f"{self.hook.url} refused it: HTTP {exc.response.status_code}"
            self.dead_letter(alert, reason)
            log.error("alert %s: %s", alert.event_id, reason)
            return
        self.stats.delivered += 1

    async def _post(self, client: httpx.AsyncClient, alert: Alert) -> None:
        timestamp = str(int(self._clock_s()))
        headers = {
            "Content-Type": "application/json",
            ID_HEADER: alert.event_id,
            TIMESTAMP_HEADER: timestamp,
        }
        if self.hook.secret is not None:
            headers[SIGNATURE_HEADER] = signature(
                self.hook.secret.get_secret_value(), timestamp, alert.body
            )
        response = await client.post(self.hook.url, content=alert.body, headers=headers)
        if response.status_code >= 500 or response.status_code == 429:
            msg = f"HTTP {response.status_code}"
            raise RetryableError(msg)
        response.raise_for_status()

    def _count_failure(self, alert: Alert, outcome: object) -> None:
        self.stats.failed_attempts += 1
        error = getattr(outcome, "exception", lambda: None)()
        log.warning("alert %s to %s failed (%s); retrying", alert.event_id, self.hook.url, error)


def _transient(error: BaseException) -> bool:
    return isinstance(error, RetryableError | httpx.TransportError)
