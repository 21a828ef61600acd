"""The Quix Streams peer against snapline, both through the real broker on the bundled ES
sample's reopen (``esh4_open``): the same barrier and tape features at every (snap, level),
exactly.

Tolerance: integers (depth, added, cancelled, filled, buy and sell volume) equal; the barrier
score (net outflow and thickness) within 1e-9; the tape on every snap but those of the last
window, which Quix never closes (no later trade arrives).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.common import load
from bench.peer_compare import compare, read_json
from snapline.kafka.catalog import TopicCatalog
from snapline.kafka.clients import require_broker
from snapline.kafka.topics import delete_topics
from snapline.settings import Settings
from tests.conftest import clean_env, dbn_records
from tests.integration.kafka_helpers import snapline

pytestmark = pytest.mark.integration


def test_quix_features_equal_snaplines_on_the_sample(
    settings: Settings, esh4_open: tuple[Path, Path], esh4_open_replay: Path
) -> None:
    s = settings.model_copy(update={"levels": [480.5]})
    catalog = TopicCatalog.from_settings(s)
    loaded = load(s, catalog, list(esh4_open))
    assert loaded.records == sum(dbn_records(f) for f in esh4_open)
    peer_topic = f"{s.topic_prefix}peer.quix.features"
    env = clean_env() | {"SNAPLINE_TOPIC_PREFIX": s.topic_prefix,
                         "SNAPLINE_LEVELS": json.dumps(s.levels)}  # fmt: skip
    try:
        quix = subprocess.run(
            [sys.executable, "-m", "bench.peer_quix", "--out-topic", peer_topic],
            env=env, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert quix.returncode == 0, quix.stderr
        flow = snapline(s, "run", "signals", "--until-end")
        assert flow.returncode == 0, flow.stderr
        agreement = compare(read_json(s, catalog.name("signals")), read_json(s, peer_topic))
    finally:
        delete_topics(require_broker(s.kafka), [peer_topic])
    # every active signal of `snapline replay` on the same data (its farewells of leaving
    # levels, which the peer does not publish, are left out)
    replayed = [json.loads(line) for line in esh4_open_replay.read_text().splitlines()]
    assert agreement.snapline_rows == sum(sig["active"] for sig in replayed)
    assert agreement.exact, agreement.describe() + f" {agreement.examples}"
    assert agreement.tape_compared > 0.9 * agreement.snapline_rows  # all but the last window
