"""Lake blocks and files: idempotent writes, partials superseded, duplicates stored once,
older files still read."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from connectors.databento.messages import SkipCounts, file_messages
from lake.blocks import BlockState, add, flush
from lake.read import bronze_messages, bronze_partitions, dataset, stats
from lake.store import LakeStore
from schemas.envelope import RawMessage
from tests.conftest import ESM4_MBP10, ESM4_TRADES


def _messages(batch: int = 16) -> list[RawMessage]:
    """The ESM4 sample as raw messages of a fake topic partition, offsets 0.."""
    out = []
    for path in (ESM4_MBP10,):
        for i, (_, m) in enumerate(file_messages(path, batch, "databento.file", SkipCounts())):
            out.append(RawMessage(m.role, m.key, m.value, m.headers, "raw.es.mbp10#0", i))
    return out


def _write_all(root: Path, msgs: list[RawMessage], block: int) -> LakeStore:
    store = LakeStore(str(root))
    st = BlockState()
    for m in msgs:
        for out in add(st, m, block):
            store.write(out)
    for out in flush(st):
        store.write(out)
    return store


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.parquet"))}


def test_blocks_by_offset_and_a_second_write_changes_nothing(tmp_path: Path) -> None:
    msgs = _messages()
    assert len(msgs) == 11  # 169 records in batches of 16
    _write_all(tmp_path, msgs, block=4)
    first = _files(tmp_path)
    names = sorted(Path(n).name for n in first if n.startswith("bronze"))
    assert names == [
        "raw.es.mbp10_0-0000000000.parquet",
        "raw.es.mbp10_0-0000000001.parquet",
        "raw.es.mbp10_0-0000000002.partial.parquet",  # offsets 8-10 of 12: unfinished
    ]
    _write_all(tmp_path, msgs, block=4)
    assert _files(tmp_path).keys() == first.keys()
    silver = dataset(str(tmp_path), "silver", "es_mbp10").to_table()
    assert silver.num_rows == 169


def test_a_complete_block_replaces_its_partial(tmp_path: Path) -> None:
    msgs = _messages()
    store = LakeStore(str(tmp_path))
    st = BlockState()
    for m in msgs[:6]:
        for out in add(st, m, 4):
            store.write(out)
    for out in flush(st):  # idle: block 1 partial (offsets 4-5)
        store.write(out)
    for m in msgs[6:]:
        for out in add(st, m, 4):
            store.write(out)
    names = {Path(n).name for n in _files(tmp_path)}
    assert "raw.es.mbp10_0-0000000001.partial.parquet" not in names
    assert "raw.es.mbp10_0-0000000001.parquet" in names


def test_a_message_delivered_twice_is_one_silver_row_per_record(tmp_path: Path) -> None:
    msgs = _messages()
    again = [RawMessage(m.role, m.key, m.value, m.headers, m.partition, m.offset + 11)
             for m in msgs[9:]]  # fmt: skip  # a producer re-sent the last two messages
    _write_all(tmp_path, msgs + again, block=4)
    (bronze,) = [t for t in stats(str(tmp_path)) if t.tier == "bronze"]
    assert bronze.rows == 13 and bronze.duplicate_keys == 0  # bronze mirrors the topic
    (silver,) = [t for t in stats(str(tmp_path)) if t.tier == "silver"]
    assert silver.rows == 169 and silver.duplicate_keys == 0


def test_bronze_reads_back_as_the_same_messages(tmp_path: Path) -> None:
    msgs = _messages()
    _write_all(tmp_path, msgs, block=4)
    ((partition, pieces),) = bronze_partitions(str(tmp_path), ("es_mbp10",)).items()
    assert partition == "raw.es.mbp10#0" and len(pieces) == 3  # three blocks, three files
    back = list(bronze_messages(partition, pieces))
    assert [(m.offset, m.value, m.headers, m.key) for m in back] == [
        (m.offset, m.value, m.headers, m.key) for m in msgs
    ]


def test_bronze_files_that_overlap_read_back_each_offset_once_in_order(tmp_path: Path) -> None:
    # a crash left a partial beside its complete block, and another writer's file repeats
    # offsets from two blocks: the files are merged, each offset once
    msgs = _messages()
    _write_all(tmp_path, msgs, block=4)
    folder = next((tmp_path / "bronze" / "es_mbp10").rglob("*.parquet")).parent
    complete = folder / "raw.es.mbp10_0-0000000001.parquet"
    (folder / "raw.es.mbp10_0-0000000001.partial.parquet").write_bytes(complete.read_bytes())
    both = pa.concat_tables(
        [pq.read_table(complete), pq.read_table(folder / "raw.es.mbp10_0-0000000000.parquet")]
    )
    pq.write_table(both.slice(2, 4), folder / "other-writer.parquet")  # offsets 6, 7, 0, 1
    ((partition, pieces),) = bronze_partitions(str(tmp_path), ("es_mbp10",)).items()
    back = list(bronze_messages(partition, pieces))
    assert [m.offset for m in back] == list(range(len(msgs)))
    assert [m.value for m in back] == [m.value for m in msgs]


def test_an_older_file_with_fewer_columns_is_still_read(tmp_path: Path) -> None:
    _write_all(tmp_path, _messages(), block=4)
    folder = next((tmp_path / "bronze" / "es_mbp10").rglob("*.parquet")).parent
    current = pq.read_table(next(folder.glob("*.parquet")))
    old = current.slice(0, 1).drop_columns(["schema_version", "ts_recv_ns"])
    old = old.set_column(old.schema.get_field_index("offset"), "offset", pa.array([99]))
    pq.write_table(old, folder / "older-writer.parquet")
    table = dataset(str(tmp_path), "bronze", "es_mbp10").to_table()
    row = next(r for r in table.to_pylist() if r["offset"] == 99)
    assert row["schema_version"] is None and row["ts_recv_ns"] is None
    assert row["value"] == current.column("value")[0].as_py()


def test_trades_go_to_their_own_tables(tmp_path: Path) -> None:
    store = LakeStore(str(tmp_path))
    st = BlockState()
    for i, (_, m) in enumerate(file_messages(ESM4_TRADES, 16, "databento.file", SkipCounts())):
        msg = RawMessage(m.role, m.key, m.value, m.headers, "raw.es.trades#0", i)
        for out in add(st, msg, 4):
            store.write(out)
    for out in flush(st):
        store.write(out)
    trades = dataset(str(tmp_path), "silver", "es_trades").to_table().to_pylist()
    assert len(trades) == 5 and all(t["action"] == "T" for t in trades)


def test_a_bronze_file_is_written_in_small_row_groups(tmp_path: Path) -> None:
    # a reader decodes a row group's column whole: a block of 500 ES messages in one group
    # is up to 190 MB of DBN at once, so groups hold 16 messages (here the sample as 169
    # one-record messages, blocks of 100)
    msgs = _messages(batch=1)
    _write_all(tmp_path, msgs, block=100)
    first = next((tmp_path / "bronze").rglob("raw.es.mbp10_0-0000000000.parquet"))
    meta = pq.ParquetFile(first).metadata
    assert meta.num_rows == 100
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [16] * 6 + [4]
