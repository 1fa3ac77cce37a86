"""Scores the classifier on a labeled prompt set: per-category precision/recall/F1 and macro-F1.

    python -m interlock.routing.classifier.evaluate [--data FILE] [--model FILE] [--out FILE]

defaults to the held-out set and the shipped artifact, and writes
``data/classifier/model-v1.heldout.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import spearmanr
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from interlock.routing.classifier.categories import DATA_DIR, category_names
from interlock.routing.classifier.dataset import HELDOUT_FILE, LabeledPrompt, file_sha256, load_prompts
from interlock.routing.classifier.model import RequestClassifier


def score_predictions(
    truth: Sequence[str], predicted: Sequence[str], categories: Sequence[str]
) -> dict[str, Any]:
    labels = list(categories)
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=labels, zero_division=0
    )
    per_category = {
        c: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
        for c, p, r, f, s in zip(labels, precision, recall, f1, support)
    }
    return {
        "macro_f1": float(np.mean(f1)),
        "accuracy": float(np.mean([t == p for t, p in zip(truth, predicted)])),
        "per_category": per_category,
        "confusion": {"labels": labels, "matrix": confusion_matrix(truth, predicted, labels=labels).tolist()},
    }


def evaluate(model: RequestClassifier, prompts: Sequence[LabeledPrompt]) -> dict[str, Any]:
    results = [model.classify_text(p.text) for p in prompts]
    report = score_predictions([p.category for p in prompts], [r.category for r in results], model.categories)
    predicted = np.array([r.difficulty for r in results])
    truth = np.array([p.difficulty for p in prompts])
    report["difficulty_mae"] = float(np.abs(predicted - truth).mean())
    report["difficulty_spearman"] = float(spearmanr(predicted, truth).statistic)
    report["n"] = len(prompts)
    return report


def format_report(report: dict[str, object]) -> str:
    lines = [f"{'category':<22}{'precision':>10}{'recall':>8}{'f1':>8}{'n':>6}"]
    per_category = report["per_category"]
    assert isinstance(per_category, dict)
    for name, row in per_category.items():
        lines.append(
            f"{name:<22}{row['precision']:>10.3f}{row['recall']:>8.3f}{row['f1']:>8.3f}{row['support']:>6}"
        )
    lines.append(f"macro-F1 {report['macro_f1']:.3f}   accuracy {report['accuracy']:.3f}")
    if "difficulty_mae" in report:
        lines.append(f"difficulty MAE {report['difficulty_mae']:.3f}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=HELDOUT_FILE)
    parser.add_argument("--model", type=Path, default=None, help="artifact path (default: the shipped model)")
    parser.add_argument("--out", type=Path, default=DATA_DIR / "model-v1.heldout.json")
    args = parser.parse_args(argv)

    model = RequestClassifier.load(args.model)
    report = evaluate(model, load_prompts(args.data, category_names()))
    report = {
        "model_version": model.version,
        "data_file": args.data.name,
        "data_sha256": file_sha256(args.data),
        **report,
    }
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(format_report(report))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
