"""``snapline vendors ...``: run the local vendor servers (tests, demo, trying things out)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from connectors.pacing import Pace
from snapline.errors import InputError

vendors_app = typer.Typer(
    no_args_is_help=True, help="Local servers speaking the vendors' protocols (no keys needed)."
)


@vendors_app.command("polygon-server")
def polygon_server(
    chain: Annotated[
        list[Path], typer.Option("--chain", help="/v3/snapshot/options page(s) to serve")
    ],
    frames: Annotated[
        Path | None, typer.Option("--frames", help="options frames, one JSON array per line")
    ] = None,
    trades: Annotated[int, typer.Option(help="synthetic trades when no --frames")] = 5000,
    seed: int = 0,
    pace: Annotated[str, typer.Option(help="realtime, max or Nx (e.g. 20x)")] = "realtime",
    host: str = "127.0.0.1",
    port: int = 8900,
    api_key: Annotated[str, typer.Option(help="the key clients must present")] = "local-key",
) -> None:
    """Serve a chain snapshot over REST and option trades over WebSocket, like Massive does.

    Point the connector at it with SNAPLINE_POLYGON__WS_HOST=HOST:PORT,
    SNAPLINE_POLYGON__WS_SECURE=false, SNAPLINE_POLYGON__REST_BASE=http://HOST:PORT and the key.
    """
    from simulator.option_tape import TapeParams, option_trade_frames
    from vendors.polygon_server import PolygonServer, PolygonServerConfig

    rows = [row for path in chain for row in _chain_rows(path)]
    if frames is not None:
        wire = [line.encode() for line in frames.read_text().splitlines() if line.strip()]
    else:
        wire = option_trade_frames(rows, TapeParams(trades=trades), seed)
    cfg = PolygonServerConfig(
        api_key=api_key, frames={"options": wire}, chain_rows=rows, speed=Pace.parse(pace).speed
    )
    running = PolygonServer(cfg).serve_in_thread(host, port)
    typer.echo(f"Polygon/Massive protocol on ws://{running.address} and http://{running.address}")
    _serve_until_interrupted(running.thread, running.stop)


@vendors_app.command("databento-gateway")
def databento_gateway(
    dbn: Annotated[list[Path], typer.Option("--dbn", help="DBN file(s) to serve, merged")],
    pace: Annotated[str, typer.Option(help="realtime, max or Nx (e.g. 20x)")] = "realtime",
    host: str = "127.0.0.1",
    port: int = 13000,
    api_key: Annotated[
        str, typer.Option(help="the key clients must present (32 characters)")
    ] = "db-local0000000000000000000000000",
) -> None:
    """Serve DBN files over Databento's live protocol (CRAM auth, subscriptions, replay).

    Point the connector at it with SNAPLINE_DATABENTO__GATEWAY=HOST,
    SNAPLINE_DATABENTO__PORT=PORT and DATABENTO_API_KEY=<the key>.
    """
    from vendors.databento_gateway import DatabentoGateway, GatewayConfig, load_records

    cfg = GatewayConfig(api_key, load_records(dbn), speed=Pace.parse(pace).speed)
    running = DatabentoGateway(cfg).serve_in_thread(host, port)
    typer.echo(f"Databento live protocol on {running.host}:{running.port}")
    _serve_until_interrupted(running.thread, running.stop)


def _serve_until_interrupted(thread: threading.Thread, stop: Callable[[], None]) -> None:
    try:
        while thread.is_alive():
            time.sleep(0.5)
    except KeyboardInterrupt:
        stop()


def _chain_rows(path: Path) -> list[dict[str, Any]]:
    try:
        doc = json.loads(path.read_text())
        rows = doc["results"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        msg = f"{path}: expected a /v3/snapshot/options page with 'results' ({exc})"
        raise InputError(msg) from None
    if not isinstance(rows, list):
        msg = f"{path}: 'results' is not a list"
        raise InputError(msg)
    return rows
