"""Starlette app: the dashboard (``/``), ``/ws`` and ``/sse`` streams, ``/healthz``,
``/metrics`` and the published message schemas (``/schemas/...``).

Messages are JSON objects: a LevelSignal (has ``level_id`` and ``signal``), a LevelEvent (has
``event_id`` and ``kind``), or a control message with ``type``: ``heartbeat``,
``subscribed`` or ``error``. On connect a client gets the latest signal of every level it
wants, then everything new.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from bridge.access import refusal
from bridge.consumer import SignalsConsumer
from bridge.fanout import Client, Hub
from bridge.metrics import BridgeMetrics
from bridge.subscriptions import SubscriptionError, from_query, parse_subscribe
from schemas.export import PUBLISHED, schema_text
from snapline.settings import BridgeSettings

STATIC = Path(__file__).parent / "static"
SLOW_CLIENT_CLOSE = 1013  # "try again later": too slow, or too many connections
POLICY_CLOSE = 1008
TOO_BIG_CLOSE = 1009


def create_app(consumer: SignalsConsumer | None, cfg: BridgeSettings | None = None) -> Starlette:
    cfg = cfg or BridgeSettings()
    metrics = BridgeMetrics()
    hub = Hub(metrics, cfg.queue_size, cfg.max_pending, cfg.slow_after_s)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if consumer is not None:
            consumer.metrics = metrics
            consumer.start(asyncio.get_running_loop(), hub.publish)
        yield
        if consumer is not None:
            await asyncio.to_thread(consumer.stop)

    async def healthz(request: Request) -> JSONResponse:
        alive = consumer is None or consumer.alive
        body = {
            "status": "ok" if alive else "consumer stopped",
            "clients": len(hub.clients),
            "levels": len(hub.latest),
            "consumer_restarts": consumer.restarts if consumer else 0,
        }
        return JSONResponse(body, status_code=200 if alive else 503)

    async def metrics_page(request: Request) -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    async def schema(request: Request) -> Response:
        name = request.path_params["name"]
        model = PUBLISHED.get(f"{name}.schema.json")
        if model is None:
            return JSONResponse({"error": f"no schema {name}"}, status_code=404)
        return Response(schema_text(model), media_type="application/schema+json")

    async def dashboard(request: Request) -> Response:
        return FileResponse(STATIC / "index.html")

    async def ws(websocket: WebSocket) -> None:
        why = refusal(cfg, websocket.headers, websocket.query_params)
        if why is not None:
            metrics.rejected.labels("auth_or_origin").inc()
            await websocket.close(POLICY_CLOSE, why)  # before accept: the handshake gets 403
            return
        await websocket.accept()
        if len(hub.clients) >= cfg.max_connections:
            metrics.rejected.labels("connections").inc()
            await websocket.close(SLOW_CLIENT_CLOSE, "too many connections")
            return
        try:
            sub = from_query(dict(websocket.query_params))
        except SubscriptionError as exc:
            await websocket.close(POLICY_CLOSE, str(exc)[:120])
            return
        client = hub.join(sub)
        try:
            await _serve(websocket, client, hub, cfg, metrics)
        finally:
            hub.leave(client)

    async def sse(request: Request) -> Response:
        why = refusal(cfg, request.headers, request.query_params)
        if why is not None:
            metrics.rejected.labels("auth_or_origin").inc()
            return JSONResponse({"error": why}, status_code=403)
        try:
            sub = from_query(dict(request.query_params))
        except SubscriptionError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        client = hub.join(sub)
        stream = _sse_stream(request, client, hub, cfg, metrics)
        return StreamingResponse(stream, media_type="text/event-stream")

    app = Starlette(
        routes=[
            Route("/", dashboard),
            Route("/healthz", healthz),
            Route("/metrics", metrics_page),
            Route("/schemas/{name}", schema),
            Route("/sse", sse),
            WebSocketRoute("/ws", ws),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        lifespan=lifespan,
    )
    app.state.hub = hub
    app.state.metrics = metrics
    return app


async def _serve(
    ws: WebSocket, client: Client, hub: Hub, cfg: BridgeSettings, metrics: BridgeMetrics
) -> None:
    inbound = asyncio.create_task(_inbound(ws, client, hub, cfg, metrics))
    try:
        while not inbound.done():
            sent = await _next(client, cfg.heartbeat_s, inbound)
            if client.closed_reason is not None:
                await ws.close(SLOW_CLIENT_CLOSE, client.closed_reason)
                return
            if sent is None:
                if inbound.done():
                    break
                await ws.send_text(_heartbeat())
                continue
            text, enqueued = sent
            try:  # a client that stops reading blocks its own send: give up on it
                await asyncio.wait_for(ws.send_text(text), cfg.slow_after_s)
            except TimeoutError:
                metrics.slow_disconnects.inc()
                return
            metrics.delivered.inc()
            metrics.fanout_seconds.observe(time.monotonic() - enqueued)
        code_reason = inbound.result()
        if code_reason is not None:
            await ws.close(*code_reason)
    except (WebSocketDisconnect, RuntimeError):
        return
    finally:
        inbound.cancel()


async def _next(
    client: Client, heartbeat_s: float, inbound: asyncio.Task[tuple[int, str] | None]
) -> tuple[str, float] | None:
    """The next message, or None after ``heartbeat_s`` of quiet (or when inbound ends)."""
    message = client.next_message()
    if message is not None or client.closed_reason is not None:
        return message
    client.wake.clear()
    wake = asyncio.create_task(client.wake.wait())
    await asyncio.wait({wake, inbound}, timeout=heartbeat_s, return_when=asyncio.FIRST_COMPLETED)
    wake.cancel()
    return client.next_message()


async def _inbound(
    ws: WebSocket, client: Client, hub: Hub, cfg: BridgeSettings, metrics: BridgeMetrics
) -> tuple[int, str] | None:
    """Subscribe messages from the client; returns a close (code, reason) for a hostile one,
    None when it went away."""
    while True:
        try:
            text = await ws.receive_text()
        except (WebSocketDisconnect, RuntimeError, KeyError):
            return None
        if len(text.encode()) > cfg.max_message_bytes:
            metrics.rejected.labels("message_size").inc()
            return TOO_BIG_CLOSE, f"message over {cfg.max_message_bytes} bytes"
        try:
            hub.resubscribe(client, parse_subscribe(text))
            reply = {"type": "subscribed", **client.sub.model_dump(mode="json")}
        except SubscriptionError as exc:
            metrics.rejected.labels("bad_message").inc()
            reply = {"type": "error", "message": str(exc)}
        await ws.send_text(json.dumps(reply))


async def _sse_stream(
    request: Request, client: Client, hub: Hub, cfg: BridgeSettings, metrics: BridgeMetrics
) -> AsyncIterator[str]:
    try:
        while not await request.is_disconnected():
            message = client.next_message()
            if client.closed_reason is not None:
                yield f"event: error\ndata: {json.dumps(client.closed_reason)}\n\n"
                return
            if message is None:
                client.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(client.wake.wait(), cfg.heartbeat_s)
                if not client.pending():
                    yield ": heartbeat\n\n"
                continue
            text, enqueued = message
            kind = "event" if '"event_id"' in text else "signal"
            yield f"event: {kind}\ndata: {text}\n\n"
            metrics.delivered.inc()
            metrics.fanout_seconds.observe(time.monotonic() - enqueued)
    finally:
        hub.leave(client)


def _heartbeat() -> str:
    return json.dumps({"type": "heartbeat", "ts_ns": time.time_ns()})
