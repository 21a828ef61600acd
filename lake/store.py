"""Writing blocks as Parquet files through a pyarrow filesystem (local path, s3://, ...).

Layout (hive partitions, readable by pyarrow, DuckDB, Polars, Spark):
  bronze/<role>/date=YYYY-MM-DD/source=<source>/schema=<schema>/<partition>-<block>.parquet
  silver/<role>/date=YYYY-MM-DD/<partition>-<block>.parquet
  gold/signals|events/date=YYYY-MM-DD/<partition>-<block>.parquet
A file is written under a temporary name and moved into place (atomic on local disks and
HDFS; on object stores the move is a copy, so readers may briefly see nothing, never half).
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections import defaultdict
from typing import Any

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from lake.blocks import BlockOut
from lake.rows import Row
from snapline.errors import SnaplineError

BRONZE_PARTS = ("date", "source", "schema")
# Parquet row groups of bronze files, in messages: a reader decodes a row group's column whole,
# and a block of 500 ES messages is up to 190 MB of DBN (one group made a re-run from the lake
# peak at 1.3 GB reading it; groups of 16, a few MB, let it read a file group by group)
BRONZE_ROW_GROUP = 16
TYPED_PARTS = ("date",)
PARTIAL = ".partial.parquet"


def open_root(root: str) -> tuple[pafs.FileSystem, str]:
    """A filesystem and base path from a local path or a URI (``s3://bucket/lake``)."""
    if "://" in root:
        fs, path = pafs.FileSystem.from_uri(root)
        return fs, path.rstrip("/")
    local = pafs.LocalFileSystem()
    import os

    path = os.path.abspath(root)
    local.create_dir(path, recursive=True)
    return local, path


def file_stem(partition: str, block: int) -> str:
    return f"{re.sub(r'[^A-Za-z0-9._-]', '_', partition)}-{block:010d}"


class LakeWriteError(SnaplineError):
    """The lake's storage refused a write (disk full, read-only, permissions); nothing of
    that file was left where readers look."""


class LakeStore:
    def __init__(self, root: str, fs: pafs.FileSystem | None = None) -> None:
        self.fs, self.base = (fs, root.rstrip("/")) if fs is not None else open_root(root)
        self.files_written = 0
        self.remove_superseded_partials()

    def write(self, out: BlockOut) -> None:
        stem = file_stem(out.partition, out.block)
        name = stem + (".parquet" if out.complete else PARTIAL)
        if out.bronze:
            self._write_rows(f"bronze/{out.role}", out.bronze, BRONZE_PARTS, name, BRONZE_ROW_GROUP)
        if out.typed:
            self._write_rows(f"{out.tier}/{out.role}", out.typed, TYPED_PARTS, name)
        if out.complete and out.had_partial:
            self._remove(stem + PARTIAL)

    def _write_rows(
        self,
        table: str,
        rows: list[Row],
        parts: tuple[str, ...],
        name: str,
        row_group: int | None = None,  # None: pyarrow's default (a million rows)
    ) -> None:
        groups: dict[tuple[Any, ...], list[Row]] = defaultdict(list)
        for r in rows:
            groups[tuple(r[p] for p in parts)].append(r)
        for values, members in groups.items():
            folder = "/".join(
                [f"{self.base}/{table}", *(f"{p}={v}" for p, v in zip(parts, values, strict=True))]
            )
            data = [{k: v for k, v in r.items() if k not in parts} for r in members]
            tmp = f"{folder}/.{uuid.uuid4().hex}.tmp"
            try:
                self.fs.create_dir(folder, recursive=True)
                table_data = pa.Table.from_pylist(data)
                pq.write_table(table_data, tmp, filesystem=self.fs, row_group_size=row_group)
                self.fs.move(tmp, f"{folder}/{name}")
            except OSError as exc:
                self._discard(tmp)
                msg = f"lake: cannot write {folder}/{name}: {exc}"
                raise LakeWriteError(msg) from exc
            self.files_written += 1

    def _discard(self, path: str) -> None:
        """Best effort: a half-written temporary file must not stay (readers skip dot files,
        and the next start removes any left by a crash)."""
        with contextlib.suppress(OSError):
            self.fs.delete_file(path)

    def _remove(self, name: str) -> None:
        for info in self._files():
            if info.base_name == name:
                self.fs.delete_file(info.path)

    def _files(self) -> list[pafs.FileInfo]:
        selector = pafs.FileSelector(self.base, recursive=True, allow_not_found=True)
        return [f for f in self.fs.get_file_info(selector) if f.type == pafs.FileType.File]

    def remove_superseded_partials(self) -> int:
        """A crash between writing a complete block and removing its partial leaves both."""
        files = self._files()
        complete = {(f.path.rsplit("/", 1)[0], f.base_name) for f in files}
        removed = 0
        for f in files:
            if f.base_name.endswith(PARTIAL):
                folder = f.path.rsplit("/", 1)[0]
                twin = f.base_name.removesuffix(PARTIAL) + ".parquet"
                if (folder, twin) in complete:
                    self.fs.delete_file(f.path)
                    removed += 1
            elif f.base_name.endswith(".tmp"):
                self.fs.delete_file(f.path)  # an interrupted write
        return removed
