"""The simulated live feed batches ES records as the live Databento connector does."""

from __future__ import annotations

import numpy as np

from connectors.pacing import Pace, Pacer
from connectors.sim_feed import session_feed
from schemas.dbn import MBP10_NESTED_DTYPE, TRADE_DTYPE
from simulator.params import SessionParams


def test_micro_batches_close_on_size_or_age() -> None:
    # a message dated by its last record must not hold records much older than that: the
    # dataflow's live snap waits only a few tens of ms for a caught-up input
    sp = SessionParams(hours=0.01, events_per_s=3_000, open_boost=0, close_boost=0)
    feed = session_feed(None, Pacer(Pace(None)), 1_741_959_000_000_000_000, sp=sp, flush_ms=20)  # type: ignore[arg-type]
    while feed.sim.t < feed.sim.plan.start_ns + 3_000_000_000:
        feed.sim.step()
    outs = [o for it in feed._batch() for o in it if o.role in ("es_mbp10", "es_trades")]
    spans, sizes, dated_by_last = [], [], True
    for o in outs:
        rec = np.frombuffer(o.value, MBP10_NESTED_DTYPE if o.role == "es_mbp10" else TRADE_DTYPE)
        ts = rec["ts_recv"].astype(np.int64)
        spans.append(int(ts[-1] - ts[0]))
        sizes.append(rec.size)
        dated_by_last &= o.ts_recv_ns == int(ts[-1])
    assert dated_by_last
    assert max(spans) <= 20_000_000 and max(sizes) <= 256
    assert sum(sizes) > 5_000  # three seconds of a busy book, all of it sent
