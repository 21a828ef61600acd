"""How cost grows: in-process replay of one simulated session stretch with 5 to 200 tracked
levels, and with the ES input rate raised, each a fresh process (its own peak memory); a PNG
plots throughput and peak memory against the number of levels."""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from simulator.params import SessionParams
from simulator.session import simulate_session

LEVELS = (5, 20, 50, 100, 200)
RATES = (430.0, 1_720.0, 6_880.0)  # the day's average ES book events/s, 4x and 16x
# ES's busiest stretches (the live bench's burst rate): half a minute of them, where the cost
# per record, not per snap, is what bounds a replay
BURST_RATE, BURST_MINUTES = 50_000.0, 0.5


def explicit_levels(n: int, around: float = 480.0) -> list[str]:
    """``n`` explicit levels $0.10 apart around spot (the round and gamma levels come too)."""
    return [f"{around + 0.1 * (i - n // 2):.2f}" for i in range(n)]


def simulated_stretch(folder: Path, minutes: float, rate: float) -> tuple[list[Path], int]:
    """A session stretch at an even ES book rate (no busy open or close): its three files and
    its ES records."""
    sp = SessionParams(hours=minutes / 60, events_per_s=rate, open_boost=0, close_boost=0)
    report = simulate_session(date(2025, 3, 14), folder, seed=3, sp=sp)
    return report.files, report.mbp_records + report.trade_records


# Runs ``snapline`` and prints its own peak resident memory (KB) last on stderr: VmHWM, as
# ru_maxrss would carry the parent's peak across fork and exec.
_MEASURED = (
    "import runpy, sys\n"
    "try:\n    runpy.run_module('snapline', run_name='__main__')\n"
    "finally:\n"
    "    hwm = [ln for ln in open('/proc/self/status') if ln.startswith('VmHWM')]\n"
    "    print(hwm[0].split()[1], file=sys.stderr)"
)


# the replay's own account of its dataflow, start-up not counted (``snapline replay``'s summary)
_DATAFLOW_S = re.compile(r"in ([0-9.]+) s of dataflow")
Run = tuple[float, float, float, int]  # process s, dataflow s, peak MB, signals


def measured_replay(files: list[Path], levels: list[str], out: Path) -> Run:
    """``snapline replay`` of a session's three files in a fresh process (no ``levels``: the
    levels that follow spot): its seconds, its dataflow's, its peak MB and the signals."""
    args = [sys.executable, "-c", _MEASURED, "replay", "--out", str(out),
            "--dbn", str(files[0]), "--dbn", str(files[1]), "--options", str(files[2])]  # fmt: skip
    for lv in levels:
        args += ["--level", lv]
    t0 = time.perf_counter()
    done = subprocess.run(args, check=True, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    peak_mb = int(done.stderr.strip().splitlines()[-1]) / 1024
    found = _DATAFLOW_S.search(done.stdout)
    if found is None:
        msg = f"snapline replay did not say how long its dataflow took: {done.stdout!r}"
        raise RuntimeError(msg)
    with out.open() as lines:
        signals = sum(1 for _ in lines)
    return seconds, float(found[1]), peak_mb, signals


def replay_figures(records: int, run: Run) -> dict[str, Any]:
    """A replay's figures, per second of process and of dataflow."""
    seconds, dataflow_s, peak_mb, signals = run
    return {
        "es_records": records, "seconds": round(seconds, 2),
        "es_records_per_s": round(records / seconds), "signals": signals,
        "signals_per_s": round(signals / seconds), "peak_rss_mb": round(peak_mb, 1),
        "dataflow_seconds": dataflow_s,
        "dataflow_es_records_per_s": round(records / dataflow_s),
    }  # fmt: skip


def scaling_row(levels: int, records: int, rate: float, minutes: float, run: Run) -> dict[str, Any]:
    """One row of the table: its levels, ES rate and minutes, and the replay's figures."""
    return {"levels": levels, "rate": rate, "minutes": minutes, **replay_figures(records, run)}


def run_scaling(minutes: float = 2.0) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.jsonl"
        base, records = simulated_stretch(Path(tmp) / "base", minutes, RATES[0])
        for n in LEVELS:
            run = measured_replay(base, explicit_levels(n), out)
            rows.append(scaling_row(n, records, RATES[0], minutes, run))
        five = explicit_levels(LEVELS[0])
        for rate, span in [*((r, minutes) for r in RATES[1:]), (BURST_RATE, BURST_MINUTES)]:
            files, records = simulated_stretch(Path(tmp) / f"r{rate:.0f}", span, rate)
            run = measured_replay(files, five, out)
            rows.append(scaling_row(LEVELS[0], records, rate, span, run))
    return {"minutes_of_event_time": minutes, "rows": rows}


def plot(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in result["rows"] if r["rate"] == RATES[0]]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    n = [r["levels"] for r in rows]
    ax1.plot(n, [r["es_records_per_s"] for r in rows], "o-", label="ES records/s")
    ax1.plot(n, [r["signals_per_s"] for r in rows], "s--", label="signals/s")
    ax1.set(xscale="log", yscale="log", xlabel="tracked levels", title="replay throughput")
    ax1.legend()
    ax2.plot(n, [r["peak_rss_mb"] for r in rows], "o-")
    ax2.set(xscale="log", xlabel="tracked levels", ylabel="MB", title="peak resident memory")
    fig.suptitle(f"{result['minutes_of_event_time']} min of a simulated session, in process")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def describe(result: dict[str, Any]) -> str:
    lines = [
        "levels  minutes  ES records  in (ev/s)  seconds  ES records/s  signals/s  peak MB"
        "  dataflow s  of dataflow/s"
    ]
    for r in result["rows"]:
        lines.append(
            f"{r['levels']:>6}  {r['minutes']:>7}  {r['es_records']:>10,}  {r['rate']:>9,.0f}  "
            f"{r['seconds']:>7}  "
            f"{r['es_records_per_s']:>12,}  {r['signals_per_s']:>9,}  {r['peak_rss_mb']:>7}  "
            f"{r['dataflow_seconds']:>10}  {r['dataflow_es_records_per_s']:>13,}"
        )
    lines.append("seconds: the whole process, start-up included; dataflow s: the replay's account")
    return "\n".join(lines)
