"""The scenario suite end to end (one seed): simulate, replay, score."""

from pathlib import Path

from evaluation.suite import run_suite
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
