"""Raw DBN messages -> numpy batches, without copying the record bytes.

Anything that does not decode becomes a ``DecodeFailure`` with the reason, so the flow can
dead-letter it and go on.
"""

from __future__ import annotations

import math

import numpy as np
from pydantic import ValidationError

from dataflows.signals.items import BookBatch, Decoded, DecodeFailure, OptionEvent, TradeBatch
from schemas.dbn import (
    F_LAST,
    LEVEL_DTYPE,
    MBP10_NESTED_DTYPE,
    RECORD_LAYOUTS,
    TRADE_DTYPE,
    field_offset,
    prices,
    with_ts_out,
)
from schemas.envelope import RawHeaders, RawMessage
from snapline import jsontext

MAX_TS_NS = np.iinfo(np.int64).max
# where the ten levels lie in an MBP-10 record, and each level field's first word: int64 words
# for prices, uint32 words for sizes (a level is 4 int64 words)
_LEVELS_FROM = field_offset(MBP10_NESTED_DTYPE, "levels")
_LEVELS_TO = _LEVELS_FROM + MBP10_NESTED_DTYPE["levels"].itemsize
_WORDS = LEVEL_DTYPE.itemsize // 8
_WORD = {
    name: field_offset(LEVEL_DTYPE, name) // LEVEL_DTYPE[name].itemsize
    for name in ("bid_px", "ask_px", "bid_sz", "ask_sz")
}
SCHEMA_BY_ROLE = {
    "es_mbp10": "dbn.mbp-10",
    "es_trades": "dbn.trades",
    "options_trades": "polygon.options.trade",
    "options_quotes": "polygon.options.quote",
    "options_greeks": "polygon.options.snapshot",
    "spy_quotes": "polygon.stocks.quote",
}


def decode(msg: RawMessage) -> Decoded:
    try:
        headers = RawHeaders.from_kafka(msg.headers)
    except ValidationError as exc:
        return DecodeFailure(msg, f"bad headers: {_first_error(exc)}")
    expected = SCHEMA_BY_ROLE.get(msg.role)
    if headers.schema_ != expected:
        return DecodeFailure(
            msg, f"expected schema {expected} on {msg.role}, got {headers.schema_}"
        )
    if msg.role.startswith("options_") or msg.role == "spy_quotes":
        return decode_option(msg, headers)
    if headers.encoding != "dbn":
        return DecodeFailure(msg, f"expected dbn encoding, got {headers.encoding}")
    dtype = MBP10_NESTED_DTYPE if msg.role == "es_mbp10" else TRADE_DTYPE
    if headers.dbn_ts_out:
        dtype = with_ts_out(dtype)
    problem = _layout_problem(msg.value, dtype, headers)
    if problem:
        return DecodeFailure(msg, problem)
    records = np.frombuffer(msg.value, dtype=dtype)
    rtype = RECORD_LAYOUTS[expected.removeprefix("dbn.")][0]
    # (array methods, not np.all / np.any: their wrappers cost more than these short checks)
    if not (
        (records["rtype"] == rtype).all()
        and (records["length"].astype(np.int64) * 4 == dtype.itemsize).all()
    ):
        return DecodeFailure(msg, f"records of another type or length inside a {expected} message")
    iid = records["instrument_id"]
    if (iid != iid[0]).any():
        return DecodeFailure(msg, "a raw message must hold one instrument's records")
    # DBN marks an unknown time as 2**64-1; as int64 event time it would be negative.
    ts_recv = records["ts_recv"]
    if ts_recv.max() > MAX_TS_NS:
        i = int(np.flatnonzero(ts_recv > MAX_TS_NS)[0])
        return DecodeFailure(
            msg, f"record {i} of {len(records)} has ts_recv {ts_recv[i]}: not a time"
        )
    if msg.role == "es_mbp10":
        return _book(msg.partition, records)
    return _trades(msg.partition, records)


def _layout_problem(value: bytes, dtype: np.dtype, headers: RawHeaders) -> str | None:
    if not value or len(value) % dtype.itemsize:
        return f"{len(value)} bytes is not a whole number of {dtype.itemsize}-byte records"
    if len(value) // dtype.itemsize != headers.records:
        return f"headers say {headers.records} records, value holds {len(value) // dtype.itemsize}"
    return None


def _book(partition: str, rec: np.ndarray) -> BookBatch:
    ts = rec["ts_recv"].astype(np.int64)
    last = (rec["flags"] & F_LAST) != 0  # mid-event books can look crossed: trust F_LAST only
    # the ten levels as plain int64 words (records are whole words long): reading fields of a
    # nested record array is several times slower than slicing a 2-D view of the same bytes
    words = rec.view(np.int64).reshape(rec.size, rec.dtype.itemsize // 8)
    q = words[:, _LEVELS_FROM // 8 : _LEVELS_TO // 8]  # (records, 10 levels x 4 words)
    if not last.all():
        q = q[last]
    w = q.view(np.uint32)
    return BookBatch(
        partition=partition,
        instrument_id=int(rec["instrument_id"][0]),
        ts_ns=ts[last],
        bid_px=prices(q[:, _WORD["bid_px"] :: _WORDS]),
        bid_sz=w[:, _WORD["bid_sz"] :: 2 * _WORDS].astype(np.int64),
        ask_px=prices(q[:, _WORD["ask_px"] :: _WORDS]),
        ask_sz=w[:, _WORD["ask_sz"] :: 2 * _WORDS].astype(np.int64),
        max_ts_ns=int(ts.max()),
    )


def _trades(partition: str, rec: np.ndarray) -> TradeBatch:
    side = rec["side"]
    return TradeBatch(
        partition=partition,
        instrument_id=int(rec["instrument_id"][0]),
        ts_ns=rec["ts_recv"].astype(np.int64),
        price=prices(rec["price"]),
        size=rec["size"].astype(np.int64),
        is_buy=side == b"B",
        is_sell=side == b"A",
    )


def decode_option(msg: RawMessage, headers: RawHeaders) -> OptionEvent | DecodeFailure:
    """A Polygon/Massive options (or SPY quote) message (bytes as the vendor sent them)."""
    try:
        doc = jsontext.loads(msg.value)
    except ValueError as exc:
        return DecodeFailure(msg, f"not JSON: {exc}")
    if not isinstance(doc, dict):
        return DecodeFailure(msg, "expected a JSON object")
    part, offset, ts = msg.partition, msg.offset, headers.ts_recv_ns
    if msg.role == "options_greeks":
        details = doc.get("details")
        ticker = details.get("ticker") if isinstance(details, dict) else None
        if not isinstance(ticker, str):
            return DecodeFailure(msg, "chain row without details.ticker")
        return OptionEvent(part, offset, ts, "greeks", ticker, row=doc)
    sym = doc.get("sym")
    fields = ("p", "s") if msg.role == "options_trades" else ("bp", "ap")
    values = [doc.get(f) for f in fields]
    if not isinstance(sym, str) or not all(_finite(v) for v in values):
        return DecodeFailure(msg, f"option {msg.role} event needs sym, {', '.join(fields)}")
    a, b = float(values[0]), float(values[1])  # type: ignore[arg-type]  # checked finite
    if msg.role == "spy_quotes":
        return OptionEvent(part, offset, ts, "spy_quote", sym, bid=a, ask=b)
    if msg.role == "options_trades":
        return OptionEvent(part, offset, ts, "trade", sym, price=a, size=int(b))
    return OptionEvent(part, offset, ts, "quote", sym, bid=a, ask=b)


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    return f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
