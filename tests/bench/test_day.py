"""``snapline bench day`` on a few minutes of the day: its figures, as a user reads them."""

from __future__ import annotations

from bench.day import describe, run_day_bench


def test_a_short_day_is_simulated_replayed_and_measured() -> None:
    r = run_day_bench(hours=0.05)  # three minutes from the open
    assert r["es_records"] > 50_000  # the open is busy: tens of thousands of records a minute
    # every active level once per 100 ms snap: at least one per snap of three minutes
    assert r["signals"] >= 3 * 60 * 10
    assert 0 < r["dataflow_seconds"] <= r["seconds"]
    assert r["dataflow_es_records_per_s"] >= r["es_records_per_s"] > 0
    assert 10 < r["peak_rss_mb"] < 1_000
    assert f"{r['es_records']:,} ES records" in describe(r)
