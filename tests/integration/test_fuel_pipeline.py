"""Fuel end to end: an SPY chain and option prints, through the Polygon connector's own parsing
into the raw options topics, joined with a simulated ES session in the signals dataflow."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.polygon.chain import parse_page
from connectors.polygon.messages import parse_frame
from connectors.raw_writer import RawWriter
from physics import fuel as fu
from physics.config import PhysicsConfig
from simulator.option_chain import restrike
from simulator.scenarios import START_NS, Plan, run_scenario
from snapline.kafka.catalog import TopicCatalog
from snapline.kafka.producer import TrackedProducer
from snapline.settings import Settings
from tests.integration.kafka_helpers import read_all, signals_of, snapline

pytestmark = pytest.mark.integration
POLYGON = Path(__file__).parents[1] / "data" / "polygon"
SHIFT = 193.0  # the captured chain was struck around 673; the simulated session is at 480


def test_signals_carry_fuel_from_the_options_topics(settings: Settings, tmp_path: Path) -> None:
    truth = run_scenario(Plan("vacuum", 480.0, "support", seed=3, duration_s=120), tmp_path)
    session = datetime.fromtimestamp(START_NS / 1e9, UTC).date()
    rows = []
    for path in sorted(POLYGON.glob("rest_v3_snapshot_options_SPY__*.json")):
        rows += [restrike(r, SHIFT, session) for r in json.loads(path.read_text())["results"]]
    page = json.dumps({"results": rows, "status": "OK"}).encode()
    polled_ns = START_NS + 1_000_000_000
    put = next(r for r in rows if r["details"]["ticker"].endswith("P00479000"))["details"]
    frame = json.dumps(
        [
            {
                "ev": "T",
                "sym": put["ticker"],
                "p": 1.1,
                "s": 500,
                "t": (START_NS // 10**6) + 2000,
                "q": 1,
            }
        ]
    ).encode()

    s = settings.model_copy(update={"levels": [480.0]})
    writer = RawWriter(TrackedProducer(s.kafka), TopicCatalog.from_settings(s))
    for row in parse_page(page, "test page", polled_ns).rows:
        writer.send("options_greeks", row.ticker.encode(), row.value, row.headers)
    for r in parse_frame(frame, "options", START_NS + 2_000_000_000).routed:
        writer.send(r.role, r.key, r.value, r.headers)
    writer.producer.flush()
    files = [str(tmp_path / f) for f in truth["files"]]
    assert snapline(s, "ingest", "dbn", *files).returncode == 0
    done = snapline(s, "run", "signals", "--until-end")
    assert done.returncode == 0, done.stderr

    signals = signals_of(read_all(s, TopicCatalog.from_settings(s).name("signals")))
    at_level = [x for x in signals if x["level_id"] == "480.00"]
    before = [x for x in at_level if x["ts_event_ns"] < polled_ns]
    after = [x for x in at_level if x["ts_event_ns"] >= START_NS + 3_000_000_000]
    assert before and all(x["fuel"]["regime"] == "MISSING" for x in before)
    assert after and all(x["fuel"]["regime"] != "MISSING" for x in after)
    assert all(x["health"]["greeks_as_of_ns"] == polled_ns for x in after)

    # the same number from the physics alone, at the first snap after both inputs
    first = after[0]
    cfg = PhysicsConfig()
    book = fu.FuelBook()
    for row in rows:
        fu.apply_greeks_row(book, row, polled_ns, cfg)
    fu.apply_option_trade(book, put["ticker"], 1.1, 500)  # no quote, first print: unknown
    chain = fu.chain_of(book, first["ts_event_ns"], session, cfg)
    expected = fu.fuel_at(chain, 480.0, first["spot"], cfg)
    assert expected is not None
    assert first["fuel"]["gex_near_level"] == pytest.approx(expected.gex_near_level, rel=1e-9)
    assert first["fuel"]["regime"] == expected.regime
    # the score weighs that gamma's hedge against what a tick must clear in this book
    hedge = fu.hedge_lots_per_tick(expected.gex_near_level, first["spot"], first["ratio"], cfg)
    assert first["fuel"]["hedge_lots_per_tick"] == pytest.approx(hedge, rel=1e-9)
    clear = first["fuel"]["lots_to_clear"]
    assert clear >= cfg.vacuum_eps
    score = fu.fuel_score(expected.gex_near_level, hedge, clear)
    assert first["fuel"]["score"] == pytest.approx(score, rel=1e-9)
    late = [x for x in signals if x["ts_event_ns"] >= START_NS + 3_000_000_000]
    kinds = {k for x in late for k in x["level_kinds"]}
    assert {"strike", "call_wall", "put_wall"} <= kinds
