import asyncio

from starlette.testclient import TestClient

from bridge.app import SLOW_CLIENT_CLOSE, create_app
from bridge.fanout import Hub


def test_slow_client_is_dropped_and_others_keep_receiving() -> None:
    async def scenario() -> tuple[list[str], int, bool]:
        hub = Hub(queue_size=4)
        slow, fast = hub.join(), hub.join()
        got: list[str] = []
        for i in range(10):
            hub.publish("480.00", f"m{i}")
            got.append(await fast.queue.get())  # the fast client keeps up
        return got, hub.stats.slow_disconnects, slow.overflowed

    got, dropped, overflowed = asyncio.run(scenario())
    assert got == [f"m{i}" for i in range(10)]
    assert dropped == 1 and overflowed


def test_new_client_gets_latest_signal_per_level_then_live() -> None:
    app = create_app(consumer=None)
    hub: Hub = app.state.hub
    with TestClient(app) as client:
        hub.publish("480.00", '{"n":1}')
        hub.publish("480.00", '{"n":2}')
        hub.publish("481.00", '{"n":3}')
        with client.websocket_connect("/ws") as ws:
            assert [ws.receive_text(), ws.receive_text()] == ['{"n":2}', '{"n":3}']
        assert client.get("/healthz").json()["levels"] == 2


def test_overflowing_websocket_is_closed_with_try_again_later() -> None:
    app = create_app(consumer=None, queue_size=2)
    hub: Hub = app.state.hub
    with TestClient(app) as client, client.websocket_connect("/ws") as ws:
        for i in range(5):
            hub.publish(f"{480 + i}.00", str(i))
        messages = []
        try:
            while True:
                messages.append(ws.receive())
                if messages[-1]["type"] == "websocket.close":
                    break
        except Exception:
            pass
        closes = [m for m in messages if m["type"] == "websocket.close"]
        assert closes and closes[0]["code"] == SLOW_CLIENT_CLOSE
