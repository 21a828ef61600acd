"""Turn DBN record runs into raw-topic messages: value = the records' bytes, unchanged."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from connectors.databento.dbn_file import DbnInfo, RecordRun, open_dbn
from schemas.dbn import RECORD_LAYOUTS, RTYPE_TO_SCHEMA
from schemas.envelope import RawHeaders, RawMessage

log = logging.getLogger(__name__)

# rtype -> topic role: the two record types the engine consumes.
ROLE_BY_SCHEMA = {"mbp-10": "es_mbp10", "trades": "es_trades"}


@dataclass(slots=True)
class SkipCounts:
    """Records of types no raw topic takes (definitions, statistics...), counted by rtype."""

    by_rtype: Counter[int] = field(default_factory=Counter)

    def add(self, run: RecordRun) -> None:
        self.by_rtype[run.rtype] += run.count

    def describe(self) -> str:
        return ", ".join(f"rtype 0x{r:02x}: {n}" for r, n in sorted(self.by_rtype.items()))


def file_messages(
    path: Path, max_run: int, source: str, skipped: SkipCounts
) -> Iterator[tuple[RawHeaders, RawMessage]]:
    """Every raw-topic message of a DBN file, in file order, with its parsed headers.

    Used by ``snapline ingest dbn`` and by in-process replay, so both see the same bytes.
    """
    info, runs = open_dbn(path, max_run)
    log.info("%s: DBN v%s %s %s", path, info.version, info.dataset, info.schema or "mixed")
    yield from to_messages(info, runs, source, skipped)
    if skipped.by_rtype:
        log.info("%s: records without a raw topic: %s", path, skipped.describe())


def to_messages(
    info: DbnInfo, runs: Iterator[RecordRun], source: str, skipped: SkipCounts
) -> Iterator[tuple[RawHeaders, RawMessage]]:
    """One message per run of a routed record type; other runs are counted in ``skipped``."""
    for run in runs:
        schema = RTYPE_TO_SCHEMA.get(run.rtype)
        if schema is None or not _layout_matches(schema, run, info.ts_out):
            skipped.add(run)
            continue
        headers = RawHeaders.model_validate(
            {
                "schema": f"dbn.{schema}",
                "source": source,
                "ts_recv_ns": run.last_ts_recv(),
                "records": run.count,
                "encoding": "dbn",
                "dbn_version": info.version,
                "dbn_ts_out": info.ts_out,
            }
        )
        msg = RawMessage(
            role=ROLE_BY_SCHEMA[schema],
            key=str(run.instrument_id).encode(),
            value=run.data,
            headers=headers.to_kafka(),
        )
        yield headers, msg


def _layout_matches(schema: str, run: RecordRun, ts_out: bool) -> bool:
    # rtype 0 is also used by other MBP-0 variants; the length tells the layouts apart.
    expected = RECORD_LAYOUTS[schema][1].itemsize + (8 if ts_out else 0)
    return run.record_len == expected
