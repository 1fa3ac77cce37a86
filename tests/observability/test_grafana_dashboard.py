"""The Grafana dashboard only queries metrics a real gateway exports, with labels they carry."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
from gateway_harness import openai_deployment, running_gateway
from prometheus_client.parser import text_string_to_metric_families

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "interlock-dashboard.json"
_METRIC = re.compile(r"\binterlock_[a-z0-9_]+\b")
_GROUPING = re.compile(r"\bby \(([^)]*)\)")


def _targets(dashboard: dict[str, Any]) -> list[str]:
    return [t["expr"] for p in dashboard["panels"] for t in p["targets"]]


def _exported(url: str) -> dict[str, set[str]]:
    """Every sample name on /metrics, with the label names it carries."""
    text = httpx.get(url + "/metrics", timeout=10).text
    names: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            names.setdefault(sample.name, set()).update(sample.labels)
    return names


def test_dashboard_is_well_formed() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] and dashboard["title"]
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        assert panel["targets"], panel["title"]
        assert panel["datasource"]["uid"] == "${datasource}"
        for target in panel["targets"]:
            assert _METRIC.search(target["expr"]), target["expr"]


def test_every_metric_the_dashboard_queries_is_exported(openai_upstream) -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    _, up = openai_upstream
    with running_gateway({"deployments": [openai_deployment("only", up)]}) as (url, _):
        # traffic that makes every labelled series appear: routed, streamed and failed requests
        chat = url + "/v1/chat/completions"
        assert httpx.post(chat, timeout=30, json={"model": "auto", "messages": [
            {"role": "user", "content": "Translate 'good morning' to German."}]}).status_code == 200
        with httpx.stream("POST", chat, timeout=30, json={"model": "only", "stream": True, "messages": [
                {"role": "user", "content": "hi"}]}) as resp:
            resp.read()
        assert httpx.post(chat, timeout=30, json={"model": "missing", "messages": [
            {"role": "user", "content": "hi"}]}).status_code == 404
        exported = _exported(url)
    for expr in _targets(dashboard):
        used = _METRIC.findall(expr)
        for name in used:
            assert name in exported, f"{name} (in {expr!r}) is not on /metrics; exported: {sorted(exported)}"
        for grouping in _GROUPING.findall(expr):
            labels = {label.strip() for label in grouping.split(",")} - {"le"}
            carried = set().union(*(exported[name] for name in used))
            assert labels <= carried, f"{expr!r} groups by {labels - carried}, which its metrics do not carry"
