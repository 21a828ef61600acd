"""The Polygon/Massive capture file: what the vendor sent, as it arrived, for replay.

JSON lines (``.jsonl``, or zstd-compressed ``.jsonl.zst``). The first line names the format::

    {"format": "snapline.polygon-capture", "version": 1}

then one line per WebSocket frame or REST snapshot page, in receipt order, the vendor's bytes
unchanged as a string::

    {"ts_recv_ns": 1735..., "source": "polygon.ws", "market": "options", "body": "[...]"}
    {"ts_recv_ns": 1735..., "source": "polygon.rest", "market": "chain", "body": "{...}"}

Reading a capture goes through the live connector's own parsers (``parse_frame``,
``parse_page``) and its resend filter, so a replay sees the raw messages live ingest would
have produced from the same traffic.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import zstandard

from connectors.polygon.chain import MalformedPageError, parse_page
from connectors.polygon.messages import SequenceTracker, parse_frame
from schemas.envelope import RawHeaders, RawMessage
from snapline.errors import InputError

FORMAT = "snapline.polygon-capture"
VERSION = 1
MARKETS = ("options", "stocks")
CHAIN = "chain"


class CaptureError(InputError):
    """A capture file that cannot be read; the message names the file and line."""


@dataclass(frozen=True, slots=True)
class CaptureMessage:
    """One raw-topic message from a capture, or one the connector would dead-letter
    (``headers`` None, ``reason`` set). ``where`` is ``file:line``."""

    role: str
    key: bytes | None
    value: bytes
    headers: RawHeaders | None
    where: str
    reason: str | None = None


class CaptureWriter:
    """Writes a capture; use as a context manager. ``.zst`` in the name compresses it."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        raw: IO[bytes] = path.open("wb")
        if path.suffix == ".zst":
            raw = zstandard.ZstdCompressor().stream_writer(raw)
        self._out = io.TextIOWrapper(raw, encoding="utf-8", newline="\n")
        self.lines = 0
        self._line({"format": FORMAT, "version": VERSION})

    def frame(self, ts_recv_ns: int, market: str, body: str) -> None:
        self._line({"ts_recv_ns": ts_recv_ns, "source": "polygon.ws", "market": market,
                    "body": body})  # fmt: skip

    def page(self, ts_recv_ns: int, body: str) -> None:
        self._line({"ts_recv_ns": ts_recv_ns, "source": "polygon.rest", "market": CHAIN,
                    "body": body})  # fmt: skip

    def _line(self, doc: dict[str, Any]) -> None:
        self._out.write(json.dumps(doc, separators=(",", ":")) + "\n")
        self.lines += 1

    def close(self) -> None:
        self._out.close()

    def __enter__(self) -> CaptureWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _open_text(path: Path) -> IO[str]:
    raw: IO[bytes] = path.open("rb")
    if path.suffix == ".zst":
        raw = zstandard.ZstdDecompressor().stream_reader(raw)
    return io.TextIOWrapper(raw, encoding="utf-8")


def _numbered(path: Path, text: IO[str]) -> Iterator[tuple[int, str]]:
    try:
        yield from enumerate(text, start=1)
    except (UnicodeDecodeError, zstandard.ZstdError) as exc:
        msg = f"{path}: unreadable capture ({exc})"
        raise CaptureError(msg) from None


def check_capture(path: Path) -> None:
    """Fail now, with a clear message, if ``path`` is missing or not a capture."""
    if not path.is_file():
        msg = f"{path}: no such capture file"
        raise CaptureError(msg)
    with _open_text(path) as text:
        _check_header(path, next(_numbered(path, text), (1, ""))[1])


def read_capture(path: Path) -> Iterator[CaptureMessage]:
    """Every raw message of a capture, in file order (resent WebSocket events dropped)."""
    with _open_text(path) as text:
        lines = _numbered(path, text)
        _check_header(path, next(lines, (1, ""))[1])
        sequences = SequenceTracker()
        for number, line in lines:
            if line.strip():
                yield from _messages(f"{path}:{number}", line, sequences)


def strict_capture(path: Path) -> Iterator[tuple[RawHeaders, RawMessage]]:
    """Every message of a capture as the raw topics carry it, for replay and evaluation: a line
    the connector would dead-letter stops the reading, naming the line and the reason."""
    for m in read_capture(path):
        if m.headers is None:
            msg = f"{m.where}: {m.reason}"
            raise CaptureError(msg)
        yield m.headers, RawMessage(m.role, m.key, m.value, m.headers.to_kafka())


def _check_header(path: Path, head: str) -> None:
    try:
        header = json.loads(head)
    except ValueError:
        header = None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        msg = f"{path}:1: not a Polygon capture (expected a {FORMAT} header line)"
        raise CaptureError(msg)
    if header.get("version") != VERSION:
        msg = f"{path}:1: capture version {header.get('version')!r}; this reads {VERSION}"
        raise CaptureError(msg)


def _messages(where: str, line: str, sequences: SequenceTracker) -> Iterator[CaptureMessage]:
    try:
        doc = json.loads(line)
        ts = doc["ts_recv_ns"]
        market, body = doc["market"], doc["body"].encode()
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        msg = f"{where}: expected ts_recv_ns, market and body ({type(exc).__name__}: {exc})"
        raise CaptureError(msg) from None
    if not isinstance(ts, int) or ts < 0:
        msg = f"{where}: ts_recv_ns must be a non-negative integer, got {ts!r}"
        raise CaptureError(msg)
    yield from traffic_messages(where, ts, market, body, sequences)


def traffic_messages(
    where: str, ts: int, market: str, body: bytes, sequences: SequenceTracker
) -> Iterator[CaptureMessage]:
    """One frame or page of vendor traffic -> raw messages, as the live connector makes them."""
    if market == CHAIN:
        try:
            page = parse_page(body, where, ts)
        except MalformedPageError as exc:
            yield CaptureMessage("options_greeks", None, exc.body, None, where, str(exc))
            return
        for row in page.rows:
            yield CaptureMessage("options_greeks", row.ticker.encode(), row.value, row.headers,
                                 where)  # fmt: skip
        for bad in page.rejected:
            yield CaptureMessage("options_greeks", None, bad.value, None, where, bad.reason)
        return
    if market not in MARKETS:
        msg = f"{where}: unknown market {market!r}; expected {', '.join((*MARKETS, CHAIN))}"
        raise CaptureError(msg)
    parsed = parse_frame(body, market, ts)
    for r in parsed.routed:
        if sequences.accept(r.ev, r.sym, r.sequence):
            yield CaptureMessage(r.role, r.key, r.value, r.headers, where)
    for rejected in parsed.rejected:
        yield CaptureMessage(rejected.role, None, rejected.value, None, where, rejected.reason)
