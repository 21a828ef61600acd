"""Read a DBN file (plain or zstd) into runs of raw records, without decoding them.

A run is consecutive records of one rtype and one instrument, as bytes exactly as stored.
Errors name the file, the byte offset and what was wrong; every run yielded before an error
is complete and valid, so a caller can deliver it and then fail.
"""

from __future__ import annotations

import itertools
import struct
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import databento_dbn
import numpy as np
import zstandard

from snapline.errors import InputError

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
DBZ_MAGIC = b"\x50\x2a\x4d\x18"  # zstd skippable frame that opens legacy .dbz files
DBN_MAGIC = b"DBN"
MAX_DBN_VERSION = 3
_PRELUDE = struct.Struct("<3sBI")  # magic, version, metadata length
_TS_RECV = struct.Struct("<Q")
TS_RECV_OFFSET = 32  # in MBP records (trades, mbp-1, mbp-10)
READ_BYTES = 1 << 20
# compressed bytes fed to zstd at a time: DBN compresses 5-20x, so each piece of the stream
# stays a few MB (pieces of 20 MB cost more in fresh memory than in decompressing)
ZSTD_READ_BYTES = 1 << 17
# A run (one raw message) also ends once its records span this much event time: a message
# makes every snap up to its last record due at once, and 1024 records of a quiet book span
# minutes (the ESH4 sample's replay peaked at 209 MB, 148 MB with runs of 256)
MAX_RUN_SPAN_NS = 10_000_000_000


@dataclass(frozen=True, slots=True)
class DbnInfo:
    path: Path
    version: int
    dataset: str | None
    schema: str | None  # None for files that mix record types (live captures)
    ts_out: bool
    symbols: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RecordRun:
    """Consecutive raw records sharing rtype and instrument, and where they started."""

    rtype: int
    instrument_id: int
    record_len: int
    data: bytes
    offset: int  # byte offset of the first record in the decompressed stream

    @property
    def count(self) -> int:
        return len(self.data) // self.record_len

    def last_ts_recv(self) -> int:
        return int(
            _TS_RECV.unpack_from(self.data, len(self.data) - self.record_len + TS_RECV_OFFSET)[0]
        )


@dataclass(slots=True)
class _Cursor:
    """Decompressed bytes not yet parsed, and their position in the whole stream."""

    chunks: Iterator[bytes]
    buf: bytes = b""
    offset: int = 0
    eof: bool = field(default=False)

    def fill(self, need: int) -> bool:
        """Make ``need`` bytes available; False if the stream ends first."""
        while len(self.buf) < need and not self.eof:
            nxt = next(self.chunks, None)
            if nxt is None:
                self.eof = True
            else:
                self.buf += nxt
        return len(self.buf) >= need

    def take(self, n: int) -> bytes:
        out = self.buf[:n]
        self.drop(n)
        return out

    def drop(self, n: int) -> None:
        """Forget the first ``n`` bytes (already handed out as record runs)."""
        self.buf = self.buf[n:]
        self.offset += n


def open_dbn(path: Path, max_run: int = 256) -> tuple[DbnInfo, Iterator[RecordRun]]:
    """Open a DBN file and return its metadata and a lazy iterator of record runs."""
    if not path.is_file():
        msg = f"no such DBN file: {path}"
        raise InputError(msg)
    fh = path.open("rb")
    try:
        cursor = _Cursor(_decompressed(fh, path))
        info = _read_metadata(cursor, path)
    except BaseException:
        fh.close()
        raise
    return info, _runs(cursor, info, fh, max_run)


def _decompressed(fh: BinaryIO, path: Path) -> Iterator[bytes]:
    head = fh.read(4)
    if head == DBZ_MAGIC:
        msg = (
            f"{path} is in the legacy DBZ format (before DBN v1), which current DBN decoders "
            "do not read; download the data again as DBN"
        )
        raise InputError(msg)
    if head != ZSTD_MAGIC:
        yield head
        while chunk := fh.read(READ_BYTES):
            yield chunk
        return
    yield from _zstd_frames(head + fh.read(ZSTD_READ_BYTES), fh, path)


def _zstd_frames(first: bytes, fh: BinaryIO, path: Path) -> Iterator[bytes]:
    # zstandard's stream reader ends quietly on a cut-off frame; decompressobj lets us check.
    dctx = zstandard.ZstdDecompressor()
    dobj, fed, pending = dctx.decompressobj(), False, first
    while pending:
        try:
            out = dobj.decompress(pending)
        except zstandard.ZstdError as exc:
            msg = f"corrupt zstd data in {path} near compressed byte {fh.tell()}: {exc}"
            raise InputError(msg) from exc
        fed = True
        if out:
            yield out
        if dobj.eof:
            pending, dobj, fed = dobj.unused_data, dctx.decompressobj(), False
            if not pending:
                pending = fh.read(ZSTD_READ_BYTES)
        else:
            pending = fh.read(ZSTD_READ_BYTES)
    if fed and not dobj.eof:
        msg = f"truncated zstd stream in {path}: the last frame ends early (file cut short?)"
        raise InputError(msg)


def _read_metadata(cursor: _Cursor, path: Path) -> DbnInfo:
    if not cursor.fill(_PRELUDE.size):
        msg = f"{path} is too short to be DBN ({len(cursor.buf)} bytes)"
        raise InputError(msg)
    magic, version, length = _PRELUDE.unpack_from(cursor.buf)
    if magic != DBN_MAGIC:
        msg = f"expected DBN magic b'DBN' at byte 0 of {path}, got {magic!r}"
        raise InputError(msg)
    if not 1 <= version <= MAX_DBN_VERSION:
        msg = f"{path} is DBN version {version}; snapline reads versions 1 to {MAX_DBN_VERSION}"
        raise InputError(msg)
    if not cursor.fill(_PRELUDE.size + length):
        msg = f"truncated DBN metadata in {path}: header says {length} bytes"
        raise InputError(msg)
    raw = cursor.take(_PRELUDE.size + length)
    try:
        meta = databento_dbn.Metadata.decode(raw)
    except Exception as exc:
        msg = f"unreadable DBN metadata in {path} (bytes 0-{len(raw)}): {exc}"
        raise InputError(msg) from exc
    schema = None if meta.schema is None else str(meta.schema)
    return DbnInfo(path, version, meta.dataset, schema, bool(meta.ts_out), tuple(meta.symbols))


def _runs(cursor: _Cursor, info: DbnInfo, fh: BinaryIO, max_run: int) -> Iterator[RecordRun]:
    try:
        while True:
            more = cursor.fill(len(cursor.buf) + 1)  # one more piece, unless the stream ended
            if not cursor.buf:
                return
            yield from _runs_in_buffer(cursor, info, max_run)
            if not more:  # the stream ended: every whole record is out
                if cursor.buf:
                    _raise_truncated(cursor, info)
                return
    finally:
        fh.close()


def _runs_in_buffer(cursor: _Cursor, info: DbnInfo, max_run: int) -> Iterator[RecordRun]:
    """Split the complete records now buffered into runs. The last run stays buffered while
    the stream goes on and it could still grow, so runs end where the records say (type,
    instrument, ``max_run``, the event-time span), never where a piece of the stream did."""
    buf = cursor.buf
    view = np.frombuffer(buf, dtype=np.uint8)
    pos, probe = 0, 64
    found: list[np.ndarray] = []
    while pos < len(buf):
        rec_len = buf[pos] * 4
        if rec_len < 16:
            msg = (
                f"corrupt DBN record at byte {cursor.offset + pos} of {info.path}: "
                f"length {rec_len} is shorter than a record header"
            )
            raise InputError(msg)
        if pos + rec_len > len(buf):
            break
        # a schema's records share one length: take the following records that keep it, in
        # probes that double while they all do (mixed lengths cost a short probe a record)
        run = pos + rec_len * np.arange(min((len(buf) - pos) // rec_len, probe))
        same = view[run] == buf[pos]
        n = run.size if same.all() else int(np.argmin(same))
        probe = min(probe * 2, 1 << 16) if n == probe else 64
        found.append(run[:n])
        pos += n * rec_len
    if not found:
        return  # no whole record yet: the caller reads on, or reports the stream cut short
    starts = np.concatenate(found)
    kept = yield from _group(cursor, info, buf, starts, pos, max_run, final=cursor.eof)
    cursor.drop(kept)


def _group(
    cursor: _Cursor,
    info: DbnInfo,
    buf: bytes,
    idx: np.ndarray,
    end: int,
    max_run: int,
    final: bool,
) -> Generator[RecordRun, None, int]:
    """Yield the runs of the records starting at ``idx``; returns where the records not yet
    yielded start (``end`` when ``final``, else the last run's, which may still grow)."""
    rtype, lens, iid, ts = _headers(buf, idx)
    # header ts_event, as a running maximum (searchable; an undefined time only holds it up)
    ts = np.maximum.accumulate(np.minimum(ts, 1 << 62).astype(np.int64))
    cut = np.flatnonzero((np.diff(rtype) != 0) | (np.diff(iid) != 0) | (np.diff(lens) != 0)) + 1
    bounds = np.concatenate(([0], cut, [len(idx)]))
    starts = idx.tolist()
    for a, b in itertools.pairwise(bounds):
        s, group_end = int(a), int(b)
        while s < group_end:
            e = min(s + max_run, group_end)
            # records later than the run's first time plus the span start the next run
            e = s + 1 + int(np.searchsorted(ts[s + 1 : e], int(ts[s]) + MAX_RUN_SPAN_NS, "right"))
            if e == len(starts) and not final and e - s < max_run:
                return int(starts[s])  # the buffer's last run: the stream may extend it
            lo = starts[s]
            hi = starts[e] if e < len(starts) else end
            yield RecordRun(
                int(rtype[s]), int(iid[s]), int(lens[s]), buf[lo:hi], cursor.offset + lo
            )
            s = e
    return end


def _headers(buf: bytes, idx: np.ndarray) -> tuple[np.ndarray, ...]:
    """rtype, length in bytes, instrument id and ts_event of the records starting at ``idx``:
    read as a 2-D view where they all share one length (a one-schema file), else gathered."""
    view = np.frombuffer(buf, dtype=np.uint8)
    n, first = len(idx), int(idx[0])
    rec_len = int(view[first]) * 4
    if bool((np.diff(idx) == rec_len).all()):  # one length throughout
        head = view[first : first + rec_len * n].reshape(n, rec_len)[:, :16]
    else:
        head = view[idx[:, None] + np.arange(16)]
    head = np.ascontiguousarray(head)
    words = head.view("<u4")  # (n, 4): length/rtype/publisher, instrument, ts_event low/high
    return (
        head[:, 1],
        head[:, 0].astype(np.int64) * 4,
        words[:, 1],
        head[:, 8:16].copy().view("<u8").ravel(),
    )


def _raise_truncated(cursor: _Cursor, info: DbnInfo) -> None:
    need = cursor.buf[0] * 4 if cursor.buf else 0
    msg = (
        f"truncated DBN record at byte {cursor.offset} of {info.path}: the record header says "
        f"{need} bytes but the file ends after {len(cursor.buf)}"
    )
    raise InputError(msg)
