"""Consume the signals topic on a thread and hand each message to the event loop."""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections.abc import Callable

from confluent_kafka import Consumer, KafkaError

from snapline.kafka.clients import base_config
from snapline.settings import KafkaSettings

log = logging.getLogger(__name__)
POLL_S = 0.1


class SignalsConsumer:
    """Reads ``topic`` from the end (or the beginning) and calls ``on_message(key, value)``
    on the event loop. A private group id: every bridge sees every signal."""

    def __init__(self, kafka: KafkaSettings, topic: str, from_beginning: bool = False) -> None:
        self.kafka = kafka
        self.topic = topic
        self.from_beginning = from_beginning
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.errors = 0

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(
        self, loop: asyncio.AbstractEventLoop, on_message: Callable[[str, str], None]
    ) -> None:
        self._thread = threading.Thread(
            target=self._run, args=(loop, on_message), name="signals-consumer", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self, loop: asyncio.AbstractEventLoop, on_message: Callable[[str, str], None]) -> None:
        consumer = Consumer(
            base_config(
                self.kafka,
                **{
                    "group.id": f"snapline-bridge-{uuid.uuid4()}",
                    "auto.offset.reset": "earliest" if self.from_beginning else "latest",
                    "enable.auto.commit": False,
                },
            )
        )
        consumer.subscribe([self.topic])
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
                    continue
                key = (msg.key() or b"").decode()
                loop.call_soon_threadsafe(on_message, key, (msg.value() or b"").decode())
        finally:
            consumer.close()
