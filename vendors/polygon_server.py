"""A local server that speaks Polygon/Massive's protocols, for tests and the demo.

WebSocket ``/{market}`` (options, stocks): ``connected`` status, ``auth`` with the configured
key (``auth_failed`` then close otherwise), per-channel subscribe acks, then the configured
frames, filtered by subscription, paced by their ``t`` (ms). REST
``/v3/snapshot/options/{underlying}``: bearer or ``apiKey`` auth, filters, ``limit`` (max 250),
``next_url`` cursors, and 429 + ``Retry-After`` on demand. Fault knobs: drop a connection
mid-stream, re-send frames after a reconnect, malformed pages.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

MAX_LIMIT = 250
RATE_LIMITED = (
    "You've exceeded the maximum requests per minute, please wait or upgrade your "
    "subscription to continue. https://polygon.io/pricing"
)


@dataclass
class PolygonServerConfig:
    api_key: str
    frames: dict[str, list[bytes]] = field(default_factory=dict)  # market -> wire frames
    chain_rows: list[dict[str, Any]] = field(default_factory=list)  # snapshot rows
    speed: float | None = None  # event time per wall second; None: as fast as possible
    connected_status: str = "connected"  # the spec's example says "success"
    drop_after_events: int | None = None  # close the first connection abnormally after N
    resend_frames: int = 0  # frames sent again after a drop (a replaying server)
    rate_limit_first: int = 0  # answer the first N chain requests with 429
    retry_after_s: int = 1
    malformed_pages: int = 0  # then answer the next N with a truncated body


@dataclass
class _Feed:
    frames: list[bytes]
    cursor: int = 0
    dropped: bool = False


@dataclass
class ServerLog:
    """What the server saw, for tests and for the operator."""

    connections: dict[str, int] = field(default_factory=dict)
    auth_failures: int = 0
    subscriptions: list[str] = field(default_factory=list)
    sent_events: int = 0
    requests: list[tuple[float, int]] = field(default_factory=list)  # (monotonic s, status)


class PolygonServer:
    def __init__(self, cfg: PolygonServerConfig) -> None:
        self.cfg = cfg
        self.log = ServerLog()
        self._feeds = {m: _Feed(list(f)) for m, f in cfg.frames.items()}
        self._served = 0
        self.app = Starlette(
            routes=[
                Route("/v3/snapshot/options/{underlying}", self._chain),
                WebSocketRoute("/{market}", self._ws),
            ]
        )

    def feed_done(self, market: str) -> bool:
        feed = self._feeds[market]
        return feed.cursor >= len(feed.frames)

    # -- WebSocket ------------------------------------------------------------------------
    async def _ws(self, ws: WebSocket) -> None:
        market = ws.path_params["market"]
        await ws.accept()
        self.log.connections[market] = self.log.connections.get(market, 0) + 1
        await self._send(ws, [_status(self.cfg.connected_status, "Connected Successfully")])
        try:
            auth = json.loads(await ws.receive_text())
            if auth != {"action": "auth", "params": self.cfg.api_key}:
                self.log.auth_failures += 1
                await self._send(ws, [_status("auth_failed", "authentication failed")])
                await ws.close(1008)
                return
            await self._send(ws, [_status("auth_success", "authenticated")])
            subs: set[str] = set()
            reader = asyncio.create_task(self._read_actions(ws, subs))
            try:
                await self._stream(ws, market, subs)
            finally:
                reader.cancel()
        except (WebSocketDisconnect, OSError, RuntimeError):
            return  # the client went away

    async def _read_actions(self, ws: WebSocket, subs: set[str]) -> None:
        while True:
            action = json.loads(await ws.receive_text())
            channels = [c for c in str(action.get("params", "")).split(",") if c]
            if action.get("action") == "subscribe":
                subs.update(channels)
                self.log.subscriptions.extend(channels)
                acks = [_status("success", f"subscribed to: {c}") for c in channels]
                await self._send(ws, acks)
            elif action.get("action") == "unsubscribe":
                subs.difference_update(channels)

    async def _stream(self, ws: WebSocket, market: str, subs: set[str]) -> None:
        feed = self._feeds.get(market, _Feed([]))
        while not subs:  # a real server has nothing to send before a subscription
            await asyncio.sleep(0.01)
        origin: tuple[int, float] | None = None
        sent_here = 0
        while feed.cursor < len(feed.frames):
            frame = feed.frames[feed.cursor]
            out, t_ms, n_events = _filter(frame, subs)
            if t_ms is not None and self.cfg.speed is not None:
                origin = origin or (t_ms, time.monotonic())
                due = origin[1] + (t_ms - origin[0]) / 1000 / self.cfg.speed
                await asyncio.sleep(max(due - time.monotonic(), 0))
            feed.cursor += 1
            if out is None:
                continue
            await ws.send_text(out.decode())
            sent_here += n_events
            self.log.sent_events += n_events
            limit = self.cfg.drop_after_events
            if not feed.dropped and limit is not None and sent_here >= limit:
                feed.dropped = True
                feed.cursor = max(feed.cursor - self.cfg.resend_frames, 0)
                await ws.close(1011)  # abnormal: the client must reconnect
                return
        await asyncio.Event().wait()  # stay connected and quiet, like a feed after hours

    @staticmethod
    async def _send(ws: WebSocket, events: list[dict[str, Any]]) -> None:
        await ws.send_text(json.dumps(events))

    # -- REST -----------------------------------------------------------------------------
    async def _chain(self, request: Request) -> Response:
        self._served += 1
        response = self._chain_response(request)
        self.log.requests.append((time.monotonic(), response.status_code))
        return response

    def _chain_response(self, request: Request) -> Response:
        q = request.query_params
        bearer = request.headers.get("authorization", "")
        if bearer != f"Bearer {self.cfg.api_key}" and q.get("apiKey") != self.cfg.api_key:
            return _error(401, "ERROR", "Unknown API Key")
        if self._served <= self.cfg.rate_limit_first:
            headers = {"Retry-After": str(self.cfg.retry_after_s)}
            return _error(429, "ERROR", RATE_LIMITED, headers)
        query = _decode_cursor(q["cursor"]) if "cursor" in q else dict(q)
        rows = _select(self.cfg.chain_rows, request.path_params["underlying"], query)
        offset = int(query.get("offset", 0))
        limit = min(int(query.get("limit", 10)), MAX_LIMIT)
        body: dict[str, Any] = {
            "results": rows[offset : offset + limit],
            "status": "OK",
            "request_id": uuid.uuid4().hex,
        }
        if offset + limit < len(rows):
            cursor = _encode_cursor({**query, "offset": str(offset + limit)})
            body["next_url"] = f"{request.url.replace(query=None)}?cursor={cursor}"
        text = json.dumps(body).encode()
        if self._served <= self.cfg.rate_limit_first + self.cfg.malformed_pages:
            text = text[: len(text) // 2]  # a connection cut mid-body
        return Response(text, media_type="application/json")

    # -- running --------------------------------------------------------------------------
    def serve_in_thread(self, host: str = "127.0.0.1", port: int = 0) -> RunningServer:
        config = uvicorn.Config(
            self.app, host=host, port=port, log_level="warning", ws="websockets-sansio"
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, name="polygon-server", daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                msg = "the local Polygon server did not start"
                raise RuntimeError(msg)
            time.sleep(0.02)
        bound = server.servers[0].sockets[0].getsockname()
        return RunningServer(server, thread, f"{bound[0]}:{bound[1]}")


@dataclass
class RunningServer:
    server: uvicorn.Server
    thread: threading.Thread
    address: str  # host:port

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def _status(status: str, message: str) -> dict[str, Any]:
    return {"ev": "status", "status": status, "message": message}


def _error(code: int, status: str, error: str, headers: dict[str, str] | None = None) -> Response:
    body = {"status": status, "request_id": uuid.uuid4().hex, "error": error}
    return JSONResponse(body, status_code=code, headers=headers)


def _filter(frame: bytes, subs: set[str]) -> tuple[bytes | None, int | None, int]:
    """The frame as this client would get it: only subscribed channels (statuses always).
    Unreadable frames pass unchanged: they exist to test the client."""
    try:
        events = json.loads(frame)
    except ValueError:
        return frame, None, 1
    if not isinstance(events, list):
        return frame, None, 1
    keep = [e for e in events if not isinstance(e, dict) or _wanted(e, subs)]
    out: bytes | None = frame  # unchanged bytes when nothing is filtered
    if len(keep) < len(events):
        out = json.dumps(keep).encode() if keep else None
    times = [e["t"] for e in keep if isinstance(e, dict) and isinstance(e.get("t"), int)]
    return out, (times[0] if times else None), len(keep)


def _wanted(event: dict[str, Any], subs: set[str]) -> bool:
    ev, sym = event.get("ev"), event.get("sym")
    return bool(ev == "status" or f"{ev}.{sym}" in subs or f"{ev}.*" in subs)


def _select(
    rows: list[dict[str, Any]], underlying: str, query: dict[str, str]
) -> list[dict[str, Any]]:
    def keep(row: dict[str, Any]) -> bool:
        d = row.get("details", {})
        under = row.get("underlying_asset", {}).get("ticker", underlying)
        return bool(
            under == underlying
            and query.get("expiration_date", d.get("expiration_date")) == d.get("expiration_date")
            and query.get("contract_type", d.get("contract_type")) == d.get("contract_type")
        )

    chosen = [r for r in rows if keep(r)]
    return sorted(chosen, key=lambda r: str(r.get("details", {}).get("ticker")))


def _encode_cursor(query: dict[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(query).encode()).decode()


def _decode_cursor(cursor: str) -> dict[str, str]:
    decoded: dict[str, str] = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    return decoded
