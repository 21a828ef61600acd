"""A one-run ``snapline bench kafka``: every figure is there, and in the right proportions."""

from __future__ import annotations

import json

import pytest

from bench.kafka_e2e import describe, run_kafka_bench
from snapline.broker.manager import LocalBroker

pytestmark = pytest.mark.integration


def test_one_run_reports_every_stage(broker: LocalBroker) -> None:  # it makes its own topics
    r = run_kafka_bench(runs=1, profile_top=0)
    assert r["input"]["es_records"] == 46_753
    assert r["input"]["raw_messages"] == 184  # 256-record micro-batches, per schema
    assert r["signals_flow"]["signals_published"] == 111_665
    bare, flow = r["bare_consumer"]["records_per_s"], r["signals_flow"]["records_per_s"]
    assert bare["median"] > flow["median"] > 0
    assert r["signals_flow"]["startup_seconds"]["median"] < r["signals_flow"]["seconds"]["median"]
    assert 0 < r["ratio_to_bare"] <= r["ratio_to_bare_after_startup"]
    assert "| bare consumer" in describe(r)
    json.dumps(r)  # the figures are written as JSON
