"""``snapline bench kafka``: the signals dataflow through a real broker, against what the broker
can deliver at all.

1. ingest: the DBN files into fresh raw topics (their own prefix), by ``snapline ingest dbn``'s
   code, timed to the last acknowledgement;
2. the practical limit: a bare consumer reading those topics to their end (records/s, MB/s);
3. the dataflow: ``snapline run signals --until-end`` in a process of its own, raw topics ->
   signals topic, wall time including its start; the same command on empty topics gives the
   fixed start-up cost, so the per-record rate is reported both ways;
4. optionally, one more run under cProfile: where the time goes.
"""

from __future__ import annotations

import pstats
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.bare_consumer import consume_to_end
from bench.common import child_env, fresh_topics, load, machine, rate, spread, timed_cli
from snapline.demo import sample_files
from snapline.settings import Settings

SIGNALS = ["snapline", "run", "signals", "--until-end"]
TARGET_RATIO = 0.5  # issue #8: the dataflow should reach half of what a bare consumer reads
PER_ITEM_CALLS = 1000  # profile rows: functions called at least this often


def run_kafka_bench(
    runs: int = 3, files: list[Path] | None = None, levels: tuple[float, ...] = (480.5,),
    profile_top: int = 0,
) -> dict[str, Any]:  # fmt: skip
    files = files or sample_files()
    ingest_s: list[float] = []
    for _ in range(runs):  # each ingest into topics of its own, so each starts empty
        with fresh_topics("benchi") as (s, catalog):
            ingest_s.append(load(s, catalog, files).ingest_s)
    with fresh_topics("bench0") as (s, _):
        env = child_env(s.model_copy(update={"levels": list(levels)}))
        fixed_s = [timed_cli(SIGNALS, env) for _ in range(runs)]
    with fresh_topics("benchk") as (s, catalog):
        s = s.model_copy(update={"levels": list(levels)})
        loaded = load(s, catalog, files)
        bare = [consume_to_end(s, catalog) for _ in range(runs)]
        flow_s = [timed_cli(SIGNALS, child_env(s)) for _ in range(runs)]
        signals = _end_offset(s, catalog.name("signals")) // runs
        hotspots = _profile(s, profile_top) if profile_top else None
    records, size = loaded.records, bare[0].bytes
    bare_s = [b.seconds for b in bare]
    net_s = [max(t - statistics.median(fixed_s), 1e-3) for t in flow_s]
    ratio = (records / statistics.median(flow_s)) / (records / statistics.median(bare_s))
    net_ratio = (records / statistics.median(net_s)) / (records / statistics.median(bare_s))
    result: dict[str, Any] = {
        "input": {
            "files": [f.name for f in files],
            "es_records": records,
            "raw_messages": bare[0].messages,
            "raw_mb": round(size / 1e6, 2),
            "levels": list(levels),
        },
        "runs": runs,
        "ingest": {
            "seconds": spread(ingest_s, 3),
            "records_per_s": rate(records, ingest_s),
            "mb_per_s": round(size / 1e6 / statistics.median(ingest_s), 1),
        },
        "bare_consumer": {
            "seconds": spread(bare_s, 3),
            "records_per_s": rate(records, bare_s),
            "mb_per_s": round(size / 1e6 / statistics.median(bare_s), 1),
        },
        "signals_flow": {
            "signals_published": signals,
            "seconds": spread(flow_s),
            "startup_seconds": spread(fixed_s),
            "records_per_s": rate(records, flow_s),
            "records_per_s_after_startup": rate(records, net_s),
            "signals_per_s": round(signals / statistics.median(flow_s)),
        },
        "ratio_to_bare": round(ratio, 4),
        "ratio_to_bare_after_startup": round(net_ratio, 4),
        "target_ratio": TARGET_RATIO,
        "target_met": net_ratio >= TARGET_RATIO,
        "machine": machine(),
    }
    if hotspots is not None:
        result["profile"] = hotspots
    return result


def _end_offset(s: Settings, topic: str) -> int:
    from confluent_kafka import Consumer, TopicPartition

    from snapline.kafka.clients import base_config

    c = Consumer(base_config(s.kafka, **{"group.id": "snapline-bench-count"}))
    try:
        parts = c.list_topics(topic, timeout=10).topics[topic].partitions
        return sum(c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in parts)
    finally:
        c.close()


def _profile(s: Settings, top: int) -> dict[str, Any]:
    """One more run, in a child process under cProfile (Bytewax calls the steps on the main
    thread, so they are seen); the top functions by own time and by cumulative time."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "signals.prof"
        timed_cli(["cProfile", "-o", str(out), "-m", *SIGNALS], child_env(s))
        stats = pstats.Stats(str(out))
    total = max(stats.total_tt, 1e-9)  # type: ignore[attr-defined]  # set by pstats

    def rows(key: int) -> list[dict[str, Any]]:
        # per-item work only: the run's few wrapper frames would top the cumulative list
        every = stats.stats.items()  # type: ignore[attr-defined]
        entries = [kv for kv in every if kv[1][1] >= PER_ITEM_CALLS]
        ranked = sorted(entries, key=lambda kv: kv[1][key], reverse=True)[:top]
        return [
            {
                "function": _name(func),
                "calls": info[1],
                "own_s": round(info[2], 2),
                "cumulative_s": round(info[3], 2),
                "share_own": round(info[2] / total, 3),
            }
            for func, info in ranked
        ]

    return {"profiled_seconds": round(total, 1), "by_own_time": rows(2),
            "by_cumulative_time": rows(3)}  # fmt: skip


def _name(func: tuple[str, int, str]) -> str:
    path, line, name = func
    for root in (str(Path(sys.prefix)), str(Path(__file__).parent.parent)):
        path = path.replace(root + "/", "")
    return f"{path}:{line}({name})" if line else name


def describe(r: dict[str, Any]) -> str:
    i, b, f = r["ingest"], r["bare_consumer"], r["signals_flow"]
    inp = r["input"]
    lines = [
        f"input: {inp['es_records']:,} ES records in {inp['raw_messages']} raw messages "
        f"({inp['raw_mb']} MB), levels {inp['levels']}; median of {r['runs']} runs (min-max)",
        "| stage | seconds | ES records/s | MB/s |",
        "|---|---|---|---|",
        _row(
            "ingest (file -> topics, acknowledged)", i["seconds"], i["records_per_s"], i["mb_per_s"]
        ),
        _row("bare consumer (topics -> process)", b["seconds"], b["records_per_s"], b["mb_per_s"]),
        _row("signals dataflow, wall (process start to exit)", f["seconds"], f["records_per_s"]),
        _row("  of which start-up (same run, empty topics)", f["startup_seconds"], None),
        _row("signals dataflow, after start-up", None, f["records_per_s_after_startup"]),
        f"signals published per run: {f['signals_published']:,} ({f['signals_per_s']:,}/s)",
        f"dataflow / bare consumer: {r['ratio_to_bare']:.4f} wall, "
        f"{r['ratio_to_bare_after_startup']:.4f} after start-up "
        f"(target >= {r['target_ratio']}: {'met' if r['target_met'] else 'missed'})",
    ]
    if "profile" in r:
        lines.append(f"profile ({r['profile']['profiled_seconds']} s under cProfile), by own time:")
        lines += [
            f"  {p['share_own']:6.1%}  {p['own_s']:6.2f} s  {p['calls']:>9,}  {p['function']}"
            for p in r["profile"]["by_own_time"]
        ]
    return "\n".join(lines)


def _row(
    label: str, seconds: dict[str, float] | None, per_s: dict[str, float] | None,
    mb_s: float | None = None,
) -> str:  # fmt: skip
    def sp(d: dict[str, float] | None, fmt: str) -> str:
        if d is None:
            return ""
        return f"{d['median']:{fmt}} ({d['min']:{fmt}}-{d['max']:{fmt}})"

    mb = "" if mb_s is None else f"{mb_s}"
    return f"| {label} | {sp(seconds, '.3g')} | {sp(per_s, ',.0f')} | {mb} |"
