"""Level events in replay: a simulated test of a level reads approach, test, call, outcome,
matching the scenario's truth, and a second run gives the same events."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dataflows.signals.main import replay_flow, run
from simulator.scenarios import Plan, run_scenario
from snapline.settings import Settings

SNAP_NS = 100_000_000


def _replay(out: Path, truth: dict[str, Any], name: str) -> list[dict[str, Any]]:
    files = [out / f for f in truth["files"]]
    settings = Settings(levels=[truth["level"]])
    events = out / f"{name}.events.jsonl"
    run(replay_flow(settings, files, out / f"{name}.signals.jsonl", events))
    return [json.loads(line) for line in events.read_text().splitlines()]


@pytest.mark.parametrize(
    ("scenario", "side", "seed"), [("vacuum", "support", 3), ("wall", "resistance", 1)]
)
def test_a_scenario_reads_approach_test_outcome_and_replays_identically(
    tmp_path: Path, scenario: str, side: str, seed: int
) -> None:
    truth = run_scenario(Plan(scenario, 480.0, side, seed=seed), tmp_path)
    assert truth["tests"][0]["outcome"] in ("BREAK", "BOUNCE")  # decided within the data
    first = _replay(tmp_path, truth, "a")
    second = _replay(tmp_path, truth, "b")
    strip = [{k: v for k, v in e.items() if k != "ts_publish_ns"} for e in first]
    assert strip == [{k: v for k, v in e.items() if k != "ts_publish_ns"} for e in second]

    level = [e for e in first if e["level_price"] == 480.0]
    kinds = [e["kind"] for e in level]
    assert kinds[0] == "APPROACH"
    start = next(e for e in level if e["kind"] == "TEST_START")
    # snaps sample the book every 100 ms: a touch shorter than that can pass unseen, so the
    # first test the snaps see is the book's latest touch at or before it, within a second
    expected = [t for t in truth["tests"] if t["touch_ns"] <= start["ts_event_ns"]][-1]
    assert start["test_side"] == expected["side"] == side
    assert 0 <= start["ts_event_ns"] - expected["touch_ns"] < 10 * SNAP_NS
    assert start["ts_event_ns"] < expected["decided_ns"]
    outcome = next(e for e in level if e["kind"] in ("BREAK", "BOUNCE", "CENSORED"))
    assert outcome["kind"] == expected["outcome"]
    assert outcome["test_touch_ns"] == start["ts_event_ns"]
    assert kinds.index("APPROACH") < kinds.index("TEST_START") < kinds.index(outcome["kind"])
    if outcome["test_call"] is not None:
        assert outcome["call_correct"] == (outcome["test_call"] == outcome["kind"])
    assert len({e["event_id"] for e in first}) == len(first)  # ids are unique
