"""Shared fixtures. Broker tests use the real local Kafka, started here if it is not running."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

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
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("SNAPLINE_") or k in BROKER_ENV}


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests start from a cleared snapline environment (the broker's address aside)."""
    _clear_snapline_env(monkeypatch)


def _clear_snapline_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for key in list(os.environ):
        if key.startswith("SNAPLINE_") and key not in BROKER_ENV:
            monkeypatch.delenv(key)


@pytest.fixture(scope="session")
def esh4_replay(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The bundled ESH4 sample replayed in process at level 480.5 (signals, level events),
    once per test session: the reference the Kafka path, the recovery and the replay's own
    checks compare with (the byte-identity test still replays it again itself)."""
    from dataflows.signals.main import replay_flow, run

    folder = tmp_path_factory.mktemp("esh4_replay")
    signals, events = folder / "signals.jsonl", folder / "events.jsonl"
    with pytest.MonkeyPatch.context() as env:  # as every test sees it (_clean_env, below)
        _clear_snapline_env(env)
        settings = Settings(levels=[480.5])
    run(replay_flow(settings, [ESH4_MBP10, ESH4_TRADES], signals, events))
    return signals, events


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
    folder = tmp_path_factory.mktemp("esh4_open")
    cut = (folder / ESH4_MBP10.name, folder / ESH4_TRADES.name)
    for src, dst in zip((ESH4_MBP10, ESH4_TRADES), cut, strict=True):
        dbn_slice(src, dst, *ESH4_OPEN_NS)
    return cut


@pytest.fixture(scope="session")
def esh4_open_replay(
    tmp_path_factory: pytest.TempPathFactory, esh4_open: tuple[Path, Path]
) -> Path:
    """The signals of ``esh4_open`` replayed in process at level 480.5, once per session."""
    from dataflows.signals.main import replay_flow, run

    signals = tmp_path_factory.mktemp("esh4_open_replay") / "signals.jsonl"
    with pytest.MonkeyPatch.context() as env:
        _clear_snapline_env(env)
        settings = Settings(levels=[480.5])
    run(replay_flow(settings, list(esh4_open), signals))
    return signals


@pytest.fixture(scope="session")
def broker() -> Iterator[LocalBroker]:
    local = LocalBroker(Settings().broker)
    started = not local.is_ready()
    if started:
        local.start()
    yield local
    if started:
        local.stop()


@pytest.fixture
def settings(broker: LocalBroker) -> Iterator[Settings]:
    """Settings whose topics are this test's own (uuid prefix), created and deleted here."""
    s = Settings(topic_prefix=f"t{uuid.uuid4().hex[:10]}.")
    catalog = TopicCatalog.from_settings(s)
    admin = require_broker(s.kafka)
    apply_topics(admin, catalog)
    yield s
    delete_topics(admin, [spec.name for spec in catalog.specs])
