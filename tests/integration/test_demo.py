"""`snapline demo` (what `make demo` runs) as a new user runs it, shortened: the simulator
through the topics, the dataflow and the bridge, on this test's own topics and port."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from schemas.level_signal import LevelSignal
from snapline.kafka.catalog import TopicCatalog
from snapline.kafka.clients import require_broker
from snapline.kafka.topics import delete_topics
from snapline.settings import Settings
from tests.integration.kafka_helpers import cli_env, free_port, read_all

pytestmark = pytest.mark.integration


def test_demo_publishes_signals_and_stops_cleanly(settings: Settings) -> None:
    port = free_port()
    demo = settings.model_copy(update={"topic_prefix": settings.topic_prefix + "demo."})
    catalog = TopicCatalog.from_settings(demo)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "snapline", "demo", "--hours", "0.004", "--exit-when-done",
             "--port", str(port)],
            env=cli_env(settings), capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert f"dashboard: http://127.0.0.1:{port}/" in done.stdout
        assert f"(topic {catalog.name('signals')})" in done.stdout  # under the env's prefix
        assert "simulated feed:" in done.stdout
        # the dataflow and the bridge were stopped by the demo: quietly, with exit code 0
        assert "panicked" not in done.stderr and "exited with code" not in done.stderr
        signals = [
            LevelSignal.model_validate(json.loads(m.value()))
            for m in read_all(demo, catalog.name("signals"))
        ]
        assert len(signals) > 20
        assert {s.level_price for s in signals} >= {480.5}  # the demo's explicit level
    finally:
        delete_topics(require_broker(demo.kafka), [s.name for s in catalog.specs])
