"""The signals and lake dataflows as 2-process Bytewax clusters: the same output as one
process on the same retained input."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.dataset as ds
import pytest

from simulator.scenarios import Plan, run_scenario
from snapline.kafka.catalog import TopicCatalog
from snapline.settings import Settings
from tests.integration.kafka_helpers import read_all, signals_of, snapline

pytestmark = pytest.mark.integration


@pytest.fixture
def loaded(settings: Settings, tmp_path: Path) -> Settings:
    truth = run_scenario(Plan("long_gamma", 480.0, "support", seed=5, duration_s=60), tmp_path)
    files = [str(tmp_path / str(f)) for f in truth["files"]]  # type: ignore[attr-defined]
    s = settings.model_copy(update={"levels": [480.0]})
    done = snapline(s, "ingest", "dbn", *files, "--options", str(tmp_path / str(truth["options"])))
    assert done.returncode == 0, done.stderr
    return s


def test_two_processes_publish_exactly_what_one_does(loaded: Settings, tmp_path: Path) -> None:
    one = tmp_path / "one-process.jsonl"
    done = snapline(loaded, "rerun", "--out", str(one))  # one process, the same retained input
    assert done.returncode == 0, done.stderr
    done = snapline(loaded, "run", "signals", "--until-end", "--processes", "2")
    assert done.returncode == 0, done.stderr
    topic = TopicCatalog.from_settings(loaded).name("signals")
    two = signals_of(read_all(loaded, topic))
    single = [json.loads(line) for line in one.read_text().splitlines()]
    for sig in [*two, *single]:
        sig.pop("ts_publish_ns")
    assert len(single) > 1000
    assert two == sorted(single, key=lambda x: (x["ts_event_ns"], x["level_id"]))


def test_lake_cluster_stores_every_raw_message_once(loaded: Settings, tmp_path: Path) -> None:
    roots = {n: tmp_path / f"lake{n}" for n in (1, 2)}
    for n, root in roots.items():
        done = snapline(loaded, "run", "lake", "--until-end", "--root", str(root),
                        "--processes", str(n))  # fmt: skip
        assert done.returncode == 0, done.stderr
    tables = {
        n: ds.dataset(root / "bronze", partitioning="hive").to_table().to_pylist()
        for n, root in roots.items()
    }
    key = lambda r: (r["partition"], r["offset"])  # noqa: E731
    assert len(tables[1]) > 100
    assert sorted(tables[2], key=key) == sorted(tables[1], key=key)
