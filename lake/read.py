"""Reading the lake back: bronze as raw messages (for re-runs), and a summary of it all."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

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


def bronze_messages(root: str, roles: tuple[str, ...]) -> dict[str, list[RawMessage]]:
    """Every raw message of ``roles`` in the bronze tier, per source partition, in offset
    order, each offset once (a partial and its complete block may overlap)."""
    present = {t for tier, t in tables(root) if tier == "bronze"}
    by_partition: dict[str, dict[int, RawMessage]] = defaultdict(dict)
    for role in roles:
        if role not in present:
            continue
        cols = ["partition", "offset", "role", "key", "value", "headers"]
        for batch in dataset(root, "bronze", role).to_batches(columns=cols):
            for r in batch.to_pylist():
                headers = [(h["key"], h["value"]) for h in r["headers"] or []]
                by_partition[r["partition"]][r["offset"]] = RawMessage(
                    r["role"], r["key"], r["value"], headers, r["partition"], r["offset"]
                )
    if not by_partition:
        msg = f"no bronze data for {', '.join(roles)} under {root}"
        raise InputError(msg)
    return {p: [m[o] for o in sorted(m)] for p, m in sorted(by_partition.items())}


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
