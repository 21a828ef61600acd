"""Cluster throughput: the signals dataflow over the same retained topics with 1 and with 2
Bytewax processes (``run signals --until-end --processes N``); each run writes to a signals
topic of its own so every run does the same work."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.common import child_env, fresh_topics, load, machine, rate, spread, timed_cli
from snapline.demo import sample_files
from snapline.settings import Settings


def run_cluster_bench(
    runs: int = 3, files: list[Path] | None = None, levels: tuple[float, ...] = (480.5,)
) -> dict[str, Any]:
    files = files or sample_files()
    seconds: dict[int, list[float]] = {1: [], 2: []}
    with fresh_topics("benchc") as (s, catalog):
        s = s.model_copy(update={"levels": list(levels)})
        loaded = load(s, catalog, files)
        for i in range(runs):
            for n in (1, 2):  # alternate, so load on the machine falls on both alike
                own = f"signals.run{i}p{n}"  # the prefix is added to overrides too
                env = child_env(s, SNAPLINE_TOPIC_NAMES=json.dumps({"signals": own}))
                args = ["snapline", "run", "signals", "--until-end", "--processes", str(n)]
                _create_signals_topic(s, s.topic_prefix + own)
                seconds[n].append(timed_cli(args, env))
    out: dict[str, Any] = {"es_records": loaded.records, "runs": runs, "machine": machine()}
    for n, times in seconds.items():
        out[f"processes_{n}"] = {
            "seconds": spread(times),
            "es_records_per_s": rate(loaded.records, times),
        }
    out["speedup"] = round(
        out["processes_1"]["seconds"]["median"] / out["processes_2"]["seconds"]["median"], 2
    )
    return out


def _create_signals_topic(s: Settings, name: str) -> None:
    from snapline.kafka.catalog import TopicCatalog
    from snapline.kafka.clients import require_broker
    from snapline.kafka.topics import apply_topics

    catalog = TopicCatalog.from_settings(s)
    template = next(spec for spec in catalog.specs if spec.name == catalog.name("signals"))
    apply_topics(
        require_broker(s.kafka), TopicCatalog([template.model_copy(update={"name": name})])
    )


def describe(r: dict[str, Any]) -> str:
    one, two = r["processes_1"], r["processes_2"]
    return (
        f"{r['es_records']:,} ES records through `run signals --until-end`: 1 process "
        f"{one['seconds']['median']} s ({one['es_records_per_s']['median']:,}/s), 2 processes "
        f"{two['seconds']['median']} s ({two['es_records_per_s']['median']:,}/s): "
        f"speed-up {r['speedup']}x"
    )
