"""The scenario suite: simulate every scenario on both sides over many seeds, replay each
through the signals dataflow, and score the calls against what the simulated book did."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any, get_args

from dataflows.signals.main import replay_flow, run
from evaluation.metrics import ScoredTest, score_tests, summarise
from evaluation.report import book_spot, load_signals
from simulator.scenarios import SCENARIOS, Plan, Side, run_scenario
from snapline.settings import Settings


def run_suite(
    seeds: int, out: Path, settings: Settings, level: float = 480.0, duration_s: float = 240.0
) -> dict[str, Any]:
    cfg = settings.physics
    scored: list[ScoredTest] = []
    rows = []
    quiet_calls = Counter[str]()
    for name in SCENARIOS:
        for side in get_args(Side):
            for seed in range(seeds):
                folder = out / f"{name}-{side}-{seed}"
                truth = run_scenario(
                    Plan(name, level, side, seed, cfg.es_spy_ratio, duration_s), folder
                )
                dbn = [folder / str(f) for f in truth["files"]]  # type: ignore[attr-defined]
                files = [*dbn, folder / str(truth["options"])]
                signals = folder / "signals.jsonl"
                run(replay_flow(settings.model_copy(update={"levels": [level]}), files, signals))
                ts, spot = book_spot(files[:1], cfg.es_spy_ratio)
                _, _, levels = load_signals(signals)
                tests = score_tests(
                    ts, spot, [lv for lv in levels if lv.price == level], cfg, session=folder.name
                )
                scored += tests
                first = tests[0] if tests else None
                rows.append({
                    "scenario": name, "side": side, "seed": seed,
                    "outcome": first.test.outcome if first else "NO_TEST",
                    "call_at_touch": first.call if first else None,
                })  # fmt: skip
                if name == "quiet":  # calls on levels price never tested must not happen
                    untested = [lv for lv in levels if not score_tests(ts, spot, [lv], cfg)]
                    quiet_calls.update(s for lv in untested for s in lv.signal.tolist())
    summary = summarise(scored, cfg)
    summary["quiet_untested_level_signals"] = dict(quiet_calls)
    report = {"level": level, "seeds": seeds, "summary": summary, "scenarios": rows}
    (out / "suite.json").write_text(json.dumps(report, indent=2))
    return report
