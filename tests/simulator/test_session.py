"""A simulated session reads like a real one: the official decoders take its files, its
microstructure has real magnitudes, the day has a busy open and a quiet midday, and SPY and
the 0DTE chain follow ES."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import databento as db
import numpy as np
import pytest

from connectors.polygon.capture import read_capture
from physics.options import parse_ticker
from simulator.params import SessionParams
from simulator.polygon_feed import CollectSink
from simulator.scenarios import Plan
from simulator.session import SessionSim, open_ns, simulate_session

DAY = date(2025, 3, 14)
UNDEF = np.iinfo(np.int64).max
REAL_ES = (
    Path(__file__).parents[1]
    / "data"
    / "derived_esm4-glbx-mdp3-20240508T000000-000002.mbp-10.dbn.zst"
)


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("session")
    simulate_session(DAY, out, seed=4, sp=SessionParams(hours=0.05))
    return out


def _book(path: Path) -> np.ndarray:
    return db.DBNStore.from_bytes(path.read_bytes()).to_ndarray()


def test_official_decoder_reads_the_session(session: Path) -> None:
    summary = json.loads((session / "session-2025-03-14.json").read_text())
    mbp = db.DBNStore.from_bytes((session / "session-2025-03-14.mbp-10.dbn.zst").read_bytes())
    trades = db.DBNStore.from_bytes((session / "session-2025-03-14.trades.dbn.zst").read_bytes())
    book, prints = mbp.to_ndarray(), trades.to_ndarray()
    assert (len(book), len(prints)) == (summary["mbp_records"], summary["trade_records"])
    assert mbp.metadata.start == open_ns(DAY)  # 09:30 New York
    assert np.all(np.diff(book["ts_recv"].astype(np.int64)) >= 0)
    assert np.all(book["ts_recv"] >= book["ts_event"]) and np.all(
        prints["ts_recv"] >= prints["ts_event"]
    )
    assert set(np.unique(prints["side"]).tolist()) == {b"A", b"B"}  # every print has its aggressor
    assert sum(summary["records_per_minute"]) == len(book)


def test_magnitudes_are_those_of_the_real_es_book(session: Path) -> None:
    book = _book(session / "session-2025-03-14.mbp-10.dbn.zst")
    last = book[(book["flags"] & 0x80) != 0]
    bid, ask = last["bid_px_00"].astype(np.int64), last["ask_px_00"].astype(np.int64)
    spread = (ask - bid) / 250_000_000
    assert np.all(spread >= 1) and np.mean(spread == 1) > 0.95  # never crossed; one tick
    real = _book(REAL_ES)
    for column in ("bid_sz_00", "bid_sz_04", "ask_sz_09"):
        sim_median, real_median = np.median(last[column]), np.median(real[column])
        assert real_median / 3 <= sim_median <= real_median * 3, column  # same order of size
    sizes = book["size"][book["action"] == b"T"]
    assert np.median(sizes) <= 5 and np.percentile(sizes, 99) <= 100  # mostly a few lots


def test_the_open_is_busier_than_midday() -> None:
    sp = SessionParams()
    start = open_ns(DAY)
    sim = SessionSim(Plan("quiet", 480.0, "support", 1, 10.0, sp.hours * 3600, start_ns=start),
                     CollectSink(), sp)  # fmt: skip
    counts = []
    for offset_s in (0, 3 * 3600, 6.5 * 3600 - 20):  # the open, midday, the last seconds
        sim.t = start + int(offset_s * 1e9)
        sim.out.drain()
        while sim.t < start + int((offset_s + 20) * 1e9):
            sim.step()
        counts.append(len(sim.out.drain()[0]))
    open_, midday, close = counts
    assert open_ > 2.5 * midday and close > 1.8 * midday


def test_spy_and_the_0dte_chain_follow_es(session: Path) -> None:
    book = _book(session / "session-2025-03-14.mbp-10.dbn.zst")
    last = book[(book["flags"] & 0x80) != 0]
    ts = last["ts_recv"].astype(np.int64)
    mid = (last["bid_px_00"].astype(np.float64) + last["ask_px_00"]) / 2e9
    spy, expiries, rows = [], set(), 0
    for m in read_capture(session / "session-2025-03-14.polygon.jsonl.zst"):
        assert m.headers is not None, m.reason
        doc = json.loads(m.value)
        if m.role == "spy_quotes":
            spy.append((m.headers.ts_event_ns, (doc["bp"] + doc["ap"]) / 2))
        elif m.role == "options_greeks":
            rows += 1
            expiries.add(parse_ticker(doc["details"]["ticker"]).expiry)
    assert expiries == {DAY} and rows >= 62  # 0DTE only, the whole chain every poll
    gaps = [abs(q * 10 - mid[max(np.searchsorted(ts, t) - 1, 0)]) for t, q in spy]
    assert len(spy) > 100 and np.percentile(gaps, 95) <= 0.25  # SPY x 10 within a tick of ES
