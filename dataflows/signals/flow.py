"""The signals dataflow, built by a factory: production passes Kafka I/O, replay and tests pass
files or in-memory lists, and the steps between are the same code.

    raw -> decode -> [failures -> dead letters]
               \\-> market (one key: sequencing, snap clock, global + per-level book evidence)
                     -> by level id -> level state (side, smoothing, call) -> stamp -> sink
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial

import bytewax.operators as op
from bytewax.dataflow import Dataflow
from bytewax.inputs import Source
from bytewax.operators import StatefulBatchLogic
from bytewax.outputs import Sink

from dataflows.signals.decode import decode
from dataflows.signals.items import (
    DecodeFailure,
    IdleTick,
    LevelInput,
    MarketInput,
    PartitionEnd,
    SinkRecord,
)
from dataflows.signals.level_step import LevelOutput, LevelState, step
from dataflows.signals.market import MarketConfig, MarketState
from schemas.envelope import DLQ_OFFSET, DLQ_REASON, DLQ_SOURCE, RawMessage
from schemas.published import stamped_json

MARKET_KEY = "ES"


@dataclass(frozen=True)
class FlowConfig:
    market: MarketConfig
    signals_topic: str = "levels.signals"
    events_topic: str = "levels.events"
    dlq_topics: dict[str, str] = field(default_factory=dict)  # role -> dead-letter topic
    clock_ns: Callable[[], int] = time.time_ns


class MarketLogic(StatefulBatchLogic[object, LevelInput, MarketState]):
    """Thin Bytewax wrapper over ``MarketState``: takes what Bytewax delivers at once."""

    def __init__(self, state: MarketState) -> None:
        self.state = state

    def on_batch(self, values: list[object]) -> tuple[Iterable[LevelInput], bool]:
        items: list[MarketInput] = []
        for value in values:
            if not isinstance(value, MarketInput):
                msg = f"market step got {type(value).__name__}, expected a decoded batch or marker"
                raise TypeError(msg)
            items.append(value)
        return self.state.add_all(items), StatefulBatchLogic.RETAIN

    def on_eof(self) -> tuple[Iterable[LevelInput], bool]:
        return self.state.finish(), StatefulBatchLogic.RETAIN

    def snapshot(self) -> MarketState:
        return copy.deepcopy(self.state)


def build_flow(
    source: Source[RawMessage | PartitionEnd | IdleTick],
    sink: Sink[SinkRecord],
    dead_letters: Sink[SinkRecord],
    cfg: FlowConfig,
    events: Sink[SinkRecord] | None = None,
) -> Dataflow:
    flow = Dataflow("signals")
    raw = op.input("raw", flow, source)
    decoded = op.map("decode", raw, _decode_item)
    split = op.branch("split_bad", decoded, lambda x: not isinstance(x, DecodeFailure))
    failures = op.map(
        "dead_letter", split.falses, partial(_dead_letter, cfg.dlq_topics, cfg.clock_ns)
    )
    op.output("dead_letters", failures, dead_letters)

    keyed = op.key_on("one_market", split.trues, lambda _: MARKET_KEY)
    builder = partial(_market_logic, cfg)
    inputs = op.key_rm("unkey", op.stateful_batch("market", keyed, builder))
    by_level = op.key_on("by_level", inputs, lambda li: li.level.level_id)
    outputs = op.stateful_map("level", by_level, partial(_level, cfg))
    records = op.map("publish", outputs, partial(_publish, cfg.signals_topic, cfg.clock_ns))
    op.output("signals", records, sink)
    if events is not None:
        happened = op.flat_map("events", outputs, partial(_events, cfg.events_topic, cfg.clock_ns))
        op.output("level_events", happened, events)
    return flow


def _decode_item(item: RawMessage | PartitionEnd | IdleTick) -> object:
    return decode(item) if isinstance(item, RawMessage) else item


def _market_logic(cfg: FlowConfig, resume: MarketState | None) -> MarketLogic:
    return MarketLogic(resume or MarketState(cfg.market, cfg.clock_ns))


def _level(
    cfg: FlowConfig, state: LevelState | None, inp: LevelInput
) -> tuple[LevelState, LevelOutput]:
    return step(state, inp, cfg.market.physics)


def _publish(topic: str, clock_ns: Callable[[], int], kv: tuple[str, LevelOutput]) -> SinkRecord:
    level_id, out = kv
    signal = out.signal
    return SinkRecord(
        topic,
        level_id.encode(),
        stamped_json(signal, clock_ns()),
        signal.ts_event_ns,
        group_size=signal.snap_levels,
    )


def _dead_letter(
    dlq_topics: dict[str, str], clock_ns: Callable[[], int], failure: DecodeFailure
) -> SinkRecord:
    m = failure.message
    headers = [
        *m.headers,
        (DLQ_REASON, failure.reason.encode()),
        (DLQ_SOURCE, m.partition.encode()),
        (DLQ_OFFSET, str(m.offset).encode()),
    ]
    topic = dlq_topics.get(m.role, "dlq." + m.role)
    return SinkRecord(topic, m.key, m.value, clock_ns(), headers)


def _events(
    topic: str, clock_ns: Callable[[], int], kv: tuple[str, LevelOutput]
) -> list[SinkRecord]:
    level_id, out = kv
    now = clock_ns()
    return [
        SinkRecord(
            topic,
            level_id.encode(),
            stamped_json(e, now),
            e.ts_event_ns,
        )
        for e in out.events
    ]
