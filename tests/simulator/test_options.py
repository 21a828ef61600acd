"""The simulated options side: the vendor's own client models read it, dealers hedge with
the sign their gamma implies, the capture replays through the connector's parsers, and the
fuel engine measures the gamma the scenario placed at the level."""

from __future__ import annotations

import json
import logging
from collections import Counter
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from massive import RESTClient
from massive.rest.models import OptionContractSnapshot
from massive.websocket.models import EquityQuote, EquityTrade, Market, parse

from connectors.polygon.capture import CaptureError, CaptureWriter, read_capture
from dataflows.signals.main import replay_flow, run
from simulator.options_world import GammaFocus, OptionsWorld
from simulator.params import OptionsSimParams
from simulator.polygon_feed import CollectSink, PolygonFeed
from simulator.scenarios import START_NS, Plan, run_scenario
from snapline.settings import Settings
from vendors.polygon_server import PolygonServer, PolygonServerConfig

SESSION = date(2025, 1, 2)


def _world(spot: float, seed: int, focus: GammaFocus | None = None) -> OptionsWorld:
    """The chain around ``spot`` with the gamma of ``focus`` on the 480 strike."""
    return OptionsWorld(
        OptionsSimParams(), SESSION, spot, np.random.default_rng(seed), 480.0, focus
    )


def _feed(
    focus: GammaFocus | None = None, seconds: float = 30.0
) -> tuple[PolygonFeed, CollectSink]:
    world = _world(480.3, 3, focus)
    sink = CollectSink()
    feed = PolygonFeed(world, sink, ratio=10.0)
    for k in range(int(seconds * 10)):
        feed.advance(START_NS + k * 100_000_000, 4803.0 + 0.25 * (k % 4))
    return feed, sink


def test_the_vendor_client_models_parse_the_frames() -> None:
    _, sink = _feed()
    log = logging.getLogger("test")
    trades = quotes = 0
    for _, market, body in sink.items:
        if market == "chain":
            continue
        events = json.loads(body)
        parsed = parse(events, log, Market.Options if market == "options" else Market.Stocks)
        assert len(parsed) == len(events)
        for event, model in zip(events, parsed, strict=True):
            if isinstance(model, EquityTrade):
                trades += 1
                assert (model.symbol, model.price, model.size) == (
                    event["sym"],
                    event["p"],
                    event["s"],
                )
                assert model.symbol.startswith("O:SPY250102")  # 0DTE: expires on the session
            else:
                assert isinstance(model, EquityQuote)
                quotes += 1
                assert model.bid_price < model.ask_price  # type: ignore[operator]
    assert trades > 100 and quotes > trades  # option quotes beside prints, and SPY's NBBO


def test_chain_snapshots_page_like_the_endpoint_and_parse_as_snapshots() -> None:
    _, sink = _feed(seconds=1)
    pages = [json.loads(body) for _, market, body in sink.items if market == "chain"]
    assert len(pages) == 3  # 62 contracts at 25 a page
    assert "next_url" in pages[0] and "next_url" in pages[1] and "next_url" not in pages[2]
    rows = [row for page in pages for row in page["results"]]
    assert len({r["details"]["ticker"] for r in rows}) == 62
    snaps = [OptionContractSnapshot.from_dict(r) for r in rows]
    atm = next(
        s for s in snaps if s.details.strike_price == 480.0 and s.details.contract_type == "call"
    )  # type: ignore[union-attr]
    assert 0.4 < atm.greeks.delta < 0.6 and atm.greeks.gamma > 0  # type: ignore[union-attr, operator]
    assert atm.open_interest > 0 and atm.implied_volatility == pytest.approx(0.14, abs=0.01)  # type: ignore[operator]


def test_the_official_rest_client_pages_through_the_simulated_chain() -> None:
    feed, _ = _feed(seconds=1)
    rows = feed.rows(START_NS, 480.3)
    server = PolygonServer(PolygonServerConfig("key", chain_rows=rows))
    running = server.serve_in_thread()
    try:
        client = RESTClient(api_key="key", base=f"http://{running.address}")
        got = list(client.list_snapshot_options_chain("SPY", params={"limit": 10}))
    finally:
        running.stop()
    assert sorted(s.details.ticker for s in got) == sorted(r["details"]["ticker"] for r in rows)  # type: ignore[union-attr]


@pytest.mark.parametrize(("focus", "sells_on_the_way_down"), [("short", True), ("long", False)])
def test_dealers_hedge_with_the_sign_of_their_gamma(
    focus: GammaFocus, sells_on_the_way_down: bool
) -> None:
    world = _world(480.5, 0, focus)
    world.hedge(START_NS, 480.5, 10.0)  # the position they start with
    lots = [world.hedge(START_NS + k * 10**9, 480.5 - 0.1 * k, 10.0) for k in range(1, 6)]
    assert all(lot != 0 for lot in lots)
    assert all((lot < 0) == sells_on_the_way_down for lot in lots)


def test_capture_round_trip_drops_resends_and_names_a_bad_line(tmp_path: Path) -> None:
    frame = '[{"ev":"T","sym":"O:SPY250102C00480000","x":302,"p":1.5,"s":3,"c":[209],"t":1,"q":7}]'
    path = tmp_path / "c.polygon.jsonl"
    with CaptureWriter(path) as w:
        w.frame(10, "options", frame)
        w.frame(11, "options", frame)  # a resend after a reconnect: same sequence
        w.frame(12, "options", '[{"ev":"T","sym":"O:SPY250102C00480000","p":"x"}]')
    got = list(read_capture(path))
    assert [m.role for m in got] == ["options_trades", "options_trades"]
    assert got[0].value == frame[1:-1].encode() and got[0].headers is not None
    assert got[1].headers is None and got[1].reason and got[1].where.endswith(":4")
    path.write_text(path.read_text() + "{not json\n")
    with pytest.raises(CaptureError, match=r"c\.polygon\.jsonl:5"):
        list(read_capture(path))


@pytest.mark.parametrize(("name", "regime"), [("short_gamma", "AMPLIFY"), ("long_gamma", "DAMPEN")])
def test_fuel_measures_the_gamma_the_scenario_placed(
    tmp_path: Path, name: str, regime: str
) -> None:
    truth = run_scenario(Plan(name, 480.0, "support", seed=0, duration_s=60), tmp_path)
    files = [tmp_path / f for f in [*truth["files"], truth["options"]]]  # type: ignore[misc]
    out = tmp_path / "signals.jsonl"
    run(replay_flow(Settings().model_copy(update={"levels": [480.0]}), files, out))
    at_level = [json.loads(line) for line in out.read_text().splitlines()]
    regimes = Counter(
        s["fuel"]["regime"] for s in at_level if s["level_id"] == "480.00" and s["fuel"]
    )
    assert regimes.most_common(1)[0][0] == regime
    assert all(s["health"]["greeks_as_of_ns"] for s in at_level if s["level_id"] == "480.00")
