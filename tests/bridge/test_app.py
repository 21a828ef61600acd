"""The bridge with hand-fed signals: snapshot then deltas, subscriptions, coalescing for slow
clients, heartbeats, SSE, metrics and the published schemas."""

from __future__ import annotations

import asyncio
import json

from starlette.testclient import TestClient

from bridge.app import SLOW_CLIENT_CLOSE, create_app
from bridge.fanout import Hub
from bridge.metrics import BridgeMetrics
from bridge.subscriptions import Subscription
from snapline.settings import BridgeSettings


def signal(level: str, n: int, kinds: tuple[str, ...] = ("round",), distance: float = 0.1) -> str:
    return json.dumps({"level_id": level, "level_kinds": list(kinds), "distance": distance, "n": n})


def event(level: str, n: int) -> str:
    return json.dumps({"event_id": f"{level}|{n}|BREAK", "level_id": level, "kind": "BREAK",
                       "level_kinds": ["round"], "distance": 0.0})  # fmt: skip


def test_a_client_that_keeps_up_gets_everything_a_slow_one_the_latest_per_level() -> None:
    clock = [0.0]
    hub = Hub(BridgeMetrics(), queue_size=4, max_pending=100, slow_after_s=5,
              clock=lambda: clock[0])  # fmt: skip
    fast, slow = hub.join(Subscription()), hub.join(Subscription())
    got = []
    for i in range(10):
        hub.publish(signal("480.00", i), is_event=False)
        hub.publish(signal("481.00", i), is_event=False)
        got += [fast.next_message(), fast.next_message()]
    assert [json.loads(m[0])["n"] for m in got if m] == [i for i in range(10) for _ in (0, 1)]
    backlog = [slow.next_message(), slow.next_message(), slow.next_message()]
    assert [json.loads(m[0])["n"] for m in backlog if m] == [9, 9]  # coalesced to the latest
    assert hub.metrics.coalesced._value.get() == 18


def test_a_client_behind_for_too_long_is_dropped_and_the_others_go_on() -> None:
    clock = [0.0]
    hub = Hub(BridgeMetrics(), max_pending=100, slow_after_s=5, clock=lambda: clock[0])
    stuck, healthy = hub.join(Subscription()), hub.join(Subscription())
    for t in range(8):
        clock[0] = float(t)
        hub.publish(signal("480.00", t), is_event=False)
        assert healthy.next_message() is not None
    assert stuck.closed_reason is not None and "behind" in stuck.closed_reason
    assert stuck not in hub.clients and healthy in hub.clients


def test_a_burst_within_the_queue_is_delivered_whole() -> None:
    hub = Hub(BridgeMetrics(), queue_size=64)
    client = hub.join(Subscription())
    for i in range(30):  # a replay burst: the sender has not run in between
        hub.publish(signal("480.00", i), is_event=False)
    assert [json.loads(t)["n"] for t, _ in _drain(client)] == list(range(30))


def test_subscriptions_filter_by_level_kind_and_distance() -> None:
    hub = Hub(BridgeMetrics())
    walls = hub.join(Subscription(kinds=frozenset({"call_wall"})))
    near = hub.join(Subscription(max_distance=0.5, events=False))
    hub.publish(signal("480.00", 1, ("round",), 0.2), is_event=False)
    hub.publish(signal("482.00", 1, ("call_wall",), 2.0), is_event=False)
    hub.publish(event("480.00", 1), is_event=True)
    assert [json.loads(t)["level_id"] for t, _ in _drain(walls)] == ["482.00"]
    assert [json.loads(t)["level_id"] for t, _ in _drain(near)] == ["480.00"]


def _drain(client):  # type: ignore[no-untyped-def]
    out = []
    while (m := client.next_message()) is not None:
        out.append(m)
    return out


def test_new_websocket_gets_the_latest_per_level_then_live_and_can_resubscribe() -> None:
    app = create_app(consumer=None)
    hub: Hub = app.state.hub
    with TestClient(app) as client:
        hub.publish(signal("480.00", 1), False)
        hub.publish(signal("480.00", 2), False)
        hub.publish(signal("481.00", 3), False)
        with client.websocket_connect("/ws") as ws:
            first = [json.loads(ws.receive_text())["n"] for _ in range(2)]
            assert first == [2, 3]
            ws.send_text(json.dumps({"action": "subscribe", "levels": ["481.00"]}))
            replies = [json.loads(ws.receive_text()) for _ in range(2)]
            assert [r.get("n") for r in replies if "n" in r] == [3]
            assert any(r.get("type") == "subscribed" for r in replies)
            ws.send_text("nonsense")
            assert json.loads(ws.receive_text())["type"] == "error"
        assert client.get("/healthz").json()["levels"] == 2


def test_heartbeats_when_quiet() -> None:
    app = create_app(consumer=None, cfg=BridgeSettings(heartbeat_s=0.05))
    with TestClient(app) as client, client.websocket_connect("/ws") as ws:
        assert json.loads(ws.receive_text())["type"] == "heartbeat"


def test_a_stuck_websocket_is_closed_with_try_again_later() -> None:
    app = create_app(consumer=None, cfg=BridgeSettings(max_pending=3))
    hub: Hub = app.state.hub
    with TestClient(app) as client, client.websocket_connect("/ws?events=true") as ws:
        for i in range(6):  # events are never coalesced: the pending count grows
            hub.publish(event(f"{480 + i}.00", i), True)
        messages = []
        while not messages or messages[-1]["type"] != "websocket.close":
            messages.append(ws.receive())
        assert messages[-1]["code"] == SLOW_CLIENT_CLOSE
        assert "too slow" in messages[-1]["reason"]


def test_sse_metrics_and_schemas() -> None:
    app = create_app(consumer=None)
    hub: Hub = app.state.hub
    with TestClient(app) as client:
        hub.publish(signal("480.00", 7), False)

        async def first_event() -> str:
            transport = client  # the sync client streams; read two lines
            with transport.stream("GET", "/sse?levels=480.00") as r:
                for line in r.iter_lines():
                    if line.startswith("data:"):
                        return line
            return ""

        line = asyncio.run(first_event())
        assert json.loads(line.removeprefix("data: "))["n"] == 7
        metrics = client.get("/metrics").text
        assert "snapline_bridge_received_total" in metrics and "snapline_bridge_clients" in metrics
        schema = client.get("/schemas/level_signal").json()
        assert "break_score" in schema["properties"]
        assert client.get("/schemas/level_event").status_code == 200
        assert "snapline" in client.get("/").text


def test_a_level_that_left_the_active_set_is_dropped_from_the_snapshot() -> None:
    hub = Hub(BridgeMetrics())
    watching = hub.join(Subscription())
    hub.publish(signal("480.00", 1), is_event=False)
    hub.publish(signal("481.00", 1), is_event=False)
    hub.publish(json.dumps({"level_id": "481.00", "active": False}), is_event=False)
    # a client already there sees the farewell; one joining now gets only what is live
    assert [json.loads(t).get("active", True) for t, _ in _drain(watching)] == [True, True, False]
    late = hub.join(Subscription())
    assert [json.loads(t)["level_id"] for t, _ in _drain(late)] == ["480.00"]
