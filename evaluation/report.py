"""``snapline evaluate``: read signals (and optionally the DBN book), write the report."""

from __future__ import annotations

import base64
import dataclasses
import html
import io
import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure  # the object API renders to files and needs no display

from connectors.databento.messages import SkipCounts, file_messages
from dataflows.signals.decode import decode
from dataflows.signals.items import BookBatch
from evaluation.metrics import (
    CallInputs,
    LevelSeries,
    ScoredTest,
    calls_reproduced,
    score_tests,
    summarise,
    threshold_summary,
    threshold_tests,
)
from evaluation.options_regime import load_options, regimes_at
from physics.book import two_sided_mids
from physics.config import PhysicsConfig
from physics.score import moves_the_call
from snapline.errors import InputError


def load_signals(path: Path) -> tuple[np.ndarray, np.ndarray, list[LevelSeries]]:
    """The spot path (one point per snap) and each level's signal series."""
    if not path.is_file():
        msg = f"no such signals file: {path}"
        raise InputError(msg)
    spot: dict[int, float] = {}
    per_level: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    kinds: dict[str, set[str]] = defaultdict(set)
    prices: dict[str, float] = {}
    with path.open() as fh:
        for n, line in enumerate(fh, 1):
            try:
                s = json.loads(line)
                lid = s["level_id"]
                spot[s["ts_event_ns"]] = s["spot"]
                d = per_level[lid]
                d["ts"].append(s["ts_event_ns"])
                d["signal"].append(s["signal"])
                d["score"].append(np.nan if s["break_score"] is None else s["break_score"])
                d["price"].append(s["level_price"])
                d["regime"].append(s["fuel"]["regime"])
                d["scored"].append(moves_the_call(s["break_score_raw"], s["barrier"]["score"]))
                d["in_play"].append(s.get("in_play"))  # None: written before it was published
                d["distance"].append(s["distance"])
                d["active"].append(s.get("active", True))
                d["side"].append(s["side"])
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                msg = f"{path} line {n}: not a LevelSignal ({exc})"
                raise InputError(msg) from exc
            kinds[lid].update(s["level_kinds"])
            prices[lid] = s["level_price"]
    ts = np.array(sorted(spot), dtype=np.int64)
    series = [
        LevelSeries(
            prices[lid],
            tuple(sorted(kinds[lid])),
            np.array(d["ts"], np.int64),
            np.array(d["signal"]),
            np.array(d["score"], np.float64),
            np.array(d["price"], np.float64),
            np.array(d["regime"]),
            _calling(d),
            np.array(d["side"]),
        )
        for lid, d in sorted(per_level.items())
    ]
    return ts, np.array([spot[t] for t in ts]), series


def _calling(d: dict[str, list[Any]]) -> CallInputs | None:
    if any(p is None for p in d["in_play"]):
        return None
    return CallInputs(
        np.array(d["scored"], bool),
        np.array(d["in_play"], bool),
        np.array(d["distance"], np.float64),
        np.array(d["active"], bool),
    )


def book_spot(paths: list[Path], ratio: float) -> tuple[np.ndarray, np.ndarray]:
    """A finer price path: the mid of every consistent MBP-10 book, in SPY dollars."""
    ts: list[np.ndarray] = []
    mid: list[np.ndarray] = []
    for path in paths:
        for _, raw in file_messages(path, 2048, "databento.file", SkipCounts()):
            b = decode(raw)
            if isinstance(b, BookBatch):
                ok, es_mid = two_sided_mids(b.bid_px[:, 0], b.ask_px[:, 0])
                ts.append(b.ts_ns[ok])
                mid.append(es_mid / ratio)
    if not ts:
        problem = f"no MBP-10 books in {', '.join(map(str, paths))}"
        raise InputError(problem)
    t, m = np.concatenate(ts), np.concatenate(mid)
    order = np.argsort(t, kind="stable")
    return t[order], m[order]


def evaluate(
    signals: Path,
    out: Path,
    cfg: PhysicsConfig,
    dbn: list[Path] | None = None,
    options: list[Path] | None = None,
) -> dict[str, Any]:
    snap_ts, snap_spot, levels = load_signals(signals)
    ts, spot = book_spot(dbn, cfg.es_spy_ratio) if dbn else (snap_ts, snap_spot)
    tests = score_tests(ts, spot, levels, cfg)
    if options:
        tests = _regimes_from(options, tests, ts, spot, cfg)
    summary = summarise(tests, cfg)
    report: dict[str, Any] = {
        "inputs": {
            "signals": str(signals),
            "price_path": "dbn book mid" if dbn else "signal spot",
            "fuel_regime": "options captures" if options else "signals",
        },
        "config": cfg.model_dump(mode="json"),
        "summary": summary,
        "sensitivity_to_outcome": _outcome_sensitivity(ts, spot, levels, cfg),
        "sensitivity_to_call_threshold": {
            "calls_not_reproduced": (
                calls_reproduced(levels, cfg) if all(lv.calling for lv in levels) else None
            ),
            "at_signal_enter": threshold_summary(threshold_tests(ts, spot, levels, cfg), cfg),
        },
        "tests": [_test_row(s) for s in tests],
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=2))
    price_png = _price_plot(snap_ts, snap_spot, levels, tests)
    calib_png = _calibration_plot(summary["probability"])
    (out / "price.png").write_bytes(price_png)
    (out / "calibration.png").write_bytes(calib_png)
    (out / "index.html").write_text(_html(report, price_png, calib_png))
    return report


OUTCOME_THRESHOLDS = ("outcome_move_spy", "outcome_horizon_s", "touch_band_spy")


def _outcome_sensitivity(
    ts: np.ndarray, spot: np.ndarray, levels: list[LevelSeries], cfg: PhysicsConfig
) -> dict[str, dict[str, dict[str, Any]]]:
    """The tests labelled again with each outcome threshold scaled by each of
    ``sensitivity_outcome_scales`` (the others as configured): how many, how often they broke,
    how often the calls were right."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for name in OUTCOME_THRESHOLDS:
        out[name] = {}
        for scale in cfg.sensitivity_outcome_scales:
            value = getattr(cfg, name) * scale
            s = summarise(score_tests(ts, spot, levels, cfg.model_copy(update={name: value})), cfg)
            out[name][f"{value:g}"] = {
                "tests": s["resolved"],
                "base_rate_break": s["base_rate_break"],
                "hit_rate": s["hit_rate"],
            }
    return out


def _regimes_from(
    options: list[Path], tests: list[ScoredTest], ts: np.ndarray, spot: np.ndarray,
    cfg: PhysicsConfig,
) -> list[ScoredTest]:  # fmt: skip
    """The tests with the regime at each touch recomputed from the captures."""
    at = np.maximum(np.searchsorted(ts, [s.test.touch_ns for s in tests], side="right") - 1, 0)
    touches = [
        (s.test.touch_ns, s.test.level, float(spot[i])) for s, i in zip(tests, at, strict=True)
    ]
    found = regimes_at(load_options(options, cfg), touches)
    return [dataclasses.replace(s, regime=found[(s.test.touch_ns, s.test.level)]) for s in tests]


def _test_row(s: ScoredTest) -> dict[str, Any]:
    t = s.test
    return {
        "level": t.level, "side": t.side, "touch_ns": t.touch_ns, "outcome": t.outcome,
        "decided_ns": t.decided_ns, "kinds": list(s.kinds), "regime": s.regime, "call": s.call,
        "break_score": None if np.isnan(s.break_score) else s.break_score,
        "calls_before": {str(k): v for k, v in s.lead_calls.items()}, "call_stood_s": s.lead_s,
        "calls_after": {str(k): v for k, v in s.after_calls.items()},
    }  # fmt: skip


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return buf.getvalue()


def _price_plot(
    ts: np.ndarray, spot: np.ndarray, levels: list[LevelSeries], tests: list[ScoredTest]
) -> bytes:
    fig = Figure(figsize=(12, 5))
    ax = fig.subplots()
    hours = (ts - ts[0]) / 3.6e12 if ts.size else ts
    ax.plot(hours, spot, lw=0.7, color="#333", label="spot (SPY $)")
    lo, hi = (spot.min(), spot.max()) if spot.size else (0, 1)
    for lv in levels:
        path = lv.price_path(ts)
        if isinstance(path, np.ndarray):  # a moving level (the VWAP): drawn along its path
            ax.plot(hours, path, lw=0.6, ls=":", color="#1f77b4")
        elif lo - 0.5 <= lv.price <= hi + 0.5:
            ax.axhline(lv.price, lw=0.5, ls="--", color="#999")
    colour = {"BREAK": "#d62728", "BOUNCE": "#2ca02c", "CENSORED": "#7f7f7f"}
    marker = {"BREAK": "^", "BOUNCE": "v", "NEUTRAL": "o", "ABSTAIN": "x", "NONE": "."}
    for s in tests:
        x = (s.test.touch_ns - ts[0]) / 3.6e12
        ax.scatter(
            [x], [s.test.level], c=colour[s.test.outcome], marker=marker.get(s.call, "o"), s=36
        )
    ax.set_xlabel("hours from first snap")
    ax.set_ylabel("SPY $")
    ax.set_title(
        "tests: colour = outcome (red break, green bounce, grey censored); marker = call at touch"
    )
    return _png(fig)


def _calibration_plot(prob: dict[str, Any]) -> bytes:
    fig = Figure(figsize=(5, 5))
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], ls="--", color="#999")
    pts = prob.get("reliability", [])
    if pts:
        ax.plot([p["p_mean"] for p in pts], [p["observed"] for p in pts], "o-")
    else:
        ax.text(0.5, 0.5, prob.get("note", "no data"), ha="center")
    ax.set_xlabel("(break_score + 1) / 2 at the touch")
    ax.set_ylabel("observed break frequency")
    return _png(fig)


def write_suite_report(report: dict[str, Any], out: Path) -> None:
    """The scenario suite's ``calibration.png`` and self-contained ``index.html``: the call at
    each run's first test against its outcome, the summary, calibration, every run."""
    calib_png = _calibration_plot(report["summary"]["probability"])
    (out / "calibration.png").write_bytes(calib_png)
    runs = report["scenarios"]
    cells = Counter((r["scenario"], r["outcome"], r["call_at_touch"]) for r in runs)
    matrix = "".join(
        f"<tr><td>{name}</td><td>{outcome}</td><td>{call}</td><td>{n}</td></tr>"
        for (name, outcome, call), n in sorted(cells.items(), key=str)
    )
    rows = "".join(
        f"<tr><td>{r['scenario']}</td><td>{r['side']}</td><td>{r['seed']}</td>"
        f"<td>{r['outcome']}</td><td>{r['call_at_touch']}</td></tr>"
        for r in runs
    )
    first, last = report["first_seed"], report["first_seed"] + report["seeds"] - 1
    ft = report["first_tests"]
    after = _after_sentence(report["first_tests_after_touch_s"])
    summary = html.escape(json.dumps(report["summary"], indent=2))
    (out / "index.html").write_text(f"""<!doctype html><meta charset="utf-8">
<title>snapline scenario suite</title>{_STYLE}
<h1>snapline scenario suite</h1>
<p>Level {report["level"]}, seeds {first}-{last}, every scenario on both sides: {len(runs)} runs,
each simulated, replayed through the signals dataflow and scored. Nothing here is fitted to
outcomes; rates on fewer than {report["config"]["min_tests"]} cases are withheld.</p>
<h2>The call at each run's first test</h2>
<p>Decided in {ft["decided"]} runs: called right at the touch in {ft["right"]}, wrong in
{ft["wrong"]}, not called in {ft["not_called"]}. Quiet sessions, signals on levels never tested:
{html.escape(json.dumps(report["summary"]["quiet_untested_level_signals"]))}.</p>
<p>Into the test, while it is still undecided: {after}.</p>
<table><tr><th>scenario</th><th>outcome</th>
<th>call at the touch</th><th>runs</th></tr>{matrix}</table>
<h2>Every test of the level, every run</h2><pre>{summary}</pre>
<h2>Calls over every test, by scenario</h2>
<p>The BREAK and BOUNCE calls at the touch of every decided test, by scenario and by whether
the test was its run's first or a later one: where the calls go right and wrong.</p>
{_calls_by_scenario_table(report["calls_by_scenario"])}
<h2>Against the call's entry threshold</h2>
<p>Every call made again from the published smoothed scores at other entry thresholds (the exit
in the configured proportion), by the dataflow's own call step. Measured, not used to choose
the threshold.</p>{_suite_threshold_table(report["sensitivity_to_call_threshold"])}
<h2>Calibration</h2>{_img(calib_png)}
<h2>Every run</h2><table><tr><th>scenario</th><th>side</th><th>seed</th><th>outcome</th>
<th>call at the touch</th></tr>{rows}</table>
""")


def _calls_by_scenario_table(cells: list[dict[str, Any]]) -> str:
    rows = "".join(
        f"<tr><td>{c['scenario']}</td><td>{c['test']}</td><td>{c['call']}</td>"
        f"<td>{c['right']}</td><td>{c['wrong']}</td></tr>"
        for c in cells
    )
    return (
        "<table><tr><th>scenario</th><th>test</th><th>call</th><th>right</th><th>wrong</th>"
        f"</tr>{rows}</table>"
    )


def _after_sentence(after: dict[str, dict[str, int]]) -> str:
    return "; ".join(
        f"{d} s after the touch, right in {v['right']}, wrong in {v['wrong']}, not called in "
        f"{v['not_called']} of {v['still_open']} ({v['decided_sooner']} decided sooner)"
        for d, v in after.items()
    )


def _suite_threshold_table(by_enter: dict[str, Any]) -> str:
    def row(enter: str, v: dict[str, Any]) -> str:
        if "note" in v:
            return f"<tr><td>{enter}</td><td colspan=5>{html.escape(v['note'])}</td></tr>"
        ft, quiet = v["first_tests"], v["quiet_untested_level_signals"]
        quiet_calls = sum(n for s, n in quiet.items() if s in ("BREAK", "BOUNCE"))
        return (
            f"<tr><td>{enter}</td><td>{v['exit']:.2f}</td>"
            f"<td>{ft['right']} / {ft['wrong']} / {ft['not_called']} of {ft['decided']}</td>"
            f"<td>{_pct(v['coverage'])}</td><td>{_pct(v['hit_rate'])}</td><td>{quiet_calls}</td></tr>"
        )

    rows = "".join(row(enter, v) for enter, v in by_enter.items())
    return (
        "<table><tr><th>enter</th><th>exit</th><th>first tests: right / wrong / not called</th>"
        "<th>every test: coverage</th><th>hit rate</th>"
        f"<th>quiet runs: calls on untested levels</th></tr>{rows}</table>"
    )


_STYLE = """<style>body{font:14px system-ui;margin:2em}pre{background:#f6f6f6;padding:1em}
td,th{padding:2px 8px;border-bottom:1px solid #ddd}</style>"""


def _img(png: bytes) -> str:
    return f'<img src="data:image/png;base64,{base64.b64encode(png).decode()}">'


def _html(report: dict[str, Any], price_png: bytes, calib_png: bytes) -> str:
    summary = html.escape(json.dumps(report["summary"], indent=2))
    calls_off = report["sensitivity_to_call_threshold"]["calls_not_reproduced"]
    rows = "".join(
        f"<tr><td>{t['level']}</td><td>{t['side']}</td><td>{t['touch_ns']}</td>"
        f"<td>{t['outcome']}</td><td>{t['call']}</td><td>{t['break_score']}</td>"
        f"<td>{'' if t['call_stood_s'] is None else round(t['call_stood_s'], 1)}</td></tr>"
        for t in report["tests"]
    )
    return f"""<!doctype html><meta charset="utf-8"><title>snapline evaluation</title>{_STYLE}
<h1>snapline evaluation</h1>
<p>Inputs: {html.escape(json.dumps(report["inputs"]))}. Nothing here is fitted to outcomes.
Rates on fewer than {report["config"]["min_tests"]} cases are withheld.</p>
{_img(price_png)}
<h2>Summary</h2><pre>{summary}</pre>
<h2>Calibration</h2>{_img(calib_png)}
<h2>Against the outcome's thresholds</h2>
<p>The tests labelled again with one threshold of the outcome rule moved, the others as
configured.</p>{_outcome_table(report["sensitivity_to_outcome"])}
<h2>Against the call's entry threshold</h2>
<p>The calls made again from the published smoothed scores at other entry thresholds (the exit
in the configured proportion), by the dataflow's own call step; at the configured threshold
they differ from the published calls in {calls_off} signals.</p>
{_threshold_table(report["sensitivity_to_call_threshold"]["at_signal_enter"])}
<h2>Every test</h2><table><tr><th>level</th><th>side</th><th>touch (ns)</th><th>outcome</th>
<th>call</th><th>break score</th><th>call stood (s)</th></tr>{rows}</table>
"""


def _pct(r: dict[str, Any]) -> str:
    return "withheld" if r["value"] is None else f"{r['value']:.0%} of {r['n']}"


def _outcome_table(by_threshold: dict[str, dict[str, dict[str, Any]]]) -> str:
    rows = "".join(
        f"<tr><td>{name}</td><td>{value}</td><td>{v['tests']}</td>"
        f"<td>{_pct(v['base_rate_break'])}</td><td>{_pct(v['hit_rate'])}</td></tr>"
        for name, values in by_threshold.items()
        for value, v in values.items()
    )
    return (
        "<table><tr><th>threshold</th><th>value</th><th>decided tests</th><th>broke</th>"
        f"<th>calls right</th></tr>{rows}</table>"
    )


def _threshold_table(by_enter: dict[str, Any]) -> str:
    if "note" in by_enter:
        return f"<p>{html.escape(by_enter['note'])}</p>"

    rows = "".join(
        f"<tr><td>{enter}</td><td>{v['exit']:.2f}</td><td>{_pct(v['coverage'])}</td>"
        f"<td>{_pct(v['hit_rate'])}</td></tr>"
        for enter, v in by_enter.items()
    )
    return (
        "<table><tr><th>enter</th><th>exit</th><th>coverage (tests called)</th>"
        f"<th>hit rate (calls right)</th></tr>{rows}</table>"
    )
