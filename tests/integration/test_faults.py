"""Faults on loopback, each checked for loss and corruption: the broker stopped and restarted
under a paced ingest and under a running dataflow; a process of a 2-process cluster killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, TopicPartition

from dataflows.signals.main import replay_flow, run
from simulator.scenarios import Plan, run_scenario
from snapline.broker.manager import LocalBroker
from snapline.kafka.catalog import TopicCatalog
from snapline.kafka.clients import require_broker
from snapline.kafka.topics import apply_topics
from snapline.settings import BrokerSettings, Settings
from snapline.until_signalled import children_hear_ctrl_c
from tests.integration.kafka_helpers import (
    cli_env,
    free_port,
    read_all,
    signals_of,
    snapline,
    snapline_background,
)

pytestmark = pytest.mark.integration
OUTAGE_S = 5.0


def _scenario(tmp_path: Path, seconds: float = 240) -> list[Path]:
    truth = run_scenario(Plan("vacuum", 480.0, "support", seed=4, duration_s=seconds), tmp_path)
    return [tmp_path / str(f) for f in [*truth["files"], truth["options"]]]  # type: ignore[misc]


def _cli(s: Settings, *args: str) -> subprocess.Popen[str]:
    return snapline_background(s, *args, extra_env={"RUST_BACKTRACE": "0"})


def _workers(parent: int, n: int, timeout_s: float = 60.0) -> list[int]:
    """The pids of a cluster's ``n`` processes, once all have started."""
    deadline = time.monotonic() + timeout_s
    workers: list[int] = []
    while len(workers) < n and time.monotonic() < deadline:
        found = subprocess.run(["pgrep", "-P", str(parent)], capture_output=True, text=True)
        workers = [int(p) for p in found.stdout.split()]
        time.sleep(0.2)
    assert len(workers) == n
    return workers


def _outage(broker: LocalBroker, held: subprocess.Popen[str] | None = None) -> float:
    """Stop the broker, keep it down ``OUTAGE_S``, start it; returns seconds until ready.
    ``held``: a process paused (SIGSTOP) so that the outage starts while it is mid-run; it
    goes on once the broker is down."""
    broker.stop()
    if held is not None:
        os.kill(held.pid, signal.SIGCONT)
    time.sleep(OUTAGE_S)
    t0 = time.monotonic()
    broker.start()
    return time.monotonic() - t0


def _await_first_signals(s: Settings, flow: subprocess.Popen[str], timeout_s: float = 60.0) -> None:
    """Return once the signals topic holds a message (the flow is consuming and publishing)."""
    topic = TopicCatalog.from_settings(s).name("signals")
    c = Consumer({**s.kafka.client_config(), "group.id": "tests"})
    try:
        parts = c.list_topics(topic, timeout=10).topics[topic].partitions
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and flow.poll() is None:
            ends = [c.get_watermark_offsets(TopicPartition(topic, p))[1] for p in parts]
            if sum(ends) > 0:
                return
            time.sleep(0.02)
    finally:
        c.close()
    raise AssertionError(f"no signal published: {flow.poll()=}")


def _replayed(s: Settings, files: list[Path], out: Path) -> list[dict[str, Any]]:
    run(replay_flow(s, files, out))
    return [json.loads(line) for line in out.read_text().splitlines()]


def _strip(signals: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in x.items() if k != "ts_publish_ns"} for x in signals]


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[LocalBroker]:
    """A broker of the test's own, on free ports: the test stops it, which the broker the
    other tests share (some running beside this one) must never be."""
    port = controller = free_port()
    while controller == port:  # two asks may name the same free port
        controller = free_port()
    local = LocalBroker(
        BrokerSettings(port=port, controller_port=controller, data_dir=tmp_path / "broker")
    )
    local.start()
    yield local
    local.stop()


def test_broker_restart_under_ingest_and_dataflow_loses_nothing(
    own_broker: LocalBroker, tmp_path: Path
) -> None:
    broker = own_broker
    s = Settings(kafka=broker.kafka_settings(), topic_prefix="restart.", levels=[480.0])
    apply_topics(require_broker(s.kafka), TopicCatalog.from_settings(s))
    files = _scenario(tmp_path)
    dbn, capture = [str(f) for f in files[:2]], str(files[2])
    # 1. a paced ingest (about 24 s) with the broker down for 5 s in the middle
    ingest = _cli(s, "ingest", "dbn", *dbn, "--options", capture, "--pace", "10x")
    time.sleep(6)
    assert ingest.poll() is None, ingest.communicate()
    _outage(broker)
    _, err = ingest.communicate(timeout=180)
    assert ingest.returncode == 0, err
    # 2. the dataflow over it, with the broker down for 5 s mid-run: held (SIGSTOP) once its
    # first signals are out, so the outage starts mid-run however fast the flow is (it read
    # the whole topic in under 4 s on CI, before a fixed sleep ended)
    flow = _cli(s, "run", "signals", "--until-end")
    _await_first_signals(s, flow)
    os.kill(flow.pid, signal.SIGSTOP)
    assert flow.poll() is None, "the flow ended before the outage"
    _outage(broker, held=flow)
    _, err = flow.communicate(timeout=300)
    assert flow.returncode == 0, err
    via_kafka = signals_of(read_all(s, TopicCatalog.from_settings(s).name("signals")))
    replayed = _replayed(s, files, tmp_path / "replay.jsonl")
    assert len(replayed) > 1000
    assert _strip(via_kafka) == _strip(replayed)  # nothing lost, nothing doubled


def test_a_killed_cluster_process_stops_the_cluster_loudly(
    settings: Settings, tmp_path: Path
) -> None:
    s = settings.model_copy(update={"levels": [480.0]})
    files = _scenario(tmp_path, seconds=60)
    done = snapline(s, "ingest", "dbn", *map(str, files[:2]), "--options", str(files[2]))
    assert done.returncode == 0, done.stderr
    cluster = _cli(s, "run", "signals", "--until-end", "--processes", "2")
    workers = _workers(cluster.pid, 2)
    time.sleep(1.0)  # mid-run: both are consuming
    os.kill(workers[1], signal.SIGKILL)
    _, err = cluster.communicate(timeout=60)
    assert cluster.returncode == 2  # a clear error, not a hang
    assert "cluster process" in err and "exited with -9" in err
    # restarted, it publishes everything again: at least once, deduplicated by (level, snap)
    done = snapline(s, "run", "signals", "--until-end", "--processes", "2")
    assert done.returncode == 0, done.stderr
    signals = signals_of(read_all(s, TopicCatalog.from_settings(s).name("signals")))
    unique = {(x["level_id"], x["ts_event_ns"]): x for x in _strip(signals)}
    replayed = _replayed(s, files, tmp_path / "replay.jsonl")
    assert sorted(unique.values(), key=lambda x: (x["ts_event_ns"], x["level_id"])) == _strip(
        replayed
    )


def test_ctrl_c_stops_a_cluster_quietly(settings: Settings) -> None:
    # as a terminal does it: SIGINT to the whole process group, the CLI and both workers
    with children_hear_ctrl_c():  # as a terminal starts it, however pytest was started
        cluster = subprocess.Popen(
            [sys.executable, "-m", "snapline", "run", "signals", "--processes", "2"],
            env=cli_env(settings, {"RUST_BACKTRACE": "1"}),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
    _workers(cluster.pid, 2)
    time.sleep(3.0)  # both are tailing the raw topics
    os.killpg(cluster.pid, signal.SIGINT)
    _, err = cluster.communicate(timeout=60)
    assert cluster.returncode == 130, err  # the user's stop, not "cluster process 1 failed"
    assert "Traceback" not in err and "panicked" not in err and "error:" not in err, err
    assert subprocess.run(["pgrep", "-P", str(cluster.pid)], check=False).returncode == 1
