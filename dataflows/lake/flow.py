"""The lake dataflow: raw, signals and events topics -> bronze / silver / gold Parquet.

    topics -> by source partition -> offset blocks (state: the unfinished block) -> files

Writes are idempotent (file names come from offsets), so with recovery a crash re-writes the
same files and the stored result holds every input once.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from functools import partial

import bytewax.operators as op
from bytewax.dataflow import Dataflow
from bytewax.inputs import Source
from bytewax.operators import StatefulLogic
from bytewax.outputs import DynamicSink, StatelessSinkPartition

from dataflows.signals.items import SourceItem
from lake.blocks import BlockOut, BlockState, add, flush
from lake.store import LakeStore
from schemas.envelope import RawMessage

Item = SourceItem


class BlockLogic(StatefulLogic[Item, BlockOut, BlockState]):
    def __init__(self, state: BlockState, block_size: int) -> None:
        self.state = state
        self.block_size = block_size

    def on_item(self, value: Item) -> tuple[Iterable[BlockOut], bool]:
        if isinstance(value, RawMessage):
            return add(self.state, value, self.block_size), StatefulLogic.RETAIN
        return flush(self.state), StatefulLogic.RETAIN  # input ended or idle: a partial

    def on_eof(self) -> tuple[Iterable[BlockOut], bool]:
        return flush(self.state), StatefulLogic.RETAIN

    def snapshot(self) -> BlockState:
        return copy.deepcopy(self.state)


class _LakePartition(StatelessSinkPartition[BlockOut]):
    def __init__(self, store: LakeStore) -> None:
        self.store = store

    def write_batch(self, items: list[BlockOut]) -> None:
        for out in items:
            self.store.write(out)


class LakeSink(DynamicSink[BlockOut]):
    def __init__(self, root: str) -> None:
        self.root = root

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _LakePartition:
        return _LakePartition(LakeStore(self.root))


def build_lake_flow(source: Source[Item], sink: DynamicSink[BlockOut], block_size: int) -> Dataflow:
    flow = Dataflow("lake")
    raw = op.input("raw", flow, source)
    keyed = op.key_on("by_partition", raw, lambda m: m.partition)
    blocks = op.stateful("blocks", keyed, partial(_logic, block_size))
    op.output("files", op.key_rm("unkey", blocks), sink)
    return flow


def _logic(block_size: int, resume: BlockState | None) -> BlockLogic:
    return BlockLogic(resume or BlockState(), block_size)
