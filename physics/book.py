"""Top-of-book facts from one MBP-10 snapshot, for many levels at once.

Prices here are ES dollars as float64 with undefined book levels as NaN (the decoder maps DBN's
``UNDEF_PRICE`` to NaN). Sizes are contracts. MBP-10 shows ten price levels a side, so a level
beyond the deepest visible price is *unobservable*, which is not the same as empty.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from physics.barrier import BandFlows

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
        return None if np.isnan(self.bid_px[0]) else float(self.bid_px[0])

    def best_ask(self) -> float | None:
        return None if np.isnan(self.ask_px[0]) else float(self.ask_px[0])

    def mid(self) -> float | None:
        """Mid price, or None while either side of the top is empty or the book is crossed."""
        bid, ask = self.best_bid(), self.best_ask()
        if bid is None or ask is None or bid > ask:
            return None
        return (bid + ask) / 2.0


@dataclass(frozen=True, slots=True)
class SideEvidence:
    """Per level (arrays aligned with the level prices given): what one side shows in band."""

    depth: I64
    observable: npt.NDArray[np.bool_]
    quote_px: F64  # NaN when no visible price of this side is inside the band
    quote_sz: I64
    typical_queue: float  # median size of this side's visible price levels (0 if none)


def side_evidence(px: F64, sz: I64, level_es: F64, half_band: float, bids: bool) -> SideEvidence:
    """Depth in ``[L - half_band, L + half_band]`` and the quote nearest each level.

    Observable: the side's visible ladder reaches the level. Bids are listed best (highest)
    first, so the ladder covers prices down to its deepest defined price; asks, up to theirs.
    A side with fewer than ten defined prices shows the whole book and covers everything.
    """
    defined = ~np.isnan(px)
    lo = level_es - half_band
    hi = level_es + half_band
    in_band = (
        defined[None, :] & (px[None, :] >= lo[:, None] - 1e-9) & (px[None, :] <= hi[:, None] + 1e-9)
    )
    depth = (in_band * sz[None, :]).sum(axis=1).astype(np.int64)

    dist = np.where(in_band, np.abs(px[None, :] - level_es[:, None]), np.inf)
    nearest = np.argmin(dist, axis=1)
    has_quote = np.isfinite(dist[np.arange(len(level_es)), nearest])
    quote_px = np.where(has_quote, px[nearest], np.nan)
    quote_sz = np.where(has_quote, sz[nearest], 0).astype(np.int64)

    if defined.all():
        deepest = float(px[defined].min() if bids else px[defined].max())
        observable = level_es >= deepest - 1e-9 if bids else level_es <= deepest + 1e-9
    else:
        observable = np.ones(len(level_es), dtype=bool)
    typical = float(np.median(sz[defined])) if defined.any() else 0.0
    return SideEvidence(depth, np.asarray(observable, dtype=bool), quote_px, quote_sz, typical)


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


def at(
    evidence: SideEvidence,
    i: int,
    start: SideEvidence | None = None,
    flows: BandFlows | None = None,
) -> SideAtLevel:
    """The ``i``-th level's share of vectorised evidence: the book now, the book at the start
    of the barrier window, and the flows in between."""
    px = float(evidence.quote_px[i])
    has_quote = not np.isnan(px)
    return SideAtLevel(
        depth=int(evidence.depth[i]),
        observable=bool(evidence.observable[i]),
        quote_px=px if has_quote else None,
        quote_sz=int(evidence.quote_sz[i]) if has_quote else None,
        typical_queue=evidence.typical_queue,
        depth_start=int(start.depth[i]) if start is not None else 0,
        added=int(flows.added[i]) if flows is not None else 0,
        cancelled=int(flows.cancelled[i]) if flows is not None else 0,
        filled=int(flows.filled[i]) if flows is not None else 0,
        hidden=int(flows.hidden[i]) if flows is not None else 0,
    )
