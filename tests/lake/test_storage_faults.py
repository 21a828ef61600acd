"""The lake's disk full or read-only: a clear error naming the file, nothing half-written left
where readers look, the files already committed untouched, and a later run completes."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any

import pyarrow.fs as pafs
import pytest

from connectors.databento.messages import SkipCounts, file_messages
from lake.blocks import BlockState, add, flush
from lake.read import dataset
from lake.store import LakeStore, LakeWriteError
from schemas.envelope import RawMessage
from tests.conftest import ESM4_MBP10


class _Failing(pafs.FileSystemHandler):
    """The local disk, until ``fail_after`` output streams have been opened; then every write
    fails with ``error`` part-way (disk full) or at once (read-only)."""

    def __init__(self, fail_after: int, error: int) -> None:
        self.local = pafs.LocalFileSystem()
        self.opened = 0
        self.fail_after = fail_after
        self.error = error

    def open_output_stream(self, path: str, metadata: Any) -> Any:
        self.opened += 1
        if self.opened > self.fail_after:
            if self.error == errno.EROFS:
                raise OSError(errno.EROFS, "Read-only file system", path)
            stream = self.local.open_output_stream(path)
            stream.write(b"PAR1 half a file")  # some bytes land, then the disk is full
            stream.close()
            raise OSError(errno.ENOSPC, "No space left on device", path)
        return self.local.open_output_stream(path, metadata=metadata)

    # the rest is the local disk
    def get_type_name(self) -> str:
        return "failing"

    def equals(self, other: Any) -> bool:
        return self is other

    def get_file_info(self, paths: list[str]) -> Any:
        return self.local.get_file_info(paths)

    def get_file_info_selector(self, selector: Any) -> Any:
        return self.local.get_file_info(selector)

    def create_dir(self, path: str, recursive: bool) -> None:
        self.local.create_dir(path, recursive=recursive)

    def delete_dir(self, path: str) -> None:
        self.local.delete_dir(path)

    def delete_dir_contents(self, path: str, missing_dir_ok: bool = False) -> None:
        self.local.delete_dir_contents(path, missing_dir_ok=missing_dir_ok)

    def delete_root_dir_contents(self) -> None:
        raise NotImplementedError

    def delete_file(self, path: str) -> None:
        self.local.delete_file(path)

    def move(self, src: str, dest: str) -> None:
        self.local.move(src, dest)

    def copy_file(self, src: str, dest: str) -> None:
        self.local.copy_file(src, dest)

    def open_input_stream(self, path: str) -> Any:
        return self.local.open_input_stream(path)

    def open_input_file(self, path: str) -> Any:
        return self.local.open_input_file(path)

    def open_append_stream(self, path: str, metadata: Any) -> Any:
        raise NotImplementedError

    def normalize_path(self, path: str) -> str:
        return path


def _messages() -> list[RawMessage]:
    return [
        RawMessage(m.role, m.key, m.value, m.headers, "raw.es.mbp10#0", i)
        for i, (_, m) in enumerate(file_messages(ESM4_MBP10, 16, "databento.file", SkipCounts()))
    ]


def _write(store: LakeStore, msgs: list[RawMessage]) -> None:
    st = BlockState()
    for m in msgs:
        for out in add(st, m, 4):
            store.write(out)
    for out in flush(st):
        store.write(out)


@pytest.mark.parametrize(("error", "what"), [(errno.ENOSPC, "No space left"),
                                              (errno.EROFS, "Read-only")])  # fmt: skip
def test_a_refused_write_is_clear_and_leaves_no_partial_file(
    tmp_path: Path, error: int, what: str
) -> None:
    root = tmp_path / "lake"
    root.mkdir()
    failing = pafs.PyFileSystem(_Failing(fail_after=2, error=error))
    store = LakeStore(str(root), fs=failing)
    with pytest.raises(LakeWriteError, match=rf"cannot write .*bronze.*\.parquet.*{what}"):
        _write(store, _messages())
    committed = sorted(p.name for p in root.rglob("*") if p.is_file())
    assert len(committed) == 2 and all(not n.startswith(".") for n in committed)  # no leftovers
    # the disk is back: a new run writes everything, the committed files are taken as they are
    _write(LakeStore(str(root)), _messages())
    rows = dataset(str(root), "bronze", "es_mbp10").to_table().num_rows
    assert rows == len(_messages())
