"""Rows of each tier from one raw message (pure; no I/O).

Bronze keeps the message: bytes, key and headers unchanged, keyed by (partition, offset).
Silver types its content: one row per DBN record or vendor event, with a natural key that
identifies the same market event however often it was delivered. Gold is the product:
LevelSignals keyed by (level, snap) and LevelEvents by their id.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Hashable
from datetime import UTC, datetime
from typing import Any

import numpy as np
from pydantic import ValidationError

from schemas.dbn import MBP10_NESTED_DTYPE, TRADE_DTYPE, prices, with_ts_out
from schemas.envelope import RawHeaders, RawMessage

Row = dict[str, Any]
RAW_SOURCE = "unknown"


def day_of(ts_ns: int) -> str:
    return datetime.fromtimestamp(ts_ns / 1e9, UTC).strftime("%Y-%m-%d")


def headers_of(msg: RawMessage) -> RawHeaders | None:
    try:
        return RawHeaders.from_kafka(msg.headers)
    except ValidationError:
        return None


def bronze_row(msg: RawMessage) -> Row:
    h = headers_of(msg)
    ts = h.ts_recv_ns if h is not None else 0
    return {
        "partition": msg.partition,
        "offset": msg.offset,
        "role": msg.role,
        "key": msg.key,
        "value": msg.value,
        "headers": [{"key": k, "value": v} for k, v in msg.headers],
        "schema": h.schema_ if h is not None else "unreadable-headers",
        "schema_version": h.schema_version if h is not None else None,
        "source": h.source if h is not None else RAW_SOURCE,
        "ts_recv_ns": ts,
        "date": day_of(ts),
    }


# -- silver ---------------------------------------------------------------------------------
def _dbn_rows(msg: RawMessage, h: RawHeaders, nested: bool) -> list[Row]:
    dtype = MBP10_NESTED_DTYPE if nested else TRADE_DTYPE
    if h.dbn_ts_out:
        dtype = with_ts_out(dtype)
    if len(msg.value) % dtype.itemsize:
        return []
    rec = np.frombuffer(msg.value, dtype=dtype)
    price = prices(rec["price"])
    base: dict[str, Any] = {
        "ts_event_ns": rec["ts_event"].astype(np.int64).tolist(),
        "ts_recv_ns": rec["ts_recv"].astype(np.int64).tolist(),
        "instrument_id": rec["instrument_id"].astype(np.int64).tolist(),
        "sequence": rec["sequence"].astype(np.int64).tolist(),
        "action": [a.decode() for a in rec["action"]],
        "side": [s.decode() for s in rec["side"]],
        "price": price.tolist(),
        "size": rec["size"].astype(np.int64).tolist(),
        "flags": rec["flags"].astype(np.int64).tolist(),
    }
    if nested:
        lv = rec["levels"]
        for name in ("bid_px", "ask_px"):
            base[name] = prices(lv[name]).tolist()
        for name in ("bid_sz", "ask_sz", "bid_ct", "ask_ct"):
            base[name] = lv[name].astype(np.int64).tolist()
        base["depth"] = rec["depth"].astype(np.int64).tolist()
    n = len(rec)
    return [{k: v[i] for k, v in base.items()} for i in range(n)]


def _json_rows(msg: RawMessage, h: RawHeaders, fields: dict[str, str]) -> list[Row]:
    try:
        doc = json.loads(msg.value)
    except ValueError:
        return []
    row: Row = {out: _path(doc, path) for out, path in fields.items()}
    row["ts_recv_ns"] = h.ts_recv_ns
    row["ts_event_ns"] = h.ts_event_ns
    return [row]


def _path(doc: Any, path: str) -> Any:
    for part in path.split("."):
        doc = doc.get(part) if isinstance(doc, dict) else None
    return doc


_OPTION_TRADE = {"sym": "sym", "price": "p", "size": "s", "exchange": "x", "sequence": "q"}
_QUOTE = {"sym": "sym", "bid": "bp", "ask": "ap", "bid_size": "bs", "ask_size": "as",
          "sequence": "q"}  # fmt: skip
_STOCK_TRADE = {"sym": "sym", "price": "p", "size": "s", "exchange": "x", "sequence": "q",
                "trade_id": "i"}  # fmt: skip
_GREEKS = {
    "ticker": "details.ticker", "contract_type": "details.contract_type",
    "expiration_date": "details.expiration_date", "strike_price": "details.strike_price",
    "delta": "greeks.delta", "gamma": "greeks.gamma", "theta": "greeks.theta",
    "vega": "greeks.vega", "implied_volatility": "implied_volatility",
    "open_interest": "open_interest", "day_volume": "day.volume", "day_close": "day.close",
    "underlying_price": "underlying_asset.price",
}  # fmt: skip


def _silver(role: str) -> Callable[[RawMessage, RawHeaders], list[Row]] | None:
    return {
        "es_mbp10": lambda m, h: _dbn_rows(m, h, nested=True),
        "es_trades": lambda m, h: _dbn_rows(m, h, nested=False),
        "options_trades": lambda m, h: _json_rows(m, h, _OPTION_TRADE),
        "options_quotes": lambda m, h: _json_rows(m, h, _QUOTE),
        "spy_quotes": lambda m, h: _json_rows(m, h, _QUOTE),
        "spy_trades": lambda m, h: _json_rows(m, h, _STOCK_TRADE),
        "options_greeks": lambda m, h: _json_rows(m, h, _GREEKS),
    }.get(role)


# The same thing delivered twice, however it was delivered: the key per table. Silver rows
# come from a raw message and its position in it: the message's digest names the delivery's
# content (a redelivered message has the same bytes; distinct records may be identical in every
# field, several fills at one price do, so the content of a record alone would not do).
NATURAL_KEY: dict[str, Callable[[Row], Hashable]] = {
    "signals": lambda r: (r["level_id"], r["ts_event_ns"]),
    "events": lambda r: r["event_id"],
}
SILVER_KEY: Callable[[Row], Hashable] = lambda r: (r["message_digest"], r["index_in_message"])  # noqa: E731


def message_digest(value: bytes) -> str:
    return hashlib.blake2b(value, digest_size=16).hexdigest()


def silver_rows(msg: RawMessage) -> list[Row]:
    """Typed rows of a raw message (none when its headers or value cannot be read: bronze
    still has it, and the signals flow dead-lettered it)."""
    make = _silver(msg.role)
    h = headers_of(msg)
    if make is None or h is None:
        return []
    rows = make(msg, h)
    digest = message_digest(msg.value)
    for i, r in enumerate(rows):
        r["date"] = day_of(r["ts_recv_ns"])
        r["message_digest"] = digest
        r["index_in_message"] = i
    return rows


def gold_rows(msg: RawMessage) -> list[Row]:
    """A LevelSignal or LevelEvent as a row (nested parts stay nested)."""
    try:
        doc = json.loads(msg.value)
    except ValueError:
        return []
    if not isinstance(doc, dict) or "ts_event_ns" not in doc:
        return []
    doc["date"] = day_of(int(doc["ts_event_ns"]))
    return [doc]
