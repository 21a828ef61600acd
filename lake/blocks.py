"""Per-partition offset blocks (pure): the unit the lake writes, idempotently.

Block ``k`` of a partition holds the messages with offsets in ``[k*N, (k+1)*N)``. It is written
complete once a later offset arrives, and as a ``partial`` file (superseded later) when the
input ends or idles. Because the boundaries come from offsets, a replay or a recovery writes
the same files again, with the same content. Silver and gold rows are de-duplicated by their
natural key within a block and against the previous block, so a vendor event delivered twice
is stored once.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field

from lake.rows import NATURAL_KEY, SILVER_KEY, Row, bronze_row, gold_rows, silver_rows
from schemas.envelope import RawMessage

GOLD_ROLES = frozenset({"signals", "events"})


@dataclass(frozen=True, slots=True)
class BlockOut:
    partition: str
    role: str
    block: int
    complete: bool
    had_partial: bool  # a partial file of this block may exist: remove it
    bronze: list[Row]  # empty for gold roles
    typed: list[Row]  # silver or gold rows, de-duplicated
    duplicates: int

    @property
    def tier(self) -> str:
        return "gold" if self.role in GOLD_ROLES else "silver"


@dataclass(slots=True)
class BlockState:
    block: int | None = None
    role: str = ""
    pending: list[RawMessage] = field(default_factory=list)
    partial_written: bool = False
    prev_keys: set[Hashable] = field(default_factory=set)


def add(st: BlockState, msg: RawMessage, block_size: int) -> list[BlockOut]:
    out: list[BlockOut] = []
    block = msg.offset // block_size
    if st.block is not None and block != st.block and st.pending:
        out.append(_emit(st, complete=True))
        st.pending = []
        st.partial_written = False
    st.block, st.role = block, msg.role
    st.pending.append(msg)
    return out


def flush(st: BlockState) -> list[BlockOut]:
    """The unfinished block as a partial file (input ended or is idle)."""
    if not st.pending or st.block is None:
        return []
    out = _emit(st, complete=False)
    st.partial_written = True
    return [out]


def _emit(st: BlockState, complete: bool) -> BlockOut:
    assert st.block is not None
    gold = st.role in GOLD_ROLES
    rows: list[Row] = []
    for m in st.pending:
        rows += gold_rows(m) if gold else silver_rows(m)
    key = NATURAL_KEY.get(st.role, SILVER_KEY) if gold else SILVER_KEY
    kept, seen, duplicates = [], set(st.prev_keys), 0
    for r in rows:
        k = key(r)
        if k in seen:
            duplicates += 1
            continue
        seen.add(k)
        kept.append(r)
    if complete:
        st.prev_keys = seen - st.prev_keys
    return BlockOut(
        st.pending[0].partition,
        st.role,
        st.block,
        complete,
        st.partial_written,
        [] if gold else [bronze_row(m) for m in st.pending],
        kept,
        duplicates,
    )
