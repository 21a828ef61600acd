"""DBN bytes from outside (files, and the records the live client receives): the reader, the
message batching and the dataflow's decode either give valid output or an ``InputError``
naming the file and the byte; nothing else, and never a hang."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import zstandard
from hypothesis import given
from hypothesis import strategies as st

from connectors.databento.dbn_file import ZSTD_MAGIC, RecordRun, open_dbn
from connectors.databento.messages import ROLE_BY_SCHEMA, SkipCounts, file_messages
from dataflows.signals.decode import decode
from dataflows.signals.items import BookBatch, DecodeFailure, TradeBatch
from schemas.envelope import RawHeaders, RawMessage
from snapline.errors import InputError
from tests.fuzz.mutations import mutated
from tests.fuzz.tried import no_hang, tried

DATA = Path(__file__).parent.parent / "data"


def _plain(path: Path) -> bytes:
    raw = path.read_bytes()
    if raw.startswith(ZSTD_MAGIC):
        return zstandard.ZstdDecompressor().stream_reader(raw).read()
    return raw


FILES = sorted(p for p in DATA.glob("*.dbn*") if not p.name.endswith(".dbz"))
PLAIN = [_plain(p) for p in FILES]  # every DBN version (1-3), MBP-10, trades, a live capture
COMPRESSED = [p.read_bytes() for p in FILES if p.name.endswith(".zst")]


@st.composite
def dbn_files(draw: st.DrawFn) -> bytes:
    """Damaged DBN, plain or zstd (compressed after the damage, or damaged when compressed)."""
    how = draw(st.sampled_from(["plain", "zstd", "damaged zstd", "random"]))
    if how == "random":
        return draw(
            st.one_of(st.binary(max_size=256), st.binary(max_size=200).map(b"DBN\x03".__add__))
        )
    if how == "damaged zstd":
        return draw(mutated(COMPRESSED))
    data = draw(mutated(PLAIN))
    return zstandard.ZstdCompressor().compress(data) if how == "zstd" else data


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("dbn") / "input.dbn"


def _check_run(run: RecordRun, expected_offset: int, max_run: int) -> None:
    assert run.record_len >= 16 and run.record_len % 4 == 0
    assert 1 <= run.count <= max_run and len(run.data) == run.count * run.record_len
    assert run.offset == expected_offset  # runs tile the stream: nothing skipped or repeated
    heads = np.frombuffer(run.data, dtype=np.uint8).reshape(run.count, run.record_len)
    assert (heads[:, 0].astype(int) * 4 == run.record_len).all()
    assert (heads[:, 1] == run.rtype).all()
    assert (heads[:, 4:8].copy().view("<u4").ravel() == run.instrument_id).all()


@given(data=dbn_files(), max_run=st.integers(1, 300))
def test_dbn_reader_yields_whole_records_or_names_the_file(
    scratch: Path, data: bytes, max_run: int
) -> None:
    tried()
    scratch.write_bytes(data)
    error: InputError | None = None
    with no_hang():
        try:
            info, runs = open_dbn(scratch, max_run)
            assert 1 <= info.version <= 3
            offset = None
            for run in runs:
                offset = run.offset if offset is None else offset
                _check_run(run, offset, max_run)
                offset += len(run.data)
        except InputError as exc:
            error = exc
    assert error is None or str(scratch) in str(error)


@given(data=dbn_files())
def test_ingest_messages_always_decode_in_the_dataflow(scratch: Path, data: bytes) -> None:
    """What ingest produces from any file, the dataflow decodes: a dead letter only for records
    with no real time, which ingest passes on unchanged."""
    tried()
    scratch.write_bytes(data)
    error: InputError | None = None
    with no_hang():
        try:
            for headers, msg in file_messages(scratch, 64, "databento.file", SkipCounts()):
                assert msg.role in ROLE_BY_SCHEMA.values()
                assert RawHeaders.from_kafka(msg.headers) == headers
                assert int(msg.key or b"x") >= 0
                decoded = decode(RawMessage(msg.role, msg.key, msg.value, msg.headers, "f:0"))
                if isinstance(decoded, DecodeFailure):  # the one thing ingest does not check
                    assert "ts_recv" in decoded.reason and "not a time" in decoded.reason
                    continue
                assert isinstance(decoded, BookBatch | TradeBatch), decoded
                assert decoded.max_ts_ns >= headers.ts_recv_ns >= 0
                if isinstance(decoded, TradeBatch):
                    assert decoded.max_ts_ns == headers.ts_recv_ns
        except InputError as exc:
            error = exc
    assert error is None or str(scratch) in str(error)
