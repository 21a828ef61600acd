"""Entry point of the lake dataflow (``snapline run lake``)."""

from __future__ import annotations

from datetime import timedelta

from bytewax.dataflow import Dataflow

from dataflows.io.kafka_source import KafkaRawSource
from dataflows.lake.flow import LakeSink, build_lake_flow
from snapline.kafka.catalog import TopicCatalog
from snapline.settings import Settings

LAKE_ROLES = (
    "es_mbp10", "es_trades", "options_trades", "options_quotes", "options_greeks",
    "spy_quotes", "spy_trades", "signals", "events",
)  # fmt: skip
IDLE_FLUSH = timedelta(seconds=5)  # live: an idle partition's unfinished block is written


def lake_flow(settings: Settings, until_end: bool, root: str | None = None) -> Dataflow:
    catalog = TopicCatalog.from_settings(settings)
    source = KafkaRawSource(
        settings.kafka,
        {role: catalog.name(role) for role in LAKE_ROLES},
        until_end=until_end,
        idle_tick=None if until_end else IDLE_FLUSH,
    )
    _ = source.partitions  # a missing topic is a clear error now, not inside the dataflow
    sink = LakeSink(root or settings.lake.root)
    return build_lake_flow(source, sink, settings.lake.block_messages)


def lake_flow_from_env(mode: str = "tail") -> Dataflow:
    """For ``python -m bytewax.run`` (one process of a cluster); ``mode`` tail or until-end."""
    if mode not in ("tail", "until-end"):
        msg = f"mode must be tail or until-end, got {mode!r}"
        raise ValueError(msg)
    return lake_flow(Settings(), until_end=mode == "until-end")
