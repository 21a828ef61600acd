"""Re-runs over retained topics, and recovery from SIGKILL, against the real broker."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from snapline.kafka.catalog import TopicCatalog
from snapline.settings import Settings
from tests.conftest import ESM4_MBP10, ESM4_TRADES, clean_env, dbn_records
from tests.integration.kafka_helpers import read_all, signals_of, snapline

pytestmark = pytest.mark.integration


def _without_publish_time(signals: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in s.items() if k != "ts_publish_ns"} for s in signals]


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_rerun_to_a_file_and_to_a_topic_reproduces_the_original(
    settings: Settings, tmp_path: Path
) -> None:
    s = settings.model_copy(update={"levels": [520.0]})
    assert snapline(s, "ingest", "dbn", str(ESM4_MBP10), str(ESM4_TRADES)).returncode == 0
    assert snapline(s, "run", "signals", "--until-end").returncode == 0
    catalog = TopicCatalog.from_settings(s)
    original = _without_publish_time(signals_of(read_all(s, catalog.name("signals"))))
    assert len(original) > 20

    out = tmp_path / "rerun.jsonl"
    done = snapline(s, "rerun", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert _without_publish_time(_lines(out)) == original

    topic = f"{s.topic_prefix}rerun.signals"
    done = snapline(s, "rerun", "--out-topic", topic)
    assert done.returncode == 0, done.stderr
    assert _without_publish_time(signals_of(read_all(s, topic))) == original
    # the live topic was not touched
    assert len(read_all(s, catalog.name("signals"))) == len(original)

    end = snapline(s, "rerun", "--out", str(out), "--from-time", str(int(time.time() * 1000)))
    assert end.returncode == 0 and out.read_text() == ""  # nothing retained after now

    refused = snapline(s, "rerun", "--out-topic", catalog.name("signals"))
    assert refused.returncode == 2 and "a re-run needs its own" in refused.stderr


def test_sigkill_twice_then_resume_gives_the_uninterrupted_signals(
    settings: Settings, tmp_path: Path, esh4_open: tuple[Path, Path], esh4_open_replay: Path
) -> None:
    s = settings.model_copy(update={"levels": [480.5]})
    assert snapline(s, "ingest", "dbn", *map(str, esh4_open)).returncode == 0
    expected = _without_publish_time(_lines(esh4_open_replay))  # uninterrupted, in process
    signals_topic = TopicCatalog.from_settings(s).name("signals")
    recovery = tmp_path / "recovery"
    env = clean_env()
    env |= {"SNAPLINE_TOPIC_PREFIX": s.topic_prefix, "SNAPLINE_LEVELS": json.dumps(s.levels)}
    cmd = [sys.executable, "-m", "snapline", "run", "signals", "--until-end",
           "--recovery", str(recovery), "--snapshot-s", "0.5"]  # fmt: skip

    kills = 0
    log = tmp_path / "run.log"
    for target in (len(expected) // 8, len(expected) // 3):
        with log.open("wb") as err:
            proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=err)
            deadline = time.monotonic() + 120
            while len(read_all(s, signals_topic, timeout_s=2)) < target:
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline
                time.sleep(0.3)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        kills += 1
    finished = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    assert kills == 2

    published = signals_of(read_all(s, signals_topic, timeout_s=30))
    unique: dict[tuple[str, int], dict[str, Any]] = {}
    for sig in _without_publish_time(published):
        key = (sig["level_id"], sig["ts_event_ns"])
        assert unique.setdefault(key, sig) == sig  # a repeat is the same signal, byte for byte
    got = sorted(unique.values(), key=lambda x: (x["ts_event_ns"], x["level_id"]))
    assert got == expected
    assert len(published) >= len(expected)  # duplicates allowed, nothing lost


def test_lake_killed_twice_holds_every_input_once_and_reruns_the_signals(
    settings: Settings, tmp_path: Path, esh4_open: tuple[Path, Path]
) -> None:
    s = settings.model_copy(update={"levels": [480.5]})
    assert snapline(s, "ingest", "dbn", *map(str, esh4_open)).returncode == 0
    assert snapline(s, "run", "signals", "--until-end").returncode == 0
    catalog = TopicCatalog.from_settings(s)
    signals = _without_publish_time(signals_of(read_all(s, catalog.name("signals"))))
    raw_messages = {
        role: len(read_all(s, catalog.name(role))) for role in ("es_mbp10", "es_trades")
    }

    root, recovery = tmp_path / "lake", tmp_path / "recovery"
    env = clean_env()
    block = 100
    env |= {"SNAPLINE_TOPIC_PREFIX": s.topic_prefix, "SNAPLINE_LAKE__BLOCK_MESSAGES": str(block)}
    cmd = [sys.executable, "-m", "snapline", "run", "lake", "--until-end", "--root", str(root),
           "--recovery", str(recovery), "--snapshot-s", "0.2"]  # fmt: skip
    files_at_end = len(signals) // block  # about: most of the lake is the signals' blocks
    for files in (files_at_end // 8, files_at_end // 2):  # killed twice on the way
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while len(list(root.rglob("*.parquet"))) < files:
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finished = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr

    from lake.read import stats

    by_table = {(t.tier, t.table): t for t in stats(str(root))}
    assert all(t.duplicate_keys == 0 for t in by_table.values())
    assert by_table["bronze", "es_mbp10"].rows == raw_messages["es_mbp10"]
    assert by_table["bronze", "es_trades"].rows == raw_messages["es_trades"]
    mbp10, trades = (dbn_records(f) for f in esh4_open)
    assert by_table["silver", "es_mbp10"].rows == mbp10  # every record of the file, once
    assert by_table["silver", "es_trades"].rows == trades
    assert by_table["gold", "signals"].rows == len(signals)

    out = tmp_path / "from_lake.jsonl"
    done = snapline(s, "rerun", "--from-lake", str(root), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert _without_publish_time(_lines(out)) == signals
