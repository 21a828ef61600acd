"""MBP-10 raw messages decode to the books Databento's own decoder reads from the same file:
every consistent (F_LAST) record's ten levels a side, with or without ``ts_out``."""

from __future__ import annotations

import dataclasses

import databento as db
import numpy as np
import pytest

from connectors.databento.messages import SkipCounts, file_messages
from dataflows.signals.decode import decode
from dataflows.signals.items import BookBatch
from schemas.dbn import UNDEF_PRICE
from schemas.envelope import RawHeaders
from tests.conftest import ESM4_MBP10


def _official(field: str) -> np.ndarray:
    rec = db.DBNStore.from_bytes(ESM4_MBP10.read_bytes()).to_ndarray()
    rec = rec[(rec["flags"] & 0x80) != 0]
    return np.stack([rec[f"{field}_{i:02d}"] for i in range(10)], axis=1)


def _books(ts_out: bool) -> list[BookBatch]:
    out = []
    for headers, msg in file_messages(ESM4_MBP10, 64, "test", SkipCounts()):
        if ts_out:  # the same records as a gateway writing ts_out would send them
            size = len(msg.value) // headers.records
            rows = np.frombuffer(msg.value, np.uint8).reshape(headers.records, size)
            sent = np.full((headers.records, 8), 7, np.uint8)
            longer = np.hstack([rows, sent])
            longer[:, 0] += 2  # the header's length, in 4-byte words, covers ts_out
            value = longer.tobytes()
            h = RawHeaders.model_validate({**headers.model_dump(by_alias=True), "dbn_ts_out": True})
            msg = dataclasses.replace(msg, value=value, headers=h.to_kafka())
        if msg.role == "es_mbp10":
            book = decode(dataclasses.replace(msg, partition="p", offset=0))
            assert isinstance(book, BookBatch)
            out.append(book)
    return out


@pytest.mark.parametrize("ts_out", [False, True])
def test_books_match_the_official_decoder(ts_out: bool) -> None:
    books = _books(ts_out)
    for side in ("bid", "ask"):
        px = np.concatenate([getattr(b, f"{side}_px") for b in books])
        sz = np.concatenate([getattr(b, f"{side}_sz") for b in books])
        raw_px = _official(f"{side}_px")
        expected = np.where(raw_px == UNDEF_PRICE, np.nan, raw_px / 1e9)
        np.testing.assert_array_equal(px, expected)
        np.testing.assert_array_equal(sz, _official(f"{side}_sz").astype(np.int64))
    # some records of the file are mid-event (no F_LAST): they are not books
    assert sum(len(b.ts_ns) for b in books) == len(_official("bid_px"))
