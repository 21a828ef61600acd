"""What the Kafka benchmarks share: fresh topics loaded through the real ingest path, the
spread of repeated runs, and the machine the figures came from."""

from __future__ import annotations

import os
import platform
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from connectors.file_ingest import ingest_files
from connectors.pacing import Pace, Pacer
from snapline.kafka.catalog import TopicCatalog
from snapline.kafka.clients import require_broker
from snapline.kafka.producer import TrackedProducer
from snapline.kafka.topics import apply_topics, delete_topics
from snapline.settings import Settings

ES_ROLES = ("es_mbp10", "es_trades")


@dataclass(frozen=True, slots=True)
class Loaded:
    """Raw ES topics filled by ``snapline ingest dbn``'s own code, and what went in."""

    settings: Settings  # with the run's own topic prefix
    catalog: TopicCatalog
    records: int  # DBN records produced (MBP-10 + trades)
    ingest_s: float  # file -> topics, every delivery acknowledged


@contextmanager
def fresh_topics(tag: str) -> Iterator[tuple[Settings, TopicCatalog]]:
    """Every topic of the catalog under a prefix of its own; deleted afterwards."""
    base = Settings()
    s = base.model_copy(update={"topic_prefix": f"{tag}{uuid.uuid4().hex[:6]}."})
    catalog = TopicCatalog.from_settings(s)
    admin = require_broker(s.kafka)
    apply_topics(admin, catalog)
    try:
        yield s, catalog
    finally:
        delete_topics(admin, [spec.name for spec in catalog.specs])


def load(s: Settings, catalog: TopicCatalog, files: list[Path]) -> Loaded:
    """Ingest ``files`` at full speed, timed from the first read to the last acknowledgement."""
    producer = TrackedProducer(s.kafka)
    t0 = time.perf_counter()
    report = ingest_files(files, producer, catalog, Pacer(Pace.parse("max")),
                          s.produce_batch_records)  # fmt: skip
    seconds = time.perf_counter() - t0
    records = sum(report.records.get(catalog.name(r), 0) for r in ES_ROLES)
    return Loaded(s, catalog, records, seconds)


def spread(values: list[float], digits: int = 2) -> dict[str, float]:
    return {
        "median": round(statistics.median(values), digits),
        "min": round(min(values), digits),
        "max": round(max(values), digits),
    }


def rate(count: int, seconds: list[float]) -> dict[str, float]:
    """Count per second at the median, slowest and fastest run."""
    return {
        "median": round(count / statistics.median(seconds)),
        "min": round(count / max(seconds)),
        "max": round(count / min(seconds)),
    }


def timed_cli(args: list[str], env: dict[str, str], timeout_s: float = 600) -> float:
    """Wall time of ``python -m snapline ARGS`` (or any module), failing loudly."""
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", *args], env=env, capture_output=True,
                          text=True, timeout=timeout_s, check=False)  # fmt: skip
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        msg = f"{' '.join(args)} exited {done.returncode}: {done.stderr[-2000:]}"
        raise RuntimeError(msg)
    return seconds


def child_env(s: Settings, **extra: str) -> dict[str, str]:
    """The environment of a child run: ours, with the run's topics and levels."""
    import json

    return {**os.environ, "SNAPLINE_TOPIC_PREFIX": s.topic_prefix,
            "SNAPLINE_LEVELS": json.dumps(s.levels), **extra}  # fmt: skip


def machine() -> dict[str, Any]:
    def v(name: str) -> str | None:
        try:
            return version(name)
        except PackageNotFoundError:
            return None

    return {
        "cpus": os.cpu_count(),
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "kafka": Settings().broker.kafka_version,
        **{p: v(p) for p in ("bytewax", "confluent-kafka", "numpy", "quixstreams")},
        "librdkafka": _librdkafka(),
        # a shared 2-core machine: the load when the figures were taken says how busy it was
        "load_average_1m_at_end": round(os.getloadavg()[0], 2),
    }


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def _librdkafka() -> str:
    import confluent_kafka

    return str(confluent_kafka.libversion()[0])


def wait_for_port(port: int, timeout_s: float = 30.0) -> None:
    """Return once something listens on ``127.0.0.1:port``; fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    msg = f"nothing listened on port {port} within {timeout_s:.0f} s"
    raise RuntimeError(msg)
