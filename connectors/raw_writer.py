"""Raw topics as connectors see them: routed messages by topic role, and dead letters."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from schemas.envelope import DLQ_REASON, DLQ_SOURCE, KafkaHeaders, RawHeaders
from snapline.kafka.catalog import TopicCatalog
from snapline.kafka.producer import TrackedProducer


@dataclass(slots=True)
class RawWriter:
    """Produces into the raw topic of a role; a message that cannot be used goes, bytes
    unchanged, to that topic's dead-letter topic with the reason in a header."""

    producer: TrackedProducer
    catalog: TopicCatalog
    sent: Counter[str] = field(default_factory=Counter)  # topic -> messages
    dead_letters: Counter[str] = field(default_factory=Counter)  # topic -> messages

    def send(self, role: str, key: bytes | None, value: bytes, headers: RawHeaders) -> None:
        topic = self.catalog.name(role)
        self.producer.produce(topic, value, key=key, headers=headers.to_kafka())
        self.sent[topic] += 1

    def dead_letter(
        self, role: str, value: bytes, reason: str, source: str, key: bytes | None = None
    ) -> None:
        topic = self.catalog.dlq(role)
        headers: KafkaHeaders = [
            (DLQ_REASON, reason.encode()),
            (DLQ_SOURCE, source.encode()),
        ]
        self.producer.produce(topic, value, key=key, headers=headers)
        self.dead_letters[topic] += 1

    def describe(self) -> str:
        parts = [f"{n} to {t}" for t, n in sorted(self.sent.items())]
        text = ", ".join(parts) or "nothing produced"
        if self.dead_letters:
            dead = ", ".join(f"{n} to {t}" for t, n in sorted(self.dead_letters.items()))
            text += f"; dead letters: {dead}"
        return text
