"""The scenario suite: simulate every scenario on both sides over many seeds, replay each
through the signals dataflow, and score the calls against what the simulated book did."""

from __future__ import annotations

import json
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

from dataflows.signals.main import replay_flow, run
from evaluation.metrics import (
    CALLS,
    LevelSeries,
    ScoredTest,
    recalled,
    score_tests,
    summarise,
    threshold_summary,
    threshold_tests,
)
from evaluation.report import book_spot, load_signals, write_suite_report
from physics.config import PhysicsConfig
from simulator.scenarios import SCENARIOS, Plan, Side, reusable_truth, run_scenario
from snapline.settings import Settings


@dataclass(frozen=True)
class _Run:
    """One scenario run of the suite, and what it needs (sent to a worker process)."""

    name: str
    side: Side
    seed: int
    level: float
    duration_s: float
    folder: Path
    settings: Settings
    reuse: bool = False


@dataclass(frozen=True)
class _RunResult:
    row: dict[str, Any]
    tests: list[ScoredTest]
    quiet_calls: Counter[str]
    # per entry threshold: the tests, and the quiet run's signals on untested levels, with the
    # calls made again at that threshold
    by_enter: dict[float, tuple[list[ScoredTest], Counter[str]]]


def run_suite(
    seeds: int,
    out: Path,
    settings: Settings,
    level: float = 480.0,
    duration_s: float = 240.0,
    first_seed: int = 0,
    jobs: int = 1,
    reuse: bool = False,
) -> dict[str, Any]:
    """Seeds ``first_seed`` .. ``first_seed + seeds - 1`` of every scenario on both sides;
    ``jobs`` runs at once, each in its own process (the report is the same for any ``jobs``).
    ``reuse``: a run already simulated into ``out`` for the same plan is replayed, not
    simulated again (``reusable_truth``), which is how the physics is changed and re-scored."""
    runs = [
        _Run(name, side, seed, level, duration_s, out / f"{name}-{side}-{seed}", settings, reuse)
        for name in SCENARIOS
        for side in get_args(Side)
        for seed in range(first_seed, first_seed + seeds)
    ]
    if jobs > 1:
        with ProcessPoolExecutor(jobs) as pool:
            results = list(pool.map(_one_run, runs))
    else:
        results = [_one_run(r) for r in runs]
    summary = summarise([t for r in results for t in r.tests], settings.physics)
    summary["quiet_untested_level_signals"] = dict(sum((r.quiet_calls for r in results), Counter()))
    report = {
        "level": level,
        "seeds": seeds,
        "first_seed": first_seed,
        "config": settings.physics.model_dump(mode="json"),
        "first_tests": first_test_calls([r.row for r in results]),
        "calls_by_scenario": calls_by_scenario([(r.row["scenario"], r.tests) for r in results]),
        "first_tests_after_touch_s": {
            str(d): first_test_calls_after([r.row for r in results], d)
            for d in settings.physics.after_touch_s
        },
        "summary": summary,
        "sensitivity_to_call_threshold": {
            str(enter): _at_threshold(enter, results, settings.physics)
            for enter in settings.physics.sensitivity_signal_enter
        },
        "scenarios": [r.row for r in results],
    }
    (out / "suite.json").write_text(json.dumps(report, indent=2))
    write_suite_report(report, out)
    return report


def _at_threshold(enter: float, results: list[_RunResult], cfg: PhysicsConfig) -> dict[str, Any]:
    """The suite's figures with every call made again at entry threshold ``enter``."""
    if any(enter not in r.by_enter for r in results):
        return {"note": "the signals do not carry in_play (written before it was published)"}
    tests = [t for r in results for t in r.by_enter[enter][0]]
    return {
        "first_tests": first_test_calls([_first_row(r.row, r.by_enter[enter][0]) for r in results]),
        **threshold_summary({enter: tests}, cfg)[str(enter)],
        "quiet_untested_level_signals": dict(
            sum((r.by_enter[enter][1] for r in results), Counter())
        ),
    }


def first_test_calls(rows: list[dict[str, Any]]) -> dict[str, int]:
    """The issue's measure: of the runs whose first test was decided (BREAK or BOUNCE), how
    many were called right at the touch, called wrong, or not called (NEUTRAL, ABSTAIN)."""
    decided = [r for r in rows if r["outcome"] in ("BREAK", "BOUNCE")]
    right = sum(r["call_at_touch"] == r["outcome"] for r in decided)
    wrong = sum(r["call_at_touch"] in ("BREAK", "BOUNCE") for r in decided) - right
    return {"decided": len(decided), "right": right, "wrong": wrong,
            "not_called": len(decided) - right - wrong}  # fmt: skip


def calls_by_scenario(runs: list[tuple[str, list[ScoredTest]]]) -> list[dict[str, Any]]:
    """Over every decided test of the level, the BREAK and BOUNCE calls at the touch by
    scenario, by whether the test was its run's first or a later one, and by call: how many
    were right and wrong. Where the calls go wrong is where the physics has something to learn
    (a BOUNCE call is worth only what it adds to the share of tests that bounce)."""
    counts: Counter[tuple[str, str, str, bool]] = Counter()
    for scenario, tests in runs:
        for i, t in enumerate(tests):
            if t.test.outcome in CALLS and t.call in CALLS:
                which = "first" if i == 0 else "later"
                counts[(scenario, which, t.call, t.call == t.test.outcome)] += 1
    cells = sorted({k[:3] for k in counts})
    return [
        {"scenario": name, "test": which, "call": call,
         "right": counts[(name, which, call, True)], "wrong": counts[(name, which, call, False)]}
        for name, which, call in cells
    ]  # fmt: skip


def first_test_calls_after(rows: list[dict[str, Any]], d: float) -> dict[str, int]:
    """``first_test_calls`` with the call published ``d`` s into the test, over the runs whose
    first test was decided and not yet by then (``decided_sooner`` counts the others)."""
    decided = [r for r in rows if r["outcome"] in ("BREAK", "BOUNCE")]
    calls = [r["calls_after_touch"].get(str(d), "DECIDED") for r in decided]
    open_ = [
        {"outcome": r["outcome"], "call_at_touch": c}
        for r, c in zip(decided, calls, strict=True)
        if c != "DECIDED"
    ]
    sooner = len(decided) - len(open_)
    counts = first_test_calls(open_)
    return {"decided_sooner": sooner, "still_open": counts.pop("decided"), **counts}


def _one_run(r: _Run) -> _RunResult:
    cfg = r.settings.physics
    plan = Plan(r.name, r.level, r.side, r.seed, cfg.es_spy_ratio, r.duration_s)
    truth = (reusable_truth(plan, r.folder) if r.reuse else None) or run_scenario(plan, r.folder)
    dbn = [r.folder / str(f) for f in truth["files"]]
    files = [*dbn, r.folder / str(truth["options"])]
    signals = r.folder / "signals.jsonl"
    run(replay_flow(r.settings.model_copy(update={"levels": [r.level]}), files, signals))
    ts, spot = book_spot(files[:1], cfg.es_spy_ratio)
    _, _, levels = load_signals(signals)
    mine = [lv for lv in levels if lv.price == r.level]
    tests = score_tests(ts, spot, mine, cfg, session=r.folder.name)
    row = _first_row({"scenario": r.name, "side": r.side, "seed": r.seed}, tests)
    untested = [lv for lv in levels if not score_tests(ts, spot, [lv], cfg)]
    quiet = r.name == "quiet"  # calls on levels price never tested must not happen
    by_enter = {
        enter: (tests_at, _quiet_calls(untested, enter, cfg) if quiet else Counter[str]())
        for enter, tests_at in threshold_tests(ts, spot, mine, cfg, r.folder.name).items()
    }
    return _RunResult(
        row, tests, _quiet_calls(untested, None, cfg) if quiet else Counter(), by_enter
    )


def _quiet_calls(
    untested: list[LevelSeries], enter: float | None, cfg: PhysicsConfig
) -> Counter[str]:
    """The signals published on levels price never tested: as published (``enter`` None) or
    with the calls made again at entry threshold ``enter``."""
    again = untested if enter is None else [recalled(lv, enter, cfg) for lv in untested]
    return Counter(s for lv in again for s in lv.signal.tolist())


def _first_row(run: dict[str, Any], tests: list[ScoredTest]) -> dict[str, Any]:
    """A run's row: its first test's outcome, the call at its touch and the calls published
    into the test until the outcome was known."""
    first = tests[0] if tests else None
    return {
        **{k: run[k] for k in ("scenario", "side", "seed")},
        "outcome": first.test.outcome if first else "NO_TEST",
        "call_at_touch": first.call if first else None,
        "calls_after_touch": {str(d): c for d, c in first.after_calls.items()} if first else {},
    }
