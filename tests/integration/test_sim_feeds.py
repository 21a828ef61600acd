"""The simulator's two ways out, through Kafka: a scenario's files (ES DBN + Polygon capture)
ingested give the signals the in-process replay gives, and the live-paced feed fills every
raw topic the dataflow reads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dataflows.signals.main import replay_flow, run
from simulator.scenarios import Plan, run_scenario
from snapline.kafka.catalog import TopicCatalog
from snapline.settings import Settings
from tests.integration.kafka_helpers import read_all, signals_of, snapline

pytestmark = pytest.mark.integration


def test_scenario_with_options_via_kafka_equals_replay(settings: Settings, tmp_path: Path) -> None:
    truth = run_scenario(Plan("short_gamma", 480.0, "resistance", seed=2, duration_s=60), tmp_path)
    dbn = [tmp_path / str(f) for f in truth["files"]]  # type: ignore[attr-defined]
    capture = tmp_path / str(truth["options"])
    s = settings.model_copy(update={"levels": [480.0]})
    args = [str(f) for f in dbn] + ["--options", str(capture)]
    assert snapline(s, "ingest", "dbn", *args).returncode == 0
    flow = snapline(s, "run", "signals", "--until-end")
    assert flow.returncode == 0, flow.stderr
    via_kafka = signals_of(read_all(s, TopicCatalog.from_settings(s).name("signals")))
    out = tmp_path / "replay.jsonl"
    run(replay_flow(s, [*dbn, capture], out))
    in_process = [json.loads(line) for line in out.read_text().splitlines()]
    for sig in [*via_kafka, *in_process]:
        sig.pop("ts_publish_ns")
    assert via_kafka == in_process
    at_level = [x for x in in_process if x["level_id"] == "480.00"]
    assert at_level and {x["fuel"]["regime"] for x in at_level} - {"MISSING"}


def test_live_feed_fills_every_raw_topic(settings: Settings) -> None:
    done = snapline(settings, "ingest", "sim", "--pace", "max", "--hours", "0.01")
    assert done.returncode == 0, done.stderr
    catalog = TopicCatalog.from_settings(settings)
    for role in ("es_mbp10", "es_trades", "options_trades", "options_quotes", "options_greeks",
                 "spy_quotes"):  # fmt: skip
        assert read_all(settings, catalog.name(role)), role
        assert not read_all(settings, catalog.dlq(role), timeout_s=1.0), role
    flow = snapline(settings, "run", "signals", "--until-end")
    assert flow.returncode == 0, flow.stderr
    signals = signals_of(read_all(settings, catalog.name("signals")))
    assert signals and any(x["fuel"]["regime"] not in ("MISSING",) for x in signals if x["fuel"])
