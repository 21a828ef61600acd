"""Entry points: in-process replay over files, and the Kafka flow (also for ``bytewax.run``).

``python -m bytewax.run dataflows.signals.main:kafka_flow_from_env`` runs the production flow
from ``SNAPLINE_*`` settings alone, e.g. as a multi-process cluster.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from bytewax._bytewax import cli_main
from bytewax.dataflow import Dataflow
from bytewax.recovery import RecoveryConfig, init_db_dir

from dataflows.io.files import FailOnBadInput, JsonlSink, LogBadInput, SortedJsonlSink
from dataflows.io.kafka_sink import KafkaSink
from dataflows.io.kafka_source import KafkaRawSource, StartAt
from dataflows.io.replay_files import ReplayCounts, ReplayFileSource
from dataflows.signals.flow import FlowConfig, build_flow
from dataflows.signals.market import MarketConfig
from dataflows.stop_panic import stop_panic_hidden
from snapline.kafka.catalog import TopicCatalog
from snapline.settings import Settings

if TYPE_CHECKING:
    from dataflows.io.lake_source import BronzeLakeSource

RAW_ROLES = (
    "es_mbp10", "es_trades", "options_trades", "options_quotes", "options_greeks", "spy_quotes",
)  # fmt: skip


def _market(settings: Settings, partitions: tuple[str, ...], live: bool) -> MarketConfig:
    return MarketConfig(
        physics=settings.physics,
        partitions=partitions,
        explicit_levels=tuple(settings.levels),
        instrument_id=settings.instrument_id,
        live=live,
        lateness_ms=settings.live_lateness_ms,
        idle_slack_ms=settings.live_idle_slack_ms,
    )


def replay_flow(
    settings: Settings,
    paths: list[Path],
    out: Path,
    events_out: Path | None = None,
    counts: ReplayCounts | None = None,
) -> Dataflow:
    source = ReplayFileSource(paths, settings.produce_batch_records, counts)
    sink = JsonlSink(out, source.counts.written)
    cfg = FlowConfig(_market(settings, source.partitions, live=False))
    events = SortedJsonlSink(events_out) if events_out is not None else None
    return build_flow(source, sink, FailOnBadInput(), cfg, events)


def kafka_flow(settings: Settings, until_end: bool, durable: bool = False) -> Dataflow:
    """The production flow: raw topics -> signals and events topics, bad input dead-lettered.

    ``durable`` (with recovery): output is acknowledged batch by batch, before snapshots."""
    catalog = TopicCatalog.from_settings(settings)
    source = _kafka_source(settings, catalog, until_end, StartAt())
    cfg = FlowConfig(
        _market(settings, source.partitions, live=not until_end),
        signals_topic=catalog.name("signals"),
        events_topic=catalog.name("events"),
        dlq_topics={role: catalog.dlq(role) for role in RAW_ROLES},
    )
    sink = KafkaSink(settings.kafka, durable=durable)
    return build_flow(source, sink, sink, cfg, events=sink)


@dataclass(frozen=True, slots=True)
class RerunOutput:
    """Where a re-run writes: a JSON-lines file or a topic of its own (never the live one)."""

    signals_file: Path | None = None
    signals_topic: str | None = None
    events_file: Path | None = None


def rerun_flow(
    settings: Settings, start: StartAt, out: RerunOutput, lake_root: str | None = None
) -> Dataflow:
    """Retained raw topics from ``start`` to their current end (or the bronze lake under
    ``lake_root``), through the same dataflow."""
    catalog = TopicCatalog.from_settings(settings)
    source: KafkaRawSource | BronzeLakeSource
    if lake_root is not None:
        # imported here: the lake reader pulls in pyarrow and pandas, a quarter second that
        # every other run of the dataflow would pay for nothing
        from dataflows.io.lake_source import BronzeLakeSource

        source = BronzeLakeSource(lake_root, RAW_ROLES)
    else:
        source = _kafka_source(settings, catalog, True, start)
    cfg = FlowConfig(
        _market(settings, source.partitions, live=False),
        signals_topic=out.signals_topic or "file",
    )
    sink = JsonlSink(out.signals_file) if out.signals_file else KafkaSink(settings.kafka)
    events = SortedJsonlSink(out.events_file) if out.events_file else None
    return build_flow(source, sink, LogBadInput(), cfg, events)


def _kafka_source(
    settings: Settings, catalog: TopicCatalog, until_end: bool, start: StartAt
) -> KafkaRawSource:
    live = not until_end
    return KafkaRawSource(
        settings.kafka,
        {role: catalog.name(role) for role in RAW_ROLES},
        until_end=until_end,
        idle_tick=timedelta(milliseconds=settings.physics.snap_ms) if live else None,
        start=start,
    )


def kafka_flow_from_env(mode: str = "tail", durable: bool = False) -> Dataflow:
    """For ``python -m bytewax.run`` (a process of a cluster), settings from ``SNAPLINE_*``:
    ``'dataflows.signals.main:kafka_flow_from_env("until-end")'``; ``mode`` tail or
    until-end. With ``bytewax.run -r`` (recovery) pass ``durable=True``, as
    ``kafka_flow_from_env(durable=True)``, so output is acknowledged before each snapshot."""
    if mode not in ("tail", "until-end"):
        msg = f"mode must be tail or until-end, got {mode!r}"
        raise ValueError(msg)
    return kafka_flow(Settings(), until_end=mode == "until-end", durable=durable)


@dataclass(frozen=True, slots=True)
class Recovery:
    """Bytewax recovery: state and input offsets snapshotted every ``snapshot_s`` into
    ``directory`` (created on first use), so a killed run resumes where it was."""

    directory: Path
    snapshot_s: float = 1.0


def run(flow: Dataflow, recovery: Recovery | None = None) -> None:
    """Run a flow in this process with one worker until its inputs end (or Ctrl-C: Bytewax's
    stop panic is kept off the terminal, ``dataflows/stop_panic.py``)."""
    with stop_panic_hidden():
        if recovery is None:
            cli_main(flow, workers_per_process=1)  # type: ignore[no-untyped-call]  # Rust binding
            return
        if not any(recovery.directory.glob("*.sqlite3")):
            recovery.directory.mkdir(parents=True, exist_ok=True)
            init_db_dir(recovery.directory, 1)  # type: ignore[no-untyped-call]
        cli_main(  # type: ignore[no-untyped-call]
            flow,
            workers_per_process=1,
            epoch_interval=timedelta(seconds=recovery.snapshot_s),
            recovery_config=RecoveryConfig(recovery.directory),  # type: ignore[no-untyped-call]
        )
