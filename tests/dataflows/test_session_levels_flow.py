"""The session VWAP becomes a tracked level in the dataflow, equal to the trades' own VWAP."""

from __future__ import annotations

import json
from pathlib import Path

import databento as db
import numpy as np

from dataflows.signals.main import replay_flow, run
from simulator.scenarios import Plan, run_scenario
from snapline.settings import Settings


def test_vwap_level_is_the_sessions_vwap(tmp_path: Path) -> None:
    truth = run_scenario(Plan("quiet", 480.0, "support", seed=2, duration_s=60), tmp_path)
    files = [tmp_path / f for f in truth["files"]]
    out = tmp_path / "signals.jsonl"
    run(replay_flow(Settings(levels=[480.0]), files, out))
    signals = [json.loads(line) for line in out.read_text().splitlines()]
    last_snap = max(s["ts_event_ns"] for s in signals)
    vwap_levels = [
        s for s in signals if "vwap" in s["level_kinds"] and s["ts_event_ns"] == last_snap
    ]
    assert len(vwap_levels) == 1
    trades = db.DBNStore.from_bytes(files[1].read_bytes()).to_ndarray()
    upto = trades[trades["ts_recv"].astype(np.int64) <= last_snap]
    price = upto["price"].astype(np.float64) / 1e9
    expected = float(np.sum(price * upto["size"]) / np.sum(upto["size"]) / 10.0)
    assert vwap_levels[0]["level_price"] == round(expected, 2)
    # one level however far the VWAP moved: its snap count runs on without a restart
    vwap = [s for s in signals if s["level_id"] == "vwap"]
    assert len({s["level_price"] for s in vwap}) > 1
    assert [s["snap_seq"] for s in vwap] == list(range(len(vwap)))
    assert not [s for s in signals if "vwap" in s["level_kinds"] and s["level_id"] != "vwap"]
