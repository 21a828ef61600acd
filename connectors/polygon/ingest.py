"""``snapline ingest polygon``: the day's 0DTE SPY options (trades, optional quotes), the chain
snapshot (greeks, IV, open interest) on an interval, and SPY trades/quotes, into raw topics.

The chain poll decides which contracts expire on the session date; the options feed subscribes
to exactly those (and to new ones as later polls list them).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date

from massive import RESTClient
from massive.exceptions import BadResponse
from pydantic import SecretStr
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception

from connectors.polygon.chain import ChainPoll, MalformedPageError, RowCache, poll_chain
from connectors.polygon.stream import PolygonStream, backoff, sleep_unless
from connectors.raw_writer import RawWriter
from connectors.secrets import api_key
from snapline.errors import VendorAuthError, VendorError
from snapline.settings import PolygonSettings

log = logging.getLogger(__name__)

VENDOR_KEY_VARS = ("MASSIVE_API_KEY", "POLYGON_API_KEY")


def polygon_api_key(cfg: PolygonSettings, environ: Mapping[str, str] = os.environ) -> SecretStr:
    return api_key(
        "Polygon/Massive", cfg.api_key, cfg.api_key_file, VENDOR_KEY_VARS, "POLYGON", environ
    )


@dataclass(slots=True)
class ChainStats:
    polls: int = 0
    pages: int = 0
    rows: int = 0
    rejected: int = 0
    failed_polls: int = 0

    def describe(self, cache: RowCache) -> str:
        return (
            f"{self.polls} chain polls ({self.pages} pages, {self.rows} rows, "
            f"{cache.unchanged} unchanged not re-sent, {self.rejected} dead-lettered, "
            f"{self.failed_polls} failed attempts)"
        )


@dataclass
class PolygonIngest:
    """Everything ``snapline ingest polygon`` runs, wired to one writer."""

    cfg: PolygonSettings
    api_key: SecretStr
    writer: RawWriter
    session_date: date
    clock_ns: Callable[[], int] = time.time_ns
    chain: ChainStats = field(default_factory=ChainStats)
    streams: list[PolygonStream] = field(default_factory=list)
    contracts: set[str] = field(default_factory=set)
    quoted: int = 0  # contracts with a quote subscription (vendor cap per connection)

    def __post_init__(self) -> None:
        self.rest = RESTClient(
            api_key=self.api_key.get_secret_value(),
            base=self.cfg.rest_base,
            retries=self.cfg.rest_retries,
        )
        self.cache = RowCache(self.cfg.chain_full_refresh_polls)
        self.options = PolygonStream(
            "options", self.api_key, self.cfg, self.writer, [], self.clock_ns
        )
        self.streams = [self.options]
        if self.cfg.spy_feed:
            spy = self.cfg.underlying
            stocks = PolygonStream(
                "stocks", self.api_key, self.cfg, self.writer, [f"T.{spy}", f"Q.{spy}"]
            )
            self.streams.append(stocks)

    async def run(self, stop: asyncio.Event) -> None:
        """Until ``stop``; the first failure of any part stops them all and is raised."""
        await self.poll_once(stop)  # a bad key or plan fails here, before any stream starts
        tasks = [asyncio.create_task(s.run(stop)) for s in self.streams]
        tasks.append(asyncio.create_task(self._poll_forever(stop)))
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                task.result()
        finally:
            stop.set()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.writer.producer.flush()

    async def poll_once(self, stop: asyncio.Event) -> None:
        """One chain poll, retried with backoff until it succeeds, is refused, or we stop."""
        retrying = AsyncRetrying(
            retry=retry_if_exception(_worth_retrying),
            wait=backoff(self.cfg.reconnect_initial_s, self.cfg.chain_interval_s),
            stop=lambda _state: stop.is_set(),
            sleep=lambda s: sleep_unless(stop, s),
            before_sleep=self._count_failure,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    poll = await asyncio.to_thread(self._poll)
        except Exception as exc:
            if stop.is_set() and _worth_retrying(exc):
                return  # stopped while a transient failure was being retried
            raise
        self._publish(poll)

    def _poll(self) -> ChainPoll:
        try:
            return poll_chain(
                self.rest,
                self.cfg.underlying,
                self.session_date,
                self.cfg.chain_page_limit,
                self.clock_ns,
            )
        except BadResponse as exc:  # 4xx that retrying cannot fix
            text = str(exc)
            msg = f"{self.cfg.rest_base} refused the {self.cfg.underlying} chain: {text[:300]}"
            if "API Key" in text or "NOT_AUTHORIZED" in text:
                raise VendorAuthError(msg) from None
            raise VendorError(msg) from None

    def _count_failure(self, state: RetryCallState) -> None:
        self.chain.failed_polls += 1
        error = state.outcome.exception() if state.outcome is not None else None
        if isinstance(error, MalformedPageError):
            self.writer.dead_letter("options_greeks", error.body, str(error), "polygon.rest")
        log.warning("chain poll failed, backing off: %s", error)

    def _publish(self, poll: ChainPoll) -> None:
        self.chain.polls += 1
        self.chain.pages += poll.pages
        self.chain.rows += len(poll.rows)
        for row in self.cache.changed(poll.rows):
            self.writer.send("options_greeks", row.ticker.encode(), row.value, row.headers)
        for bad in poll.rejected:
            self.writer.dead_letter("options_greeks", bad.value, bad.reason, "polygon.rest")
            self.chain.rejected += 1
        self._follow(poll.tickers())

    def _follow(self, tickers: list[str]) -> None:
        new = [t for t in tickers if t not in self.contracts]
        if not new:
            if not self.contracts:
                log.warning(
                    "no %s contracts expire on %s (holiday or weekend?)",
                    self.cfg.underlying,
                    self.session_date,
                )
            return
        self.contracts.update(new)
        channels = [f"T.{t}" for t in new]
        if self.cfg.option_quotes:
            room = max(self.cfg.max_quote_contracts - self.quoted, 0)
            channels += [f"Q.{t}" for t in new[:room]]
            self.quoted += min(room, len(new))
            if len(new) > room:
                log.warning(
                    "option quotes capped at %d contracts per connection; %d not quoted",
                    self.cfg.max_quote_contracts,
                    len(new) - room,
                )
        self.options.subscribe(*channels)
        log.info(
            "following %d %s contracts expiring %s",
            len(new),
            self.cfg.underlying,
            self.session_date,
        )

    async def _poll_forever(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), timeout=self.cfg.chain_interval_s)
            except TimeoutError:
                await self.poll_once(stop)

    def describe(self) -> str:
        lines = [f"{s.market} feed: {s.stats.describe()}" for s in self.streams]
        lines.append(self.chain.describe(self.cache))
        lines.append(f"produced: {self.writer.describe()}")
        return "\n".join(lines)


def _worth_retrying(error: BaseException) -> bool:
    """Network errors, exhausted 429/5xx retries and unreadable pages; not refusals."""
    return isinstance(error, MalformedPageError) or not isinstance(error, VendorError)
