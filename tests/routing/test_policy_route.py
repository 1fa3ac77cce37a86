"""The gateway executes a calibrated policy exactly: the customer's task labels, the promised split, fallbacks."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import httpx
import numpy as np
import pytest
import yaml
from gateway_harness import openai_deployment, running_gateway

from interlock.cli.calibrate_cmd import train_task_classifier
from interlock.config.load import ConfigError, load_config
from interlock.evaluation import ItemResult, Results, ResultsHeader, calibrate
from interlock.routing.router import Router
from interlock.config.reload import ConfigReloader

COST = {"open-small": 0.0002, "frontier": 0.01}
INVOICE = ["Extract the invoice number, total and due date from: Invoice INV-{i} from Acme, total ${i}.50, due {d} March.",
           "Pull the vendor name and amount owed from invoice #{i}: Globex Ltd, ${i}.00 payable by day {d}.",
           "From this receipt, list the line items and the VAT: order {i}, {d} widgets at $3 each."]
LEGAL = ["Review clause {i} of this master services agreement for indemnification risk and liability caps ({d}).",
         "Does the non-compete in section {i} of the employment contract hold up under state law? Term {d} months.",
         "Summarise the termination rights in this lease, article {i}, notice period {d} days, for the partner."]


def _results(n: int = 240, seed: int = 0) -> Results:
    """Two customer tasks: the open model matches the frontier on 80% of invoices, but is poor on legal review."""
    rng = np.random.default_rng(seed)
    items = []
    for task, templates, open_quality in (("invoice_extraction", INVOICE, 0.8), ("legal_review", LEGAL, 0.3)):
        for i in range(n):
            prompt = templates[i % 3].format(i=1000 + i, d=1 + i % 28)
            u = rng.random()
            for model, quality in (("frontier", 0.9), ("open-small", open_quality)):
                items.append(ItemResult(item_id=f"{task}-{i}", model=model, category=task, score=float(u < quality),
                                        cost_usd=COST[model], messages=[{"role": "user", "content": prompt}]))
    return Results(header=ResultsHeader(suite="customer", models=["frontier", "open-small"]), items=items)


@pytest.fixture(scope="module")
def policy_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("policy") / "policy.yaml"
    results = _results()
    classifier, _ = train_task_classifier(results, out)
    calibrate(results, target=0.9, classifier=classifier).write(out)
    return out


def _config(url: str, policy: Path, **routing: object) -> dict:
    return {"deployments": [openai_deployment("open-small", url, open_weight=True, perimeter="internal"),
                            openai_deployment("frontier", url, context_window=128000)],
            "routing": {"policy": str(policy), **routing}}


def test_live_requests_follow_the_promised_split(openai_upstream, policy_path: Path) -> None:
    _, url = openai_upstream
    policy = yaml.safe_load(policy_path.read_text())
    invoice = {s["model"]: s["share"] for s in policy["tasks"]["invoice_extraction"]["models"]}
    assert policy["tasks"]["invoice_extraction"]["rule"] == "mix" and 0.3 < invoice["open-small"] < 1
    legal_split = {s["model"]: s["share"] for s in policy["tasks"]["legal_review"]["models"]}
    assert legal_split["frontier"] > 0.85  # a poor model may still take the sliver the floor allows
    n = 300
    with running_gateway(_config(url, policy_path, seed=7)) as (gateway, _runtime), httpx.Client() as client:
        served: Counter[str] = Counter()
        for i in range(n):
            prompt = INVOICE[i % 3].format(i=5000 + i, d=1 + i % 28)
            r = client.post(gateway + "/v1/chat/completions",
                            json={"model": "auto", "messages": [{"role": "user", "content": prompt}]})
            assert r.status_code == 200, r.text
            served[r.headers["x-interlock-model"]] += 1
        assert "task invoice_extraction: policy mix" in r.headers["x-interlock-decision"]
        legal = client.post(gateway + "/v1/chat/completions", json={"model": "auto", "messages": [
            {"role": "user", "content": LEGAL[0].format(i=77, d=3)}]})
        assert "task legal_review" in legal.headers["x-interlock-decision"]
        metrics = client.get(gateway + "/metrics").text
    share = invoice["open-small"]
    assert abs(served["open-small"] / n - share) <= 4 * math.sqrt(share * (1 - share) / n)
    assert f'interlock_routing_decisions_total{{category="invoice_extraction",route="auto",rule="policy"}} {n}.0' \
        in metrics


def test_when_the_pick_cannot_serve_the_strongest_eligible_model_does(policy_path: Path) -> None:
    config = _config("http://127.0.0.1:9", policy_path)
    config["deployments"][0]["context_window"] = 16  # the open model cannot take these prompts
    path = policy_path.with_name("tiny.yaml")
    path.write_text(yaml.safe_dump(config))
    router = Router.from_config(load_config(path))
    picks = {router.route(INVOICE[0].format(i=i, d=2)).chosen.model for i in range(40)}
    assert picks == {"frontier"}
    decision = router.route(INVOICE[1].format(i=3, d=2))
    assert decision.rule == "policy" and decision.policy is not None
    assert decision.policy["picked"] in {"open-small", "frontier"}


def test_a_task_without_data_goes_to_the_strongest_model_by_the_documented_rule(tmp_path: Path) -> None:
    """Generic categories, the shipped classifier: a code prompt is a task the policy never saw."""
    u = np.random.default_rng(3).random(100)
    items = [ItemResult(item_id=f"x-{i}", model=m, category="extraction", score=float(u[i] < q), cost_usd=COST[m])
             for i in range(100) for m, q in (("frontier", 0.92), ("open-small", 0.9))]
    out = tmp_path / "generic.yaml"
    calibrate(Results(header=ResultsHeader(suite="g", models=["frontier", "open-small"]), items=items)).write(out)
    config = tmp_path / "gateway.yaml"
    config.write_text(yaml.safe_dump(_config("http://127.0.0.1:9", out)))
    router = Router.from_config(load_config(config))
    code = router.route("Write a Python function that parses ISO 8601 timestamps and add unit tests for it.")
    assert code.features is not None and code.features.category == "code"
    assert (code.rule, code.chosen.model) == ("uncovered", "frontier")
    assert "has no data in the routing policy: rule uncovered=strongest" in code.reason
    assert code.to_dict()["rule"] == "uncovered"
    extraction = router.route("Extract the invoice number and total from: Invoice INV-7 total $12.")
    assert (extraction.rule, extraction.chosen.model) == ("policy", "open-small")


def test_a_policy_naming_models_the_config_lacks_is_a_config_error(policy_path: Path) -> None:
    config = _config("http://127.0.0.1:9", policy_path)
    config["deployments"] = config["deployments"][1:]
    path = policy_path.with_name("lacking.yaml")
    path.write_text(yaml.safe_dump(config))
    with pytest.raises(ConfigError, match="routes to models this config does not serve: open-small"):
        load_config(path)


def test_editing_the_policy_file_reloads_the_gateway(policy_path: Path, tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_bytes(policy_path.read_bytes())
    for artifact in policy_path.parent.glob("policy.*.joblib"):
        (tmp_path / artifact.name).write_bytes(artifact.read_bytes())
    config = tmp_path / "gateway.yaml"
    config.write_text(yaml.safe_dump(_config("http://127.0.0.1:9", Path("policy.yaml"))))  # relative to the config
    first = load_config(config)
    applied = []
    reloader = ConfigReloader(config, applied.append, current=first)
    assert reloader.check_file() is None
    data = yaml.safe_load(policy.read_text())
    data["settings"]["uncovered"] = "open-small"
    policy.write_text(yaml.safe_dump(data))
    outcome = reloader.check_file()
    assert outcome is not None and outcome.status == "applied" and outcome.hash != first.hash
    assert applied[-1].policy.policy.settings.uncovered == "open-small"
