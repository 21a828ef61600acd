"""Headers carried by every raw message (DESIGN §3), and their byte encoding on Kafka.

The value bytes are never transformed: everything a consumer needs to decode them travels in
these headers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

SCHEMA_VERSION = 1

KafkaHeaders = list[tuple[str, bytes]]

# Headers a dead letter carries beside the original ones (its value and key are unchanged).
DLQ_REASON = "dlq.reason"
DLQ_SOURCE = "dlq.source"
DLQ_OFFSET = "dlq.offset"


class RawHeaders(BaseModel):
    """Headers of one raw Kafka message.

    A DBN message holds ``records`` consecutive records of one schema and one instrument,
    concatenated exactly as they were in the source (a micro-batch).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_: str = Field(alias="schema")  # e.g. "dbn.mbp-10", "polygon.options.trade"
    schema_version: int = SCHEMA_VERSION
    source: str  # e.g. "databento.file", "databento.live", "polygon.ws"
    ts_recv_ns: int = Field(ge=0)  # receive time of the last record in the message
    ts_event_ns: int | None = Field(default=None, ge=0)  # vendor event time (JSON sources)
    records: int = Field(default=1, ge=1)
    encoding: Literal["dbn", "json"] = "dbn"
    dbn_version: int | None = None
    dbn_ts_out: bool = False

    def to_kafka(self) -> KafkaHeaders:
        data = self.model_dump(by_alias=True, exclude_none=True)
        return [(k, _encode(v)) for k, v in data.items()]

    @classmethod
    def from_kafka(cls, headers: Sequence[tuple[str, bytes | None]] | None) -> RawHeaders:
        """Parse Kafka headers; raises ``pydantic.ValidationError`` naming what is missing, or
        the header whose bytes are not UTF-8 text."""
        fields: dict[str, str] = {}
        for key, value in headers or []:
            try:
                fields[key] = (value or b"").decode()
            except UnicodeDecodeError as exc:
                error = PydanticCustomError(
                    "header_not_utf8",
                    "header value is not UTF-8 text (byte {at}: {why})",
                    {"at": exc.start, "why": exc.reason},
                )
                detail: InitErrorDetails = {"type": error, "loc": (key,), "input": value}
                raise ValidationError.from_exception_data(cls.__name__, [detail]) from None
        return cls.model_validate(fields)


def int_header(headers: KafkaHeaders, key: str) -> int | None:
    """A header's integer value, or None when absent or not a number (the decode step
    dead-letters such a message; a source only reads it to cut and align its batches)."""
    for k, value in headers:
        if k == key:
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _encode(value: object) -> bytes:
    if isinstance(value, bool):
        return b"true" if value else b"false"
    return str(value).encode()


@dataclass(frozen=True, slots=True)
class RawMessage:
    """One raw message as it travels on a raw topic (or comes from a file, in replay).

    ``role`` names the topic by purpose (``es_mbp10``); ``partition`` names the ordered input
    it came from (``raw.es.mbp10#0``, ``file:0``) for event-time watermarks. ``headers`` are
    the Kafka-encoded ``RawHeaders``; consumers parse them, so bad ones can be dead-lettered.
    """

    role: str
    key: bytes | None
    value: bytes
    headers: KafkaHeaders
    partition: str = ""
    offset: int = -1
