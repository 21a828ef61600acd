"""Entry points: in-process replay over files, and the Kafka flow (also for ``bytewax.run``).

``python -m bytewax.run dataflows.signals.main:kafka_flow_from_env`` runs the production flow
from ``SNAPLINE_*`` settings alone, e.g. as a multi-process cluster.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bytewax._bytewax import cli_main
from bytewax.dataflow import Dataflow

from dataflows.io.dbn_files import DbnFileSource
from dataflows.io.files import FailOnBadInput, JsonlSink, SortedJsonlSink
from dataflows.io.kafka_sink import KafkaSink
from dataflows.io.kafka_source import KafkaRawSource
from dataflows.signals.flow import FlowConfig, build_flow
from dataflows.signals.market import MarketConfig
from snapline.kafka.catalog import TopicCatalog
from snapline.settings import Settings

RAW_ROLES = ("es_mbp10", "es_trades")


def _market(settings: Settings, partitions: tuple[str, ...], live: bool) -> MarketConfig:
    return MarketConfig(
        physics=settings.physics,
        partitions=partitions,
        explicit_levels=tuple(settings.levels),
        instrument_id=settings.instrument_id,
        live=live,
        lateness_ms=settings.live_lateness_ms,
    )


def replay_flow(
    settings: Settings, paths: list[Path], out: Path, events_out: Path | None = None
) -> Dataflow:
    source = DbnFileSource(paths, settings.produce_batch_records)
    cfg = FlowConfig(_market(settings, source.partitions, live=False))
    events = SortedJsonlSink(events_out) if events_out is not None else None
    return build_flow(source, JsonlSink(out), FailOnBadInput(), cfg, events)


def kafka_flow(settings: Settings, until_end: bool) -> Dataflow:
    catalog = TopicCatalog.from_settings(settings)
    topics = {role: catalog.name(role) for role in RAW_ROLES}
    live = not until_end
    source = KafkaRawSource(
        settings.kafka,
        topics,
        until_end=until_end,
        idle_tick=timedelta(milliseconds=settings.physics.snap_ms) if live else None,
    )
    cfg = FlowConfig(
        _market(settings, source.partitions, live=live),
        signals_topic=catalog.name("signals"),
        events_topic=catalog.name("events"),
        dlq_topics={role: catalog.dlq(role) for role in RAW_ROLES},
    )
    sink = KafkaSink(settings.kafka)
    return build_flow(source, sink, sink, cfg, events=sink)


def kafka_flow_from_env() -> Dataflow:
    return kafka_flow(Settings(), until_end=False)


def run(flow: Dataflow) -> None:
    """Run a flow in this process with one worker until its inputs end."""
    cli_main(flow, workers_per_process=1)  # type: ignore[no-untyped-call]  # Rust binding
