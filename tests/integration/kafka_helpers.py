"""Helpers for integration tests: topics read back, the CLI run as a user would, a free port."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from typing import Any

from confluent_kafka import Consumer, Message, TopicPartition

from snapline.settings import Settings
from tests.conftest import clean_env


def free_port() -> int:
    """A TCP port nothing listens on now (for a bridge or a vendor server under test)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def read_all(settings: Settings, topic: str, timeout_s: float = 10.0) -> list[Message]:
    """Every message currently in ``topic``, all partitions."""
    c = Consumer(
        {**settings.kafka.client_config(), "group.id": "tests", "enable.auto.commit": False}
    )
    try:
        parts = c.list_topics(topic, timeout=timeout_s).topics[topic].partitions
        ends = {
            p: c.get_watermark_offsets(TopicPartition(topic, p), timeout=timeout_s)[1]
            for p in parts
        }
        c.assign([TopicPartition(topic, p, 0) for p in parts])
        out: list[Message] = []
        deadline = time.monotonic() + timeout_s
        # consume() waits its whole timeout unless the batch fills: ask in short slices
        while len(out) < sum(ends.values()) and time.monotonic() < deadline:
            batch = c.consume(1000, 0.2)
            out += [m for m in batch if m.error() is None]
        return out
    finally:
        c.close()


def signals_of(messages: list[Message]) -> list[dict[str, Any]]:
    return sorted(
        (json.loads(m.value()) for m in messages), key=lambda s: (s["ts_event_ns"], s["level_id"])
    )


def cli_env(settings: Settings, extra_env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment a user's shell would give the CLI, with this test's broker and topics."""
    env = clean_env()
    env |= {
        "SNAPLINE_KAFKA__BOOTSTRAP_SERVERS": settings.kafka.bootstrap_servers,
        "SNAPLINE_TOPIC_PREFIX": settings.topic_prefix,
        "SNAPLINE_LEVELS": json.dumps(settings.levels),
    }
    return env | (extra_env or {})


def snapline(
    settings: Settings, *args: str, extra_env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run the CLI as a user would, with this test's topics."""
    return subprocess.run(
        [sys.executable, "-m", "snapline", *args],
        env=cli_env(settings, extra_env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def snapline_background(
    settings: Settings, *args: str, extra_env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    """Start the CLI as a user would, with this test's topics, and return at once."""
    return subprocess.Popen(
        [sys.executable, "-m", "snapline", *args],
        env=cli_env(settings, extra_env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
