"""A one-run ``snapline bench kafka``: every figure is there, and in the right proportions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.kafka_e2e import describe, run_kafka_bench
from connectors.databento.messages import SkipCounts, file_messages
from snapline.broker.manager import LocalBroker
from snapline.demo import sample_files
from snapline.settings import Settings

pytestmark = pytest.mark.integration


def test_one_run_reports_every_stage(broker: LocalBroker, esh4_replay: tuple[Path, Path]) -> None:
    r = run_kafka_bench(runs=1, profile_top=0)  # it makes its own topics
    assert r["input"]["es_records"] == 46_753
    # every message ingest cut from the files (micro-batches of records or 10 s, per schema)
    # reached the consumer, none lost or duplicated
    batch = Settings().produce_batch_records
    cut = [file_messages(f, batch, "databento.file", SkipCounts()) for f in sample_files()]
    assert r["input"]["raw_messages"] == sum(1 for found in cut for _ in found)
    # the dataflow published through Kafka every signal an in-process replay publishes
    expected = len(esh4_replay[0].read_text().splitlines())  # the sample at 480.5
    assert r["signals_flow"]["signals_published"] == expected
    bare, flow = r["bare_consumer"]["records_per_s"], r["signals_flow"]["records_per_s"]
    assert bare["median"] > flow["median"] > 0
    assert r["signals_flow"]["startup_seconds"]["median"] < r["signals_flow"]["seconds"]["median"]
    assert 0 < r["ratio_to_bare"] <= r["ratio_to_bare_after_startup"]
    assert "| bare consumer" in describe(r)
    json.dumps(r)  # the figures are written as JSON
