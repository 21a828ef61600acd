"""Who may connect: an optional bearer token and allowed browser origins (pure checks)."""

from __future__ import annotations

import hmac

from starlette.datastructures import Headers, QueryParams

from snapline.settings import BridgeSettings


def refusal(cfg: BridgeSettings, headers: Headers, query: QueryParams) -> str | None:
    """Why this request may not connect, or None."""
    origin = headers.get("origin")
    if cfg.allowed_origins and origin is not None and origin not in cfg.allowed_origins:
        return f"origin {origin} is not allowed"
    if cfg.token is not None:
        auth = headers.get("authorization", "")
        given = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else None
        given = given or query.get("token")  # browsers cannot set headers on a WebSocket
        if given is None or not hmac.compare_digest(given, cfg.token.get_secret_value()):
            return "missing or wrong bearer token"
    return None
