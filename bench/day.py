"""What re-running a whole day costs: a simulated regular-hours session (the day's activity,
busy open and close) replayed in process with the levels that follow spot, as a user re-runs
retained data. A day is about 234,000 snaps and 1.4 million signals, so its figure is bound
by the work per snap and per signal, not per record (``bench scaling`` shows both regimes)."""

from __future__ import annotations

import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from bench.scaling import measured_replay, replay_figures
from simulator.params import SessionParams
from simulator.session import simulate_session


def run_day_bench(hours: float = 6.5, seed: int = 0) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        report = simulate_session(
            date(2025, 3, 14), Path(tmp), seed=seed, sp=SessionParams(hours=hours)
        )
        simulated_s = time.perf_counter() - t0
        run = measured_replay(report.files, [], Path(tmp) / "signals.jsonl")
    records = report.mbp_records + report.trade_records
    figures = {"hours": hours, "seed": seed, "simulated_seconds": round(simulated_s, 1)}
    return {**figures, **replay_figures(records, run)}


def describe(r: dict[str, Any]) -> str:
    return "\n".join(
        [
            f"a simulated day of {r['hours']} h (seed {r['seed']}): {r['es_records']:,} ES "
            f"records, simulated in {r['simulated_seconds']} s",
            f"replayed in {r['seconds']} s ({r['dataflow_seconds']} s of dataflow): "
            f"{r['es_records_per_s']:,} ES records/s ({r['dataflow_es_records_per_s']:,} of "
            f"dataflow), {r['signals']:,} signals ({r['signals_per_s']:,}/s), "
            f"peak {r['peak_rss_mb']} MB",
        ]
    )
