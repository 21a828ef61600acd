"""The fuel regime at each test's touch, recomputed from Polygon captures with the dataflow's
own options code: for signals made without options, or to check those made with them."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from connectors.polygon.capture import strict_capture
from dataflows.signals.decode import decode
from dataflows.signals.items import DecodeFailure, OptionEvent
from dataflows.signals.options import OptionsState
from physics.config import PhysicsConfig
from snapline.errors import InputError


def load_options(paths: list[Path], cfg: PhysicsConfig) -> OptionsState:
    """Every option input of the captures, pending in event-time order."""
    state = OptionsState(cfg)
    for n, path in enumerate(paths):
        for offset, (_, raw) in enumerate(strict_capture(path)):
            item = decode(dataclasses.replace(raw, partition=f"file:{n}", offset=offset))
            if isinstance(item, DecodeFailure):
                msg = f"{path}, message {offset + 1}: {item.reason}"
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
