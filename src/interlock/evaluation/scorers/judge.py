"""LLM-as-judge: a configured judge model, reached through the gateway, grades the output.

``rubric`` mode asks for a 0-10 score against a rubric (with ``expected`` as a reference answer
when given); ``pairwise`` mode asks which of the output and the reference answer is better (win 1,
tie 0.5, loss 0), presenting the two in an order fixed per item to spread position bias.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from interlock.evaluation.client import CompletionFailed, GatewayClient
from interlock.evaluation.scorers.base import Score, ScorerConfigError, ScoringContext, register_scorer

if TYPE_CHECKING:
    from interlock.evaluation.suite import SuiteItem

DEFAULT_RUBRIC = "Correct, complete and faithful to the task; concise; no invented facts."
_SYSTEM = "You are a strict, consistent grader of AI assistant responses. Follow the output format exactly."
_NUMBER = r"(\d+(?:\.\d+)?)"


def parse_judge_score(text: str, scale: float = 10.0) -> float | None:
    """A 0..1 score from a judge's reply: ``Score: 7``, ``7/10``, ``7 out of 10``, or a lone number."""
    patterns = [
        rf"score\W{{0,6}}{_NUMBER}(?:\s*(?:/|out of)\s*{_NUMBER})?",
        rf"{_NUMBER}\s*(?:/|out of)\s*{_NUMBER}",
    ]
    for pattern in patterns:
        match = re.search(pattern, text, re.IGNORECASE)
        if match:
            value, out_of = float(match.group(1)), float(match.group(2) or scale)
            return value / out_of if out_of and 0 <= value <= out_of else None
    first_line = text.strip().splitlines()[0] if text.strip() else ""
    numbers = re.findall(_NUMBER, first_line)
    if len(numbers) == 1 and 0 <= float(numbers[0]) <= scale:
        return float(numbers[0]) / scale
    return None


def parse_verdict(text: str) -> Literal["A", "B", "tie"] | None:
    match = re.search(r"verdict\W{0,6}(tie|a|b)\b", text, re.IGNORECASE)
    token = match.group(1) if match else (text.strip().split() or [""])[0].strip(".*:")
    token = token.lower()
    return {"a": "A", "b": "B", "tie": "tie"}.get(token)  # type: ignore[return-value]


def render_task(item: SuiteItem) -> str:
    return "\n".join(f"[{m['role']}] {m['content']}" for m in item.messages)


class JudgeOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mode: Literal["rubric", "pairwise"] = "rubric"
    rubric: str = DEFAULT_RUBRIC
    judge_model: str | None = None
    max_tokens: int = Field(default=160, ge=8, le=4096)

    @property
    def requires_expected(self) -> bool:
        return self.mode == "pairwise"


@register_scorer("llm_judge", options=JudgeOptions, expected=str, expected_required=False, cache_scores=True)
class JudgeScorer:
    """Grades through the gateway's chat completions with the judge model at temperature 0."""

    def __init__(self, options: JudgeOptions, context: ScoringContext) -> None:
        self.options = options
        self.model = options.judge_model or context.judge_model
        if not self.model:
            raise ScorerConfigError("llm_judge needs a judge model (scorer_options.judge_model or the run's)")
        if not context.base_url:
            raise ScorerConfigError("llm_judge needs the gateway's base URL")
        self.context = context

    def score(self, item: SuiteItem, output: str) -> Score:
        if self.options.mode == "pairwise":
            return self._pairwise(item, output)
        reference = f"\n\nReference answer:\n{item.expected}" if item.expected else ""
        prompt = (
            f"Task given to the assistant:\n{render_task(item)}{reference}\n\n"
            f"Response to grade:\n{output}\n\n"
            f"Rubric: {self.options.rubric}\n\nGrade the response from 0 (useless) to 10 (perfect). "
            "Reply with 'Score: N' on the first line, then one sentence of justification."
        )
        reply = self._ask(prompt)
        value = parse_judge_score(reply)
        if value is None:
            raise ValueError(f"judge reply has no score: {reply[:80]!r}")
        return Score(round(value, 4), f"judge {self.model}: {reply.strip().splitlines()[0][:80]}")

    def _pairwise(self, item: SuiteItem, output: str) -> Score:
        candidate_first = hashlib.sha256(item.id.encode()).digest()[0] % 2 == 0
        first, second = (output, item.expected) if candidate_first else (item.expected, output)
        prompt = (
            f"Task given to the assistant:\n{render_task(item)}\n\n"
            f"Response A:\n{first}\n\nResponse B:\n{second}\n\n"
            f"Criteria: {self.options.rubric}\n\nWhich response is better? Reply with 'Verdict: A', "
            "'Verdict: B' or 'Verdict: tie' on the first line, then one sentence of justification."
        )
        reply = self._ask(prompt)
        verdict = parse_verdict(reply)
        if verdict is None:
            raise ValueError(f"judge reply has no verdict: {reply[:80]!r}")
        candidate = "A" if candidate_first else "B"
        value = 0.5 if verdict == "tie" else (1.0 if verdict == candidate else 0.0)
        return Score(value, f"judge {self.model}: verdict {verdict} (candidate was {candidate})")

    def _ask(self, prompt: str) -> str:
        """Runs in a scoring worker thread, so it owns a short-lived event loop and session."""
        body = {
            "messages": [{"role": "system", "content": _SYSTEM}, {"role": "user", "content": prompt}],
            "max_tokens": self.options.max_tokens,
            "temperature": 0,
        }

        async def call() -> str:
            assert self.context.base_url and self.model
            async with GatewayClient(
                self.context.base_url, self.context.api_key, timeout_s=self.context.timeout_s
            ) as client:
                return (await client.complete(self.model, body)).text

        try:
            return asyncio.run(call())
        except CompletionFailed as exc:
            raise RuntimeError(f"judge call failed: {exc}") from None
