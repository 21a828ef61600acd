"""The simulator writes real DBN that the official decoder reads, with sane microstructure,
and its truth is what the written book did."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import databento as db
import numpy as np
import pytest

from evaluation.report import book_spot
from physics.config import PhysicsConfig
from physics.outcomes import label_tests
from simulator.scenarios import Plan, reusable_truth, run_scenario

UNDEF = np.iinfo(np.int64).max


@pytest.fixture(scope="module")
def vacuum(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:  # type: ignore[type-arg]
    out = tmp_path_factory.mktemp("sim")
    return run_scenario(Plan("vacuum", 480.0, "support", seed=1, duration_s=120), out), out


def test_official_decoder_reads_both_files(vacuum: tuple[dict, Path]) -> None:  # type: ignore[type-arg]
    truth, out = vacuum
    mbp = db.DBNStore.from_bytes((out / truth["files"][0]).read_bytes())
    trades = db.DBNStore.from_bytes((out / truth["files"][1]).read_bytes())
    assert (mbp.schema, trades.schema) == ("mbp-10", "trades")
    book, prints = mbp.to_ndarray(), trades.to_ndarray()
    assert len(book) > 20_000
    # every print is also a T record of the MBP-10 stream, same price and size, same side
    t_records = book[book["action"] == b"T"]
    assert len(t_records) == len(prints)
    assert np.array_equal(t_records["price"], prints["price"])
    assert np.array_equal(t_records["side"], prints["side"])
    assert np.all(book["ts_recv"] >= book["ts_event"])
    assert np.all(np.diff(book["sequence"].astype(np.int64)) == 1)


def test_microstructure_is_sane(vacuum: tuple[dict, Path]) -> None:  # type: ignore[type-arg]
    truth, out = vacuum
    book = db.DBNStore.from_bytes((out / truth["files"][0]).read_bytes()).to_ndarray()
    last = book[(book["flags"] & 0x80) != 0]
    bid, ask = last["bid_px_00"].astype(np.int64), last["ask_px_00"].astype(np.int64)
    assert np.all((bid != UNDEF) & (ask != UNDEF))
    spread_ticks = (ask - bid) / 250_000_000
    assert np.all(spread_ticks >= 1)  # never crossed or locked on F_LAST records
    assert np.mean(spread_ticks == 1) > 0.95  # one tick nearly always
    sizes = book["size"][book["action"] == b"T"]
    assert 1 <= np.median(sizes) <= 10  # ES prints are mostly a few lots
    shown = sum((last[f"bid_px_{i:02d}"] != UNDEF).astype(int) for i in range(10))
    assert np.median(shown) == 10  # ten levels a side, bar the pulled stretch


def test_truth_is_what_the_written_book_did(vacuum: tuple[dict, Path]) -> None:  # type: ignore[type-arg]
    truth, out = vacuum
    book = db.DBNStore.from_bytes((out / truth["files"][0]).read_bytes()).to_ndarray()
    last = book[(book["flags"] & 0x80) != 0]
    bid, ask = last["bid_px_00"].astype(np.int64), last["ask_px_00"].astype(np.int64)
    last = last[(bid != UNDEF) & (ask != UNDEF) & (bid <= ask)]  # books that have a mid
    mid = (last["bid_px_00"] + last["ask_px_00"]) / 2 / 1e9 / truth["es_spy_ratio"]
    cfg = PhysicsConfig()
    tests = label_tests(
        last["ts_recv"].astype(np.int64), mid, truth["level"], cfg.touch_band_spy,
        cfg.outcome_move_spy, int(cfg.outcome_horizon_s * 1e9),
    )  # fmt: skip
    assert [t.outcome for t in tests] == [t["outcome"] for t in truth["tests"]]
    assert truth["outcome"] in ("BREAK", "BOUNCE", "CENSORED")


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    a = run_scenario(Plan("wall", 480.0, "resistance", seed=7, duration_s=20), tmp_path / "a")
    b = run_scenario(Plan("wall", 480.0, "resistance", seed=7, duration_s=20), tmp_path / "b")
    for name in [*a["files"], a["options"]]:  # type: ignore[misc]
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert json.loads((tmp_path / "a" / "wall-resistance-seed7.truth.json").read_text()) == b


def test_a_run_is_reused_only_for_the_same_plan_with_every_file(tmp_path: Path) -> None:
    plan = Plan("wall", 480.0, "resistance", seed=7, duration_s=20)
    assert reusable_truth(plan, tmp_path) is None  # nothing simulated yet
    truth = run_scenario(plan, tmp_path)
    assert reusable_truth(plan, tmp_path) == truth
    assert reusable_truth(replace(plan, duration_s=30), tmp_path) is None  # a longer run
    bigger = plan.params.model_copy(update={"iceberg_total": plan.params.iceberg_total + 1})
    other = replace(plan, params=bigger)
    assert reusable_truth(other, tmp_path) is None  # other simulator parameters
    (tmp_path / truth["options"]).unlink()
    assert reusable_truth(plan, tmp_path) is None  # a file it names is gone
    (tmp_path / "wall-resistance-seed7.truth.json").write_text('{"scenario": "wa')
    assert reusable_truth(plan, tmp_path) is None  # a truth cut short: simulated again


def test_quiet_session_never_tests_the_level(tmp_path: Path) -> None:
    truth = run_scenario(Plan("quiet", 480.0, "support", seed=2, duration_s=60), tmp_path)
    assert truth["outcome"] == "NO_TEST"


def test_a_side_swept_empty_is_no_price(tmp_path: Path) -> None:
    # the sweep takes every bid for a moment: DBN then writes its "undefined" price, which
    # averaged into a mid read as a jump up, so the truth called a broken support a bounce
    truth = run_scenario(Plan("sweep", 480.0, "support", seed=0), tmp_path)
    book = db.DBNStore.from_bytes((tmp_path / truth["files"][0]).read_bytes()).to_ndarray()
    last = book[(book["flags"] & 0x80) != 0]
    assert np.any(last["bid_px_00"].astype(np.int64) == UNDEF)  # the case is exercised
    ts, spot = book_spot([tmp_path / truth["files"][0]], truth["es_spy_ratio"])
    cfg = PhysicsConfig()
    tests = label_tests(
        ts, spot, truth["level"], cfg.touch_band_spy, cfg.outcome_move_spy,
        int(cfg.outcome_horizon_s * 1e9),
    )  # fmt: skip
    assert [t["outcome"] for t in truth["tests"]] == [t.outcome for t in tests]
    assert truth["outcome"] == "BREAK"
