"""SPY options from outside, end to end inside the signals flow: vendor JSON messages through
decode into the options state, then the fuel evidence of a snap. Bad messages are dead letters;
whatever gets through never raises and never turns the evidence into NaN or infinity."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from dataflows.signals.decode import SCHEMA_BY_ROLE, decode
from dataflows.signals.items import DecodeFailure, OptionEvent
from dataflows.signals.options import OptionsState
from physics.config import PhysicsConfig
from schemas.envelope import RawHeaders, RawMessage
from tests.fuzz.strategies import json_bytes, json_scalars, json_values
from tests.fuzz.tried import no_hang, tried

SNAP_NS = int(datetime(2025, 10, 10, 17, 0, tzinfo=UTC).timestamp() * 1e9)  # 13:00 New York
SPOT = 673.0
_num = st.floats(0, 5e3) | st.integers(0, 10**6) | st.floats() | json_scalars  # mostly sane
_ticker = st.builds(
    "O:SPY251010{}{:08d}".format, st.sampled_from("CP"), st.integers(600_000, 750_000)
) | st.sampled_from(["O:SPY251011C00673000", "SPY", "O:SPY259999C00673000"])


@st.composite
def option_docs(draw: st.DrawFn) -> tuple[str, Any]:
    role = draw(
        st.sampled_from(["options_trades", "options_quotes", "options_greeks", "spy_quotes"])
    )
    if role == "options_trades":
        doc: Any = {"ev": "T", "sym": draw(_ticker), "p": draw(_num), "s": draw(_num)}
    elif role in ("options_quotes", "spy_quotes"):
        doc = {"sym": draw(_ticker), "bp": draw(_num), "ap": draw(_num)}
    else:
        doc = {
            "details": {"ticker": draw(_ticker)},
            "implied_volatility": draw(_num),
            "greeks": {"gamma": draw(_num)},
            "open_interest": draw(_num),
            "last_quote": {"bid": draw(_num), "ask": draw(_num)},
        }
    if draw(st.integers(0, 5)) == 0:
        doc = draw(json_values)
    return role, doc


def _message(role: str, doc: Any, i: int, compact: bool) -> RawMessage:
    headers = RawHeaders.model_validate(
        {"schema": SCHEMA_BY_ROLE[role], "source": "polygon.ws", "ts_recv_ns": SNAP_NS - i,
         "encoding": "json"}
    )  # fmt: skip
    return RawMessage(role, None, json_bytes(doc, compact), headers.to_kafka(), f"{role}#0", i)


def _finite(*values: float) -> bool:
    return all(math.isfinite(v) for v in values)


@given(docs=st.lists(option_docs(), max_size=25), compact=st.booleans())
@example(  # an IV of 1e-168 overflowed Black-Scholes' d1 (1e296 did too, via sigma squared)
    docs=[
        (
            "options_greeks",
            {"details": {"ticker": "O:SPY251010C00600000"}, "implied_volatility": 1e-168,
             "open_interest": 0},
        )
    ],
    compact=True,
)  # fmt: skip
def test_option_inputs_give_finite_fuel_or_dead_letters(
    docs: list[tuple[str, Any]], compact: bool
) -> None:
    tried()
    state = OptionsState(PhysicsConfig())
    with no_hang():
        for i, (role, doc) in enumerate(docs):
            decoded = decode(_message(role, doc, i, compact))
            if isinstance(decoded, DecodeFailure):
                assert decoded.reason.strip()
                continue
            assert isinstance(decoded, OptionEvent)
            state.add(decoded)
        state.advance(SNAP_NS)
        fuel = state.at_snap(SNAP_NS, SPOT)
        for price, _kind in fuel.gamma_levels:
            assert math.isfinite(price)
        for ev in fuel.at([*fuel.strikes, SPOT]):
            if ev is not None:
                assert _finite(ev.regime_score, ev.gex_near_level, *ev.gex_band), ev
