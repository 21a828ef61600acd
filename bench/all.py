"""``snapline bench all``: every benchmark in one run (about 20 minutes here), each printing
its figures and writing its JSON under one folder, the scaling plot beside them."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _steps() -> list[tuple[str, Callable[[], dict[str, Any]], Callable[[dict[str, Any]], str]]]:
    from bench import bridge_load, cluster, day, kafka_e2e, live_latency, peer, replay, scaling

    return [
        ("replay", lambda: replay.run_replay_bench(3), replay.describe),
        ("kafka", lambda: kafka_e2e.run_kafka_bench(3, profile_top=10), kafka_e2e.describe),
        ("peer", lambda: peer.run_peer_bench(3), peer.describe),
        ("cluster", lambda: cluster.run_cluster_bench(2), cluster.describe),
        ("live", lambda: live_latency.run_live_latency(40.0, 5.0, 50_000.0), live_latency.describe),
        ("scaling", lambda: scaling.run_scaling(2.0), scaling.describe),
        ("day", lambda: day.run_day_bench(6.5), day.describe),
        (
            "bridge_load",
            lambda: bridge_load.run_bridge_load(500, 5, 5, 250, 20),
            bridge_load.describe,
        ),
    ]


def run_all(out_dir: Path, echo: Callable[[str], None]) -> dict[str, float]:
    """Runs each benchmark in turn; returns the seconds each took."""
    from bench.scaling import plot

    out_dir.mkdir(parents=True, exist_ok=True)
    took: dict[str, float] = {}
    for name, run, describe in _steps():
        echo(f"== {name}")
        t0 = time.perf_counter()
        result = run()
        took[name] = round(time.perf_counter() - t0, 1)
        echo(describe(result))
        (out_dir / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
        if name == "scaling":
            plot(result, out_dir / "scaling.png")
    echo(f"== done in {sum(took.values()):.0f} s: {took}")
    return took
