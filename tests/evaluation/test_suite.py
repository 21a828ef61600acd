"""The scenario suite end to end (one seed): simulate, replay, score."""

from pathlib import Path

from evaluation.suite import first_test_calls, run_suite
from simulator.scenarios import SCENARIOS
from snapline.settings import Settings


def test_suite_scores_every_scenario_and_makes_no_calls_on_untested_levels(tmp_path: Path) -> None:
    # seed 1 alone, two runs at once (each in its own process)
    report = run_suite(1, tmp_path, Settings(), duration_s=120.0, first_seed=1, jobs=2)
    rows = report["scenarios"]
    assert {r["seed"] for r in rows} == {1}
    assert sorted({(r["scenario"], r["side"]) for r in rows}) == sorted(
        (name, side) for name in SCENARIOS for side in ("support", "resistance")
    )
    assert all(r["outcome"] == "NO_TEST" for r in rows if r["scenario"] == "quiet")
    quiet = report["summary"]["quiet_untested_level_signals"]
    assert quiet  # untested levels were published...
    assert not {"BREAK", "BOUNCE"} & set(quiet)  # ...and never called
    assert (tmp_path / "suite.json").is_file()
    ft = report["first_tests"]
    assert ft["decided"] == sum(r["outcome"] in ("BREAK", "BOUNCE") for r in rows)
    # every call over every test falls in one scenario's cell, and the first tests' cells are
    # the first-test table's calls
    cells = report["calls_by_scenario"]
    hit = report["summary"]["hit_rate"]
    assert sum(c["right"] + c["wrong"] for c in cells) == hit["n"]
    if hit.get("value") is not None:
        assert sum(c["right"] for c in cells) == round(hit["value"] * hit["n"])
    first = [c for c in cells if c["test"] == "first"]
    assert sum(c["right"] for c in first) == ft["right"]
    assert sum(c["wrong"] for c in first) == ft["wrong"]
    # the calls made again at the configured threshold give back the published figures
    sens = report["sensitivity_to_call_threshold"]
    at = sens[str(report["config"]["signal_enter"])]
    assert at["first_tests"] == ft
    assert at["hit_rate"] == report["summary"]["hit_rate"]
    assert at["quiet_untested_level_signals"] == quiet
    # into the test: every decided first test is either still open or was decided sooner
    for after in report["first_tests_after_touch_s"].values():
        assert after["still_open"] + after["decided_sooner"] == ft["decided"]
        assert after["right"] + after["wrong"] + after["not_called"] == after["still_open"]
    page = (tmp_path / "index.html").read_text()
    assert f"Decided in {ft['decided']} runs: called right at the touch in {ft['right']}" in page
    assert "1.0 s after the touch, right in" in page
    assert page.count("<tr><td>") == len(rows) + len(sens) + len(cells) + len({
        (r["scenario"], r["outcome"], r["call_at_touch"]) for r in rows
    })  # fmt: skip  # a row per run, per threshold, per scenario's calls, per first-test cell
    assert (tmp_path / "calibration.png").stat().st_size > 1000


def test_first_test_calls_count_right_wrong_and_not_called() -> None:
    rows = [
        {"outcome": "BREAK", "call_at_touch": "BREAK"},
        {"outcome": "BOUNCE", "call_at_touch": "BREAK"},
        {"outcome": "BOUNCE", "call_at_touch": "NEUTRAL"},
        {"outcome": "BREAK", "call_at_touch": "ABSTAIN"},
        {"outcome": "NO_TEST", "call_at_touch": None},
        {"outcome": "CENSORED", "call_at_touch": "BOUNCE"},
    ]
    assert first_test_calls(rows) == {"decided": 4, "right": 1, "wrong": 1, "not_called": 2}
