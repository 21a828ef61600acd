"""``snapline alerts``: the events topic -> rules -> webhooks, at least once, in order.

Offsets are committed only up to the oldest alert not yet delivered (or dead-lettered), so a
restart re-sends, never skips; receivers drop repeats by the ``X-Snapline-Event-Id`` header.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from dataclasses import dataclass, field
from functools import partial

from confluent_kafka import Consumer, Message, TopicPartition
from pydantic import ValidationError

from alerts.config import AlertSettings
from alerts.rules import Fired, matches
from alerts.webhook import Alert, WebhookSender
from schemas.level_event import LevelEvent
from snapline.kafka.clients import base_config
from snapline.kafka.producer import TrackedProducer
from snapline.settings import KafkaSettings

log = logging.getLogger(__name__)
GROUP = "snapline-alerts"
COMMIT_EVERY_S = 1.0


@dataclass(slots=True)
class Offsets:
    """The next offset safe to commit per partition: nothing before it is still queued."""

    consumed: dict[int, int] = field(default_factory=dict)  # partition -> next offset
    queued: dict[tuple[int, int], deque[int]] = field(default_factory=dict)  # (hook, p)

    def consume(self, partition: int, offset: int) -> None:
        self.consumed[partition] = offset + 1

    def enqueue(self, hook: int, partition: int, offset: int) -> None:
        self.queued.setdefault((hook, partition), deque()).append(offset)

    def done(self, hook: int, partition: int) -> None:
        self.queued[(hook, partition)].popleft()

    def safe(self) -> dict[int, int]:
        out = dict(self.consumed)
        for (_, p), offsets in self.queued.items():
            if offsets:
                out[p] = min(out[p], offsets[0])
        return out


@dataclass(slots=True)
class AlertStats:
    events: int = 0
    alerts: int = 0
    unreadable: int = 0


class AlertService:
    def __init__(
        self,
        kafka: KafkaSettings,
        events_topic: str,
        dlq_topic: str,
        cfg: AlertSettings,
        from_beginning: bool = False,
    ) -> None:
        self.kafka = kafka
        self.topic = events_topic
        self.dlq_topic = dlq_topic
        self.cfg = cfg
        self.from_beginning = from_beginning
        self.stats = AlertStats()
        self.offsets = Offsets()
        self.fired = Fired()
        self.producer = TrackedProducer(kafka)
        self.senders = [
            WebhookSender(
                hook,
                self.dead_letter,
                partial(self._finished, i),
                cfg.retry_initial_s,
                cfg.retry_max_s,
            )
            for i, hook in enumerate(cfg.webhooks)
        ]

    def _finished(self, hook: int, alert: Alert) -> None:
        self.offsets.done(hook, alert.partition)

    def dead_letter(self, alert: Alert, reason: str) -> None:
        headers = [("dlq.reason", reason.encode()), ("dlq.source", b"alerts")]
        self.producer.produce(self.dlq_topic, alert.body, alert.level_id.encode(), headers)

    def handle(self, m: Message) -> None:
        partition, offset = m.partition() or 0, m.offset() or 0
        self.offsets.consume(partition, offset)
        try:
            event = LevelEvent.model_validate_json(m.value() or b"")
        except ValidationError as exc:
            self.stats.unreadable += 1
            log.error("%s@%d:%d is not a LevelEvent: %s", self.topic, partition, offset, exc)
            return
        self.stats.events += 1
        for index, sender in enumerate(self.senders):
            rule = next((r for r in sender.hook.rules if matches(r, event, self.fired)), None)
            if rule is None:
                continue  # one alert per webhook per event: the first rule that matches
            body = json.dumps({"rule": rule.name, "event": event.model_dump(mode="json")})
            self.offsets.enqueue(index, partition, offset)
            sender.offer(Alert(event.event_id, event.level_id, body.encode(), partition))
            self.stats.alerts += 1

    async def run(self, stop: asyncio.Event) -> None:
        consumer = Consumer(
            base_config(
                self.kafka,
                **{
                    "group.id": GROUP,
                    "enable.auto.commit": False,
                    "auto.offset.reset": "earliest" if self.from_beginning else "latest",
                },
            )
        )
        consumer.subscribe([self.topic])
        tasks = [asyncio.create_task(s.run()) for s in self.senders]
        committed: dict[int, int] = {}
        last_commit = asyncio.get_running_loop().time()
        try:
            while not stop.is_set():
                batch = await asyncio.to_thread(consumer.consume, 200, 0.2)
                for m in batch:
                    if m.error() is None:
                        self.handle(m)
                now = asyncio.get_running_loop().time()
                if now - last_commit >= COMMIT_EVERY_S:
                    committed = _commit(consumer, self.topic, self.offsets.safe(), committed)
                    last_commit = now
                for t in tasks:
                    if t.done():
                        t.result()  # a sender crashed: stop loudly
        finally:
            for t in tasks:
                t.cancel()
            _commit(consumer, self.topic, self.offsets.safe(), committed)
            consumer.close()
            self.producer.flush()

    def describe(self) -> str:
        parts = [
            f"{self.stats.events} events, {self.stats.alerts} alerts, "
            f"{self.stats.unreadable} unreadable"
        ]
        for s in self.senders:
            st = s.stats
            parts.append(
                f"{s.hook.url}: {st.delivered} delivered, {st.failed_attempts} failed attempts, "
                f"{st.rejected} refused, {st.overflowed} overflowed, {s.queue.qsize()} queued"
            )
        return "\n".join(parts)


def _commit(
    consumer: Consumer, topic: str, safe: dict[int, int], committed: dict[int, int]
) -> dict[int, int]:
    changed = [TopicPartition(topic, p, o) for p, o in safe.items() if committed.get(p) != o]
    if changed:
        consumer.commit(offsets=changed, asynchronous=False)
    return {**committed, **{tp.partition: tp.offset for tp in changed}}
