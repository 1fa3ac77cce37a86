"""``interlock route``: one prompt explained, a batch file routed line by line, and the library entry point."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from interlock import Router


def test_batch_routes_every_line_and_reports_bad_ones_in_place(interlock: Any, tmp_path: Path) -> None:
    lines = [
        {"id": "a", "prompt": "Translate 'good morning' into German."},
        {"id": "b", "messages": [{"role": "user", "content": "Write a Python function that reverses a list."}]},
        {"id": "c"},
        {"id": "d", "prompt": "Summarise: the meeting moved to Tuesday.", "route": "no-such-route"},
    ]
    batch = tmp_path / "prompts.jsonl"
    batch.write_text("\n".join(json.dumps(x) for x in lines) + "\nnot json\n", encoding="utf-8")
    out = tmp_path / "decisions.jsonl"
    result = interlock("route", "--batch", batch, "--out", out)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["a", "b", "c", "d", None]
    assert rows[0]["model"] == "smollm2-135m-instruct" and rows[0]["rule"] == "priors"
    assert rows[1]["category"] == "code"
    assert rows[2]["error"]["code"] == "invalid_line" and "exactly one of" in rows[2]["error"]["message"]
    assert rows[3]["refused"]["code"] == "model_not_found"  # neither a route nor a model: named, in place
    assert rows[4]["line"] == 5 and rows[4]["error"]["code"] == "invalid_line"
    assert "routed 5 request(s)" in result.stderr


def test_one_prompt_as_json_names_its_rule(interlock: Any) -> None:
    result = interlock("route", "Extract the total from: Invoice 7, total $12.", "--json")
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["rule"] == "priors" and record["features"]["category"] == "extraction"


def test_prompt_and_batch_together_are_refused(interlock: Any, tmp_path: Path) -> None:
    result = interlock("route", "hi", "--batch", tmp_path / "x.jsonl")
    assert result.exit_code == 2 and "not both" in result.output


def test_library_router_decides_as_the_cli_does() -> None:
    router = Router.load()
    decision = router.route("Write a Python function that reverses a list.")
    assert decision.chosen.model == "smollm2-135m-instruct" and decision.features is not None
    assert decision.features.category == "code" and decision.to_dict()["rule"] == "priors"
