"""The scaling bench's row: one replay of a short simulated stretch, measured as a user reads it."""

from __future__ import annotations

import json
from pathlib import Path

from bench.scaling import describe, explicit_levels, measured_replay, scaling_row, simulated_stretch


def test_a_row_gives_the_process_and_the_dataflow_time_of_one_replay(tmp_path: Path) -> None:
    files, records = simulated_stretch(tmp_path / "session", minutes=0.1, rate=430.0)
    out = tmp_path / "out.jsonl"
    row = scaling_row(5, records, 430.0, 0.1, measured_replay(files, explicit_levels(5), out))
    assert row["signals"] == len(out.read_text().splitlines()) > 0
    assert all(json.loads(line)["ts_event_ns"] for line in out.read_text().splitlines())
    # the dataflow is part of the process: never longer, and faster per record
    assert 0 < row["dataflow_seconds"] <= row["seconds"]
    assert row["dataflow_es_records_per_s"] >= row["es_records_per_s"] > 0
    assert row["peak_rss_mb"] > 10
    table = describe({"rows": [row]})
    assert f"{row['dataflow_es_records_per_s']:,}" in table.splitlines()[1]
