"""Starlette app: ``/ws`` streams LevelSignal JSON (latest per level, then live); ``/healthz``."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from bridge.consumer import SignalsConsumer
from bridge.fanout import Client, Hub

SLOW_CLIENT_CLOSE = 1013  # "try again later": the client fell too far behind


def create_app(consumer: SignalsConsumer | None, queue_size: int = 1024) -> Starlette:
    hub = Hub(queue_size)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if consumer is not None:
            consumer.start(asyncio.get_running_loop(), hub.publish)
        yield
        if consumer is not None:
            await asyncio.to_thread(consumer.stop)

    async def healthz(request: Request) -> JSONResponse:
        s = hub.stats
        alive = consumer is None or consumer.alive
        body = {
            "status": "ok" if alive else "consumer stopped",
            "clients": len(hub.clients),
            "levels": len(hub.latest),
            "received": s.received,
            "slow_disconnects": s.slow_disconnects,
        }
        return JSONResponse(body, status_code=200 if alive else 503)

    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        client = hub.join()
        try:
            await _pump(websocket, client)
        finally:
            hub.leave(client)

    app = Starlette(
        routes=[Route("/healthz", healthz), WebSocketRoute("/ws", ws)], lifespan=lifespan
    )
    app.state.hub = hub
    return app


async def _pump(websocket: WebSocket, client: Client) -> None:
    receive = asyncio.create_task(_drain_inbound(websocket))
    try:
        while True:
            # An overflowing client has a full queue, so this returns at once and we close.
            get = asyncio.create_task(client.queue.get())
            done, _ = await asyncio.wait({get, receive}, return_when=asyncio.FIRST_COMPLETED)
            if receive in done:  # the client went away
                get.cancel()
                return
            if client.overflowed:
                await websocket.close(SLOW_CLIENT_CLOSE, "too slow: send queue overflowed")
                return
            await websocket.send_text(get.result())
    except WebSocketDisconnect:
        return
    finally:
        receive.cancel()


async def _drain_inbound(websocket: WebSocket) -> None:
    """Read (and ignore) what the client sends, so a close is noticed promptly."""
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            await websocket.receive_text()
