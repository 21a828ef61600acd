"""Hostile clients: no or wrong token, a foreign origin, oversized messages, too many
connections. Each is refused clearly, and counted."""

from __future__ import annotations

import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from bridge.app import POLICY_CLOSE, SLOW_CLIENT_CLOSE, TOO_BIG_CLOSE, create_app
from snapline.settings import BridgeSettings

CFG = BridgeSettings(
    token=SecretStr("s3cret"),
    allowed_origins=["https://desk.example"],
    max_message_bytes=256,
    max_connections=2,
)
AUTH = {"Authorization": "Bearer s3cret"}


def _refused(client: TestClient, path: str, headers: dict[str, str] | None = None) -> int:
    with (
        pytest.raises(WebSocketDisconnect) as exc,
        client.websocket_connect(path, headers=headers or {}),
    ):
        pass
    return exc.value.code


def test_token_and_origin_are_required() -> None:
    app = create_app(None, CFG)
    with TestClient(app) as client:
        assert _refused(client, "/ws") == POLICY_CLOSE
        assert _refused(client, "/ws", {"Authorization": "Bearer nope"}) == POLICY_CLOSE
        evil = {**AUTH, "Origin": "https://evil.example"}
        assert _refused(client, "/ws", evil) == POLICY_CLOSE
        with client.websocket_connect(
            "/ws?token=s3cret", headers={"Origin": "https://desk.example"}
        ):
            pass  # the browser way: token in the query, an allowed origin
        assert client.get("/sse").status_code == 403
        assert client.get("/sse", headers={"Authorization": "Bearer nope"}).status_code == 403
        metrics = client.get("/metrics").text
        assert 'snapline_bridge_rejected_total{reason="auth_or_origin"} 5.0' in metrics


def test_oversized_messages_close_the_connection() -> None:
    app = create_app(None, CFG)
    with TestClient(app) as client, client.websocket_connect("/ws", headers=AUTH) as ws:
        ws.send_text("x" * 1000)
        message = ws.receive()
        assert message["type"] == "websocket.close" and message["code"] == TOO_BIG_CLOSE


def test_connections_beyond_the_limit_are_refused() -> None:
    app = create_app(None, CFG)
    with (
        TestClient(app) as client,
        client.websocket_connect("/ws", headers=AUTH),
        client.websocket_connect("/ws", headers=AUTH),
        client.websocket_connect("/ws", headers=AUTH) as third,
    ):
        message = third.receive()
        assert message["type"] == "websocket.close" and message["code"] == SLOW_CLIENT_CLOSE
        assert message["reason"] == "too many connections"


def test_bad_subscription_query_is_refused_with_the_reason() -> None:
    app = create_app(None, BridgeSettings())
    with TestClient(app) as client, client.websocket_connect("/ws?max_distance=-1") as ws:
        message = ws.receive()
        assert message["type"] == "websocket.close" and message["code"] == POLICY_CLOSE
        assert "max_distance" in message["reason"]
