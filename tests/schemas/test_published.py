import json
from pathlib import Path

import pytest

from schemas.level_event import LevelEvent
from schemas.level_signal import LevelSignal
from schemas.published import stamped_json


def test_stamped_json_is_the_model_copied_with_its_stamp(esh4_replay: tuple[Path, Path]) -> None:
    """Every signal and event the sample publishes (nulls, reasons with quotes and colons,
    every call and kind): the stamp written into the JSON gives the very bytes of the model
    copied with the stamp and serialised, and the stamp reads back."""
    signals, events = esh4_replay
    checked = 0
    for path, model in ((signals, LevelSignal), (events, LevelEvent)):
        for i, line in enumerate(path.read_text().splitlines()):
            if i % 97 and model is LevelSignal:
                continue  # a spread of the 111,698 signals is enough
            unstamped = model.model_validate({**json.loads(line), "ts_publish_ns": 0})
            ts = 1_733_000_000_123_456_789 + i
            expected = unstamped.model_copy(update={"ts_publish_ns": ts}).model_dump_json()
            assert stamped_json(unstamped, ts) == expected.encode()
            assert json.loads(stamped_json(unstamped, ts))["ts_publish_ns"] == ts
            checked += 1
    assert checked > 1_000


def test_a_model_already_stamped_is_refused(esh4_replay: tuple[Path, Path]) -> None:
    line = esh4_replay[0].read_text().splitlines()[0]
    stamped = LevelSignal.model_validate({**json.loads(line), "ts_publish_ns": 5})
    with pytest.raises(ValueError, match="LevelSignal has no unstamped ts_publish_ns"):
        stamped_json(stamped, 6)
