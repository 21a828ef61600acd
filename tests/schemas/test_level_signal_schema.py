import json
from pathlib import Path

from schemas.export import PUBLISHED, schema_text

SCHEMAS = Path(__file__).parents[2] / "schemas"


def test_published_schema_matches_the_model() -> None:
    for name, model in PUBLISHED.items():
        committed = (SCHEMAS / name).read_text()
        assert committed == schema_text(model), f"{name} drifted: run `snapline schema export`"


def test_schema_requires_the_design_fields() -> None:
    schema = json.loads((SCHEMAS / "level_signal.schema.json").read_text())
    required = set(schema["required"])
    for field in [
        "schema_version", "ts_event_ns", "ts_publish_ns", "snap_seq", "level_id", "level_price",
        "level_kinds", "side", "spot", "distance", "barrier", "tape", "fuel", "break_score_raw",
        "break_score", "signal", "confidence",
    ]:  # fmt: skip
        assert field in required
    barrier = schema["$defs"]["Barrier"]["required"]
    assert {
        "state",
        "score",
        "depth",
        "added",
        "cancelled",
        "filled",
        "defending_price",
        "defending_size",
    } <= set(barrier)
