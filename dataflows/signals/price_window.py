"""Book flows per price over a trailing event-time window, kept as running totals.

The barrier reads, at every snap, each level's added / cancelled / filled / hidden volume in
its band over the last ``window_ns``. Summing the window afresh per snap costs the window's
rows (5 s of a busy book) fifty times over; here each row is added once when a snap first
covers it and subtracted once when it leaves, into totals indexed by price tick, and a band
is two lookups in their running sum. Prices far apart (a span beyond ``max_span_ticks``,
e.g. a bad print) fall back to summing the window's rows, never to a huge array.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from dataflows.signals.columns import Column
from physics.barrier import BandFlows, Refill, RefillTrack, band_flows, bounded

I64 = npt.NDArray[np.int64]
NEVER = -(2**63)
FLOWS = ("added", "cancelled", "filled", "hidden")
PAD_TICKS = 64  # room around the prices seen, so a drifting market rarely regrows the totals
Bands = tuple[BandFlows, list[Refill | None]]


class PriceWindow:
    def __init__(self, window_ns: int, max_span_ticks: int = 1 << 20) -> None:
        self.window_ns = window_ns
        self.max_span_ticks = max_span_ticks
        z = np.empty(0, np.int64)
        self.rows = Column(price_tick=z, **dict.fromkeys(FLOWS, z))
        self.base = 0  # price tick of totals[:, 0]
        self.totals: I64 | None = np.zeros((len(FLOWS), 0), np.int64)  # None: too wide
        self.added_ns = NEVER  # rows up to here are in the totals...
        self.removed_ns = NEVER  # ...and rows up to here are out again
        self._last: tuple[bytes, Bands] | None = None  # bands asked last, unchanged since
        # per band (lo, hi tick) whose refill was asked: the time asked and its fills in the
        # window then, so the next snap scans only the rows that came since
        self._refill_rows: dict[tuple[int, int], tuple[int, RefillTrack]] = {}

    def append(self, ts_ns: I64, price_tick: I64, **flows: I64) -> None:
        """New rows, in time order. Live, a late book update can date a row inside a window
        already summed: it counts from the next snap on, as long as it is in the window (and
        is dropped if it is older than the window)."""
        keep = ts_ns > self.removed_ns
        ts_ns, price_tick = ts_ns[keep], price_tick[keep]
        flows = {name: f[keep] for name, f in flows.items()}
        self.rows.append(ts_ns, price_tick=price_tick, **flows)
        self.rows.consolidate(NEVER)
        late = ts_ns <= self.added_ns
        if late.any():
            self._last = None
            self._refill_rows.clear()  # late rows land inside windows already scanned
            self._add(price_tick[late], {k: f[late] for k, f in flows.items()}, +1)

    def band_at(
        self, t_ns: int, lo_tick: I64, hi_tick: I64, refills: npt.NDArray[np.bool_] | None = None
    ) -> Bands:
        """Flows in ``[lo_tick, hi_tick]`` per level over ``(t - window, t]``, and how the
        fills of the levels marked in ``refills`` refilled (None where not asked or nothing
        was filled); ``t`` never goes back."""
        if self._advance(t_ns):
            self._last = None
        wanted = np.zeros(len(lo_tick), bool) if refills is None else refills
        asked = lo_tick.tobytes() + hi_tick.tobytes() + wanted.tobytes()
        if self._last is not None and self._last[0] == asked:
            return self._last[1]  # a quiet book: nothing entered or left the window
        flows = self._bands(t_ns, lo_tick, hi_tick)
        found = (flows, self._refills(t_ns, lo_tick, hi_tick, wanted & (flows.filled > 0)))
        self._last = (asked, found)
        return found

    def filled_in(self, t_ns: int, lo_tick: I64, hi_tick: I64) -> I64:
        """Filled volume in ``[lo_tick, hi_tick]`` per level over ``(t - window, t]``."""
        if self._advance(t_ns):
            self._last = None
        if self.totals is None:
            return self._summed(t_ns, lo_tick, hi_tick).filled
        filled = self.totals[FLOWS.index("filled")][None, :]  # only the row asked for
        band: I64 = self._in_bands(filled, lo_tick, hi_tick)[0]
        return band

    def _refills(
        self, t_ns: int, lo_tick: I64, hi_tick: I64, filled: npt.NDArray[np.bool_]
    ) -> list[Refill | None]:
        """``physics.barrier.refill`` of each band where something was filled, kept per band
        from snap to snap: only the fill and add rows that came since are scanned (cancels
        change no refill)."""
        out: list[Refill | None] = [None] * len(lo_tick)
        start = t_ns - self.window_ns
        kept = {k: v for k, v in self._refill_rows.items() if v[0] > start}
        if not filled.any():
            self._refill_rows = kept
            return out
        ts, c = self._window(t_ns)
        for i in np.flatnonzero(filled):
            band = (int(lo_tick[i]), int(hi_tick[i]))
            upto, track = kept.get(band) or (start, RefillTrack())
            j = int(np.searchsorted(ts, upto, side="right"))
            tick, fill, add = c["price_tick"][j:], c["filled"][j:], c["added"][j:]
            mine = np.flatnonzero((tick >= band[0]) & (tick <= band[1]) & ((fill > 0) | (add > 0)))
            track.fold(ts[j:][mine], fill[mine], add[mine])
            track.drop_through(start)
            kept[band] = (t_ns, track)
            out[i] = track.refill()
        self._refill_rows = kept
        return out

    def _bands(self, t_ns: int, lo_tick: I64, hi_tick: I64) -> BandFlows:
        if self.totals is None:
            return self._summed(t_ns, lo_tick, hi_tick)
        return BandFlows(*self._in_bands(self.totals, lo_tick, hi_tick))

    def _in_bands(self, totals: I64, lo_tick: I64, hi_tick: I64) -> I64:
        """Rows of ``totals`` (flows by price tick from ``base``) summed over each band."""
        span = totals.shape[1]
        lo = bounded(lo_tick - self.base, 0, span)
        hi = np.maximum(bounded(hi_tick - self.base + 1, 0, span), lo)
        # the running sum only over the prices the bands reach, not the whole span kept
        first = int(lo.min(initial=span))
        last = int(hi.max(initial=first))
        running = np.zeros((totals.shape[0], last - first + 1), np.int64)
        np.cumsum(totals[:, first:last], axis=1, out=running[:, 1:])
        band: I64 = running[:, hi - first] - running[:, lo - first]
        return band

    def _advance(self, t_ns: int) -> bool:
        """Move the window to end at ``t_ns``; whether any row entered or left it."""
        start = t_ns - self.window_ns
        if t_ns <= self.added_ns and start <= self.removed_ns:
            return False  # already there (the same snap asks each side more than once)
        ts = self.rows.ts
        # rows that left the window; rows never added (a jump past them) are not subtracted
        left = self._fold(ts, self.removed_ns, min(start, self.added_ns), -1)
        entered = self._fold(ts, max(self.added_ns, start), t_ns, +1)
        self.added_ns = max(self.added_ns, t_ns)
        self.removed_ns = max(self.removed_ns, start)
        self.rows.drop_before(int(np.searchsorted(ts, self.removed_ns, side="right")))
        return left or entered

    def _fold(self, ts: I64, after_ns: int, upto_ns: int, sign: int) -> bool:
        if upto_ns <= after_ns or not ts.size or ts[-1] <= after_ns or ts[0] > upto_ns:
            return False  # no row in (after, upto]: spare the searches
        lo = int(np.searchsorted(ts, after_ns, side="right"))
        hi = int(np.searchsorted(ts, upto_ns, side="right"))
        if hi <= lo:
            return False
        if self.totals is None:
            return True
        c = self.rows.cols
        self._add(c["price_tick"][lo:hi], {k: c[k][lo:hi] for k in FLOWS}, sign)
        return True

    def _add(self, ticks: I64, flows: dict[str, I64], sign: int) -> None:
        if self.totals is None or not self._cover(int(ticks.min()), int(ticks.max())):
            return
        at = ticks - self.base
        span = self.totals.shape[1]
        for i, name in enumerate(FLOWS):
            summed = np.bincount(at, weights=flows[name], minlength=span)
            self.totals[i] += sign * summed.astype(np.int64)

    def _cover(self, lo: int, hi: int) -> bool:
        """Widen the totals to hold ticks ``lo..hi``; False (and no totals from now on) if
        that would span more than ``max_span_ticks``."""
        assert self.totals is not None
        span = self.totals.shape[1]
        if span and self.base <= lo and hi < self.base + span:
            return True
        new_lo = min(lo, self.base) if span else lo
        new_hi = max(hi, self.base + span - 1) if span else hi
        new_lo, new_hi = new_lo - PAD_TICKS, new_hi + PAD_TICKS
        if new_hi - new_lo + 1 > self.max_span_ticks:
            self.totals = None
            return False
        grown = np.zeros((len(FLOWS), new_hi - new_lo + 1), np.int64)
        grown[:, self.base - new_lo : self.base - new_lo + span] = self.totals
        self.totals, self.base = grown, new_lo
        return True

    def _summed(self, t_ns: int, lo_tick: I64, hi_tick: I64) -> BandFlows:
        _, c = self._window(t_ns)
        added, cancelled, filled, hidden = (c[name] for name in FLOWS)
        return band_flows(c["price_tick"], added, cancelled, filled, hidden, lo_tick, hi_tick)

    def _window(self, t_ns: int) -> tuple[I64, dict[str, I64]]:
        """The rows of ``(t - window, t]``: times and columns."""
        ts = self.rows.ts
        lo = int(np.searchsorted(ts, t_ns - self.window_ns, side="right"))
        hi = int(np.searchsorted(ts, t_ns, side="right"))
        return ts[lo:hi], {k: v[lo:hi] for k, v in self.rows.cols.items()}
