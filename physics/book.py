"""Top-of-book facts from one MBP-10 snapshot, for many levels at once.

Prices here are ES dollars as float64 with undefined book levels as NaN (the decoder maps DBN's
``UNDEF_PRICE`` to NaN). Sizes are contracts. MBP-10 shows ten price levels a side, so a level
beyond the deepest visible price is *unobservable*, which is not the same as empty.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from physics.barrier import BandFlows, BandScores, Refill
from physics.config import PRICE_EPS
from physics.flows import visible_floor

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Book:
    """One side-by-side MBP-10 snapshot; index 0 is the top of book."""

    bid_px: F64
    bid_sz: I64
    ask_px: F64
    ask_sz: I64

    def best_bid(self) -> float | None:
        return _defined(float(self.bid_px[0]))

    def best_ask(self) -> float | None:
        return _defined(float(self.ask_px[0]))

    def mid(self) -> float | None:
        """Mid price, or None while either side of the top is empty or the book is crossed."""
        bid, ask = self.best_bid(), self.best_ask()
        if bid is None or ask is None or bid > ask:
            return None
        return (bid + ask) / 2.0


def two_sided_mids(bid_top: F64, ask_top: F64) -> tuple[npt.NDArray[np.bool_], F64]:
    """Which books have a mid (a price on both sides, not crossed), and the mids of those.

    A side swept empty has no price (NaN); averaging a vendor's "undefined" marker or a
    crossed book would invent a move, so such books are no point on the price path."""
    ok: npt.NDArray[np.bool_] = ~np.isnan(bid_top) & ~np.isnan(ask_top) & (bid_top <= ask_top)
    return ok, (bid_top[ok] + ask_top[ok]) / 2.0


@dataclass(frozen=True, slots=True)
class SideEvidence:
    """Per level (arrays aligned with the level prices given): what one side shows in band."""

    depth: I64
    observable: npt.NDArray[np.bool_]
    quote_px: F64  # NaN when no visible price of this side is inside the band
    quote_sz: I64
    typical_queue: float  # median size of this side's visible price levels (0 if none)
    peak: I64  # the biggest visible queue in band (0 when none)
    edge: float = np.inf  # the deepest price counted (bids: lowest, asks: highest); ±inf: no edge


def _defined(price: float) -> float | None:
    """None for an undefined (NaN) price; a plain float test, as it runs per level and snap."""
    return None if math.isnan(price) else price


def side_evidence(px: F64, sz: I64, level_es: F64, half_band: float, bids: bool) -> SideEvidence:
    """Depth in ``[L - half_band, L + half_band]`` and the quote nearest each level.

    Observable: the side's visible ladder reaches the level. Bids are listed best (highest)
    first, so the ladder covers prices down to its deepest defined price; asks, up to theirs.
    A side with fewer than ten defined prices shows the whole book and covers everything.
    """
    return sides_evidence(px[None, :], sz[None, :], level_es, half_band, np.array([bids]))[0]


def shared_edges(now: F64, start: F64, bids: npt.NDArray[np.bool_]) -> F64:
    """The deepest price two ladders of a side both show: the higher floor of two bid
    ladders, the lower ceiling of two ask ladders."""
    edges: F64 = np.where(bids, np.maximum(now, start), np.minimum(now, start))
    return edges


def cut_at_edge(
    lo: npt.NDArray[np.int64], hi: npt.NDArray[np.int64], edge_tick: float, bids: bool
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Band ticks ``[lo, hi]`` cut at the deepest price a side counts (``SideEvidence.edge``
    in ticks): a bid band ends at the ladder's floor, an ask band at its ceiling."""
    if np.isinf(edge_tick):
        return lo, hi
    if bids:
        return np.maximum(lo, round(edge_tick)), hi
    return lo, np.minimum(hi, round(edge_tick))


def sides_evidence(
    px: F64,
    sz: I64,
    level_es: F64,
    half_band: float,
    bids: npt.NDArray[np.bool_],
    edges: F64 | None = None,
) -> list[SideEvidence]:
    """``side_evidence`` for several book sides at once: row ``i`` of ``px``/``sz`` (shape
    (n, 10)) is a bid ladder where ``bids[i]``, an ask ladder otherwise; one pass for all.

    ``edges[i]``: the deepest price row ``i`` counts and sees (``visible_floor`` of the row
    itself by default). Two books compared over the barrier window are both given the edge
    they share (``shared_edges``), so each counts the same prices, and a level only one of
    them shows is unobservable in both: depth that scrolled into view is not depth added."""
    defined = ~np.isnan(px)
    edge = visible_floor(px, bids) if edges is None else edges
    p = px[:, None, :]  # (sides, 1, prices) against (1, levels, 1)
    lo = (level_es - half_band)[None, :, None] - PRICE_EPS
    hi = (level_es + half_band)[None, :, None] + PRICE_EPS
    seen = np.where(bids[:, None], px >= edge[:, None] - PRICE_EPS, px <= edge[:, None] + PRICE_EPS)
    in_band = (p >= lo) & (p <= hi) & seen[:, None, :]  # an undefined (NaN) price is in none
    shown_in_band = in_band * sz[:, None, :]
    depth = shown_in_band.sum(axis=2).astype(np.int64)
    peak = shown_in_band.max(axis=2).astype(np.int64)  # the largest queue: a wall's signature

    dist = np.where(in_band, np.abs(p - level_es[None, :, None]), np.inf)
    nearest = np.argmin(dist, axis=2)
    has_quote = in_band.any(axis=2)
    quote_px = np.where(has_quote, np.take_along_axis(px, nearest, axis=1), np.nan)
    quote_sz = np.where(has_quote, np.take_along_axis(sz, nearest, axis=1), 0).astype(np.int64)

    observable: npt.NDArray[np.bool_] = np.where(
        bids[:, None],
        level_es[None, :] >= edge[:, None] - PRICE_EPS,
        level_es[None, :] <= edge[:, None] + PRICE_EPS,
    )
    # median visible queue: sizes sorted with the undefined ones last, the middle one(s)
    shown = np.sort(np.where(defined, sz, np.iinfo(np.int64).max), axis=1).astype(np.float64)
    n = defined.sum(axis=1)
    upper = np.take_along_axis(shown, (n // 2)[:, None], axis=1)[:, 0]
    lower = np.take_along_axis(shown, np.maximum((n - 1) // 2, 0)[:, None], axis=1)[:, 0]
    typical = np.where(n > 0, (lower + upper) / 2, 0.0)
    return [
        SideEvidence(
            depth[i],
            observable[i],
            quote_px[i],
            quote_sz[i],
            float(typical[i]),
            peak[i],
            float(edge[i]),
        )
        for i in range(px.shape[0])
    ]


@dataclass(frozen=True, slots=True)
class SideAtLevel:
    """One level's view of one side of the book."""

    depth: int
    observable: bool
    quote_px: float | None
    quote_sz: int | None
    typical_queue: float = 0.0  # median visible queue of this side, for thickness
    depth_start: int = 0  # depth in band at the start of the barrier window
    added: int = 0  # flows in band over the barrier window
    cancelled: int = 0
    filled: int = 0
    hidden: int = 0  # traded in band beyond the displayed drop
    refill_half_life_s: float | None = None  # how fast fills in band were re-posted
    refilled_share: float | None = None
    score: float | None = None  # the barrier score (None: not observable)
    resilience: float = 0.0
    thickness: float | None = None  # the defence against an ordinary one (None: not scored)


def at_each(
    evidence: SideEvidence,
    start: SideEvidence | None = None,
    flows: BandFlows | None = None,
    refills: list[Refill | None] | None = None,
    scores: BandScores | None = None,
) -> list[SideAtLevel]:
    """Each level's share of vectorised evidence: the book now, the book at the start of the
    barrier window, and the flows in between. The arrays are read as lists once (an element
    of a numpy array costs more to take than the level's whole record)."""
    n = len(evidence.depth)
    none: list[None] = [None] * n
    zeros = [0] * n
    depth, observable = evidence.depth.tolist(), evidence.observable.tolist()
    quote_px, quote_sz = evidence.quote_px.tolist(), evidence.quote_sz.tolist()
    depth_start = zeros if start is None else start.depth.tolist()
    added, cancelled, filled, hidden = (
        (zeros,) * 4
        if flows is None
        else (f.tolist() for f in (flows.added, flows.cancelled, flows.filled, flows.hidden))
    )
    score: list[Any] = none if scores is None else scores.score.tolist()
    resilience: list[Any] = none if scores is None else scores.resilience.tolist()
    thickness: list[Any] = none if scores is None else scores.thickness.tolist()
    out = []
    for i, refilled in enumerate(none if refills is None else refills):
        has_quote = not math.isnan(quote_px[i])
        scored = scores is not None and observable[i]
        out.append(
            SideAtLevel(
                depth=depth[i],
                observable=observable[i],
                quote_px=quote_px[i] if has_quote else None,
                quote_sz=quote_sz[i] if has_quote else None,
                typical_queue=evidence.typical_queue,
                depth_start=depth_start[i],
                added=added[i],
                cancelled=cancelled[i],
                filled=filled[i],
                hidden=hidden[i],
                refill_half_life_s=refilled.half_life_s if refilled is not None else None,
                refilled_share=refilled.refilled_share if refilled is not None else None,
                score=score[i] if scored else None,
                resilience=resilience[i] if scored else 0.0,
                thickness=thickness[i] if scored else None,
            )
        )
    return out
