"""The fuel regime at each test's touch, recomputed from Polygon captures with the dataflow's
own options code: for signals made without options, or to check those made with them."""

from __future__ import annotations

from pathlib import Path

from connectors.polygon.capture import read_capture
from dataflows.signals.decode import decode
from dataflows.signals.items import DecodeFailure, OptionEvent
from dataflows.signals.options import OptionsState
from physics.config import PhysicsConfig
from schemas.envelope import RawMessage
from snapline.errors import InputError


def load_options(paths: list[Path], cfg: PhysicsConfig) -> OptionsState:
    """Every option input of the captures, pending in event-time order."""
    state = OptionsState(cfg)
    for n, path in enumerate(paths):
        for offset, m in enumerate(read_capture(path)):
            if m.headers is None:  # the connector would dead-letter it: say where and why
                msg = f"{m.where}: {m.reason}"
                raise InputError(msg)
            raw = RawMessage(m.role, m.key, m.value, m.headers.to_kafka(), f"file:{n}", offset)
            item = decode(raw)
            if isinstance(item, DecodeFailure):
                msg = f"{m.where}: {item.reason}"
                raise InputError(msg)
            if isinstance(item, OptionEvent):
                state.add(item)
    return state


def regimes_at(
    state: OptionsState, touches: list[tuple[int, float, float]]
) -> dict[tuple[int, float], str]:
    """The regime at each ``(touch_ns, level, spot)``: the fuel the dataflow would compute there
    from the inputs received by then (MISSING without a fresh chain or a strike near the level)."""
    out: dict[tuple[int, float], str] = {}
    for t_ns, level, spot in sorted(touches):
        state.advance(t_ns)
        fuel = state.at_snap(t_ns, spot).at([level])[0]
        out[(t_ns, level)] = "MISSING" if fuel is None else fuel.regime
    return out
