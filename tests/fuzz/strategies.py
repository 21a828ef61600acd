"""Shared input strategies: Kafka headers and JSON documents, valid, nearly valid and not."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from schemas.envelope import RawHeaders

HEADER_NAMES = [
    "schema", "schema_version", "source", "ts_recv_ns", "ts_event_ns", "records", "encoding",
    "dbn_version", "dbn_ts_out",
]  # fmt: skip
SCHEMAS = [
    "dbn.mbp-10", "dbn.trades", "polygon.options.trade", "polygon.options.quote",
    "polygon.options.snapshot", "polygon.stocks.quote", "polygon.stocks.trade",
]  # fmt: skip

_numbers = st.integers(-(2**70), 2**70).map(str)
header_values = st.one_of(
    st.none(),
    st.binary(max_size=24),
    st.sampled_from([*SCHEMAS, "dbn", "json", "true", "false", "1", "0", "-1", "", "NaN"]).map(
        str.encode
    ),
    _numbers.map(str.encode),
    st.text(max_size=16).map(lambda t: t.encode("utf-8", "surrogatepass")),
)
raw_header_lists = st.lists(
    st.tuples(st.one_of(st.sampled_from(HEADER_NAMES), st.text(max_size=12)), header_values),
    max_size=12,
)


@st.composite
def kafka_headers(draw: st.DrawFn, schema: str | None = None) -> list[tuple[str, bytes | None]]:
    """Valid headers for ``schema`` with some fields replaced, dropped or repeated; or junk."""
    if draw(st.integers(0, 4)) == 0:
        return draw(raw_header_lists)
    base = RawHeaders.model_validate(
        {
            "schema": schema or draw(st.sampled_from(SCHEMAS)),
            "source": draw(st.sampled_from(["databento.file", "polygon.ws", "polygon.rest"])),
            "ts_recv_ns": draw(st.integers(0, 2**63 - 1)),
            "records": draw(st.integers(1, 300)),
            "encoding": "json" if (schema or "").startswith("polygon") else "dbn",
            "dbn_ts_out": draw(st.booleans()),
        }
    )
    headers: list[tuple[str, bytes | None]] = list(base.to_kafka())
    for _ in range(draw(st.integers(0, 2))):
        i = draw(st.integers(0, len(headers)))
        op = draw(st.sampled_from(["replace", "drop", "add"]))
        if op == "replace" and i < len(headers):
            headers[i] = (headers[i][0], draw(header_values))
        elif op == "drop" and i < len(headers):
            del headers[i]
        else:
            headers.insert(i, (draw(st.sampled_from(HEADER_NAMES)), draw(header_values)))
    return headers


# Any JSON value (floats include NaN and infinities, as Python's json writes and reads them).
# JSON strings may carry lone surrogates ("\\ud800" is valid JSON but not encodable as UTF-8).
json_text = st.text(max_size=12) | st.text(st.characters(categories=["Cs", "Lu", "Po"]), max_size=4)
json_scalars = st.none() | st.booleans() | st.integers(-(2**64), 2**64) | st.floats() | json_text
json_values: st.SearchStrategy[Any] = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(json_text, inner, max_size=4),
    max_leaves=12,
)


def json_bytes(value: Any, compact: bool) -> bytes:
    separators = (",", ":") if compact else (" , ", " : ")
    return json.dumps(value, separators=separators, ensure_ascii=compact).encode(
        "utf-8", "surrogatepass"
    )


def deeply_nested(max_depth: int = 5000) -> st.SearchStrategy[bytes]:
    """Arrays or objects nested past Python's recursion limit (a classic parser crash)."""
    return st.integers(max_depth // 10, max_depth).flatmap(
        lambda n: st.sampled_from([b"[" * n + b"]" * n, b'{"a":' * n + b"1" + b"}" * n])
    )
