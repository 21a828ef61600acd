"""Reading the lake back: bronze as raw messages (for re-runs), and a summary of it all."""

from __future__ import annotations

import heapq
import itertools
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs

from lake.rows import NATURAL_KEY, SILVER_KEY
from lake.store import PARTIAL, open_root
from schemas.envelope import RawMessage
from snapline.errors import InputError


def tables(root: str) -> list[tuple[str, str]]:
    """(tier, table) pairs present under ``root``."""
    fs, base = open_root(root)
    out = []
    for tier in ("bronze", "silver", "gold"):
        info = fs.get_file_info(pafs.FileSelector(f"{base}/{tier}", allow_not_found=True))
        out += [(tier, i.base_name) for i in info if i.type == pafs.FileType.Directory]
    return sorted(out)


def dataset(root: str, tier: str, table: str) -> ds.Dataset:
    """One table as a dataset; files written by older versions (fewer or more columns) are
    read together under the unified schema, missing values as nulls."""
    fs, base = open_root(root)
    path = f"{base}/{tier}/{table}"
    first = ds.dataset(path, filesystem=fs, format="parquet", partitioning="hive")
    schemas = [f.physical_schema for f in first.get_fragments()]
    if not schemas:
        return first
    unified = pa.unify_schemas([*schemas, first.schema], promote_options="permissive")
    return ds.dataset(path, filesystem=fs, format="parquet", partitioning="hive", schema=unified)


_BRONZE_COLUMNS = ["partition", "offset", "role", "key", "value", "headers"]


@dataclass(frozen=True, slots=True)
class BronzePiece:
    """One bronze file's rows of one source partition: where its offsets start (to open it in
    turn), and whether they come in order (the lake's own files do: read group by group)."""

    first_offset: int
    in_order: bool
    fragment: ds.Fragment
    schema: pa.Schema


def bronze_partitions(root: str, roles: tuple[str, ...]) -> dict[str, list[BronzePiece]]:
    """Each source partition of ``roles`` in the bronze tier, with its files in offset order.
    Only two columns are read here; the messages are read as a re-run asks
    (``bronze_messages``), so a re-run holds a few row groups, not the lake."""
    present = {t for tier, t in tables(root) if tier == "bronze"}
    pieces: dict[str, list[BronzePiece]] = defaultdict(list)
    for role in roles:
        if role not in present:
            continue
        table = dataset(root, "bronze", role)
        for fragment in table.get_fragments():
            index = fragment.to_table(schema=table.schema, columns=["partition", "offset"])
            offsets: dict[str, list[int]] = defaultdict(list)
            for part, offset in zip(
                *(index.column(c).to_pylist() for c in ("partition", "offset")), strict=True
            ):
                offsets[part].append(offset)
            for part, seen in offsets.items():
                in_order = all(a <= b for a, b in itertools.pairwise(seen))
                pieces[part].append(BronzePiece(min(seen), in_order, fragment, table.schema))
    if not pieces:
        msg = f"no bronze data for {', '.join(roles)} under {root}"
        raise InputError(msg)
    return {p: sorted(f, key=lambda x: x.first_offset) for p, f in sorted(pieces.items())}


def bronze_messages(partition: str, pieces: list[BronzePiece]) -> Iterator[RawMessage]:
    """One source partition's raw messages in offset order, each offset once (a partial and
    its complete block overlap, and any file may): the files are merged, each opened once the
    merge reaches its first offset and read a row group at a time."""
    heads: list[tuple[int, int, RawMessage, Iterator[RawMessage]]] = []  # (offset, n, msg, rest)
    opened = itertools.count()
    upcoming = list(reversed(pieces))
    last = -1
    while heads or upcoming:
        while upcoming and (not heads or upcoming[-1].first_offset <= heads[0][0]):
            rows = _piece_messages(partition, upcoming.pop())
            first = next(rows, None)
            if first is not None:
                heapq.heappush(heads, (first.offset, next(opened), first, rows))
        if not heads:
            return
        offset, n, msg, rows = heapq.heappop(heads)
        following = next(rows, None)
        if following is not None:
            heapq.heappush(heads, (following.offset, n, following, rows))
        if offset > last:
            last = offset
            yield msg


def _piece_messages(partition: str, piece: BronzePiece) -> Iterator[RawMessage]:
    batches = piece.fragment.to_batches(
        schema=piece.schema, columns=_BRONZE_COLUMNS, filter=ds.field("partition") == partition,
        batch_size=16, batch_readahead=0, fragment_readahead=0,
    )  # fmt: skip
    found = (_raw_message(r, partition) for batch in batches for r in batch.to_pylist())
    return found if piece.in_order else iter(sorted(found, key=lambda m: m.offset))


def _raw_message(r: dict[str, Any], partition: str) -> RawMessage:
    headers = [(h["key"], h["value"]) for h in r["headers"] or []]
    return RawMessage(r["role"], r["key"], r["value"], headers, partition, r["offset"])


@dataclass(frozen=True, slots=True)
class TableStats:
    tier: str
    table: str
    files: int
    partial_files: int
    rows: int
    bytes: int
    first_date: str | None
    last_date: str | None
    duplicate_keys: int

    def line(self) -> str:
        dates = f"{self.first_date} .. {self.last_date}" if self.first_date else "-"
        return (
            f"{self.tier:6} {self.table:16} {self.rows:>12,} rows {self.files:>6} files "
            f"({self.partial_files} partial) {self.bytes / 1e6:>9.1f} MB  {dates}  "
            f"duplicates by key: {self.duplicate_keys}"
        )


def stats(root: str) -> list[TableStats]:
    fs, _ = open_root(root)
    out = []
    for tier, table in tables(root):
        d = dataset(root, tier, table)
        files = list(d.files)
        sizes = [fs.get_file_info(f).size or 0 for f in files]
        data = d.to_table()
        dates = sorted(set(data.column("date").to_pylist())) if "date" in data.column_names else []
        out.append(
            TableStats(
                tier, table, len(files), sum(f.endswith(PARTIAL) for f in files), data.num_rows,
                sum(sizes), dates[0] if dates else None, dates[-1] if dates else None,
                _duplicates(tier, table, data),
            )
        )  # fmt: skip
    return out


def _duplicates(tier: str, table: str, data: pa.Table) -> int:
    """Rows beyond the first per key: (partition, offset) in bronze, the natural key above."""
    if tier == "bronze":
        keys: Iterator[object] = zip(
            data.column("partition").to_pylist(), data.column("offset").to_pylist(), strict=True
        )
        rows = list(keys)
        return len(rows) - len(set(rows))
    key = NATURAL_KEY.get(table, SILVER_KEY) if tier == "gold" else SILVER_KEY
    values = [key(r) for r in data.to_pylist()]
    return len(values) - len(set(values))
