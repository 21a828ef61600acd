"""Polygon/Massive JSON from outside: WebSocket frames and REST chain pages. A frame never
raises (bad events are rejected with the reason, to be dead-lettered); a page parses or raises
``MalformedPageError`` naming the page; kept events and rows are the vendor's bytes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from connectors.polygon.chain import MalformedPageError, parse_page
from connectors.polygon.messages import FRAME_DLQ_ROLE, ROUTES, parse_frame
from connectors.polygon.rawjson import array_items, member_items
from tests.fuzz.mutations import mutated
from tests.fuzz.strategies import deeply_nested, json_bytes, json_scalars, json_text, json_values
from tests.fuzz.tried import no_hang, tried

POLYGON = Path(__file__).parent.parent / "data" / "polygon"
FRAMES = [p.read_bytes() for p in sorted(POLYGON.glob("ws_*.json"))]
PAGES = [p.read_bytes() for p in sorted(POLYGON.glob("rest_*.json"))]
ROLES = {role for role, _ in ROUTES.values()} | set(FRAME_DLQ_ROLE.values())

_numberish = st.integers(-5, 2**63) | st.floats() | json_scalars
_sym = st.sampled_from(["O:SPY251010C00673000", "SPY"]) | json_text
_count = st.integers(0, 2**63)
_price = st.floats(0, 1e6) | st.integers(0, 10**6)


@st.composite
def events(draw: st.DrawFn) -> Any:
    """A well-formed trade, quote or status event, often with one field damaged or dropped."""
    ev = draw(st.sampled_from(["T", "Q", "status", "A"]))
    if ev == "status":
        event = {"ev": ev, "status": draw(json_scalars), "message": draw(json_scalars)}
    else:
        event = {"ev": ev, "sym": draw(_sym), "t": draw(_count), "q": draw(_count)}
        prices = {"p": draw(_price), "s": draw(_count)} if ev == "T" else {}
        event |= prices or {"bp": draw(_price), "ap": draw(_price)}
    if draw(st.booleans()):
        name = draw(st.sampled_from(sorted(event)))
        if draw(st.booleans()):
            del event[name]
        else:
            event[name] = draw(_numberish)
    return event


def _encodings(value: Any) -> st.SearchStrategy[bytes]:
    """The same JSON value as bytes: compact, spaced, or in an encoding json.loads detects."""
    return st.sampled_from(["compact", "spaced", "utf-16", "utf-16-le", "utf-32"]).map(
        lambda how: (
            json_bytes(value, how == "compact")
            if how in ("compact", "spaced")
            else json.dumps(value, ensure_ascii=False).encode(how, "surrogatepass")
        )
    )


frames = st.one_of(
    st.lists(events() | json_values, max_size=6).flatmap(_encodings),
    mutated(FRAMES),
    deeply_nested(),
    st.binary(max_size=64),
)


@given(frame=frames, market=st.sampled_from(["options", "stocks"]), ts=st.integers(0, 2**63))
@example(frame=b"[\x00]\x00", market="options", ts=0)  # UTF-16 "[]": json and rawjson disagreed
@example(  # a lone surrogate is valid JSON but no Kafka key: sym.encode() raised
    frame=b'[{"ev":"T","sym":"\\ud800","t":0,"q":0,"p":0.0,"s":0}]', market="options", ts=0
)
def test_a_frame_never_raises_and_keeps_each_event_as_sent(
    frame: bytes, market: str, ts: int
) -> None:
    tried()
    with no_hang():
        parsed = parse_frame(frame, market, ts)
    for r in parsed.routed:
        assert r.value in frame and json.loads(r.value)["sym"] == r.sym  # the vendor's bytes
        assert r.key == r.sym.encode() and r.role in ROLES
        assert r.headers.ts_recv_ns == ts and r.headers.ts_event_ns is not None
    for bad in parsed.rejected:
        assert bad.role in ROLES and bad.reason.strip()
    try:
        doc = json.loads(frame)
    except (ValueError, RecursionError):
        doc = None
    if isinstance(doc, list):  # every event is accounted for, once
        counted = len(parsed.routed) + len(parsed.statuses) + sum(parsed.unrouted.values())
        assert counted + len(parsed.rejected) in (len(doc), 1)


@given(value=st.lists(json_values, max_size=6) | st.dictionaries(st.text(max_size=6), json_values))
def test_raw_spans_are_the_elements_json_reads(value: Any) -> None:
    """rawjson cuts a valid document exactly where json.loads sees its elements."""
    tried()
    for compact in (True, False):
        doc = json_bytes(value, compact)
        if isinstance(value, list):
            items = array_items(doc)
            assert [json.loads(x) for x in items] == json.loads(doc)
        else:
            wrapped = json_bytes({"results": list(value.values()), **value}, compact)
            items = member_items(wrapped, "results") or []
            assert [json.loads(x) for x in items] == json.loads(wrapped)["results"]


rows = st.fixed_dictionaries(
    {},
    optional={
        "details": st.fixed_dictionaries({"ticker": _sym}) | json_values,
        "day": st.fixed_dictionaries({}, optional={"last_updated": _numberish}),
        "last_quote": st.fixed_dictionaries({}, optional={"last_updated": _numberish}),
        "open_interest": _numberish,
    },
)
pages = st.one_of(
    st.fixed_dictionaries(
        {"results": st.lists(rows | json_values, max_size=5) | json_values},
        optional={"next_url": st.just("https://x/v3?cursor=abc&apiKey=k") | json_scalars},
    ).flatmap(_encodings),
    mutated(PAGES),
    deeply_nested(),
    st.binary(max_size=64),
)


@given(body=pages, ts=st.integers(0, 2**63))
@example(body=b'{"results":[{"details":{"ticker":"\\ud800"}}]}', ts=0)  # crashed ingest's key
def test_a_chain_page_parses_or_names_the_page(body: bytes, ts: int) -> None:
    tried()
    with no_hang():
        try:
            page = parse_page(body, "SPY chain page 7", ts)
        except MalformedPageError as exc:
            page, error = None, exc
    if page is None:
        assert str(error).startswith("SPY chain page 7")
        return
    for row in page.rows:
        assert row.value in body and row.ticker
        assert json.loads(row.value)["details"]["ticker"] == row.ticker
        assert row.ticker.encode()  # the Kafka key: must be UTF-8
    for bad in page.rejected:
        assert bad.reason.startswith("SPY chain page 7")
    assert page.next_params is None or "apiKey" not in page.next_params
