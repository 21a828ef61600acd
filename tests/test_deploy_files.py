"""docker-compose cannot run here (no Docker engine): keep it correct by reading it."""

from pathlib import Path

import yaml

from snapline.kafka.catalog import TopicCatalog
from snapline.settings import Settings

ROOT = Path(__file__).parent.parent


def test_rpk_script_is_generated_from_the_topics_definition() -> None:
    script = (ROOT / "redpanda" / "create-topics.sh").read_text()
    assert script == TopicCatalog.from_settings(Settings()).rpk_script(), (
        "run `snapline topics rpk`"
    )


def test_compose_runs_the_pipeline_on_redpanda() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"redpanda", "console", "topics", "signals", "bridge", "ingest"} <= set(services)
    for name in ("signals", "bridge", "ingest"):
        svc = services[name]
        assert svc["environment"]["SNAPLINE_KAFKA__BOOTSTRAP_SERVERS"].startswith(
            "${SNAPLINE_KAFKA__BOOTSTRAP_SERVERS:-redpanda:9092}"
        )
        assert svc["depends_on"]["topics"]["condition"] == "service_completed_successfully"
    assert services["signals"]["command"] == ["run", "signals"]
    assert services["topics"]["volumes"] == ["./redpanda/create-topics.sh:/create-topics.sh:ro"]
    for path in services["ingest"]["command"][4:]:
        assert (ROOT / path).is_file()
    assert "8765:8765" in services["bridge"]["ports"]


def test_compose_stores_the_lake_and_keeps_live_feeds_behind_a_profile() -> None:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    assert services["lake"]["command"][:2] == ["run", "lake"]
    assert services["lake"]["environment"]["SNAPLINE_LAKE__ROOT"] == "/data/lake"
    for name, key in (("polygon", "MASSIVE_API_KEY"), ("databento", "DATABENTO_API_KEY")):
        assert services[name]["profiles"] == ["live"]
        assert services[name]["environment"][key] == f"${{{key}:-}}"  # from the shell, not here
