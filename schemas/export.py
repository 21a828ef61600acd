"""Generate the published JSON Schemas from the pydantic models."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from schemas.level_event import LEVEL_EVENT_VERSION, LevelEvent
from schemas.level_signal import LEVEL_SIGNAL_VERSION, LevelSignal

PUBLISHED: dict[str, type[BaseModel]] = {
    "level_signal.schema.json": LevelSignal,
    "level_event.schema.json": LevelEvent,
}
VERSIONS: dict[type[BaseModel], str] = {
    LevelSignal: f"level_signal/v{LEVEL_SIGNAL_VERSION}",
    LevelEvent: f"level_event/v{LEVEL_EVENT_VERSION}",
}


def schema_text(model: type[BaseModel]) -> str:
    schema = model.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://snapline.dev/schemas/{VERSIONS[model]}"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def write_schemas(out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, model in PUBLISHED.items():
        path = out_dir / name
        path.write_text(schema_text(model))
        written.append(path)
    return written
