"""The options chain snapshot (greeks, IV, open interest) through the official REST client.

``/v3/snapshot/options/{underlying}`` is paged: each page's ``next_url`` carries an opaque
cursor that is passed back as a query parameter (the client re-sends the key in its header, so
the key never appears in a URL or a log line). Rows go to Kafka exactly as the vendor sent them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlparse

from connectors.polygon.rawjson import is_utf8, member_items
from schemas.envelope import RawHeaders
from snapline import jsontext
from snapline.errors import VendorError

log = logging.getLogger(__name__)

SOURCE_REST = "polygon.rest"
SCHEMA_SNAPSHOT = "polygon.options.snapshot"


class MalformedPageError(VendorError):
    """A page that cannot be read (truncated, not JSON, no results); worth another try."""

    def __init__(self, message: str, body: bytes) -> None:
        super().__init__(message)
        self.body = body


class _Response(Protocol):
    data: bytes


class ChainClient(Protocol):
    """The part of ``massive.RESTClient`` used here."""

    def list_snapshot_options_chain(
        self, underlying_asset: str, params: dict[str, Any] | None = ..., raw: bool = ...
    ) -> Any: ...


@dataclass(frozen=True, slots=True)
class ChainRow:
    ticker: str
    value: bytes  # the row exactly as sent
    headers: RawHeaders


@dataclass(frozen=True, slots=True)
class RejectedRow:
    value: bytes
    reason: str


@dataclass(slots=True)
class ChainPage:
    rows: list[ChainRow] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)
    next_params: dict[str, str] | None = None


def parse_page(body: bytes, where: str, ts_recv_ns: int) -> ChainPage:
    """One snapshot page -> its rows (keyed by contract), rejected rows and the next cursor."""
    try:
        doc = jsontext.loads(body)
        raws = member_items(body, "results") if isinstance(doc, dict) else None
    except ValueError as exc:
        msg = f"{where}: the response is not JSON ({exc})"
        raise MalformedPageError(msg, body) from exc
    if not isinstance(doc, dict) or raws is None or not isinstance(doc["results"], list):
        msg = f"{where}: expected an object with a 'results' list, got {body[:120]!r}"
        raise MalformedPageError(msg, body)
    page = ChainPage(next_params=_cursor_params(doc.get("next_url"), where))
    for index, (row, raw) in enumerate(zip(doc["results"], raws, strict=True)):
        ticker = _ticker(row)
        if ticker is None:
            page.rejected.append(RejectedRow(raw, f"{where} row {index}: no details.ticker"))
            continue
        headers = RawHeaders.model_validate(
            {
                "schema": SCHEMA_SNAPSHOT,
                "source": SOURCE_REST,
                "ts_recv_ns": ts_recv_ns,
                "ts_event_ns": _last_updated_ns(row),
                "encoding": "json",
            }
        )
        page.rows.append(ChainRow(ticker, raw, headers))
    return page


def _ticker(row: Any) -> str | None:
    details = row.get("details") if isinstance(row, dict) else None
    ticker = details.get("ticker") if isinstance(details, dict) else None
    return ticker if isinstance(ticker, str) and ticker and is_utf8(ticker) else None


def _last_updated_ns(row: dict[str, Any]) -> int | None:
    """The newest vendor timestamp in the row (all REST times are ns), if any."""
    stamps = [
        part.get("last_updated")
        for part in (row.get("day"), row.get("last_quote"), row.get("underlying_asset"))
        if isinstance(part, dict)
    ]
    valid = [s for s in stamps if isinstance(s, int) and not isinstance(s, bool) and s > 0]
    return max(valid) if valid else None


def _cursor_params(next_url: object, where: str) -> dict[str, str] | None:
    if next_url is None:
        return None
    if not isinstance(next_url, str):
        msg = f"{where}: next_url is not a string: {next_url!r}"
        raise MalformedPageError(msg, b"")
    params = dict(parse_qsl(urlparse(next_url).query))
    params.pop("apiKey", None)  # the client authenticates by header
    return params


@dataclass(slots=True)
class ChainPoll:
    rows: list[ChainRow] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)
    pages: int = 0

    def tickers(self) -> list[str]:
        return sorted({r.ticker for r in self.rows})


def poll_chain(
    client: ChainClient,
    underlying: str,
    expiration: date,
    page_limit: int,
    clock_ns: Callable[[], int],
    max_pages: int = 10_000,
) -> ChainPoll:
    """Every page of the chain for contracts expiring on ``expiration``.

    Rate limits and server errors are retried by the client (``Retry-After`` honoured); what it
    gives up on propagates, for the caller to back off.
    """
    poll = ChainPoll()
    params: dict[str, Any] | None = {
        "expiration_date": expiration.isoformat(),
        "limit": page_limit,
    }
    while params is not None:
        if poll.pages >= max_pages:
            msg = f"the {underlying} chain did not end after {max_pages} pages"
            raise VendorError(msg)
        response: _Response = client.list_snapshot_options_chain(underlying, params, True)
        poll.pages += 1
        page = parse_page(response.data, f"{underlying} chain page {poll.pages}", clock_ns())
        poll.rows.extend(page.rows)
        poll.rejected.extend(page.rejected)
        params = page.next_params
    return poll


@dataclass(slots=True)
class RowCache:
    """Sends a row only when its bytes changed, and everything every ``full_every`` polls, so a
    consumer that starts late has the whole chain within that many intervals."""

    full_every: int
    polls: int = 0
    unchanged: int = 0
    _last: dict[str, bytes] = field(default_factory=dict)

    def changed(self, rows: list[ChainRow]) -> list[ChainRow]:
        full = self.polls % self.full_every == 0
        self.polls += 1
        out = [r for r in rows if full or self._last.get(r.ticker) != r.value]
        self.unchanged += len(rows) - len(out)
        self._last.update((r.ticker, r.value) for r in rows)
        return out
