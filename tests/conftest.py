"""Shared fixtures. Broker tests use the real local Kafka, started here if it is not running."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from snapline.broker.manager import LocalBroker
from snapline.kafka.catalog import TopicCatalog
from snapline.kafka.clients import require_broker
from snapline.kafka.topics import apply_topics, delete_topics
from snapline.settings import Settings

DATA = Path(__file__).parent / "data"
SAMPLES = Path(__file__).parent.parent / "snapline" / "samples"
ESH4_MBP10 = SAMPLES / "derived_esh4-glbx-mdp3-20231225.mbp-10.dbn.zst"
ESH4_TRADES = SAMPLES / "derived_esh4-glbx-mdp3-20231225.trades.dbn.zst"
ESM4_MBP10 = DATA / "derived_esm4-glbx-mdp3-20240508T000000-000002.mbp-10.dbn.zst"
ESM4_TRADES = DATA / "derived_esm4-glbx-mdp3-20240508T000000-000002.trades.dbn.zst"
# The ESH4 sample's busiest minutes, for the tests that only need real data through the
# pipeline: 22:58-23:10 UTC, Globex's reopen (the sample's first hour has 145 records but
# an hour of snaps), about a sixth of the sample's signals.
ESH4_OPEN_NS = (1_703_545_080_000_000_000, 1_703_545_800_000_000_000)


# Where the broker is: kept through the cleared environment below (and handed to the CLI
# processes tests start), so a test session can use a broker on other ports than 9092/9093.
BROKER_ENV = (
    "SNAPLINE_BROKER__PORT",
    "SNAPLINE_BROKER__CONTROLLER_PORT",
    "SNAPLINE_BROKER__DATA_DIR",
    "SNAPLINE_KAFKA__BOOTSTRAP_SERVERS",
)


def clean_env() -> dict[str, str]:
    """This process's environment without snapline settings, except where the broker is."""
    return {k: v for k, v in os.environ.items() if not k.startswith("SNAPLINE_") or k in BROKER_ENV}


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests start from a cleared snapline environment (the broker's address aside)."""
    _clear_snapline_env(monkeypatch)


def _clear_snapline_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("SNAPLINE_") and key not in BROKER_ENV:
            monkeypatch.delenv(key)


def _xdist_worker() -> bool:
    """Whether this process is one of `make test`'s pytest-xdist workers (not the serial run
    or the workers' controller); xdist sets the variable before a worker's session starts."""
    return "PYTEST_XDIST_WORKER" in os.environ


@contextlib.contextmanager
def _exclusive(lock: Path) -> Iterator[None]:
    """Held by one process of the machine at a time (an flock on ``lock``)."""
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # released when the file closes
        yield


def made_once(factory: pytest.TempPathFactory, name: str, make: Callable[[Path], None]) -> Path:
    """A folder of this test run's, filled by ``make(folder)`` in the first process to ask:
    under ``make test`` two xdist workers share the run's base folder, and the second waits
    for the first's instead of making it again."""
    base = factory.getbasetemp()
    shared = base.parent if _xdist_worker() else base
    folder, made = shared / name, shared / f"{name}.made"
    with _exclusive(shared / f"{name}.lock"):
        if not made.exists():
            shutil.rmtree(folder, ignore_errors=True)  # a half-made one, from a failed make
            folder.mkdir()
            make(folder)
            made.touch()
    return folder


def _replay_sample(files: list[Path], signals: Path, events: Path | None = None) -> None:
    """Replay ``files`` in process at level 480.5, with the settings every test sees."""
    from dataflows.signals.main import replay_flow, run

    with pytest.MonkeyPatch.context() as env:  # as every test sees it (_clean_env, below)
        _clear_snapline_env(env)
        settings = Settings(levels=[480.5])
    run(replay_flow(settings, files, signals, events))


@pytest.fixture(scope="session")
def esh4_replay(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The bundled ESH4 sample replayed in process at level 480.5 (signals, level events),
    once per test run: the reference the Kafka path, the recovery and the replay's own
    checks compare with (the byte-identity test still replays it again itself)."""

    def make(folder: Path) -> None:
        _replay_sample([ESH4_MBP10, ESH4_TRADES], folder / "signals.jsonl", folder / "events.jsonl")

    folder = made_once(tmp_path_factory, "esh4_replay", make)
    return folder / "signals.jsonl", folder / "events.jsonl"


def poll_in_turn(parts: dict[str, Any], deadline_s: float = 60.0) -> tuple[float, int]:
    """Poll built source partitions in turn, a batch each, as a Bytewax worker does, until
    each has delivered its ``PartitionEnd`` (then it is closed, if it can be). Returns how far
    out of time order the messages came, in seconds: the most a message's receive time fell
    behind the latest one delivered before it (what the market step must hold meanwhile), and
    the messages delivered. A poll may come back empty (a fetch under way, or a partition held
    by the alignment)."""
    from dataflows.signals.items import PartitionEnd
    from schemas.envelope import RawMessage, int_header

    latest, worst, delivered = None, 0, 0
    deadline = time.monotonic() + deadline_s
    while parts:
        assert time.monotonic() < deadline, f"{sorted(parts)} never reached their end"
        for name in list(parts):
            for m in parts[name].next_batch():
                if isinstance(m, RawMessage):
                    delivered += 1
                    ts_ns = int_header(m.headers, "ts_recv_ns")
                    if ts_ns is not None:
                        latest = ts_ns if latest is None else max(latest, ts_ns)
                        worst = max(worst, latest - ts_ns)
                elif isinstance(m, PartitionEnd):
                    getattr(parts.pop(name), "close", lambda: None)()
    return worst / 1e9, delivered


def dbn_records(path: Path) -> int:
    """How many records a DBN file holds, by Databento's own decoder."""
    import databento as db

    return len(db.DBNStore.from_bytes(path.read_bytes()).to_ndarray())


def dbn_slice(src: Path, dst: Path, start_ns: int, end_ns: int) -> None:
    """Write to ``dst`` (zstd) the records of DBN file ``src`` with ``start_ns <= ts_event <
    end_ns``, behind the same metadata, with Databento's own decoder and encoder."""
    import databento as db
    import zstandard

    store = db.DBNStore.from_bytes(src.read_bytes())
    records = store.to_ndarray()  # the records' own layout: written back byte for byte
    kept = records[(records["ts_event"] >= start_ns) & (records["ts_event"] < end_ns)]
    dst.write_bytes(zstandard.ZstdCompressor().compress(store.metadata.encode() + kept.tobytes()))


@pytest.fixture(scope="session")
def esh4_open(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The ESH4 sample's MBP-10 and trades cut to its reopen (``ESH4_OPEN_NS``)."""

    def make(folder: Path) -> None:
        for src in (ESH4_MBP10, ESH4_TRADES):
            dbn_slice(src, folder / src.name, *ESH4_OPEN_NS)

    folder = made_once(tmp_path_factory, "esh4_open", make)
    return folder / ESH4_MBP10.name, folder / ESH4_TRADES.name


@pytest.fixture(scope="session")
def esh4_open_replay(
    tmp_path_factory: pytest.TempPathFactory, esh4_open: tuple[Path, Path]
) -> Path:
    """The signals of ``esh4_open`` replayed in process at level 480.5, once per test run."""

    def make(folder: Path) -> None:
        _replay_sample(list(esh4_open), folder / "signals.jsonl")

    return made_once(tmp_path_factory, "esh4_open_replay", make) / "signals.jsonl"


# `make test` runs the suite on two processes (pytest-xdist) that share one broker: the
# first to need it starts it under a lock, and the run's controller stops it once every
# worker is done, so no worker stops it under the other. A broker running before is left.
_BROKER_WAS_RUNNING = pytest.StashKey[bool]()


def pytest_sessionstart(session: pytest.Session) -> None:
    if not _xdist_worker():
        running = LocalBroker(Settings().broker).running_pid() is not None
        session.config.stash[_BROKER_WAS_RUNNING] = running


def pytest_sessionfinish(session: pytest.Session) -> None:
    local = LocalBroker(Settings().broker)
    was_running = session.config.stash.get(_BROKER_WAS_RUNNING, True)
    if not _xdist_worker() and not was_running and local.running_pid() is not None:
        local.stop()


@pytest.fixture(scope="session")
def broker() -> LocalBroker:
    local = LocalBroker(Settings().broker)
    with _exclusive(local.paths.root.with_name(local.paths.root.name + ".lock")):
        if not local.is_ready():
            local.start()
    return local


@pytest.fixture
def settings(broker: LocalBroker) -> Iterator[Settings]:
    """Settings whose topics are this test's own (uuid prefix), created and deleted here."""
    s = Settings(topic_prefix=f"t{uuid.uuid4().hex[:10]}.")
    catalog = TopicCatalog.from_settings(s)
    admin = require_broker(s.kafka)
    apply_topics(admin, catalog)
    yield s
    delete_topics(admin, [spec.name for spec in catalog.specs])
