"""`snapline evaluate` on the real-format sample: a complete, reproducible report."""

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import ESH4_MBP10, ESH4_TRADES, dbn_records


def test_replay_says_what_it_read_and_how_fast(
    tmp_path: Path, esh4_open: tuple[Path, Path], esh4_open_replay: Path
) -> None:
    signals = tmp_path / "signals.jsonl"
    replay = subprocess.run(
        [sys.executable, "-m", "snapline", "replay", "--dbn", str(esh4_open[0]),
         "--dbn", str(esh4_open[1]), "--level", "480.5", "--out", str(signals)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert replay.returncode == 0, replay.stderr
    # every record of the two files, counted independently; the signals an in-process replay
    # of the same files publishes
    n_signals = len(signals.read_text().splitlines())
    assert n_signals == len(esh4_open_replay.read_text().splitlines())
    n_mbp, n_trades = (dbn_records(f) for f in esh4_open)
    assert (
        f"{n_mbp + n_trades:,} ES records ({n_mbp:,} MBP-10, {n_trades:,} trades) -> "
        f"{n_signals:,} signals in "
    ) in replay.stdout
    assert "ES records/s" in replay.stdout


def test_report_on_the_sample_is_complete_and_reproducible(
    tmp_path: Path, esh4_replay: tuple[Path, Path]
) -> None:
    signals = esh4_replay[0]  # the whole sample replayed at 480.5
    cli = [sys.executable, "-m", "snapline"]
    files = ["--dbn", str(ESH4_MBP10), "--dbn", str(ESH4_TRADES)]
    reports = []
    for name in ("a", "b"):
        run = subprocess.run(
            [*cli, "evaluate", "--signals", str(signals), *files[:2], "--out", tmp_path / name],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr
        assert "tests (" in run.stdout
        reports.append((tmp_path / name / "report.json").read_text())
    assert reports[0] == reports[1]
    report = json.loads(reports[0])
    s = report["summary"]
    assert s["tests"] == s["resolved"] + s["censored"] == len(report["tests"]) > 0
    assert {t["outcome"] for t in report["tests"]} <= {"BREAK", "BOUNCE", "CENSORED"}
    # each outcome threshold moved in turn; at its configured value, the summary's own figures
    for name, values in report["sensitivity_to_outcome"].items():
        assert len(values) == len(report["config"]["sensitivity_outcome_scales"])
        assert values[f"{report['config'][name]:g}"]["hit_rate"] == s["hit_rate"]
    # the calls made again by the call step at the configured thresholds are the published ones,
    # and at the configured threshold the sensitivity table repeats the summary
    sens = report["sensitivity_to_call_threshold"]
    assert sens["calls_not_reproduced"] == 0
    at = sens["at_signal_enter"]
    assert at[str(report["config"]["signal_enter"])]["coverage"] == s["coverage"]
    assert at[str(report["config"]["signal_enter"])]["hit_rate"] == s["hit_rate"]
    calls = [v["hit_rate"]["n"] for v in at.values()]  # tests called at each threshold
    assert calls == sorted(calls, reverse=True)  # a higher threshold calls no more tests
    assert calls[0] > calls[-1]
    page = (tmp_path / "a" / "index.html").read_text()
    assert "entry threshold" in page
    assert page.count("data:image/png;base64,") == 2  # self-contained
    assert (tmp_path / "a" / "price.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_file_that_is_not_signals_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"level_id": "480.00"}\n')
    run = subprocess.run(
        [sys.executable, "-m", "snapline", "evaluate", "--signals", bad, "--out", tmp_path],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 2
    assert "bad.jsonl line 1: not a LevelSignal" in run.stderr


def test_options_captures_give_the_regime_at_each_touch(tmp_path: Path) -> None:
    # a short-gamma test replayed without its options: the report recomputes the regime at
    # each touch from the capture, as the signals made with the options published it
    from dataflows.signals.main import replay_flow, run
    from evaluation.report import evaluate
    from physics.config import PhysicsConfig
    from simulator.scenarios import Plan, run_scenario
    from snapline.settings import Settings

    truth = run_scenario(Plan("short_gamma", 480.0, "support", seed=2, duration_s=90), tmp_path)
    dbn = [tmp_path / str(f) for f in truth["files"]]  # type: ignore[attr-defined]
    capture = tmp_path / str(truth["options"])
    settings = Settings(levels=[480.0])
    run(replay_flow(settings, [*dbn, capture], tmp_path / "with.jsonl"))
    run(replay_flow(settings, dbn, tmp_path / "without.jsonl"))
    cfg = PhysicsConfig(min_tests=1)
    published = evaluate(tmp_path / "with.jsonl", tmp_path / "a", cfg, dbn[:1])["tests"]
    missing = evaluate(tmp_path / "without.jsonl", tmp_path / "b", cfg, dbn[:1])["tests"]
    recomputed = evaluate(tmp_path / "without.jsonl", tmp_path / "c", cfg, dbn[:1], [capture])
    regimes = {(t["touch_ns"], t["level"]): t["regime"] for t in published}
    mine = [t for t in recomputed["tests"] if t["level"] == 480.0]
    assert mine and {t["regime"] for t in missing} == {"MISSING"}
    assert {t["regime"] for t in mine} == {"AMPLIFY"}  # dealers short gamma at the level
    # levels both replays published (without options there are no strike or gamma levels)
    both = [t for t in recomputed["tests"] if (t["touch_ns"], t["level"]) in regimes]
    same = [t["regime"] == regimes[(t["touch_ns"], t["level"])] for t in both]
    assert len(both) >= len(mine) and sum(same) >= 0.9 * len(same)  # touch, snap: <= 100 ms
    assert recomputed["inputs"]["fuel_regime"] == "options captures"
    assert "AMPLIFY" in recomputed["summary"]["by_regime"]
