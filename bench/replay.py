"""Replay throughput, in process: the bundled ES session through ``snapline replay``.

Each run is a fresh process (``python -m snapline replay``), so its peak resident memory is its
own; the figure is the median of the runs, with their spread.
"""

from __future__ import annotations

import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

from snapline.demo import sample_files

ES_RECORDS = 43_780 + 2_973  # MBP-10 and trades records in the bundled sample


def run_replay_bench(runs: int = 3, level: float = 480.5) -> dict[str, Any]:
    seconds: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "signals.jsonl"
        for _ in range(runs):
            args = [sys.executable, "-m", "snapline", "replay", "--level", str(level),
                    "--out", str(out)]  # fmt: skip
            for f in sample_files():
                args += ["--dbn", str(f)]
            t0 = time.perf_counter()
            subprocess.run(args, check=True, capture_output=True)
            seconds.append(time.perf_counter() - t0)
        with out.open() as lines:
            signals = sum(1 for _ in lines)
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    median = statistics.median(seconds)
    return {
        "es_records": ES_RECORDS,
        "signals_published": signals,
        "runs": runs,
        "seconds": {
            "median": round(median, 2),
            "min": round(min(seconds), 2),
            "max": round(max(seconds), 2),
        },
        "es_records_per_s": round(ES_RECORDS / median),
        "signals_per_s": round(signals / median),
        "peak_rss_mb": round(peak_kb / 1024, 1),
        "machine": _machine(),
    }


def _machine() -> dict[str, Any]:
    import os

    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "bytewax": version("bytewax"),
        "numpy": version("numpy"),
    }


def describe(r: dict[str, Any]) -> str:
    s = r["seconds"]
    return (
        f"replay of {r['es_records']:,} ES records -> {r['signals_published']:,} signals: "
        f"median {s['median']} s (min {s['min']}, max {s['max']}, {r['runs']} runs), "
        f"{r['es_records_per_s']:,} ES records/s, {r['signals_per_s']:,} signals/s, "
        f"peak RSS {r['peak_rss_mb']} MB"
    )
