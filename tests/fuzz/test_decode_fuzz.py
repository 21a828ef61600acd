"""The signals dataflow's decode over any raw message (any role, headers and value): it
returns a batch, an option event or a ``DecodeFailure`` with the reason (dead-lettered), and
never raises: one bad message must not stop the flow."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st

from connectors.databento.messages import SkipCounts, file_messages
from dataflows.signals.decode import SCHEMA_BY_ROLE, decode
from dataflows.signals.items import BookBatch, DecodeFailure, OptionEvent, TradeBatch
from schemas.envelope import RawMessage
from tests.fuzz.mutations import mutated
from tests.fuzz.strategies import deeply_nested, json_bytes, json_values, kafka_headers
from tests.fuzz.tried import no_hang, tried

DATA = Path(__file__).parent.parent / "data"
ROLES = [*SCHEMA_BY_ROLE, "spy_trades", "signals"]


def _fixture_values() -> dict[str, list[bytes]]:
    """Real raw-topic values (DBN record batches) by role, as ingest produces them."""
    out: dict[str, list[bytes]] = {"es_mbp10": [], "es_trades": []}
    for path in sorted(DATA.glob("*.dbn*")):
        if not path.name.endswith(".dbz"):
            for _, msg in file_messages(path, 8, "databento.file", SkipCounts()):
                out[msg.role].append(msg.value)
    return out


VALUES = _fixture_values()
JSON_SEEDS = [p.read_bytes() for p in sorted((DATA / "polygon").glob("*.json"))]


@st.composite
def raw_messages(draw: st.DrawFn) -> RawMessage:
    role = draw(st.sampled_from(ROLES) | st.text(max_size=8))
    schema = SCHEMA_BY_ROLE.get(role)
    value = draw(
        st.one_of(
            mutated(VALUES["es_mbp10"] + VALUES["es_trades"]),
            mutated(JSON_SEEDS),
            st.tuples(json_values, st.booleans()).map(lambda a: json_bytes(*a)),
            deeply_nested(),
            st.binary(max_size=128),
        )
    )
    key = draw(st.none() | st.binary(max_size=8))
    return RawMessage(role, key, value, draw(kafka_headers(schema)), f"{role}#0", 7)


def _check(decoded: object, msg: RawMessage) -> None:
    if isinstance(decoded, DecodeFailure):
        assert decoded.message is msg and decoded.reason.strip()
    elif isinstance(decoded, BookBatch):
        n = decoded.ts_ns.size
        assert decoded.bid_px.shape == decoded.ask_px.shape == (n, 10)
        assert decoded.bid_sz.shape == decoded.ask_sz.shape == (n, 10)
        assert decoded.max_ts_ns >= 0 and (decoded.ts_ns >= 0).all()
    elif isinstance(decoded, TradeBatch):
        assert decoded.ts_ns.size >= 1 and (decoded.ts_ns >= 0).all()
        assert decoded.price.shape == decoded.size.shape == decoded.ts_ns.shape
    else:
        assert isinstance(decoded, OptionEvent), decoded
        assert decoded.ticker and decoded.partition == msg.partition
        numbers = [decoded.price, decoded.bid, decoded.ask, float(decoded.size)]
        assert all(math.isfinite(x) for x in numbers)


@given(msg=raw_messages())
@example(  # a deeply nested JSON value: json.loads raises RecursionError, not ValueError
    msg=RawMessage(
        "options_trades",
        None,
        b"[" * 2_000,
        [
            ("schema", b"polygon.options.trade"),
            ("source", b"polygon.ws"),
            ("ts_recv_ns", b"0"),
            ("encoding", b"json"),
        ],
    )
)
def test_decode_returns_a_result_or_the_reason_never_raises(msg: RawMessage) -> None:
    tried()
    with no_hang(), np.errstate(all="raise"):  # a numpy warning would be a silent NaN
        decoded = decode(msg)
    _check(decoded, msg)
