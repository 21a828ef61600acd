"""deploy/k8s checked without a cluster: against the Kubernetes OpenAPI schemas that
kubernetes-validate bundles (offline), and against snapline itself (commands, settings)."""

from __future__ import annotations

import copy
import itertools
import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from bytewax.run import _create_arg_parser, _locate_dataflow
from starlette.testclient import TestClient
from typer.testing import CliRunner

from alerts.config import load_alerts
from bridge.app import create_app
from snapline.cli import app
from snapline.errors import BrokerUnreachableError
from snapline.settings import Settings

ROOT = Path(__file__).parent.parent
K8S = ROOT / "deploy" / "k8s"
IMAGE = "ghcr.io/snapline/snapline"
SECRETS_TEMPLATE = K8S / "secrets.template.yaml"
# A recent release, and the newest the installed package bundles (the schemas ship inside it).
K8S_VERSIONS = ["1.33.0", kubernetes_validate.latest_version()]
WORKLOADS = {"Deployment", "StatefulSet", "Job"}

Doc = dict[str, Any]


def _kustomization() -> Doc:
    return yaml.safe_load((K8S / "kustomization.yaml").read_text())


def _docs(path: Path) -> list[Doc]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def _applied() -> list[Doc]:
    return [d for name in _kustomization()["resources"] for d in _docs(K8S / name)]


def _all() -> list[Doc]:
    return [*_applied(), *_docs(SECRETS_TEMPLATE)]


def _of(kind: str) -> list[Doc]:
    return [d for d in _all() if d["kind"] == kind]


def _pod(workload: Doc) -> Doc:
    spec: Doc = workload["spec"]["template"]["spec"]
    return spec


def _containers(workload: Doc) -> list[Doc]:
    pod = _pod(workload)
    return [*pod.get("initContainers", []), *pod["containers"]]


def _workloads() -> list[Doc]:
    return [d for d in _applied() if d["kind"] in WORKLOADS]


def _ids(docs: list[Doc]) -> list[str]:
    return [f"{d['kind']}/{d['metadata']['name']}" for d in docs]


def test_kustomization_applies_every_manifest_but_the_secrets_template() -> None:
    on_disk = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml", SECRETS_TEMPLATE.name}
    assert set(_kustomization()["resources"]) == on_disk
    assert _kustomization()["namespace"] == "snapline"
    for doc in _all():
        if doc["kind"] != "Namespace":
            assert doc["metadata"]["namespace"] == "snapline", doc["metadata"]["name"]
    assert {"Namespace", "ConfigMap", "Deployment", "StatefulSet", "Service", "Job"} <= {
        d["kind"] for d in _applied()
    }


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_every_manifest_is_valid_kubernetes(version: str) -> None:
    for doc in _all():
        # strict: unknown fields (a typo'd key) are errors, as kubectl's server-side check
        kubernetes_validate.validate(doc, version, strict=True)


def test_the_schema_check_catches_a_misspelt_field() -> None:
    (bridge,) = [d for d in _workloads() if d["metadata"]["name"] == "bridge"]
    broken = copy.deepcopy(bridge)
    broken["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSIONS[0], strict=True)


@pytest.mark.parametrize("workload", _workloads(), ids=_ids(_workloads()))
def test_containers_run_real_snapline_commands(workload: Doc) -> None:
    for c in _containers(workload):
        assert c["image"].rpartition(":")[0] == IMAGE
        assert "command" not in c, "the image's entrypoint is `snapline`; give args"
        # --help after the real arguments: click rejects an unknown command or option first.
        result = CliRunner().invoke(app, [*c["args"], "--help"])
        assert result.exit_code == 0, (
            f"{c['name']}: snapline {' '.join(c['args'])}: {result.output}"
        )
        words = list(itertools.takewhile(lambda a: not a.startswith("-"), c["args"]))
        assert f"Usage: root {' '.join(words)} [OPTIONS]" in result.output


def test_the_image_is_the_dockerfiles_and_snapline_is_its_entrypoint() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["snapline"]' in dockerfile
    assert _kustomization()["images"] == [{"name": IMAGE, "newTag": "latest"}]


@pytest.mark.parametrize("workload", _workloads(), ids=_ids(_workloads()))
def test_containers_have_requests_and_limits(workload: Doc) -> None:
    for c in _containers(workload):
        for bound in ("requests", "limits"):
            assert set(c["resources"][bound]) == {"cpu", "memory"}, (c["name"], bound)


def _field_path_exists(name: str) -> bool:
    """SNAPLINE_KAFKA__BOOTSTRAP_SERVERS -> Settings.kafka.bootstrap_servers, field by field."""
    model: Any = Settings
    for part in name.removeprefix("SNAPLINE_").lower().split("__"):
        fields = getattr(model, "model_fields", None)
        if fields is None or part not in fields:
            return False
        model = fields[part].annotation
    return True


def _settings_env() -> dict[str, str]:
    (cm,) = [d for d in _of("ConfigMap") if d["metadata"]["name"] == "snapline-settings"]
    env: dict[str, str] = dict(cm["data"])
    for w in _workloads():
        for c in _containers(w):
            env |= {e["name"]: e["value"] for e in c.get("env", []) if "value" in e}
    return env


def _secret_envs() -> set[str]:
    """Variables the alert rules name with secret_env (read by the rules, not Settings)."""
    (cm,) = [d for d in _of("ConfigMap") if d["metadata"]["name"] == "snapline-alerts"]
    hooks = yaml.safe_load(cm["data"]["alerts.yaml"])["webhooks"]
    return {h["secret_env"] for h in hooks if "secret_env" in h}


def test_every_snapline_variable_is_a_setting_and_parses(monkeypatch: pytest.MonkeyPatch) -> None:
    env = _settings_env()
    env_names = {e["name"] for w in _workloads() for c in _containers(w) for e in c.get("env", [])}
    assert _field_path_exists("SNAPLINE_KAFKA__BOOTSTRAP_SERVERS")  # the walk itself works
    assert not _field_path_exists("SNAPLINE_KAFKA__BOOTSTRAP_SERVER")
    for name in env_names | set(env):
        if name in _secret_envs():
            continue
        assert name.startswith("SNAPLINE_") and _field_path_exists(name), name
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    s = Settings()  # a bad value is a ValidationError naming the field
    assert s.kafka.bootstrap_servers == "redpanda.redpanda.svc.cluster.local:9093"
    assert s.physics.snap_ms == int(env["SNAPLINE_PHYSICS__SNAP_MS"])


def test_the_alert_rules_load_with_their_secret_from_the_environment(tmp_path: Path) -> None:
    (cm,) = [d for d in _of("ConfigMap") if d["metadata"]["name"] == "snapline-alerts"]
    (alerts,) = [d for d in _workloads() if d["metadata"]["name"] == "alerts"]
    (c,) = _containers(alerts)
    config = Path(c["args"][c["args"].index("--config") + 1])
    mount = next(m for m in c["volumeMounts"] if m["name"] == "rules")
    assert config.parent == Path(mount["mountPath"]) and config.name in cm["data"]
    rules = tmp_path / config.name
    rules.write_text(cm["data"][config.name])
    cfg = load_alerts(rules, {name: "s3cret" for name in _secret_envs()})
    assert cfg.webhooks and all(h.secret is not None for h in cfg.webhooks)
    given = {e["name"] for e in c["env"] if "secretKeyRef" in e["valueFrom"]}
    assert given == _secret_envs()


@pytest.mark.parametrize("name", ["signals", "lake"])
def test_statefulset_recovery_is_on_its_claimed_volume(name: str) -> None:
    (sts,) = [d for d in _of("StatefulSet") if d["metadata"]["name"] == name]
    (c,) = _containers(sts)
    recovery = c["args"][c["args"].index("--recovery") + 1]
    mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
    claims = {t["metadata"]["name"] for t in sts["spec"]["volumeClaimTemplates"]}
    assert mounts.get(recovery) in claims
    assert c["args"][:2] == ["run", name]
    headless = [s for s in _of("Service") if s["metadata"]["name"] == sts["spec"]["serviceName"]]
    assert headless and headless[0]["spec"]["clusterIP"] == "None"


def test_services_select_pods_and_target_their_ports() -> None:
    for svc in _of("Service"):
        selector = svc["spec"]["selector"]
        pods = [
            w
            for w in _workloads()
            if selector.items() <= w["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert pods, f"Service {svc['metadata']['name']} selects no pod"
        ports = {p["name"] for w in pods for c in _containers(w) for p in c.get("ports", [])}
        for port in svc["spec"].get("ports", []):
            assert port["targetPort"] in ports, (svc["metadata"]["name"], port)
    for w in _workloads():
        if w["kind"] != "Job":
            labels = w["spec"]["template"]["metadata"]["labels"]
            assert w["spec"]["selector"]["matchLabels"].items() <= labels.items()


def test_bridge_probes_hit_its_health_route_on_the_port_it_listens_on() -> None:
    (bridge,) = [d for d in _workloads() if d["metadata"]["name"] == "bridge"]
    (c,) = _containers(bridge)
    port = int(c["args"][c["args"].index("--port") + 1])
    assert c["args"][c["args"].index("--host") + 1] == "0.0.0.0"  # reachable from the kubelet
    named = {p["name"]: p["containerPort"] for p in c["ports"]}
    with TestClient(create_app(consumer=None)) as client:
        for probe in ("readinessProbe", "livenessProbe"):
            get = c[probe]["httpGet"]
            assert named[get["port"]] == port
            assert client.get(get["path"]).status_code == 200


def test_secrets_hold_only_placeholders_and_cover_what_pods_use() -> None:
    assert not [d for d in _applied() if d["kind"] == "Secret"], "secrets stay out of apply -k"
    keys: dict[str, set[str]] = {}
    for secret in _of("Secret"):
        assert "data" not in secret, "base64 data would hide a real value"
        for key, value in secret["stringData"].items():
            assert value == f"${{{key}}}", (key, "not a placeholder")
        keys[secret["metadata"]["name"]] = set(secret["stringData"])
    for w in _workloads():
        pod = _pod(w)
        for vol in pod.get("volumes", []):
            if "secret" in vol:
                used = {i["key"] for i in vol["secret"]["items"]}
                assert used <= keys[vol["secret"]["secretName"]]
        for c in _containers(w):
            for e in c.get("env", []):
                ref = e.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ref["key"] in keys[ref["name"]]


# Databento keys are db- and 29 characters; Massive/Polygon's 32 mixed-case letters and digits.
REAL_LOOKING_KEY = re.compile(
    r"db-[A-Za-z0-9]{20,}|(?<![\w-])(?=[A-Za-z0-9]*\d)(?=[A-Za-z0-9]*[a-z])[A-Za-z0-9]{24,}(?![\w-])"
)


def test_no_manifest_carries_a_real_looking_key() -> None:
    assert REAL_LOOKING_KEY.search("key: db-" + "a1B2" * 7)
    assert REAL_LOOKING_KEY.search("MASSIVE_API_KEY: Xq3" + "abcd1234" * 4)
    for path in K8S.glob("*.yaml"):
        assert not REAL_LOOKING_KEY.search(path.read_text()), path


def test_the_documented_multi_process_command_runs_the_signals_flow(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = (K8S / "signals.yaml").read_text()
    (target,) = re.findall(r'"(dataflows\.signals\.main:[^"]+)"', text)
    flags = re.search(r'"-r", "/recovery", "-s", "1", "-b", "0"', text)
    assert flags is not None
    args = _create_arg_parser().parse_args(["-r", "/recovery", "-s", "1", "-b", "0", target])
    assert args.recovery_directory == Path("/recovery")
    module, _, factory = target.partition(":")
    # The factory runs (durable=True accepted) as far as asking the broker for its topics.
    monkeypatch.setenv("SNAPLINE_KAFKA__BOOTSTRAP_SERVERS", "127.0.0.1:1")
    monkeypatch.setenv("SNAPLINE_KAFKA__CONNECT_TIMEOUT_S", "0.5")
    with pytest.raises(BrokerUnreachableError):
        _locate_dataflow(module, factory)
