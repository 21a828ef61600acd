"""``snapline bench peer``: snapline and the Quix Streams peer on the same raw topics.

Both read the same fresh topics (the sample, ingested once by ``snapline ingest dbn``'s code)
in processes of their own, to the end that was there when they started, for the same levels
and snap interval; runs alternate so that a busy machine slows both alike. Each rate is ES
records over the process's wall time (start-up included for both). The outputs of the last
runs are then compared feature by feature (``bench.peer_compare``).
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from bench.common import child_env, fresh_topics, load, machine, rate, spread, timed_cli
from bench.peer_compare import compare, read_json
from snapline.demo import sample_files
from snapline.kafka.clients import require_broker
from snapline.kafka.topics import delete_topics

SNAPLINE = ["snapline", "run", "signals", "--until-end"]


def run_peer_bench(
    runs: int = 3, files: list[Path] | None = None, levels: tuple[float, ...] = (480.5,)
) -> dict[str, Any]:
    files = files or sample_files()
    with fresh_topics("benchp") as (s, catalog):
        s = s.model_copy(update={"levels": list(levels)})
        loaded = load(s, catalog, files)
        env = child_env(s)
        peer_topic = f"{s.topic_prefix}peer.quix.features"
        ours: list[float] = []
        theirs: list[float] = []
        try:
            for _ in range(runs):
                ours.append(timed_cli(SNAPLINE, env))
                theirs.append(timed_cli(["bench.peer_quix", "--out-topic", peer_topic], env))
            agreement = compare(read_json(s, catalog.name("signals")), read_json(s, peer_topic))
        finally:
            delete_topics(require_broker(s.kafka), [peer_topic])
    records = loaded.records
    ratio = statistics.median(theirs) / statistics.median(ours)  # rate ratio = time ratio
    return {
        "input": {
            "files": [f.name for f in files],
            "es_records": records,
            "levels": list(levels),
            "snap_ms": s.physics.snap_ms,
        },
        "runs": runs,
        "snapline": {"seconds": spread(ours), "records_per_s": rate(records, ours)},
        "quix": {"seconds": spread(theirs), "records_per_s": rate(records, theirs)},
        "ratio_snapline_to_quix": round(ratio, 3),
        "agreement": {
            "exact": agreement.exact,
            "rows_joined": agreement.joined,
            "snapline_rows": agreement.snapline_rows,
            "quix_rows": agreement.peer_rows,
            "tape_compared": agreement.tape_compared,
            "mismatches": dict(agreement.mismatches),
            "examples": agreement.examples,
        },
        "machine": machine(),
    }


def describe(r: dict[str, Any]) -> str:
    inp = r["input"]

    def row(name: str, d: dict[str, Any]) -> str:
        sec, rs = d["seconds"], d["records_per_s"]
        return (
            f"| {name} | {sec['median']} ({sec['min']}-{sec['max']}) | "
            f"{rs['median']:,.0f} ({rs['min']:,.0f}-{rs['max']:,.0f}) |"
        )

    a = r["agreement"]
    agree = "exact" if a["exact"] else f"differ: {a['mismatches']}"
    return "\n".join([
        f"input: {inp['es_records']:,} ES records, levels {inp['levels']} (+ round levels "
        f"near spot), snap {inp['snap_ms']} ms; median of {r['runs']} runs (min-max)",
        "| engine | seconds | ES records/s |",
        "|---|---|---|",
        row("snapline (Bytewax): run signals --until-end", r["snapline"]),
        row("Quix Streams peer: barrier + tape features", r["quix"]),
        f"snapline / Quix (records/s): {r['ratio_snapline_to_quix']}",
        f"features: {agree} on {a['rows_joined']:,} (snap, level) rows "
        f"({a['snapline_rows']:,} snapline, {a['quix_rows']:,} Quix); tape on "
        f"{a['tape_compared']:,}",
    ])  # fmt: skip
