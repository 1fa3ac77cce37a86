"""deploy/kubernetes: every manifest valid against the Kubernetes schemas, and wired together.

Validated offline with `kubernetes-validate` (the schemas ship inside the package) against the
oldest Kubernetes release still in wide use here and the newest the package knows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from interlock.config.load import parse_config

from .paths import KUBERNETES

KUBERNETES_VERSIONS = ("1.29.0", kubernetes_validate.latest_version())
MANIFEST_FILES = sorted(p for p in KUBERNETES.rglob("*.yaml") if p.name != "kustomization.yaml")


def load_documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def resources() -> dict[str, dict[str, Any]]:
    """The kustomization's resources by kind."""
    kustomization = yaml.safe_load((KUBERNETES / "kustomization.yaml").read_text())
    found: dict[str, dict[str, Any]] = {}
    for name in kustomization["resources"]:
        for doc in load_documents(KUBERNETES / name):
            assert doc["kind"] not in found, f"two {doc['kind']} resources"
            found[doc["kind"]] = doc
    return found


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("path", MANIFEST_FILES, ids=lambda p: str(p.relative_to(KUBERNETES)))
def test_manifest_is_valid_kubernetes(path: Path, version: str) -> None:
    for doc in load_documents(path):
        kubernetes_validate.validate(doc, version, strict=True)


def test_kustomization_lists_every_top_level_manifest() -> None:
    kustomization = yaml.safe_load((KUBERNETES / "kustomization.yaml").read_text())
    listed = set(kustomization["resources"])
    on_disk = {p.name for p in KUBERNETES.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == on_disk
    assert [image["name"] for image in kustomization["images"]] == [
        resources()["Deployment"]["spec"]["template"]["spec"]["containers"][0]["image"]]


def gateway_container() -> dict[str, Any]:
    (container,) = resources()["Deployment"]["spec"]["template"]["spec"]["containers"]
    return container


def test_probes_readiness_on_readyz_liveness_on_healthz_behind_a_startup_probe() -> None:
    container = gateway_container()
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    startup = container["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 120  # a cold model load fits


def test_sigterm_drains_within_the_grace_period() -> None:
    pod = resources()["Deployment"]["spec"]["template"]["spec"]
    command = gateway_container()["lifecycle"]["preStop"]["exec"]["command"]
    assert command[0] == "sleep"
    drain_seconds = 60  # the longest request docs/deployment.md lets finish
    assert pod["terminationGracePeriodSeconds"] >= int(command[1]) + drain_seconds
    assert pod["enableServiceLinks"] is False  # else the Service injects INTERLOCK_PORT=tcp://...


def test_runs_non_root_read_only_with_cpu_and_memory_set() -> None:
    pod = resources()["Deployment"]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] and pod["securityContext"]["runAsUser"] != 0
    container = gateway_container()
    assert container["securityContext"]["readOnlyRootFilesystem"]
    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(container["resources"][kind])
    writable = {m["mountPath"] for m in container["volumeMounts"] if not m.get("readOnly")}
    assert {"/tmp", "/var/lib/interlock"} <= writable


def test_keys_come_from_the_secret_and_only_vendor_keys_are_optional() -> None:
    env = {item["name"]: item for item in gateway_container()["env"]}
    for name in ("INTERLOCK_DB_URL", "INTERLOCK_ADMIN_KEY", "OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
        reference = env[name]["valueFrom"]["secretKeyRef"]
        assert reference["name"] == "interlock-secrets"
        assert reference.get("optional", False) == name.endswith("_API_KEY")
    example = load_documents(KUBERNETES / "extras" / "secret.example.yaml")[0]
    needed = {env[n]["valueFrom"]["secretKeyRef"]["key"] for n in env if "valueFrom" in env[n]}
    assert set(example["stringData"]) == needed


def test_the_configmap_holds_a_valid_gateway_config_mounted_where_the_gateway_reads_it() -> None:
    config_map = resources()["ConfigMap"]
    loaded = parse_config(config_map["data"]["config.yaml"], source="configmap", environ={})
    assert loaded.config.server.auth and loaded.config.server.host == "0.0.0.0"
    assert loaded.config.accounting.redis_url  # budgets and rate limits shared by the replicas
    container = gateway_container()
    env = {item["name"]: item.get("value") for item in container["env"]}
    mount = next(m for m in container["volumeMounts"] if m["name"] == "config")
    assert env["INTERLOCK_CONFIG"] == f"{mount['mountPath']}/config.yaml"
    pod = resources()["Deployment"]["spec"]["template"]["spec"]
    volume = next(v for v in pod["volumes"] if v["name"] == "config")
    assert volume["configMap"]["name"] == config_map["metadata"]["name"]


def test_service_pdb_and_autoscalers_point_at_the_gateway_pods() -> None:
    found = resources()
    deployment = found["Deployment"]
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    assert found["Service"]["spec"]["selector"].items() <= pod_labels.items()
    assert found["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    assert found["Service"]["spec"]["ports"][0]["targetPort"] == gateway_container()["ports"][0]["name"]
    custom = load_documents(KUBERNETES / "extras" / "hpa-in-flight.yaml")[0]
    for hpa in (found["HorizontalPodAutoscaler"], custom):
        target = hpa["spec"]["scaleTargetRef"]
        assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])
        assert hpa["spec"]["minReplicas"] >= 2  # the PDB's one disruption never takes the last pod
    assert found["HorizontalPodAutoscaler"]["spec"]["metrics"][0]["resource"]["name"] == "cpu"
    assert custom["spec"]["metrics"][0]["pods"]["metric"]["name"] == "interlock_in_flight_requests"


def test_the_custom_metric_is_one_the_gateway_exports() -> None:
    from interlock.observability.metrics import GatewayMetrics

    rendered = GatewayMetrics().render().decode()
    assert "interlock_in_flight_requests" in rendered
