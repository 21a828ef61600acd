"""Polygon/Massive payloads -> raw messages: bytes unchanged, bad events explained."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import SecretStr

from connectors.polygon.chain import MalformedPageError, RowCache, parse_page
from connectors.polygon.ingest import polygon_api_key
from connectors.polygon.messages import SequenceTracker, parse_frame
from connectors.polygon.rawjson import array_items, member_items
from snapline.errors import ConfigError
from snapline.settings import PolygonSettings

POLYGON = Path(__file__).parents[2] / "data" / "polygon"
CALLS = next(POLYGON.glob("rest_v3_snapshot_options_SPY__calls_*.json"))


def test_array_items_cut_the_frame_exactly_even_with_brackets_and_escapes_in_strings() -> None:
    frame = b' [ {"a":"x,\\"]}","b":[1,{"c":2}]} ,\n {"d":{}} ] '
    items = array_items(frame)
    assert items == [b'{"a":"x,\\"]}","b":[1,{"c":2}]}', b'{"d":{}}']
    assert [json.loads(i) for i in items] == json.loads(frame)


def test_member_items_finds_the_results_rows_of_a_real_chain_page() -> None:
    body = CALLS.read_bytes()
    rows = member_items(body, "results")
    assert rows is not None
    assert [json.loads(r) for r in rows] == json.loads(body)["results"]
    assert all(r in body for r in rows)  # slices of the page, not re-encodings
    assert member_items(body, "absent") is None


def test_spec_option_trade_frame_is_routed_unchanged_with_ns_event_time() -> None:
    frame = (POLYGON / "ws_options_T_trade.frame.json").read_bytes()
    parsed = parse_frame(frame, "options", ts_recv_ns=123)
    (msg,) = parsed.routed
    assert msg.role == "options_trades"
    assert msg.key == b"O:AMC210827C00037000"
    assert json.loads(msg.value) == json.loads(frame)[0]
    assert msg.value in frame
    headers = dict(msg.headers.to_kafka())
    assert headers["ts_event_ns"] == str(1629820676333 * 1_000_000).encode()
    assert headers["ts_recv_ns"] == b"123"
    assert headers["schema"] == b"polygon.options.trade"
    assert headers["encoding"] == b"json"


def test_stock_quote_goes_to_the_spy_quotes_topic() -> None:
    frame = (POLYGON / "ws_stocks_Q_quote.frame.json").read_bytes()
    (msg,) = parse_frame(frame, "stocks", 0).routed
    assert (msg.role, msg.key, msg.headers.schema_) == (
        "spy_quotes",
        b"MSFT",
        "polygon.stocks.quote",
    )


def test_a_mixed_frame_keeps_good_events_and_explains_bad_ones() -> None:
    frame = json.dumps(
        [
            {"ev": "status", "status": "success", "message": "subscribed to: T.O:X"},
            {"ev": "T", "sym": "O:SPY251010C00673000", "p": 2.1, "s": 3, "t": 5, "q": 9},
            {"ev": "T", "p": 2.1, "s": 3, "t": 5, "q": 10},
            {"ev": "T", "sym": "O:SPY251010C00673000", "p": "2.1", "s": 3, "t": 5, "q": 11},
            {"ev": "T", "sym": "O:SPY251010C00673000", "p": 2.1, "s": 1.5, "t": 5, "q": 12},
            {"ev": "AM", "sym": "O:SPY251010C00673000"},
            {"no": "type"},
        ]
    ).encode()
    parsed = parse_frame(frame, "options", 0)
    assert [r.sequence for r in parsed.routed] == [9]
    assert [s.status for s in parsed.statuses] == ["success"]
    assert parsed.unrouted == {"AM": 1}
    reasons = [r.reason for r in parsed.rejected]
    assert reasons == [
        "event 2 (T): missing ticker 'sym'",
        "event 3 (T): missing or non-numeric 'p' (got '2.1')",
        "event 4 (T): 's' must be an integer, got 1.5",
        "event 6 of the frame has no 'ev' type",
    ]
    assert all(r.value in frame for r in parsed.rejected)


@pytest.mark.parametrize("frame", [b"not json", b'{"ev":"T"}', b'[{"ev":"T"'])
def test_an_unreadable_frame_is_rejected_whole(frame: bytes) -> None:
    parsed = parse_frame(frame, "options", 0)
    (bad,) = parsed.rejected
    assert bad.value == frame
    assert bad.role == "options_trades"
    assert bad.reason.startswith("unreadable frame")


def test_sequence_tracker_drops_resends_per_ticker_and_counts_them() -> None:
    t = SequenceTracker()
    accepted = [t.accept("T", s, q) for s, q in [("A", 5), ("B", 5), ("A", 7), ("A", 7), ("A", 6)]]
    assert accepted == [True, True, True, False, False]
    assert t.duplicates == 2


def test_real_chain_page_rows_keyed_by_contract_with_the_cursor_for_the_next_page() -> None:
    page = parse_page(CALLS.read_bytes(), "page 1", ts_recv_ns=7)
    assert [r.ticker for r in page.rows][:2] == ["O:SPY251010C00673000", "O:SPY251010C00674000"]
    assert len(page.rows) == 10
    assert page.rows[0].headers.ts_event_ns == 1759896000000000000  # day.last_updated
    assert page.next_params is not None and set(page.next_params) == {"cursor"}
    assert page.rejected == []


def test_chain_rows_without_a_ticker_are_rejected_and_bad_pages_raise() -> None:
    body = json.dumps({"results": [{"details": {}}, {"details": {"ticker": "O:X"}}]}).encode()
    page = parse_page(body, "page 3", 0)
    assert [r.ticker for r in page.rows] == ["O:X"]
    assert [r.reason for r in page.rejected] == ["page 3 row 0: no details.ticker"]
    with pytest.raises(MalformedPageError, match="page 4: the response is not JSON"):
        parse_page(body[:20], "page 4", 0)
    with pytest.raises(MalformedPageError, match="expected an object with a 'results' list"):
        parse_page(b'{"status":"OK"}', "page 5", 0)


def test_row_cache_sends_changes_and_everything_every_n_polls() -> None:
    page = parse_page(CALLS.read_bytes(), "p", 0)
    cache = RowCache(full_every=3)
    assert len(cache.changed(page.rows)) == 10  # first poll: all
    assert cache.changed(page.rows) == []  # unchanged
    changed = [page.rows[0].__class__(page.rows[0].ticker, b"{}", page.rows[0].headers)]
    assert [r.ticker for r in cache.changed(changed)] == ["O:SPY251010C00673000"]
    assert len(cache.changed(page.rows)) == 10  # poll 4: full refresh
    assert cache.unchanged == 10


def test_api_key_order_settings_then_vendor_variables_then_file(tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text("from-file\n")
    cfg = PolygonSettings(api_key_file=key_file)
    assert polygon_api_key(cfg, {}).get_secret_value() == "from-file"
    assert polygon_api_key(cfg, {"POLYGON_API_KEY": "p"}).get_secret_value() == "p"
    explicit = PolygonSettings(api_key=SecretStr("s"))
    assert polygon_api_key(explicit, {"MASSIVE_API_KEY": "m"}).get_secret_value() == "s"
    with pytest.raises(ConfigError, match="no Polygon/Massive API key"):
        polygon_api_key(PolygonSettings(), {})
    assert "from-file" not in repr(PolygonSettings(api_key=SecretStr("from-file")))
