from pathlib import Path

import databento as db
import numpy as np
import pytest
import zstandard

from connectors.databento.dbn_file import open_dbn
from connectors.databento.messages import SkipCounts, to_messages
from schemas.dbn import MBP10_NESTED_DTYPE
from snapline.errors import InputError
from tests.conftest import DATA, ESM4_MBP10


def _records(path: Path, max_run: int = 256) -> bytes:
    _, runs = open_dbn(path, max_run)
    return b"".join(r.data for r in runs)


@pytest.mark.parametrize(
    "name", ["test_data.mbp-10.dbn", "test_data.mbp-10.v1.dbn.zst", "test_data.mbp-10.v2.dbn.zst"]
)
def test_records_are_the_files_bytes_unchanged(name: str) -> None:
    store = db.DBNStore.from_bytes((DATA / name).read_bytes())
    expected = b"".join(bytes(r) for r in store)
    assert _records(DATA / name) == expected


def test_runs_split_at_max_run_and_keep_order() -> None:
    info, runs = open_dbn(ESM4_MBP10, max_run=50)
    runs = list(runs)
    assert info.schema == "mbp-10" and info.version == 3
    assert [r.count for r in runs] == [50, 50, 50, 19]
    assert b"".join(r.data for r in runs) == _records(ESM4_MBP10, 10_000)


def test_runs_also_end_after_ten_seconds_of_event_time() -> None:
    # the ESH4 sample: a quiet book, 1024 of whose records span minutes
    from tests.conftest import ESH4_MBP10

    _, found = open_dbn(ESH4_MBP10, max_run=1024)
    runs = list(found)
    spans = []
    for r in runs:
        ts = np.frombuffer(r.data, MBP10_NESTED_DTYPE)["ts_event"].astype(np.int64)
        spans.append(int(ts.max() - ts[0]))
    assert max(spans) <= 10_000_000_000
    assert max(r.count for r in runs) > 256  # busy minutes still make long runs
    assert sum(r.count for r in runs) == 43_780
    assert b"".join(r.data for r in runs) == _records(ESH4_MBP10, 100_000)


@pytest.mark.parametrize("piece", [997, 4096, 1 << 16])
def test_runs_end_where_the_records_say_not_where_a_piece_of_the_stream_did(
    piece: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the stream is read and decompressed a piece at a time; a run still open at a piece's
    # end waits for the next, so the runs (the raw messages) are the same however it is cut
    from connectors.databento import dbn_file
    from tests.conftest import ESH4_MBP10

    def runs(path: Path) -> list[tuple[int, int, bytes]]:
        return [(r.offset, r.count, r.data) for r in open_dbn(path, max_run=300)[1]]

    whole = {path: runs(path) for path in (ESH4_MBP10, DATA / "test_data.mbp-10.dbn")}
    monkeypatch.setattr(dbn_file, "ZSTD_READ_BYTES", piece)
    monkeypatch.setattr(dbn_file, "READ_BYTES", piece)
    for path, want in whole.items():
        got = runs(path)
        assert got == want
        assert max(count for _, count, _ in got) == 300 or path.suffix == ".dbn"


def test_mixed_live_file_routes_book_and_trades_and_counts_the_rest() -> None:
    info, runs = open_dbn(DATA / "test_data.live.dbn.zst")
    skipped = SkipCounts()
    msgs = [m for _, m in to_messages(info, runs, "test", skipped)]
    assert info.schema is None
    assert sorted({m.role for m in msgs}) == ["es_mbp10", "es_trades"]
    assert sum(len(m.value) // 368 for m in msgs if m.role == "es_mbp10") == 2
    assert sum(len(m.value) // 48 for m in msgs if m.role == "es_trades") == 2
    # 20 symbol mappings, 9 statistics, 5 MBO, 4 OHLCV, 2 definitions, 2 MBP-1
    assert sum(skipped.by_rtype.values()) == 42


def test_truncated_file_names_the_byte_offset_after_yielding_what_came_before(
    tmp_path: Path,
) -> None:
    raw = (DATA / "test_data.mbp-10.dbn").read_bytes()
    cut = tmp_path / "cut.dbn"
    cut.write_bytes(raw[:-100])
    _, runs = open_dbn(cut, max_run=1)
    got = []

    def drain() -> None:
        got.extend(runs)

    with pytest.raises(InputError, match=r"truncated DBN record at byte \d+ of .*cut\.dbn"):
        drain()
    assert len(got) == 1  # the first complete record came through
    assert got[0].data == raw[len(raw) - 2 * 368 : len(raw) - 368]


def test_truncated_zstd_stream_is_an_error(tmp_path: Path) -> None:
    raw = zstandard.ZstdCompressor().compress((DATA / "test_data.mbp-10.dbn").read_bytes())
    cut = tmp_path / "cut.dbn.zst"
    cut.write_bytes(raw[: len(raw) - 40])
    with pytest.raises(InputError, match="truncated zstd stream"):
        _records(cut)


def test_legacy_dbz_is_refused_clearly() -> None:
    with pytest.raises(InputError, match="legacy DBZ format"):
        open_dbn(DATA / "test_data.mbp-10.dbz")


def test_missing_and_foreign_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such DBN file"):
        open_dbn(tmp_path / "absent.dbn")
    junk = tmp_path / "junk.dbn"
    junk.write_bytes(b"PAR1 this is not dbn at all")
    with pytest.raises(
        InputError, match=r"expected DBN magic b'DBN' at byte 0 of .*junk\.dbn, got b'PAR'"
    ):
        open_dbn(junk)


def test_corrupt_record_length_is_reported(tmp_path: Path) -> None:
    raw = bytearray((DATA / "test_data.mbp-10.dbn").read_bytes())
    first_record = len(raw) - 2 * 368
    raw[first_record] = 1  # length byte: 4 bytes, shorter than a header
    bad = tmp_path / "bad.dbn"
    bad.write_bytes(bytes(raw))
    with pytest.raises(InputError, match=f"corrupt DBN record at byte {first_record}"):
        list(open_dbn(bad)[1])
