"""Consume the signals and events topics on a thread and hand each message to the event loop.

A private group id: every bridge sees every message. If the consumer fails it is rebuilt (with
backoff) while clients stay connected; restarts are counted.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from collections.abc import Callable

from confluent_kafka import Consumer, KafkaError, KafkaException

from bridge.metrics import BridgeMetrics
from snapline.kafka.clients import base_config
from snapline.settings import KafkaSettings

log = logging.getLogger(__name__)
POLL_S = 0.1
OnMessage = Callable[[str, bool], None]  # (JSON text, is an event)


class SignalsConsumer:
    """Reads the signals topic (and the events topic, if given) from the end, or the
    beginning, and calls ``on_message(text, is_event)`` on the event loop."""

    def __init__(
        self,
        kafka: KafkaSettings,
        topic: str,
        from_beginning: bool = False,
        events_topic: str | None = None,
    ) -> None:
        self.kafka = kafka
        self.topic = topic
        self.events_topic = events_topic
        self.from_beginning = from_beginning
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.errors = 0
        self.restarts = 0
        self.metrics: BridgeMetrics | None = None

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, loop: asyncio.AbstractEventLoop, on_message: OnMessage) -> None:
        self._thread = threading.Thread(
            target=self._supervise, args=(loop, on_message), name="signals-consumer", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _supervise(self, loop: asyncio.AbstractEventLoop, on_message: OnMessage) -> None:
        group = f"snapline-bridge-{uuid.uuid4()}"  # kept across restarts: no replays
        delay = 0.5
        while not self._stop.is_set():
            try:
                self._run(loop, on_message, group)
                return
            except (KafkaException, RuntimeError) as exc:
                self.restarts += 1
                if self.metrics is not None:
                    self.metrics.consumer_restarts.inc()
                log.error("signals consumer failed (%s); restarting in %.1f s", exc, delay)
                self._stop.wait(delay)
                delay = min(delay * 2, 30.0)

    def _run(self, loop: asyncio.AbstractEventLoop, on_message: OnMessage, group: str) -> None:
        consumer = Consumer(
            base_config(
                self.kafka,
                **{
                    "group.id": group,
                    "auto.offset.reset": "earliest" if self.from_beginning else "latest",
                    "enable.auto.commit": True,  # a restart resumes where it was
                },
            )
        )
        consumer.subscribe([t for t in (self.topic, self.events_topic) if t])
        try:
            while not self._stop.is_set():
                msg = consumer.poll(POLL_S)
                if msg is None:
                    continue
                err = msg.error()
                if err is not None:
                    if err.code() != KafkaError._PARTITION_EOF:
                        self.errors += 1
                        log.warning("signals consumer: %s", err.str())
                        if err.fatal():
                            raise KafkaException(err)
                    continue
                self._observe_lag(msg.timestamp())
                is_event = msg.topic() == self.events_topic
                loop.call_soon_threadsafe(on_message, (msg.value() or b"").decode(), is_event)
        finally:
            consumer.close()

    def _observe_lag(self, stamp: tuple[int, int]) -> None:
        kind, ms = stamp
        if self.metrics is not None and kind != 0 and ms > 0:
            self.metrics.lag_seconds.observe(max(time.time() - ms / 1000, 0.0))
