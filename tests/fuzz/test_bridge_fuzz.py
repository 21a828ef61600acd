"""What WebSocket/SSE clients send the bridge: subscribe messages (up to the size limit) and
query parameters. Each gives a Subscription or a ``SubscriptionError`` saying why (sent back
to the client as an error message); anything else would end the client's inbound loop."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from bridge.subscriptions import Subscription, SubscriptionError, from_query, parse_subscribe
from snapline.settings import BridgeSettings
from tests.fuzz.strategies import deeply_nested, json_scalars, json_text, json_values
from tests.fuzz.tried import no_hang, tried

LIMIT = BridgeSettings().max_message_bytes  # the bridge refuses longer messages unparsed
_field = st.sampled_from(["levels", "kinds", "max_distance", "events", "action"]) | json_text
subscribes = st.fixed_dictionaries(
    {"action": st.just("subscribe") | json_scalars},
    optional={
        "levels": st.lists(st.sampled_from(["480.00", "673.50"]) | json_text) | json_values,
        "kinds": st.lists(st.sampled_from(["strike", "call_wall"]) | json_text) | json_values,
        "max_distance": st.floats() | st.integers() | json_scalars,
        "events": st.booleans() | json_scalars,
    },
).flatmap(lambda doc: st.dictionaries(_field, json_values, max_size=2).map(lambda x: x | doc))
texts = st.one_of(
    subscribes.map(json.dumps),
    json_values.map(json.dumps),
    deeply_nested(LIMIT // 2).map(bytes.decode),  # fits under the limit
    st.text(max_size=64),
)


def _outcome(parse: Any, arg: Any) -> Subscription | SubscriptionError:
    with no_hang():
        try:
            sub: Subscription = parse(arg)
        except SubscriptionError as exc:
            return exc
    return sub


@given(text=texts.filter(lambda t: len(t.encode("utf-8", "surrogatepass")) <= LIMIT))
@example(text="[" * 2_000)  # json.loads raised RecursionError, not SubscriptionError
def test_a_subscribe_message_subscribes_or_says_why(text: str) -> None:
    tried()
    got = _outcome(parse_subscribe, text)
    if isinstance(got, SubscriptionError):
        assert str(got).strip()
    else:
        assert got.max_distance is None or got.max_distance > 0
        reply = json.dumps({"type": "subscribed", **got.model_dump(mode="json")})
        assert reply.encode()  # the bridge's echo, as a WebSocket text frame (UTF-8)


@given(params=st.dictionaries(_field | st.text(max_size=8), st.text(max_size=24), max_size=5))
def test_query_parameters_subscribe_or_say_why(params: dict[str, str]) -> None:
    tried()
    got = _outcome(from_query, params)
    assert isinstance(got, Subscription) or str(got).strip()
