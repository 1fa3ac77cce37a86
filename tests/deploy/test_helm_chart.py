"""deploy/helm/interlock: rendered with its defaults, valid Kubernetes, and the same objects as the kustomize base.

No helm binary is needed: tests/deploy/helm_subset.py renders the subset of templating the chart uses.
"""

from __future__ import annotations

import copy
from typing import Any

import kubernetes_validate
import pytest
import yaml

from interlock.config.load import parse_config

from .helm_subset import Scope, render
from .paths import DEPLOY
from .test_kubernetes import KUBERNETES_VERSIONS, resources

CHART = DEPLOY / "helm" / "interlock"


def render_chart(release: str = "interlock", overrides: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    values.update(overrides or {})
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    scope = Scope(values=values, release={"Name": release, "Namespace": "interlock"},
                  chart={"Name": chart["name"], "AppVersion": chart["appVersion"], "Version": chart["version"]})
    found: dict[str, dict[str, Any]] = {}
    for template in sorted((CHART / "templates").glob("*.yaml")):
        for doc in yaml.safe_load_all(render(template.read_text(), scope)):
            if doc is not None:
                found[doc["kind"]] = doc
    return found


def without_labels(doc: dict[str, Any]) -> dict[str, Any]:
    """The object minus what legitimately differs between the two: labels, selectors, image, replicas."""
    doc = copy.deepcopy(doc)
    doc["metadata"].pop("labels", None)
    spec = doc.get("spec", {})
    spec.pop("selector", None)
    spec.pop("replicas", None)
    template = spec.get("template")
    if template:
        template["metadata"].pop("labels", None)
        for constraint in template["spec"].get("topologySpreadConstraints", []):
            constraint.pop("labelSelector", None)
        for container in template["spec"]["containers"]:
            container.pop("image", None)
    return doc


def test_the_chart_renders_every_object_of_the_kustomize_base() -> None:
    assert set(render_chart()) == set(resources())


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_rendered_objects_are_valid_kubernetes(version: str) -> None:
    for doc in render_chart().values():
        kubernetes_validate.validate(doc, version, strict=True)


@pytest.mark.parametrize("kind", ["Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget",
                                  "ServiceAccount"])
def test_the_chart_and_the_kustomize_base_do_not_drift_apart(kind: str) -> None:
    assert without_labels(render_chart()[kind]) == without_labels(resources()[kind])


def test_the_chart_config_is_the_base_config_and_valid() -> None:
    chart_config = render_chart()["ConfigMap"]["data"]["config.yaml"]
    base_config = resources()["ConfigMap"]["data"]["config.yaml"]
    assert yaml.safe_load(chart_config) == yaml.safe_load(base_config)
    assert parse_config(chart_config, source="chart", environ={}).config.server.auth


def test_selectors_match_pod_labels_for_any_release_name() -> None:
    found = render_chart(release="gw-prod")
    pod_labels = found["Deployment"]["spec"]["template"]["metadata"]["labels"]
    for selector in (found["Deployment"]["spec"]["selector"]["matchLabels"], found["Service"]["spec"]["selector"],
                     found["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"]):
        assert selector.items() <= pod_labels.items() and selector["app.kubernetes.io/instance"] == "gw-prod"
    assert found["Deployment"]["spec"]["template"]["spec"]["volumes"][0]["configMap"]["name"] == "gw-prod-config"


def test_without_autoscaling_the_deployment_sets_replicas_and_no_hpa_is_rendered() -> None:
    found = render_chart(overrides={"autoscaling": {"enabled": False}, "podDisruptionBudget": {"enabled": False},
                                    "replicas": 3})
    assert "HorizontalPodAutoscaler" not in found and "PodDisruptionBudget" not in found
    assert found["Deployment"]["spec"]["replicas"] == 3
    assert "replicas" not in render_chart()["Deployment"]["spec"]  # the HPA owns it


def test_values_reach_the_pod() -> None:
    found = render_chart(overrides={"existingSecret": "vault-interlock", "preStopSleepSeconds": 15,
                                    "image": {"repository": "r.internal/il", "tag": "1.2.3", "pullPolicy": "Always"}})
    (container,) = found["Deployment"]["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "r.internal/il:1.2.3"
    assert container["lifecycle"]["preStop"]["exec"]["command"] == ["sleep", "15"]
    refs = {e["valueFrom"]["secretKeyRef"]["name"] for e in container["env"] if "valueFrom" in e}
    assert refs == {"vault-interlock"}
