"""``snapline demo``: the whole pipeline on this machine, on the live-paced simulator (or the
bundled real ES sample with ``--sample``).

broker (started if absent) -> topics (fresh ``demo.`` set) -> dataflow (subprocess, tailing)
-> bridge (subprocess) -> the simulated session produced live, stamped from now (or the
sample ingested at the chosen pace) (this process).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import typer

from connectors.file_ingest import ingest_files
from connectors.pacing import Pace, Pacer
from dataflows.stop_panic import STOPPED_EXIT
from snapline.broker.manager import LocalBroker
from snapline.errors import SnaplineError
from snapline.kafka.catalog import TopicCatalog
from snapline.kafka.clients import require_broker
from snapline.kafka.producer import TrackedProducer
from snapline.kafka.topics import apply_topics, delete_topics
from snapline.settings import Settings
from snapline.until_signalled import children_hear_ctrl_c

DEMO_PREFIX = "demo."
DEMO_LEVELS = "[480.5]"  # an explicit level inside the sample's range, beside the round ones
SAMPLE = (
    "derived_esh4-glbx-mdp3-20231225.mbp-10.dbn.zst",
    "derived_esh4-glbx-mdp3-20231225.trades.dbn.zst",
)
SETTLE_S = 3.0
STOP_GRACE_S = 5.0  # after Ctrl-C, for a child to stop on the same Ctrl-C before it is sent one
CHAIN_PAGES = (
    "rest_v3_snapshot_options_SPY__calls_exp2025-10-10_strike_gte673_limit10__captured2025-10-08.json",
    "rest_v3_snapshot_options_SPY__puts_exp2025-10-10_strike_lte673_limit10__captured2025-10-08.json",
)
CHAIN_SHIFT = 193.0  # the captured chain is struck around SPY 673; the ES sample is at ~480
CHAIN_EVERY_S = 60


def sample_files() -> list[Path]:
    root = resources.files("snapline.samples")
    return [Path(str(root / name)) for name in SAMPLE]


def run_demo(pace: str | None, port: int, exit_when_done: bool, sample: bool, hours: float) -> None:
    base = Settings()
    pace = pace or ("20x" if sample else "realtime")
    pacer = Pacer(Pace.parse(pace))
    broker = LocalBroker(base.broker)
    if base.kafka.bootstrap_servers == broker.bootstrap and not broker.is_ready():
        typer.echo(broker.start())
    prefix = base.topic_prefix + DEMO_PREFIX  # under the environment's own prefix, if any
    env = {
        **os.environ,
        "SNAPLINE_TOPIC_PREFIX": prefix,
        "SNAPLINE_LEVELS": DEMO_LEVELS,
    }
    settings = base.model_copy(update={"topic_prefix": prefix})
    catalog = TopicCatalog.from_settings(settings)
    _fresh_topics(settings, catalog)
    waiting = False  # for Ctrl-C, with nothing left to do but serve: a clean exit
    try:
        with (
            _process("dataflow", ["run", "signals"], env),
            _process("bridge", ["bridge", "--port", str(port)], env),
        ):
            _wait_http(f"http://127.0.0.1:{port}/healthz")
            typer.echo(f"signals: ws://127.0.0.1:{port}/ws   (topic {catalog.name('signals')})")
            typer.echo(f"dashboard: http://127.0.0.1:{port}/")
            if sample:
                _replay_sample(settings, catalog, pacer, pace)
            else:
                _simulate(settings, catalog, pacer, pace, hours)
            if exit_when_done:
                time.sleep(SETTLE_S)
                return
            typer.echo("Ctrl-C to stop (the broker keeps running: `snapline broker stop`)")
            waiting = True
            signal.pause()
    except KeyboardInterrupt:
        if not waiting:
            raise


def _replay_sample(settings: Settings, catalog: TopicCatalog, pacer: Pacer, pace: str) -> None:
    polls = publish_demo_chain(settings, catalog)
    typer.echo(f"options chain: {polls} snapshots of 20 contracts (re-struck real rows)")
    typer.echo(f"replaying the bundled ES sample at {pace} ...")
    report = ingest_files(
        sample_files(), TrackedProducer(settings.kafka), catalog, pacer,
        settings.produce_batch_records,
    )  # fmt: skip
    typer.echo(f"sample replayed: {report.describe()}")


def _simulate(
    settings: Settings, catalog: TopicCatalog, pacer: Pacer, pace: str, hours: float
) -> None:
    from connectors.raw_writer import RawWriter
    from connectors.sim_feed import session_feed
    from simulator.params import SessionParams

    writer = RawWriter(TrackedProducer(settings.kafka), catalog)
    feed = session_feed(
        writer, pacer, time.time_ns(), ratio=settings.physics.es_spy_ratio,
        sp=SessionParams(hours=hours), flush_ms=settings.databento.flush_ms,
    )  # fmt: skip
    typer.echo(f"simulating {hours} h of ES + SPY 0DTE options from now, at {pace} ...")
    stop = threading.Event()
    try:
        feed.run(stop)
    except KeyboardInterrupt:
        stop.set()
        raise
    finally:
        typer.echo(feed.describe())


def publish_demo_chain(settings: Settings, catalog: TopicCatalog) -> int:
    """A chain snapshot every minute of the sample, through the Polygon connector's parser,
    so the demo shows fuel: the two real SPY pages, re-struck around the sample's price."""
    from connectors.polygon.chain import parse_page
    from connectors.raw_writer import RawWriter
    from physics.fuel import session_date
    from simulator.option_chain import restrike

    first_ns, last_ns = _time_range(sample_files())
    session = session_date(first_ns)
    root = resources.files("snapline.samples")
    rows = [
        restrike(row, CHAIN_SHIFT, session)
        for name in CHAIN_PAGES
        for row in json.loads((root / name).read_text())["results"]
    ]
    page = json.dumps({"results": rows, "status": "OK"}).encode()
    writer = RawWriter(TrackedProducer(settings.kafka), catalog)
    polls = 0
    for ts in range(first_ns, last_ns, CHAIN_EVERY_S * 1_000_000_000):
        for row in parse_page(page, "demo chain", ts).rows:
            writer.send("options_greeks", row.ticker.encode(), row.value, row.headers)
        polls += 1
    writer.producer.flush()
    return polls


def _time_range(paths: list[Path]) -> tuple[int, int]:
    from connectors.databento.dbn_file import open_dbn

    stamps = [run.last_ts_recv() for path in paths for run in open_dbn(path, 4096)[1]]
    return min(stamps), max(stamps)


def _fresh_topics(settings: Settings, catalog: TopicCatalog) -> None:
    admin = require_broker(settings.kafka)
    existing = set(admin.list_topics(timeout=10).topics)
    old = [s.name for s in catalog.specs if s.name in existing]
    if old:
        delete_topics(admin, old)
        deadline = time.monotonic() + 30
        while old and time.monotonic() < deadline:
            time.sleep(0.5)
            old = [n for n in old if n in admin.list_topics(timeout=10).topics]
    for _ in range(20):  # deletion is asynchronous in the controller: retry until creatable
        try:
            apply_topics(admin, catalog)
            return
        except SnaplineError:
            time.sleep(0.5)
    apply_topics(admin, catalog)


@contextlib.contextmanager
def _process(name: str, args: list[str], env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """A ``snapline`` child on our terminal, stopped with SIGINT as Ctrl-C would (a dataflow
    child keeps Bytewax's stop panic to itself: ``dataflows/stop_panic.py``)."""
    with children_hear_ctrl_c():
        proc = subprocess.Popen([sys.executable, "-m", "snapline", *args], env=env)
    try:
        yield proc
    except KeyboardInterrupt:
        # a terminal's Ctrl-C reached the child too: it is stopping on that one, and a second
        # SIGINT mid-shutdown makes uvicorn raise it again, printed as a traceback
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(STOP_GRACE_S)
        raise
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.returncode not in (0, -signal.SIGINT, STOPPED_EXIT):
            typer.echo(f"{name} exited with code {proc.returncode}", err=True)


def _wait_http(url: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with (
            contextlib.suppress(OSError, urllib.error.URLError),
            urllib.request.urlopen(url, timeout=1.0) as resp,  # noqa: S310 (a loopback URL we built)
        ):
            if resp.status == 200:
                return
        time.sleep(0.2)
    msg = f"{url} did not answer within {timeout_s:g} s"
    raise SnaplineError(msg)
