"""The code scorer: pull Python out of the model's answer and run it against the item's tests.

Score is the fraction of test functions that pass in the sandbox (a run killed for time or
memory scores what passed before, usually 0). ``expected`` may hold a reference solution; it is
not used for scoring, only by suite checks that the tests themselves pass.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from interlock.evaluation.sandbox import SandboxLimits, run_tests
from interlock.evaluation.scorers.base import Score, ScoringContext, register_scorer

if TYPE_CHECKING:
    from interlock.evaluation.suite import SuiteItem

_FENCE = re.compile(r"```[ \t]*([\w+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)
_PYTHON_TAGS = {"", "python", "py", "python3"}
_CODE_START = re.compile(r"^(?:def |class |import |from |@|async def )", re.MULTILINE)


def extract_code(output: str) -> str:
    """Python fences (closed or cut off by max_tokens), else the text from the first ``def``/``import``."""
    blocks = [body for tag, body in _FENCE.findall(output) if tag.lower() in _PYTHON_TAGS]
    if blocks:
        return "\n\n".join(block.rstrip() for block in blocks) + "\n"
    start = _CODE_START.search(output)
    return output[start.start() :] if start else output


class CodeOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tests: str = Field(min_length=1, description="test_* functions or top-level asserts")
    timeout_s: float = Field(default=10.0, gt=0, le=300)
    cpu_s: int = Field(default=5, ge=1, le=300)
    memory_mb: int = Field(default=512, ge=64, le=16384)


@register_scorer("code", options=CodeOptions, expected=str, expected_required=False, cache_scores=True)
class CodeScorer:
    """Fraction of unit tests the extracted code passes under sandbox limits."""

    def __init__(self, options: CodeOptions, context: ScoringContext) -> None:
        self.tests = options.tests
        self.limits = SandboxLimits(
            cpu_seconds=options.cpu_s, memory_mb=options.memory_mb, wall_seconds=options.timeout_s
        )

    def score(self, item: SuiteItem, output: str) -> Score:
        run = run_tests(extract_code(output), self.tests, self.limits)
        summary = f"{run.passed}/{run.total} tests passed" if run.total else "no tests ran"
        detail = f"{summary} ({run.outcome})" + (f": {run.detail}" if run.detail else "")
        return Score(run.fraction, detail)
