"""From published signals and a price path to scored level tests. No I/O, nothing fitted."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from physics.config import PhysicsConfig
from physics.outcomes import LevelTest, brier, label_tests, log_loss, wilson


@dataclass(frozen=True, slots=True)
class LevelSeries:
    """One level's published signals, time ascending."""

    price: float
    kinds: tuple[str, ...]
    ts_ns: np.ndarray
    signal: np.ndarray  # str
    break_score: np.ndarray  # float, NaN where null

    def at(self, t_ns: int) -> tuple[str, float] | None:
        """The signal published at or before ``t_ns``, or None if the level had none yet."""
        i = int(np.searchsorted(self.ts_ns, t_ns, side="right")) - 1
        return None if i < 0 else (str(self.signal[i]), float(self.break_score[i]))


@dataclass(frozen=True, slots=True)
class ScoredTest:
    test: LevelTest
    kinds: tuple[str, ...]
    call: str  # at the touch: BREAK, BOUNCE, NEUTRAL, ABSTAIN, or NONE (level not published)
    break_score: float  # NaN when null or not published
    lead_calls: dict[float, str] = field(default_factory=dict)


def score_tests(
    ts_ns: np.ndarray, spot: np.ndarray, levels: list[LevelSeries], cfg: PhysicsConfig,
    move: float | None = None,
) -> list[ScoredTest]:  # fmt: skip
    """Label every test of every level and attach the calls published before it."""
    x = cfg.outcome_move_spy if move is None else move
    out = []
    for lv in levels:
        for t in label_tests(
            ts_ns, spot, lv.price, cfg.touch_band_spy, x, int(cfg.outcome_horizon_s * 1e9)
        ):
            now = lv.at(t.touch_ns)
            leads = {}
            for lead in cfg.lead_times_s:
                before = lv.at(t.touch_ns - int(lead * 1e9))
                leads[lead] = before[0] if before else "NONE"
            out.append(
                ScoredTest(t, lv.kinds, now[0] if now else "NONE", now[1] if now else np.nan, leads)
            )
    return sorted(out, key=lambda s: (s.test.touch_ns, s.test.level))


def summarise(tests: list[ScoredTest], cfg: PhysicsConfig) -> dict[str, Any]:
    """Every figure of the report; rates on fewer than ``min_tests`` are withheld."""
    resolved = [s for s in tests if s.test.outcome != "CENSORED"]
    breaks = sum(s.test.outcome == "BREAK" for s in resolved)
    called = [s for s in resolved if s.call in ("BREAK", "BOUNCE")]
    hits = sum(s.call == s.test.outcome for s in called)
    sessions = {s.test.touch_ns // 86_400_000_000_000 for s in tests}
    return {
        "tests": len(tests),
        "resolved": len(resolved),
        "censored": len(tests) - len(resolved),
        "sessions": len(sessions),
        "base_rate_break": _rate(breaks, len(resolved), cfg),
        "calls_at_touch": dict(Counter(s.call for s in tests)),
        "coverage": _rate(len(called), len(resolved), cfg),
        "abstain_rate": _rate(sum(s.call == "ABSTAIN" for s in resolved), len(resolved), cfg),
        "hit_rate": _rate(hits, len(called), cfg),
        "per_class": {c: _precision_recall(resolved, c, cfg) for c in ("BREAK", "BOUNCE")},
        "probability": _probability(resolved, cfg),
        "hit_rate_at_lead_s": {
            str(lead): _lead_rate(resolved, lead, cfg) for lead in cfg.lead_times_s
        },
        "base_rate_by_kind": _by_kind(resolved, cfg),
    }


def _rate(k: int, n: int, cfg: PhysicsConfig) -> dict[str, Any]:
    if n < cfg.min_tests:
        return {"n": n, "value": None, "note": f"withheld: fewer than {cfg.min_tests}"}
    lo, hi = wilson(k, n)
    return {"n": n, "value": k / n, "ci95": [lo, hi]}


def _precision_recall(resolved: list[ScoredTest], c: str, cfg: PhysicsConfig) -> dict[str, Any]:
    tp = sum(s.call == c and s.test.outcome == c for s in resolved)
    return {
        "precision": _rate(tp, sum(s.call == c for s in resolved), cfg),
        "recall": _rate(tp, sum(s.test.outcome == c for s in resolved), cfg),
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
    called = [s for s in resolved if s.lead_calls.get(lead) in ("BREAK", "BOUNCE")]
    return _rate(sum(s.lead_calls[lead] == s.test.outcome for s in called), len(called), cfg)


def _by_kind(resolved: list[ScoredTest], cfg: PhysicsConfig) -> dict[str, Any]:
    kinds = sorted({k for s in resolved for k in s.kinds})
    return {
        k: _rate(
            sum(s.test.outcome == "BREAK" for s in resolved if k in s.kinds),
            sum(k in s.kinds for s in resolved),
            cfg,
        )
        for k in kinds
    }
