"""Bad input: clear errors, nothing lost before them, poison messages dead-lettered."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import zstandard

from schemas.envelope import RawHeaders
from snapline.kafka.catalog import TopicCatalog
from snapline.kafka.producer import TrackedProducer
from snapline.settings import Settings
from tests.conftest import DATA, ESM4_MBP10, ESM4_TRADES
from tests.integration.kafka_helpers import read_all, snapline

pytestmark = pytest.mark.integration
DEAD = {
    "SNAPLINE_KAFKA__BOOTSTRAP_SERVERS": "127.0.0.1:1",
    "SNAPLINE_KAFKA__CONNECT_TIMEOUT_S": "2",
}


def test_truncated_file_fails_with_offset_after_delivering_what_came_before(
    settings: Settings, tmp_path: Path
) -> None:
    raw = zstandard.ZstdDecompressor().decompress(ESM4_MBP10.read_bytes(), max_output_size=1 << 24)
    cut = tmp_path / "cut.dbn"
    cut.write_bytes(raw[:-1000])  # the last 3 records are gone or partial
    result = snapline(settings, "ingest", "dbn", str(cut))
    assert result.returncode == 2
    assert "truncated DBN record at byte" in result.stderr and "cut.dbn" in result.stderr
    topic = TopicCatalog.from_settings(settings).name("es_mbp10")
    delivered = b"".join(m.value() for m in read_all(settings, topic))
    complete = (len(raw) - 1000 - (len(raw) - 169 * 368)) // 368
    assert len(delivered) == complete * 368
    assert raw.find(delivered) == len(raw) - 169 * 368  # the records, byte for byte, in order


@pytest.mark.parametrize("name", ["test_data.mbp-10.dbz", "missing.dbn"])
def test_unreadable_files_are_refused(settings: Settings, name: str) -> None:
    result = snapline(settings, "ingest", "dbn", str(DATA / name))
    assert result.returncode == 2
    assert ("legacy DBZ" if name.endswith("dbz") else "no such DBN file") in result.stderr


@pytest.mark.parametrize(
    "args",
    [("ingest", "dbn", str(ESM4_MBP10)), ("run", "signals", "--until-end"), ("topics", "apply")],
)
def test_unreachable_broker_fails_within_seconds(args: tuple[str, ...]) -> None:
    start = time.monotonic()
    result = snapline(Settings(), *args, extra_env=DEAD, timeout=60)
    assert result.returncode == 2
    assert "cannot reach Kafka at 127.0.0.1:1 within 2 s" in result.stderr
    assert time.monotonic() - start < 20


def test_poison_message_is_dead_lettered_and_the_stream_goes_on(settings: Settings) -> None:
    catalog = TopicCatalog.from_settings(settings)
    producer = TrackedProducer(settings.kafka)
    bad_headers = RawHeaders.model_validate(
        {"schema": "dbn.mbp-10", "source": "test", "ts_recv_ns": 1, "records": 1}
    ).to_kafka()
    producer.produce(catalog.name("es_mbp10"), b"\x00" * 100, key=b"5602", headers=bad_headers)
    producer.produce(catalog.name("es_mbp10"), b"junk", key=b"5602", headers=[("schema", b"x")])
    producer.flush()
    assert snapline(settings, "ingest", "dbn", str(ESM4_MBP10), str(ESM4_TRADES)).returncode == 0
    flow = snapline(settings, "run", "signals", "--until-end")
    assert flow.returncode == 0, flow.stderr
    dead = read_all(settings, catalog.dlq("es_mbp10"))
    reasons = [dict(m.headers())["dlq.reason"].decode() for m in dead]
    assert reasons == [
        "100 bytes is not a whole number of 368-byte records",
        "bad headers: source: Field required",
    ]
    assert [m.value() for m in dead] == [b"\x00" * 100, b"junk"]
    assert len(read_all(settings, catalog.name("signals"))) > 20
