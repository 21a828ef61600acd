"""From published signals and a price path to scored level tests. No I/O, nothing fitted."""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from physics.config import PhysicsConfig
from physics.fuel import session_date
from physics.outcomes import LevelTest, brier, label_tests, log_loss, wilson
from physics.score import CallName, across_the_level, call_step, turned

CALLS = ("BREAK", "BOUNCE")


@dataclass(frozen=True, slots=True)
class CallInputs:
    """Per signal, what a level's call step took: enough to make the call again at other
    thresholds (signals written before ``in_play`` was published do not carry it)."""

    scored: np.ndarray  # bool: the smoothed score moved the call (physics.score.moves_the_call)
    in_play: np.ndarray  # bool
    distance: np.ndarray  # float, SPY $
    active: np.ndarray  # bool: false on a level's signal as it leaves the active set


@dataclass(frozen=True, slots=True)
class LevelSeries:
    """One level's published signals, time ascending."""

    price: float
    kinds: tuple[str, ...]
    ts_ns: np.ndarray
    signal: np.ndarray  # str
    break_score: np.ndarray  # float, NaN where null
    level_prices: np.ndarray | None = None  # per signal, for a level that moves (the VWAP)
    regimes: np.ndarray | None = None  # per signal, the fuel regime (str)
    calling: CallInputs | None = None  # what the call was made from (None: not published)
    sides: np.ndarray | None = None  # per signal, support or resistance (str)

    def price_path(self, ts_ns: np.ndarray) -> float | np.ndarray:
        """The level's price along a price path: its one price, or for a moving level the
        price last published at each instant (NaN before its first signal)."""
        lp = self.level_prices
        if lp is None or len(lp) == 0 or np.all(lp == lp[0]):
            return self.price
        i = np.searchsorted(self.ts_ns, ts_ns, side="right") - 1
        return np.where(i >= 0, lp[np.maximum(i, 0)], np.nan)

    def regime_at(self, t_ns: int) -> str:
        """The fuel regime published at or before ``t_ns`` (MISSING: none, or not recorded)."""
        i = int(np.searchsorted(self.ts_ns, t_ns, side="right")) - 1
        return "MISSING" if i < 0 or self.regimes is None else str(self.regimes[i])

    def at(self, t_ns: int) -> tuple[str, float] | None:
        """The signal published at or before ``t_ns``, or None if the level had none yet."""
        i = int(np.searchsorted(self.ts_ns, t_ns, side="right")) - 1
        return None if i < 0 else (str(self.signal[i]), float(self.break_score[i]))


def exit_at(enter: float, cfg: PhysicsConfig) -> float:
    """The exit threshold that goes with entry threshold ``enter``: the configured exit/entry
    proportion (the configured exit itself at the configured entry)."""
    if enter == cfg.signal_enter:
        return cfg.signal_exit
    return enter * cfg.signal_exit / cfg.signal_enter


def recalled(lv: LevelSeries, enter: float, cfg: PhysicsConfig) -> LevelSeries:
    """The level's series with every call made again at entry threshold ``enter`` (exit from
    ``exit_at``) by the dataflow's own call step (``physics.score.call_step``) from its
    published smoothed score. At the configured thresholds this reproduces the published calls
    (``calls_reproduced``)."""
    c = lv.calling
    if c is None:
        msg = "these signals do not carry in_play: the calls cannot be made again"
        raise ValueError(msg)
    held: CallName = "NEUTRAL"
    out = []
    for i in range(lv.ts_ns.size):
        if i and lv.sides is not None and lv.sides[i] != lv.sides[i - 1]:
            _, held = across_the_level(None, held)  # spot crossed: the held call turns with it
        held, published = call_step(
            held,
            float(lv.break_score[i]) if c.scored[i] else None,
            in_play=bool(c.in_play[i]),
            abstain=lv.signal[i] == "ABSTAIN",  # missing or stale evidence: no threshold helps
            reset=not c.active[i] or c.distance[i] > cfg.call_distance_spy,
            enter=enter,
            exit_=exit_at(enter, cfg),
        )
        out.append(published)
    return dataclasses.replace(lv, signal=np.array(out))


def calls_reproduced(levels: list[LevelSeries], cfg: PhysicsConfig) -> int:
    """How many published signals the call step, run again at the configured thresholds, does
    not reproduce: 0 unless the signals were made with another configuration."""
    return sum(
        int(np.sum(recalled(lv, cfg.signal_enter, cfg).signal != lv.signal)) for lv in levels
    )


@dataclass(frozen=True, slots=True)
class ScoredTest:
    test: LevelTest
    kinds: tuple[str, ...]
    call: str  # at the touch: BREAK, BOUNCE, NEUTRAL, ABSTAIN, or NONE (level not published)
    break_score: float  # NaN when null or not published
    lead_calls: dict[float, str] = field(default_factory=dict)
    session: str = ""  # tests of one session share its market: intervals cluster on it
    lead_s: float | None = None  # how long the BREAK/BOUNCE call at the touch had stood
    regime: str = "MISSING"  # the fuel regime published at or before the touch
    # the call published ``d`` seconds into the test, read on the test's side (spot through the
    # level: the other side's BOUNCE is this test's BREAK), or DECIDED when the outcome came first
    after_calls: dict[float, str] = field(default_factory=dict)


def run_starts(signal: np.ndarray) -> np.ndarray:
    """Where each unbroken run of one published signal begins (indices, ascending)."""
    return np.concatenate(([0], np.flatnonzero(signal[1:] != signal[:-1]) + 1)).astype(np.int64)


def standing_for_s(lv: LevelSeries, starts: np.ndarray, t_ns: int) -> float | None:
    """Seconds the signal published at or before ``t_ns`` had stood unbroken by then (``starts``
    from ``run_starts``); None before the level's first signal."""
    i = int(np.searchsorted(lv.ts_ns, t_ns, side="right")) - 1
    if i < 0:
        return None
    first = int(starts[np.searchsorted(starts, i, side="right") - 1])
    return (t_ns - int(lv.ts_ns[first])) / 1e9


def score_tests(
    ts_ns: np.ndarray, spot: np.ndarray, levels: list[LevelSeries], cfg: PhysicsConfig,
    session: str | None = None,
) -> list[ScoredTest]:  # fmt: skip
    """Label every test of every level and attach the calls published before it. ``session``
    names the session the path belongs to (default: each test's New York trading date)."""
    out = []
    for lv in levels:
        starts = run_starts(lv.signal)
        for t in label_tests(
            ts_ns, spot, lv.price_path(ts_ns), cfg.touch_band_spy, cfg.outcome_move_spy,
            int(cfg.outcome_horizon_s * 1e9),
        ):  # fmt: skip
            now = lv.at(t.touch_ns)
            leads = {}
            for lead in cfg.lead_times_s:
                before = lv.at(t.touch_ns - int(lead * 1e9))
                leads[lead] = before[0] if before else "NONE"
            call = now[0] if now else "NONE"
            standing = standing_for_s(lv, starts, t.touch_ns) if call in CALLS else None
            out.append(
                ScoredTest(
                    t, lv.kinds, call, now[1] if now else np.nan, leads,
                    session or session_date(t.touch_ns).isoformat(), standing,
                    lv.regime_at(t.touch_ns), _calls_after(lv, t, cfg),
                )
            )  # fmt: skip
    return sorted(out, key=lambda s: (s.test.touch_ns, s.test.level))


def _calls_after(lv: LevelSeries, t: LevelTest, cfg: PhysicsConfig) -> dict[float, str]:
    """The call published ``d`` seconds into the test for each ``d`` of ``after_touch_s``:
    evidence taken strictly before the outcome, so DECIDED once the outcome is known (and
    for a censored test, whose outcome never is)."""
    out = {}
    for d in cfg.after_touch_s:
        at_ns = t.touch_ns + int(d * 1e9)
        if t.decided_ns is None or t.decided_ns <= at_ns:
            out[d] = "DECIDED"
            continue
        i = int(np.searchsorted(lv.ts_ns, at_ns, side="right")) - 1
        call = "NONE" if i < 0 else str(lv.signal[i])
        if lv.sides is not None and i >= 0 and lv.sides[i] != t.side:
            # spot is through the level: a bounce off the other side is this test's break
            call = turned(call)
        out[d] = call
    return out


def summarise(tests: list[ScoredTest], cfg: PhysicsConfig) -> dict[str, Any]:
    """Every figure of the report; rates on fewer than ``min_tests`` are withheld."""
    resolved = [s for s in tests if s.test.outcome != "CENSORED"]
    called = [s for s in resolved if s.call in CALLS]
    return {
        "tests": len(tests),
        "resolved": len(resolved),
        "censored": len(tests) - len(resolved),
        "sessions": len({s.session for s in tests}),
        "base_rate_break": _rate(resolved, lambda s: s.test.outcome == "BREAK", cfg),
        "calls_at_touch": dict(Counter(s.call for s in tests)),
        "coverage": _rate(resolved, lambda s: s.call in CALLS, cfg),
        "abstain_rate": _rate(resolved, lambda s: s.call == "ABSTAIN", cfg),
        "hit_rate": _rate(called, lambda s: s.call == s.test.outcome, cfg),
        "per_class": {c: _precision_recall(resolved, c, cfg) for c in CALLS},
        "probability": _probability(resolved, cfg),
        "hit_rate_at_lead_s": {
            str(lead): _lead_rate(resolved, lead, cfg) for lead in cfg.lead_times_s
        },
        "hit_rate_after_touch_s": {
            str(d): _after_rate(resolved, d, cfg) for d in cfg.after_touch_s
        },
        "lead_time_s": {
            "all": _spread([s.lead_s for s in called], cfg),
            "right": _spread([s.lead_s for s in called if s.call == s.test.outcome], cfg),
            "wrong": _spread([s.lead_s for s in called if s.call != s.test.outcome], cfg),
        },
        "base_rate_by_kind": _by_kind(resolved, cfg),
        "by_regime": _by_regime(resolved, cfg),
    }


def _spread(values: list[float | None], cfg: PhysicsConfig) -> dict[str, Any]:
    """Median and quartiles (withheld below ``min_tests``, as rates are)."""
    x = np.array([v for v in values if v is not None], np.float64)
    if x.size < cfg.min_tests:
        return {"n": int(x.size), "median": None, "note": f"withheld: fewer than {cfg.min_tests}"}
    p25, median, p75 = np.percentile(x, [25, 50, 75])
    return {"n": int(x.size), "median": float(median), "p25": float(p25), "p75": float(p75)}


def _rate(
    tests: list[ScoredTest], hit: Callable[[ScoredTest], bool], cfg: PhysicsConfig
) -> dict[str, Any]:
    """The share of ``tests`` that ``hit``, with a Wilson interval (tests independent) and a
    session-clustered one: tests of one session share its market, so they are not
    independent draws, and the clustered interval is the honest one (DESIGN §8)."""
    n = len(tests)
    if n < cfg.min_tests:
        return {"n": n, "value": None, "note": f"withheld: fewer than {cfg.min_tests}"}
    k = sum(hit(s) for s in tests)
    per: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for s in tests:
        per[s.session][0] += hit(s)
        per[s.session][1] += 1
    hits, counts = np.array(list(per.values()), dtype=np.float64).T
    return {
        "n": n,
        "value": k / n,
        "ci95": list(wilson(k, n)),
        "sessions": len(per),
        "ci95_clustered": clustered_ci(hits, counts),
    }


def clustered_ci(hits: np.ndarray, counts: np.ndarray, z: float = 1.96) -> list[float] | None:
    """95% interval of ``sum(hits) / sum(counts)`` with a cluster-robust (sandwich) variance
    over sessions: ``G / (G - 1) * sum_g (h_g - p n_g)^2 / N^2``. None with fewer than two
    sessions (no spread between sessions to measure)."""
    g = len(counts)
    if g < 2:
        return None
    n = counts.sum()
    p = hits.sum() / n
    se = np.sqrt(g / (g - 1) * np.sum((hits - p * counts) ** 2)) / n
    return [float(max(p - z * se, 0.0)), float(min(p + z * se, 1.0))]


def _precision_recall(resolved: list[ScoredTest], c: str, cfg: PhysicsConfig) -> dict[str, Any]:
    def right(s: ScoredTest) -> bool:
        return s.call == s.test.outcome

    return {
        "precision": _rate([s for s in resolved if s.call == c], right, cfg),
        "recall": _rate([s for s in resolved if s.test.outcome == c], right, cfg),
    }


def _probability(resolved: list[ScoredTest], cfg: PhysicsConfig) -> dict[str, Any]:
    scored = [s for s in resolved if not np.isnan(s.break_score)]
    if len(scored) < cfg.min_tests:
        return {"n": len(scored), "note": f"withheld: fewer than {cfg.min_tests}"}
    p = (np.array([s.break_score for s in scored]) + 1) / 2
    y = np.array([s.test.outcome == "BREAK" for s in scored])
    base = np.full_like(p, y.mean())
    return {
        "n": len(scored),
        "brier": brier(p, y),
        "brier_base_rate": brier(base, y),
        "skill_vs_base_rate": 1 - log_loss(p, y) / log_loss(base, y),
        "reliability": _reliability(p, y),
    }


def _reliability(p: np.ndarray, y: np.ndarray, bins: int = 10) -> list[dict[str, float]]:
    edges = np.linspace(0, 1, bins + 1)
    idx = np.clip(np.digitize(p, edges) - 1, 0, bins - 1)
    return [
        {
            "p_mean": float(p[idx == b].mean()),
            "observed": float(y[idx == b].mean()),
            "n": int((idx == b).sum()),
        }
        for b in range(bins)
        if (idx == b).any()
    ]


def _lead_rate(resolved: list[ScoredTest], lead: float, cfg: PhysicsConfig) -> dict[str, Any]:
    called = [s for s in resolved if s.lead_calls.get(lead) in CALLS]
    return _rate(called, lambda s: s.lead_calls[lead] == s.test.outcome, cfg)


def _after_rate(resolved: list[ScoredTest], d: float, cfg: PhysicsConfig) -> dict[str, Any]:
    """Of the tests still undecided ``d`` s into the test: how many had a call then
    (coverage), and how many of those were right."""
    open_ = [s for s in resolved if s.after_calls.get(d, "DECIDED") != "DECIDED"]
    called = [s for s in open_ if s.after_calls[d] in CALLS]
    return {
        "undecided": len(open_),
        "coverage": _rate(open_, lambda s: s.after_calls[d] in CALLS, cfg),
        "hit_rate": _rate(called, lambda s: s.after_calls[d] == s.test.outcome, cfg),
    }


def _by_kind(resolved: list[ScoredTest], cfg: PhysicsConfig) -> dict[str, Any]:
    kinds = sorted({k for s in resolved for k in s.kinds})
    return {
        k: _rate([s for s in resolved if k in s.kinds], lambda s: s.test.outcome == "BREAK", cfg)
        for k in kinds
    }


def _by_regime(resolved: list[ScoredTest], cfg: PhysicsConfig) -> dict[str, Any]:
    """Per fuel regime at the touch (dealers amplifying, dampening, neither, no options data):
    how often its tests broke, and how often its calls were right."""
    out = {}
    for regime in sorted({s.regime for s in resolved}):
        mine = [s for s in resolved if s.regime == regime]
        called = [s for s in mine if s.call in CALLS]
        out[regime] = {
            "base_rate_break": _rate(mine, lambda s: s.test.outcome == "BREAK", cfg),
            "hit_rate": _rate(called, lambda s: s.call == s.test.outcome, cfg),
        }
    return out


def threshold_tests(
    ts_ns: np.ndarray, spot: np.ndarray, levels: list[LevelSeries], cfg: PhysicsConfig,
    session: str | None = None,
) -> dict[float, list[ScoredTest]]:  # fmt: skip
    """The tests scored with the calls made again at each of ``sensitivity_signal_enter``
    (exit in the configured exit/enter proportion). Empty when the signals do not carry what
    the call was made from."""
    if any(lv.calling is None for lv in levels):
        return {}
    out = {}
    for enter in cfg.sensitivity_signal_enter:
        again = [recalled(lv, enter, cfg) for lv in levels]
        out[enter] = score_tests(ts_ns, spot, again, cfg, session=session)
    return out


def threshold_summary(
    by_enter: dict[float, list[ScoredTest]], cfg: PhysicsConfig
) -> dict[str, Any]:
    """Coverage and hit rate at the touch at each entry threshold: a rate that holds only at
    the configured threshold is a knife edge. Measured, not used to choose the threshold."""
    if not by_enter:
        return {"note": "the signals do not carry in_play (written before it was published)"}
    out = {}
    for enter, tests in by_enter.items():
        resolved = [s for s in tests if s.test.outcome != "CENSORED"]
        called = [s for s in resolved if s.call in CALLS]
        out[str(enter)] = {
            "exit": exit_at(enter, cfg),
            "coverage": _rate(resolved, lambda s: s.call in CALLS, cfg),
            "hit_rate": _rate(called, lambda s: s.call == s.test.outcome, cfg),
        }
    return out
