"""Raw Kafka headers (``RawHeaders.from_kafka``): any list of (name, bytes) parses, or raises
``pydantic.ValidationError`` naming the header; decode and the lake catch exactly that."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st
from pydantic import ValidationError

from schemas.envelope import RawHeaders
from tests.fuzz.strategies import SCHEMAS, kafka_headers
from tests.fuzz.tried import no_hang, tried

_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=20)  # encodable as UTF-8


@given(headers=kafka_headers())
@example(headers=[("schema", b"\x80"), ("source", b"databento.file"), ("ts_recv_ns", b"0")])
def test_headers_parse_or_name_the_bad_header(headers: list[tuple[str, bytes | None]]) -> None:
    tried()
    with no_hang():
        try:
            parsed = RawHeaders.from_kafka(headers)
        except ValidationError as exc:
            errors = exc.errors()
            parsed = None
    if parsed is None:
        assert errors and all(e["loc"] for e in errors)  # each names its header
    else:
        assert parsed.ts_recv_ns >= 0 and parsed.records >= 1
        assert RawHeaders.from_kafka(parsed.to_kafka()) == parsed


@given(
    schema=st.sampled_from(SCHEMAS) | _text,
    source=_text,
    ts_recv_ns=st.integers(0, 2**64),
    ts_event_ns=st.none() | st.integers(0, 2**64),
    records=st.integers(1, 2**31),
    encoding=st.sampled_from(["dbn", "json"]),
    dbn_version=st.none() | st.integers(1, 3),
    dbn_ts_out=st.booleans(),
)
def test_headers_survive_the_trip_through_kafka(
    schema: str,
    source: str,
    ts_recv_ns: int,
    ts_event_ns: int | None,
    records: int,
    encoding: str,
    dbn_version: int | None,
    dbn_ts_out: bool,
) -> None:
    tried()
    headers = RawHeaders.model_validate(
        {
            "schema": schema,
            "source": source,
            "ts_recv_ns": ts_recv_ns,
            "ts_event_ns": ts_event_ns,
            "records": records,
            "encoding": encoding,
            "dbn_version": dbn_version,
            "dbn_ts_out": dbn_ts_out,
        }
    )
    assert RawHeaders.from_kafka(headers.to_kafka()) == headers
