"""Running a suite against models through the gateway: bounded concurrency, caching, scoring.

Every (item, model) pair is one task; a semaphore per model bounds calls in flight. Completions
come from the cache when one exists for the same item, model and prompt; once the gateway has
answered live for a model during the run, cached completions from another version of that model
are stale and are redone in a second pass, so results never mix model versions silently.
Scorers run in a small thread pool (sandboxes and judge calls block).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from interlock.evaluation.cache import ResultCache
from interlock.evaluation.client import Completion, CompletionFailed, GatewayClient, RetryPolicy
from interlock.evaluation.progress import NoProgress, RichProgress, RunProgress
from interlock.evaluation.results import ItemResult, Results, ResultsHeader
from interlock.evaluation.scorers import Score, Scorer, ScoringContext, scorer_type
from interlock.evaluation.suite import Suite, SuiteItem, canonical_hash

# A model whose first live items all fail the same way is stopped: the rest would fail alike, each
# after the client's retries, and hide the cause under minutes of noise.
EARLY_STOP_AFTER = 5


def build_scorers(suite: Suite, context: ScoringContext) -> dict[str, Scorer]:
    """One scorer per distinct (kind, options); raises ``ScorerConfigError`` before any call is made."""
    scorers: dict[str, Scorer] = {}
    for item in suite.items:
        key = _scorer_key(item)
        if key not in scorers:
            scorers[key] = scorer_type(item.scorer).build(item.options, context)
    return scorers


def _scorer_key(item: SuiteItem) -> str:
    return f"{item.scorer}:{item.options.model_dump_json()}"


class SuiteRun:
    """The state of one run: clients, cache, bounds, and the model versions seen live."""

    def __init__(
        self,
        suite: Suite,
        models: Sequence[str],
        client: GatewayClient,
        cache: ResultCache,
        context: ScoringContext,
        concurrency: int,
        progress: RunProgress,
        executor: ThreadPoolExecutor,
    ) -> None:
        self.suite, self.models, self.client, self.cache = suite, list(models), client, cache
        self.context, self.progress, self.executor = context, progress, executor
        self.scorers = build_scorers(suite, context)
        self.limits = {model: asyncio.Semaphore(concurrency) for model in self.models}
        self.live_versions: dict[str, set[str]] = defaultdict(set)
        self.early_stop_after = EARLY_STOP_AFTER
        self._first_outcomes: dict[str, list[str | None]] = defaultdict(list)  # error text, None for a success
        self.stopped: dict[str, str] = {}  # model → the error all its first items failed with

    async def run(self) -> list[ItemResult]:
        pairs = [(model, item) for model in self.models for item in self.suite.items]
        for model in self.models:
            self.progress.add_work(model, len(self.suite.items))
        results = list(
            await asyncio.gather(*(self.run_item(model, item, use_cache=True) for model, item in pairs))
        )
        stale = [k for k, result in enumerate(results) if result.cached and self._is_stale(result)]
        for k in stale:
            self.progress.add_work(results[k].model, 1)
        fresh = await asyncio.gather(*(self.run_item(*pairs[k], use_cache=False) for k in stale))
        for k, result in zip(stale, fresh, strict=True):
            results[k] = result
        return results

    def _is_stale(self, result: ItemResult) -> bool:
        versions = self.live_versions.get(result.model, set())
        return bool(versions) and result.model_version not in versions

    async def run_item(self, model: str, item: SuiteItem, *, use_cache: bool) -> ItemResult:
        completion = self.cache.get_completion(item.id, model, item.prompt_hash) if use_cache else None
        cached = completion is not None
        if completion is None:
            try:
                async with self.limits[model]:
                    if model in self.stopped:  # checked once admitted: items queued behind the stop skip
                        return self._failed(model, item, f"not run: the first {self.early_stop_after} items "
                                            f"on {model} all failed with: {self.stopped[model]}")
                    completion = await self.client.complete(model, item.request_body())
            except CompletionFailed as exc:
                self._note_outcome(model, str(exc))
                return self._failed(model, item, f"{exc} (after {exc.attempts} attempt{'s' * (exc.attempts > 1)})")
            self._note_outcome(model, None)
            self.cache.put_completion(item.id, model, item.prompt_hash, completion)
            self.live_versions[model].add(completion.model_version)
        score, error = await self._score(model, item, completion)
        self.progress.advance(model, cached=cached, failed=error is not None)
        return ItemResult(
            item_id=item.id,
            model=model,
            category=item.category,
            messages=[dict(m) for m in item.messages],
            model_version=completion.model_version,
            output=completion.text,
            score=score.value if score is not None else None,
            score_detail=score.detail if score is not None else "",
            latency_ms=round(completion.latency_ms, 3),
            prompt_tokens=completion.prompt_tokens,
            completion_tokens=completion.completion_tokens,
            cost_usd=completion.cost_usd,
            cached=cached,
            error=error,
        )

    def _failed(self, model: str, item: SuiteItem, error: str) -> ItemResult:
        self.progress.advance(model, cached=False, failed=True)
        return ItemResult(item_id=item.id, model=model, category=item.category,
                          messages=[dict(m) for m in item.messages], error=error)

    def _note_outcome(self, model: str, error: str | None) -> None:
        """Count one of the model's first live calls; stop the model when they all failed alike."""
        outcomes = self._first_outcomes[model]
        if len(outcomes) >= self.early_stop_after:
            return
        outcomes.append(error)
        if len(outcomes) == self.early_stop_after and outcomes[0] is not None and len(set(outcomes)) == 1:
            self.stopped[model] = outcomes[0]

    async def _score(
        self, model: str, item: SuiteItem, completion: Completion
    ) -> tuple[Score | None, str | None]:
        cacheable = scorer_type(item.scorer).cache_scores
        key = canonical_hash([item.scoring_key, self.context.judge_model])
        where = (item.id, model, completion.model_version, item.prompt_hash, key)
        if cacheable and (hit := self.cache.get_score(*where)) is not None:
            return hit, None
        scorer = self.scorers[_scorer_key(item)]
        loop = asyncio.get_running_loop()
        try:
            score = await loop.run_in_executor(self.executor, scorer.score, item, completion.text)
        except Exception as exc:  # a scorer failing on one item must not stop the run
            return None, f"scoring failed: {type(exc).__name__}: {exc}"[:300]
        if cacheable:
            self.cache.put_score(*where, score)
        return score, None


async def run_suite_async(
    suite: Suite,
    models: Sequence[str],
    *,
    base_url: str,
    api_key: str | None = None,
    concurrency: int = 4,
    cache_path: str | Path | None = None,
    progress: bool | RunProgress = True,
    judge_model: str | None = None,
    retry: RetryPolicy = RetryPolicy(),
    timeout_s: float = 120.0,
) -> Results:
    """Run every item of ``suite`` on every model through the gateway at ``base_url``."""
    models = list(dict.fromkeys(models))  # a model named twice runs once
    if not models:
        raise ValueError("at least one model is required")
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    context = ScoringContext(base_url=base_url, api_key=api_key, judge_model=judge_model, timeout_s=timeout_s)
    display: RunProgress = (
        progress if not isinstance(progress, bool) else (RichProgress() if progress else NoProgress())
    )
    cache = ResultCache(cache_path)
    executor = ThreadPoolExecutor(max_workers=max(2, min(concurrency, 8)), thread_name_prefix="scorer")
    try:
        async with GatewayClient(base_url, api_key, retry=retry, timeout_s=timeout_s) as client:
            run = SuiteRun(suite, models, client, cache, context, concurrency, display, executor)
            with display:
                items = await run.run()
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
        cache.close()
    header = ResultsHeader(suite=suite.name, suite_version=suite.version, models=list(models))
    return Results(header=header, items=items)


def run_suite(
    suite: Suite,
    models: Sequence[str],
    *,
    base_url: str,
    api_key: str | None = None,
    concurrency: int = 4,
    cache_path: str | Path | None = None,
    progress: bool | RunProgress = True,
    judge_model: str | None = None,
    retry: RetryPolicy = RetryPolicy(),
    timeout_s: float = 120.0,
) -> Results:
    """Blocking wrapper of ``run_suite_async`` for the CLI."""
    return asyncio.run(
        run_suite_async(
            suite,
            models,
            base_url=base_url,
            api_key=api_key,
            concurrency=concurrency,
            cache_path=cache_path,
            progress=progress,
            judge_model=judge_model,
            retry=retry,
            timeout_s=timeout_s,
        )
    )
