"""The ``snapline`` command line."""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from zoneinfo import ZoneInfo

import typer
from pydantic import ValidationError

from dataflows.cluster import MARKET_EPOCH_S
from dataflows.stop_panic import STOPPED_EXIT, stopped_by_ctrl_c
from physics.config import PhysicsConfig
from snapline.errors import ConfigError, SnaplineError
from snapline.settings import Settings
from vendors.cli import vendors_app

if TYPE_CHECKING:
    from confluent_kafka.admin import AdminClient

    from connectors.raw_writer import RawWriter

app = typer.Typer(
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False, help=__doc__
)
broker_app = typer.Typer(no_args_is_help=True, help="The local single-node Kafka (KRaft).")
topics_app = typer.Typer(no_args_is_help=True, help="Topics as code (redpanda/topics.yaml).")
ingest_app = typer.Typer(no_args_is_help=True, help="Bring vendor data into the raw topics.")
run_app = typer.Typer(no_args_is_help=True, help="Run a dataflow against the broker.")
schema_app = typer.Typer(no_args_is_help=True, help="Published JSON Schemas.")
sim_app = typer.Typer(no_args_is_help=True, help="Simulated markets in real vendor formats.")
bench_app = typer.Typer(no_args_is_help=True, help="Benchmarks that print figures.")
lake_app = typer.Typer(no_args_is_help=True, help="The Parquet lake (bronze/silver/gold).")
app.add_typer(broker_app, name="broker")
app.add_typer(topics_app, name="topics")
app.add_typer(ingest_app, name="ingest")
app.add_typer(run_app, name="run")
app.add_typer(schema_app, name="schema")
app.add_typer(sim_app, name="sim")
app.add_typer(lake_app, name="lake")
app.add_typer(bench_app, name="bench")
app.add_typer(vendors_app, name="vendors")

LevelOpt = Annotated[
    list[float] | None, typer.Option("--level", help="SPY level to track (repeatable)")
]
RatioOpt = Annotated[float | None, typer.Option("--es-spy-ratio", help="ES/SPY ratio [10.0]")]
OptionsOpt = Annotated[
    list[Path] | None,
    typer.Option("--options", help="Polygon capture, .jsonl[.zst] (repeatable; docs/captures.md)"),
]
ProcessesOpt = Annotated[
    int, typer.Option("--processes", min=1, help="local Bytewax processes (a cluster)")
]
SnapOpt = Annotated[int | None, typer.Option("--snap-ms", help="snap grid, ms (100-250) [100]")]


def settings_env(s: Settings) -> dict[str, str]:
    """What child processes need to rebuild ``s`` (what options may have changed)."""
    return {
        "SNAPLINE_LEVELS": json.dumps(s.levels),
        "SNAPLINE_PHYSICS__ES_SPY_RATIO": str(s.physics.es_spy_ratio),
        "SNAPLINE_PHYSICS__SNAP_MS": str(s.physics.snap_ms),
        "SNAPLINE_TOPIC_PREFIX": s.topic_prefix,
        "SNAPLINE_LAKE__ROOT": s.lake.root,
    }


def settings_with(
    levels: list[float] | None = None, ratio: float | None = None, snap_ms: int | None = None
) -> Settings:
    """Settings from the environment, with command-line options on top (validated)."""
    base = Settings()
    physics = base.physics.model_dump()
    if ratio is not None:
        physics["es_spy_ratio"] = ratio
    if snap_ms is not None:
        physics["snap_ms"] = snap_ms
    update: dict[str, object] = {"physics": PhysicsConfig.model_validate(physics)}
    if levels:
        update["levels"] = [*base.levels, *levels]
    return base.model_copy(update=update)


def main() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        app()
    except SnaplineError as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        sys.exit(2)
    except ValidationError as exc:  # a setting from the environment or an option
        typer.secho(f"error: invalid setting: {exc}", fg="red", err=True)
        sys.exit(2)
    except BaseException as exc:
        if stopped_by_ctrl_c(exc):  # Ctrl-C, or Bytewax's errors wrapping it
            sys.exit(STOPPED_EXIT)
        raise


# -- broker -------------------------------------------------------------------------------
@broker_app.command("start")
def broker_start() -> None:
    """Start the local broker (resolving its jars with mvn on first use)."""
    from snapline.broker.manager import LocalBroker

    typer.echo(LocalBroker(Settings().broker).start())


@broker_app.command("stop")
def broker_stop() -> None:
    from snapline.broker.manager import LocalBroker

    typer.echo(LocalBroker(Settings().broker).stop())


@broker_app.command("status")
def broker_status() -> None:
    from snapline.broker.manager import LocalBroker

    typer.echo(LocalBroker(Settings().broker).status())


# -- topics -------------------------------------------------------------------------------
@topics_app.command("apply")
def topics_apply() -> None:
    """Create or align every topic in the definition (idempotent)."""
    from snapline.kafka.catalog import TopicCatalog
    from snapline.kafka.clients import require_broker
    from snapline.kafka.topics import apply_topics

    s = Settings()
    changes = apply_topics(require_broker(s.kafka), TopicCatalog.from_settings(s))
    typer.echo("\n".join(changes) if changes else "topics already match the definition")


@topics_app.command("rpk")
def topics_rpk() -> None:
    """Print the definition as rpk commands, for Redpanda."""
    from snapline.kafka.catalog import TopicCatalog

    typer.echo(TopicCatalog.from_settings(Settings()).rpk_script(), nl=False)


# -- schema -------------------------------------------------------------------------------
@schema_app.command("export")
def schema_export(
    out_dir: Annotated[Path, typer.Option(help="where to write")] = Path("schemas"),
) -> None:
    """Write the LevelSignal JSON Schema (generated from the pydantic model)."""
    from schemas.export import write_schemas

    for path in write_schemas(out_dir):
        typer.echo(f"wrote {path}")


# -- ingest -------------------------------------------------------------------------------
@ingest_app.command("dbn")
def ingest_dbn(
    files: Annotated[list[Path], typer.Argument(help=".dbn or .dbn.zst files")],
    options: OptionsOpt = None,
    pace: Annotated[str, typer.Option(help="realtime, max, or N× (e.g. 10x)")] = "max",
) -> None:
    """Produce DBN records unchanged into the raw ES topics (and a Polygon capture's messages
    into the options/SPY topics), merged by receive time."""
    from connectors.file_ingest import ingest_files
    from connectors.pacing import Pace, Pacer
    from snapline.kafka.catalog import TopicCatalog
    from snapline.kafka.clients import require_broker
    from snapline.kafka.producer import TrackedProducer

    s = Settings()
    pacer = Pacer(Pace.parse(pace))
    require_broker(s.kafka)
    report = ingest_files(
        [*files, *(options or [])],
        TrackedProducer(s.kafka),
        TopicCatalog.from_settings(s),
        pacer,
        s.produce_batch_records,
    )
    typer.echo(report.describe())


@ingest_app.command("polygon")
def ingest_polygon(
    session_date: Annotated[
        str | None,
        typer.Option("--date", help="contracts expiring on this day, YYYY-MM-DD [today, New York]"),
    ] = None,
) -> None:
    """0DTE SPY option trades (+ quotes), the greeks/OI chain and SPY, from Polygon/Massive.

    Runs until SIGINT/SIGTERM, then flushes and prints what it produced.
    """
    from connectors.polygon.ingest import PolygonIngest, polygon_api_key
    from snapline.until_signalled import run_until_signalled

    s = Settings()
    key = polygon_api_key(s.polygon)
    writer = _raw_writer(s)
    ingest = PolygonIngest(s.polygon, key, writer, _session_date(session_date))
    try:
        run_until_signalled(ingest.run)
    finally:
        typer.echo(ingest.describe())


@ingest_app.command("sim")
def ingest_sim(
    pace: Annotated[str, typer.Option(help="realtime, max, or N× (e.g. 10x)")] = "realtime",
    seed: int = 0,
    open_spy: Annotated[float, typer.Option("--open", help="SPY at the start")] = 480.0,
    hours: Annotated[float, typer.Option(help="session length (at most 6.5)")] = 6.5,
    events_per_s: Annotated[float, typer.Option(help="ES book events/s, day average")] = 430.0,
) -> None:
    """A simulated ES + SPY options session, stamped from now, produced live into the raw
    topics (ES as DBN, options/SPY as Polygon messages). Runs until the session ends or
    SIGINT/SIGTERM, then prints what it produced."""
    import threading
    import time

    from connectors.pacing import Pace, Pacer
    from connectors.sim_feed import session_feed
    from simulator.params import SessionParams

    s = Settings()
    sp = SessionParams(hours=hours, events_per_s=events_per_s)
    pacer = Pacer(Pace.parse(pace))
    ratio = s.physics.es_spy_ratio
    feed = session_feed(
        _raw_writer(s), pacer, time.time_ns(), seed, open_spy, ratio, sp, s.databento.flush_ms
    )
    stop = threading.Event()
    with _stop_on_signals(stop):
        feed.run(stop)
    typer.echo(feed.describe())


@ingest_app.command("databento-live")
def ingest_databento_live(
    symbols: Annotated[
        list[str] | None, typer.Option("--symbol", help="e.g. ES.c.0 (default) or ESZ5")
    ] = None,
    stype_in: Annotated[str | None, typer.Option(help="continuous, raw_symbol, parent...")] = None,
) -> None:
    """ES MBP-10 and trades from Databento's live gateway into the raw ES topics.

    Runs until SIGINT/SIGTERM, then flushes and prints what it produced.
    """
    import threading

    from connectors.databento.live import DatabentoLive
    from connectors.secrets import api_key

    s = Settings()
    cfg = s.databento.model_copy(
        update={k: v for k, v in {"symbols": symbols, "stype_in": stype_in}.items() if v}
    )
    key = api_key("Databento", cfg.api_key, cfg.api_key_file, ("DATABENTO_API_KEY",), "DATABENTO")
    writer = _raw_writer(s)
    live = DatabentoLive(cfg, key, writer, s.produce_batch_records)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        live.run(stop)
    finally:
        typer.echo(f"{live.stats.describe()}\nproduced: {writer.describe()}")


def _raw_writer(s: Settings) -> RawWriter:
    """A producer into the raw topics, once the broker has answered."""
    from connectors.raw_writer import RawWriter
    from snapline.kafka.catalog import TopicCatalog
    from snapline.kafka.clients import require_broker
    from snapline.kafka.producer import TrackedProducer

    require_broker(s.kafka)
    return RawWriter(TrackedProducer(s.kafka), TopicCatalog.from_settings(s))


@contextlib.contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGINT/SIGTERM set ``stop`` (the work then finishes cleanly) while inside."""
    handler = lambda *_: stop.set()  # noqa: E731
    old = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, previous in old.items():
            signal.signal(sig, previous)


def _session_date(text: str | None) -> date:
    if text is None:
        return datetime.now(ZoneInfo("America/New_York")).date()
    try:
        return date.fromisoformat(text)
    except ValueError:
        msg = f"--date must be YYYY-MM-DD, got {text!r}"
        raise ConfigError(msg) from None


# -- dataflows ----------------------------------------------------------------------------
@run_app.command("signals")
def run_signals(
    until_end: Annotated[
        bool, typer.Option("--until-end", help="stop once the retained raw data is consumed")
    ] = False,
    level: LevelOpt = None,
    es_spy_ratio: RatioOpt = None,
    snap_ms: SnapOpt = None,
    recovery: Annotated[
        Path | None,
        typer.Option("--recovery", help="snapshot state here; a restart resumes from it"),
    ] = None,
    snapshot_s: Annotated[float, typer.Option(help="seconds between recovery snapshots")] = 1.0,
    processes: ProcessesOpt = 1,
) -> None:
    """Raw ES topics -> LevelSignals on the signals topic (tails unless --until-end)."""
    from dataflows.signals.main import Recovery, kafka_flow, run

    settings = settings_with(level, es_spy_ratio, snap_ms)
    if processes > 1:
        _cluster("dataflows.signals.main:kafka_flow_from_env", processes, until_end, recovery,
                 settings, epoch_s=MARKET_EPOCH_S)  # fmt: skip
        return
    flow = kafka_flow(settings, until_end=until_end, durable=recovery is not None)
    run(flow, Recovery(recovery, snapshot_s) if recovery else None)


@run_app.command("lake")
def run_lake(
    until_end: Annotated[
        bool, typer.Option("--until-end", help="stop once the retained data is stored")
    ] = False,
    root: Annotated[
        str | None, typer.Option("--root", help="lake root: a path or s3://bucket/prefix")
    ] = None,
    recovery: Annotated[
        Path | None,
        typer.Option("--recovery", help="snapshot state here; a restart resumes from it"),
    ] = None,
    snapshot_s: Annotated[float, typer.Option(help="seconds between recovery snapshots")] = 1.0,
    processes: ProcessesOpt = 1,
) -> None:
    """Raw, signals and events topics -> bronze / silver / gold Parquet (exactly once)."""
    from dataflows.lake.main import lake_flow
    from dataflows.signals.main import Recovery, run
    from snapline.kafka.clients import require_broker

    s = Settings()
    require_broker(s.kafka)
    if processes > 1:
        lake = s.model_copy(
            update={"lake": s.lake.model_copy(update={"root": root or s.lake.root})}
        )
        _cluster("dataflows.lake.main:lake_flow_from_env", processes, until_end, recovery, lake)
        typer.echo(f"lake written under {root or s.lake.root}")
        return
    run(lake_flow(s, until_end, root), Recovery(recovery, snapshot_s) if recovery else None)
    typer.echo(f"lake written under {root or s.lake.root}")


def _cluster(
    factory: str,
    processes: int,
    until_end: bool,
    recovery: Path | None,
    s: Settings,
    epoch_s: int | None = None,
) -> None:
    """The flow as ``processes`` local Bytewax processes, these settings in their environment."""
    from dataflows.cluster import run_cluster

    if recovery is not None:
        msg = "--recovery with --processes is not supported here yet: run one process"
        raise ConfigError(msg)
    mode = "until-end" if until_end else "tail"
    run_cluster(f'{factory}("{mode}")', processes, settings_env(s), epoch_s)


@lake_app.command("stats")
def lake_stats(
    root: Annotated[str | None, typer.Option("--root", help="lake root [settings]")] = None,
) -> None:
    """What the lake holds: rows, files, size, dates and duplicates per table."""
    from lake.read import stats

    where = root or Settings().lake.root
    lines = [t.line() for t in stats(where)]
    typer.echo("\n".join(lines) if lines else f"the lake under {where} is empty")


BenchOut = Annotated[Path | None, typer.Option(help="write the figures as JSON")]


def _report(result: Any, describe: Callable[[Any], str], out: Path | None) -> None:
    """Print a benchmark's figures; with ``--out``, keep them as JSON too."""
    typer.echo(describe(result))
    if out is not None:
        out.write_text(json.dumps(result, indent=2) + "\n")


@bench_app.command("all")
def bench_all(
    out_dir: Annotated[Path, typer.Option("--out-dir", help="JSON figures and the plot")] = Path(
        "docs/bench"
    ),
) -> None:
    """Every benchmark, one after another (about 20 minutes here, 9 of them the day)."""
    from bench.all import run_all

    run_all(out_dir, typer.echo)


@bench_app.command("cluster")
def bench_cluster(
    runs: int = 3,
    out: BenchOut = None,
) -> None:
    """The signals dataflow on the bundled sample with 1 and with 2 Bytewax processes."""
    from bench.cluster import describe, run_cluster_bench

    result = run_cluster_bench(runs)
    _report(result, describe, out)


@bench_app.command("bridge")
def bench_bridge(
    clients: int = 500,
    slow: Annotated[int, typer.Option(help="clients that read one message a second")] = 5,
    levels: int = 5,
    snap_ms: int = 250,
    seconds: float = 20.0,
    out: BenchOut = None,
) -> None:
    """WebSocket fan-out on loopback: latency from the snap, loss, slow clients, memory."""
    from bench.bridge_load import describe, run_bridge_load

    summary = run_bridge_load(clients, slow, levels, snap_ms, seconds)
    _report(summary, describe, out)


@bench_app.command("replay")
def bench_replay(
    runs: int = 3,
    out: BenchOut = None,
) -> None:
    """In-process replay throughput of the bundled ES session, and peak memory."""
    from bench.replay import describe, run_replay_bench

    result = run_replay_bench(runs)
    _report(result, describe, out)


@bench_app.command("live")
def bench_live(
    seconds: Annotated[float, typer.Option(help="live session length")] = 40.0,
    burst_s: Annotated[float, typer.Option(help="burst length, mid-session")] = 5.0,
    burst_events_per_s: Annotated[float, typer.Option(help="ES book events/s in it")] = 50_000,
    out: BenchOut = None,
) -> None:
    """Live latency through Kafka, the dataflow and the bridge, with a burst of ES events."""
    from bench.live_latency import describe, run_live_latency

    result = run_live_latency(seconds, burst_s, burst_events_per_s)
    _report(result, describe, out)


DbnOpt = Annotated[
    list[Path] | None, typer.Option("--dbn", help="more DBN files beside the sample (repeatable)")
]
BenchLevelOpt = Annotated[
    list[float] | None, typer.Option("--level", help="explicit SPY level [480.5] (repeatable)")
]
SampleOpt = Annotated[
    bool, typer.Option("--sample/--no-sample", help="load the bundled ES sample (with --dbn)")
]


@bench_app.command("kafka")
def bench_kafka(
    runs: int = 3,
    dbn: DbnOpt = None,
    sample: SampleOpt = True,
    level: BenchLevelOpt = None,
    profile: Annotated[
        int, typer.Option(help="top N functions of one cProfile'd run; 0: none")
    ] = 15,
    out: BenchOut = None,
) -> None:
    """Through a real broker: ingest rate, a bare consumer's limit, the signals dataflow."""
    from bench.kafka_e2e import describe, run_kafka_bench

    result = run_kafka_bench(runs, _bench_files(sample, dbn), tuple(level or [480.5]), profile)
    _report(result, describe, out)


@bench_app.command("scaling")
def bench_scaling(
    minutes: Annotated[float, typer.Option(help="minutes of simulated session replayed")] = 2.0,
    out: BenchOut = None,
    plot: Annotated[Path | None, typer.Option(help="write the plot as PNG")] = None,
) -> None:
    """Replay throughput and peak memory against tracked levels (5-200) and input rate."""
    from bench.scaling import describe, run_scaling
    from bench.scaling import plot as draw

    result = run_scaling(minutes)
    _report(result, describe, out)
    if plot is not None:
        draw(result, plot)


@bench_app.command("day")
def bench_day(
    hours: Annotated[float, typer.Option(help="hours of the session, from 09:30 New York")] = 6.5,
    out: BenchOut = None,
) -> None:
    """A whole simulated day replayed in process: what re-running a day costs, and its peak
    memory (simulating it takes about 5 minutes here, replaying it about 4)."""
    from bench.day import describe, run_day_bench

    result = run_day_bench(hours)
    _report(result, describe, out)


@bench_app.command("peer")
def bench_peer(
    runs: int = 3,
    dbn: DbnOpt = None,
    sample: SampleOpt = True,
    level: BenchLevelOpt = None,
    out: BenchOut = None,
) -> None:
    """snapline against the same features in Quix Streams, on the same raw topics."""
    from bench.peer import describe, run_peer_bench

    result = run_peer_bench(runs, _bench_files(sample, dbn), tuple(level or [480.5]))
    _report(result, describe, out)


def _bench_files(sample: bool, dbn: list[Path] | None) -> list[Path]:
    from snapline.demo import sample_files

    files = [*(sample_files() if sample else []), *(dbn or [])]
    if not files:
        msg = "nothing to load: give --dbn files or keep the sample"
        raise ConfigError(msg)
    return files


@app.command("rerun")
def rerun(
    out: Annotated[Path | None, typer.Option("--out", help="signals to a JSON-lines file")] = None,
    out_topic: Annotated[
        str | None, typer.Option("--out-topic", help="signals to this topic (created if missing)")
    ] = None,
    events_out: Annotated[
        Path | None, typer.Option("--events-out", help="level events to a JSON-lines file")
    ] = None,
    from_time: Annotated[
        str | None, typer.Option("--from-time", help="broker time, ISO (UTC) or Unix ms")
    ] = None,
    from_offset: Annotated[
        list[str] | None,
        typer.Option("--from-offset", help="TOPIC#PARTITION=OFFSET (repeatable)"),
    ] = None,
    from_lake: Annotated[
        str | None, typer.Option("--from-lake", help="read the bronze lake here, not topics")
    ] = None,
    level: LevelOpt = None,
    es_spy_ratio: RatioOpt = None,
    snap_ms: SnapOpt = None,
) -> None:
    """Re-run the signals dataflow over the retained raw topics, into an output of its own.

    Reads from the oldest retained message (or --from-time / --from-offset) to the end that was
    there when it started; the live flow's state and offsets are not touched.
    """
    from dataflows.io.kafka_source import StartAt
    from dataflows.signals.main import RerunOutput, rerun_flow, run
    from snapline.kafka.clients import require_broker

    if (out is None) == (out_topic is None):
        msg = "give exactly one of --out FILE or --out-topic NAME"
        raise ConfigError(msg)
    s = settings_with(level, es_spy_ratio, snap_ms)
    if from_lake is None or out_topic is not None:
        admin = require_broker(s.kafka)
    if out_topic is not None:
        _ensure_output_topic(admin, s, out_topic)
    start = StartAt(_broker_ms(from_time) if from_time else None, _offsets(from_offset or []))
    run(rerun_flow(s, start, RerunOutput(out, out_topic, events_out), from_lake))
    typer.echo(f"re-run written to {out or out_topic}")


def _broker_ms(text: str) -> int:
    from evaluation.events_review import parse_time

    return int(text) if text.isdigit() else parse_time(text) // 1_000_000


def _offsets(items: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in items:
        name, _, offset = item.rpartition("=")
        if "#" not in name or not offset.isdigit():
            msg = f"--from-offset must be TOPIC#PARTITION=OFFSET, got {item!r}"
            raise ConfigError(msg)
        out[name] = int(offset)
    return out


def _ensure_output_topic(admin: AdminClient, s: Settings, name: str) -> None:
    """A topic like the live signals topic, under another name."""
    from snapline.kafka.catalog import TopicCatalog
    from snapline.kafka.topics import apply_topics

    catalog = TopicCatalog.from_settings(s)
    live = catalog.name("signals")
    if name in {spec.name for spec in catalog.specs}:
        msg = f"--out-topic {name} is one of snapline's own topics; a re-run needs its own"
        raise ConfigError(msg)
    template = next(spec for spec in catalog.specs if spec.name == live)
    apply_topics(admin, TopicCatalog([template.model_copy(update={"name": name, "role": "rerun"})]))


@app.command("replay")
def replay(
    dbn: Annotated[list[Path], typer.Option("--dbn", help="DBN file (repeatable)")],
    out: Annotated[Path, typer.Option("--out", help="JSON-lines output")],
    options: OptionsOpt = None,
    events_out: Annotated[
        Path | None, typer.Option("--events-out", help="level events, JSON lines")
    ] = None,
    level: LevelOpt = None,
    es_spy_ratio: RatioOpt = None,
    snap_ms: SnapOpt = None,
) -> None:
    """In-process replay, no broker: the same dataflow, LevelSignals to a JSON-lines file."""
    import time

    from connectors.databento.dbn_file import open_dbn
    from connectors.polygon.capture import check_capture
    from dataflows.io.replay_files import ReplayCounts
    from dataflows.signals.main import replay_flow, run

    for path in dbn:
        open_dbn(path)  # fail on a missing or unreadable file before the dataflow starts
    for path in options or []:
        check_capture(path)
    files = [*dbn, *(options or [])]
    counts = ReplayCounts()
    flow = replay_flow(settings_with(level, es_spy_ratio, snap_ms), files, out, events_out, counts)
    started = time.perf_counter()
    run(flow)
    seconds = time.perf_counter() - started
    es, r, signals = counts.es_records(), counts.records, counts.written["lines"]
    typer.echo(f"wrote {out}" + (f" and {events_out}" if events_out else ""))
    typer.echo(
        f"{es:,} ES records ({r['es_mbp10']:,} MBP-10, {r['es_trades']:,} trades) -> "
        f"{signals:,} signals in {seconds:.2f} s of dataflow: {es / seconds:,.0f} ES records/s, "
        f"{signals / seconds:,.0f} signals/s"
    )


@app.command("events")
def events(
    start: Annotated[str | None, typer.Option("--from", help="ISO time (UTC) or Unix ns")] = None,
    end: Annotated[str | None, typer.Option("--to", help="ISO time (UTC) or Unix ns")] = None,
    level: Annotated[
        list[str] | None, typer.Option("--level", help="level id, e.g. 480.00")
    ] = None,
    kind: Annotated[list[str] | None, typer.Option("--kind", help="e.g. CALL_ISSUED")] = None,
    file: Annotated[
        Path | None, typer.Option("--file", help="read a replay's --events-out, not the topic")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="export instead of printing")] = None,
    fmt: Annotated[str, typer.Option("--format", help="csv, parquet or jsonl")] = "csv",
) -> None:
    """The level events of a period (from the events topic, or a file), printed or exported."""
    from evaluation.events_review import Window, parse_events, parse_time, read_jsonl, select
    from evaluation.events_review import write as write_events
    from snapline.kafka.catalog import TopicCatalog
    from snapline.kafka.clients import require_broker
    from snapline.kafka.snapshot_read import read_to_end

    if fmt not in ("csv", "parquet", "jsonl"):
        msg = f"--format must be csv, parquet or jsonl, got {fmt!r}"
        raise ConfigError(msg)
    window = Window(
        parse_time(start) if start else None,
        parse_time(end) if end else None,
        tuple(level or ()),
        tuple(kind or ()),
    )
    if file is not None:
        values, where = read_jsonl(file), str(file)
    else:
        s = Settings()
        require_broker(s.kafka)
        where = TopicCatalog.from_settings(s).name("events")
        values = list(read_to_end(s.kafka, where))
    typer.echo(write_events(select(parse_events(values, where), window), out, fmt))


@app.command("alerts")
def alerts(
    config: Annotated[Path, typer.Option("--config", help="alert rules and webhooks (YAML)")],
    from_beginning: Annotated[
        bool, typer.Option(help="first run of this group: start at the oldest retained event")
    ] = False,
) -> None:
    """Level events that match the rules -> webhooks (signed, retried, in order per level).

    Runs until SIGINT/SIGTERM, then prints what it delivered.
    """
    from alerts.config import load_alerts
    from alerts.service import AlertService
    from snapline.kafka.catalog import TopicCatalog
    from snapline.kafka.clients import require_broker
    from snapline.until_signalled import run_until_signalled

    cfg = load_alerts(config)
    s = Settings()
    require_broker(s.kafka)
    catalog = TopicCatalog.from_settings(s)
    service = AlertService(
        s.kafka, catalog.name("events"), catalog.dlq("events"), cfg, from_beginning
    )
    try:
        run_until_signalled(service.run)
    finally:
        typer.echo(service.describe())


@app.command("evaluate")
def evaluate(
    signals: Annotated[
        Path, typer.Option("--signals", help="LevelSignals JSON lines (replay output)")
    ],
    out: Annotated[Path, typer.Option("--out", help="report folder")],
    dbn: Annotated[
        list[Path] | None, typer.Option("--dbn", help="MBP-10 file(s) for a finer price path")
    ] = None,
    options: Annotated[
        list[Path] | None,
        typer.Option(
            "--options", help="Polygon capture(s): the fuel regime at each touch, recomputed"
        ),
    ] = None,
    es_spy_ratio: RatioOpt = None,
) -> None:
    """Label every level test in the data and score the calls made before it."""
    from evaluation.report import evaluate as run_evaluation

    cfg = settings_with(ratio=es_spy_ratio).physics
    report = run_evaluation(signals, out, cfg, dbn or None, options or None)
    s = report["summary"]
    typer.echo(
        f"{s['tests']} tests ({s['resolved']} resolved, {s['censored']} censored) over "
        f"{s['sessions']} session(s); hit rate {_fmt(s['hit_rate'])}, coverage "
        f"{_fmt(s['coverage'])}, base rate of breaks {_fmt(s['base_rate_break'])}"
    )
    typer.echo(f"report: {out / 'index.html'}")


def _fmt(rate: dict[str, object]) -> str:
    value = rate.get("value")
    if not isinstance(value, float):
        return f"n/a (n={rate['n']})"
    ci = rate.get("ci95_clustered")
    if not isinstance(ci, list):  # one session: no spread between sessions to measure
        return f"{value:.0%} (n={rate['n']})"
    sessions = rate["sessions"]
    return f"{value:.0%} (n={rate['n']}, 95% CI {ci[0]:.0%}-{ci[1]:.0%} over {sessions} sessions)"


@sim_app.command("scenario")
def sim_scenario(
    name: Annotated[str, typer.Argument(help="wall, absorption, vacuum, sweep or quiet")],
    out: Annotated[Path, typer.Option("--out", help="folder for the DBN files and truth")],
    seed: int = 0,
    level: Annotated[float, typer.Option(help="the SPY level tested")] = 480.0,
    side: Annotated[str, typer.Option(help="support or resistance")] = "support",
) -> None:
    """Simulate a test of a level; writes MBP-10 + trades DBN files and <stem>.truth.json."""
    from simulator.scenarios import SCENARIOS, Plan, run_scenario

    if name not in SCENARIOS or side not in ("support", "resistance"):
        msg = f"scenario must be one of {', '.join(SCENARIOS)} and side support or resistance"
        raise ConfigError(msg)
    truth = run_scenario(Plan(name, level, side, seed), out)  # type: ignore[arg-type]  # checked above
    typer.echo(
        f"{truth['scenario']} {side} seed {seed}: outcome {truth['outcome']}; files in {out}"
    )


@sim_app.command("session")
def sim_session(
    out: Annotated[Path, typer.Option("--out", help="folder for the session's files")],
    day: Annotated[str, typer.Option("--date", help="session date, YYYY-MM-DD")] = "2025-03-14",
    seed: int = 0,
    open_spy: Annotated[float, typer.Option("--open", help="SPY at the open")] = 480.0,
    hours: Annotated[float, typer.Option(help="from 09:30 New York, at most 6.5")] = 6.5,
    events_per_s: Annotated[float, typer.Option(help="ES book events/s, day average")] = 430.0,
) -> None:
    """A whole regular-hours session (~10M ES events by default): MBP-10 + trades DBN, the
    Polygon capture (options, SPY, chain snapshots) and a JSON summary."""
    from rich.progress import Progress

    from simulator.params import SessionParams
    from simulator.session import simulate_session

    sp = SessionParams(hours=hours, events_per_s=events_per_s)
    with Progress(transient=True) as bar:
        task = bar.add_task(f"simulating {day}", total=1.0)
        report = simulate_session(
            _session_date(day), out, seed, open_spy, Settings().physics.es_spy_ratio, sp,
            progress=lambda done: bar.update(task, completed=done),
        )  # fmt: skip
    typer.echo(report.describe())
    typer.echo(f"files: {', '.join(str(f) for f in report.files)}")


@sim_app.command("suite")
def sim_suite(
    out: Annotated[Path, typer.Option("--out", help="folder for every scenario and suite.json")],
    seeds: Annotated[int, typer.Option(help="seeds per scenario and side")] = 5,
    first_seed: Annotated[
        int, typer.Option(min=0, help="seeds first-seed .. first-seed+seeds-1 (held-out runs)")
    ] = 0,
    jobs: Annotated[int, typer.Option(min=1, help="runs at once, one process each")] = 1,
    reuse: Annotated[
        bool,
        typer.Option(
            help="replay the runs already simulated into --out for the same plan instead of "
            "simulating them again (after changing the physics; not after changing the simulator)"
        ),
    ] = False,
) -> None:
    """Every scenario, both sides, N seeds: simulate, replay, and score the calls."""
    from evaluation.suite import run_suite

    report = run_suite(seeds, out, Settings(), first_seed=first_seed, jobs=jobs, reuse=reuse)
    s = report["summary"]
    by = Counter((r["scenario"], r["outcome"], r["call_at_touch"]) for r in report["scenarios"])
    for (name, outcome, call), n in sorted(by.items(), key=str):
        typer.echo(f"{name:<11} outcome {outcome:<9} call at touch {call}: {n}")
    ft = report["first_tests"]
    typer.echo(
        f"first test decided in {ft['decided']} runs: right at the touch {ft['right']}, "
        f"wrong {ft['wrong']}, not called {ft['not_called']}"
    )
    typer.echo(
        f"{s['resolved']} decided tests: hit rate {_fmt(s['hit_rate'])}, coverage "
        f"{_fmt(s['coverage'])}; signals on untested levels of quiet sessions: "
        f"{s['quiet_untested_level_signals']}"
    )
    typer.echo(f"report: {out / 'index.html'} (every figure in {out / 'suite.json'})")


# -- bridge and demo ----------------------------------------------------------------------
@app.command("bridge")
def bridge(
    host: str = "127.0.0.1",
    port: int = 8765,
    from_beginning: Annotated[bool, typer.Option(help="replay retained signals first")] = False,
) -> None:
    """Serve signals and level events: dashboard at http://HOST:PORT/, ws://HOST:PORT/ws,
    /sse, /healthz, /metrics."""
    import uvicorn

    from bridge.app import create_app
    from bridge.consumer import SignalsConsumer
    from snapline.kafka.catalog import TopicCatalog
    from snapline.kafka.clients import require_broker

    s = Settings()
    require_broker(s.kafka)
    catalog = TopicCatalog.from_settings(s)
    consumer = SignalsConsumer(
        s.kafka, catalog.name("signals"), from_beginning, events_topic=catalog.name("events")
    )
    uvicorn.run(
        create_app(consumer, s.bridge),
        host=host,
        port=port,
        log_level="warning",
        ws_max_size=s.bridge.max_message_bytes * 4,  # frames past this are refused at once
    )


@app.command("demo")
def demo(
    pace: Annotated[
        str | None, typer.Option(help="realtime, max or N× [simulator: realtime, sample: 20x]")
    ] = None,
    port: int = 8765,
    sample: Annotated[
        bool, typer.Option(help="replay the bundled real ES sample instead of the simulator")
    ] = False,
    hours: Annotated[float, typer.Option(help="simulated session length")] = 6.5,
    exit_when_done: Annotated[
        bool, typer.Option(help="stop once the feed is done and its signals published")
    ] = False,
) -> None:
    """Run everything locally: broker, topics, dataflow, bridge, and a live-paced simulated
    ES + SPY options session (or the bundled sample)."""
    from snapline.demo import run_demo

    run_demo(pace, port, exit_when_done, sample, hours)
