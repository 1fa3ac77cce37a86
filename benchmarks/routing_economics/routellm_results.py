"""Turn RouteLLM's released evaluation files into an interlock results file (one row per item and model).

RouteLLM (lm-sys/RouteLLM, Apache-2.0) published per-item outcomes of Mixtral-8x7B-Instruct and
GPT-4-1106-preview on MMLU, GSM8K and MT-Bench under ``routellm/evals``. Tasks here: the four
MMLU subject groups, GSM8K and MT-Bench (judge score / 10). Prompts RouteLLM marks contaminated are
dropped, as RouteLLM does. Cost per request = tokens (the embedded model's tokenizer) x list price:
GPT-4-1106-preview $10 in / $30 out per million tokens (OpenAI, Nov 2023), Mixtral-8x7B-Instruct
$0.60 / $0.60 (Together AI serverless, 2024). Output tokens: MMLU answers are one letter (1 token);
GSM8K and MT-Bench responses are counted from the released responses.

    python benchmarks/routing_economics/routellm_results.py ROUTELLM/routellm/evals --out routellm.jsonl
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path

from interlock.evaluation.results import ItemResult, Results, ResultsHeader
from interlock.routing.tokens import count_text

WEAK, STRONG = "mixtral-8x7b-instruct", "gpt-4-1106-preview"
COLUMNS = {WEAK: "mistralai/Mixtral-8x7B-Instruct-v0.1", STRONG: "gpt-4-1106-preview"}
PRICE = {WEAK: (0.60, 0.60), STRONG: (10.0, 30.0)}  # USD per million tokens, (input, output)
csv.field_size_limit(sys.maxsize)

MMLU_GROUPS = {
    "stem": "abstract_algebra astronomy college_biology college_chemistry college_computer_science "
            "college_mathematics college_physics computer_security conceptual_physics electrical_engineering "
            "elementary_mathematics high_school_biology high_school_chemistry high_school_computer_science "
            "high_school_mathematics high_school_physics high_school_statistics machine_learning",
    "humanities": "formal_logic high_school_european_history high_school_us_history high_school_world_history "
                  "international_law jurisprudence logical_fallacies moral_disputes moral_scenarios philosophy "
                  "prehistory professional_law world_religions",
    "social_sciences": "econometrics high_school_geography high_school_government_and_politics "
                       "high_school_macroeconomics high_school_microeconomics high_school_psychology "
                       "human_sexuality professional_psychology public_relations security_studies sociology "
                       "us_foreign_policy",
    "other": "anatomy business_ethics clinical_knowledge college_medicine global_facts human_aging management "
             "marketing medical_genetics miscellaneous nutrition professional_accounting professional_medicine "
             "virology",
}
GROUP_OF = {domain: group for group, names in MMLU_GROUPS.items() for domain in names.split()}


def _cost(model: str, prompt_tokens: int, output_tokens: int) -> float:
    pin, pout = PRICE[model]
    return (prompt_tokens * pin + output_tokens * pout) / 1e6


def _rows(task: str, item_id: str, prompt: str, outcome: dict[str, tuple[float, int]]) -> Iterator[ItemResult]:
    prompt_tokens = count_text(prompt)
    for model, (score, output_tokens) in outcome.items():
        yield ItemResult(item_id=item_id, model=model, category=task, messages=[{"role": "user", "content": prompt}],
                         score=score, prompt_tokens=prompt_tokens, completion_tokens=output_tokens,
                         cost_usd=round(_cost(model, prompt_tokens, output_tokens), 10))


def _contaminated(path: Path) -> set[str]:
    return {json.loads(line)["eval_prompt"] for line in path.read_text().splitlines() if line.strip()}


def mmlu(evals: Path) -> Iterator[ItemResult]:
    dropped = _contaminated(evals / "mmlu/contaminated_prompts.jsonl")
    for path in sorted((evals / "mmlu/responses").glob("mmlu_*.csv")):
        domain = path.stem.removeprefix("mmlu_")
        with path.open(newline="") as fh:
            for i, row in enumerate(csv.DictReader(fh)):
                if row["prompt"] in dropped:
                    continue
                outcome = {m: (1.0 if row[c] == "True" else 0.0, 1) for m, c in COLUMNS.items()}
                yield from _rows(f"mmlu.{GROUP_OF[domain]}", f"mmlu-{domain}-{i}", row["prompt"], outcome)


def gsm8k(evals: Path) -> Iterator[ItemResult]:
    dropped = _contaminated(evals / "gsm8k/contaminated_prompts.jsonl")
    with (evals / "gsm8k/gsm8k_responses.csv").open(newline="") as fh:
        for i, row in enumerate(csv.DictReader(fh)):
            if row["prompt"] in dropped:
                continue
            outcome = {m: (1.0 if row[c] == "True" else 0.0, count_text(row[f"{c}_response"]))
                       for m, c in COLUMNS.items()}
            yield from _rows("gsm8k", f"gsm8k-{i}", row["prompt"], outcome)


_ANSWER = re.compile(r"### Assistant A:\n(.*?)(?=\n\n### User:|\n\n<\|The End)", re.S)


def mt_bench(evals: Path) -> Iterator[ItemResult]:
    dropped = _contaminated(evals / "mt_bench/contaminated_prompts.jsonl")
    questions = {q["question_id"]: q for q in map(json.loads, (evals / "mt_bench/question.jsonl").open())}
    outcomes: dict[tuple[int, int], dict[str, tuple[float, int]]] = {}
    for judgement in map(json.loads, (evals / "mt_bench/judgements.jsonl").open()):
        model = {c: m for m, c in COLUMNS.items()}.get(judgement["model"])
        if model is None or judgement["score"] < 0:
            continue
        answers = _ANSWER.findall(judgement["user_prompt"])
        key = (judgement["question_id"], judgement["turn"])
        outcomes.setdefault(key, {})[model] = (judgement["score"] / 10, count_text(answers[-1]) if answers else 0)
    for (qid, turn), outcome in sorted(outcomes.items()):
        turns = questions[qid]["turns"][:turn]
        prompt = "\n\n".join(turns)
        if prompt in dropped or turns[0] in dropped or len(outcome) < 2:
            continue
        yield from _rows("mt_bench", f"mtbench-{qid}-{turn}", prompt, outcome)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("evals", type=Path, help="RouteLLM's routellm/evals folder")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    items = [*mmlu(args.evals), *gsm8k(args.evals), *mt_bench(args.evals)]
    header = ResultsHeader(suite="routellm-public", suite_version="2024-07", models=[WEAK, STRONG])
    Results(header=header, items=items).write_jsonl(args.out)
    tasks: dict[str, int] = {}
    for item in items:
        tasks[item.category] = tasks.get(item.category, 0) + 1
    print(f"wrote {len(items):,} rows to {args.out}: " + ", ".join(f"{t} {n // 2:,}" for t, n in sorted(tasks.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
