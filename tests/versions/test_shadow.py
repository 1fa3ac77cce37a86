"""Shadow traffic against real OpenAI-format servers on loopback: the primary is never delayed or
failed by its shadow, the cap holds (drops are counted), and both sides are stored."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal

import pytest
from servers import serve_in_thread
from upstreams.openai_upstream import OpenAIUpstream

from interlock.providers.base import ChatRequest
from interlock.types import Usage
from interlock.providers.openai_compat import OpenAICompatProvider
from interlock.storage.database import Database
from interlock.versions.results import completion_text
from interlock.versions.settings import ShadowSettings
from interlock.versions.shadow import ShadowCandidate, ShadowRunner
from interlock.versions.store import SqlShadowStore
from versions.builders import deployment

SLOW_S = 1.0


@pytest.fixture(scope="module")
def upstream() -> Iterator[tuple[OpenAIUpstream, str]]:
    server = OpenAIUpstream(slow_seconds=SLOW_S)
    with serve_in_thread(server.app) as url:
        yield server, url + "/v1"


@pytest.fixture
async def providers(upstream: tuple[OpenAIUpstream, str]) -> AsyncIterator[dict[str, OpenAICompatProvider]]:
    _, url = upstream
    made = {
        kind: OpenAICompatProvider(
            deployment(f"d-{kind}", kind, "v1", base_url=url, upstream_model=upstream_model)
        )
        for kind, upstream_model in (
            ("primary", "primary-model"),
            ("slow", "fault-slow"),
            ("failing", "fault-500"),
            ("fast", "candidate-model"),
        )
    }
    yield made
    for provider in made.values():
        await provider.aclose()


def candidate(provider: OpenAICompatProvider, per_mtok: str = "2") -> ShadowCandidate:
    def cost_of(usage: Usage) -> Decimal:
        return Decimal(usage.prompt_tokens + usage.completion_tokens) * Decimal(per_mtok) / 1_000_000

    return ShadowCandidate(provider.deployment.model + "@v1", provider.deployment.name, provider, cost_of)


def chat(request_id: str, text: str = "hello there") -> ChatRequest:
    return ChatRequest(body={"messages": [{"role": "user", "content": text}]}, request_id=request_id)


def calls(server: OpenAIUpstream, prefix: str) -> list[tuple[str, str]]:
    """(upstream model, request id) of every call whose request id starts with ``prefix``."""
    seen = zip(server.received, server.headers, strict=True)
    return [(b["model"], h["x-request-id"]) for b, h in seen if h.get("x-request-id", "").startswith(prefix)]


async def test_a_slow_shadow_never_delays_the_primary_and_both_sides_are_stored(
    providers: dict[str, OpenAICompatProvider], upstream: tuple[OpenAIUpstream, str], sqlite_db: Database
) -> None:
    server, _ = upstream
    store = SqlShadowStore(sqlite_db)
    runner = ShadowRunner(store, rng=random.Random(1))
    settings = ShadowSettings(model="slow@v1", share=1.0, max_concurrency=4, timeout_s=10)
    request = chat("slow-1")

    started = time.perf_counter()
    ticket = runner.start(
        "triage", settings, candidate(providers["slow"]), request, "primary@v1", config_hash="c0ffee"
    )
    assert ticket is not None
    assert time.perf_counter() - started < 0.05  # start only schedules
    response = await providers["primary"].complete(request)
    primary_s = time.perf_counter() - started
    assert primary_s < SLOW_S / 2  # the client's answer did not wait for the shadow
    assert completion_text(response) == "echo: hello there"
    assert runner.stats("triage").in_flight == 1

    ticket.primary_answered(
        "d-primary",
        completion_text(response),
        primary_s,
        Usage.from_openai(response["usage"]),
        Decimal("0.0001"),
    )
    await runner.aclose(timeout_s=5)

    [result] = store.results("triage")
    assert (result.alias, result.request_id, result.config_hash) == ("triage", "slow-1", "c0ffee")
    assert result.primary.model == "primary@v1" and result.primary.deployment == "d-primary"
    assert result.primary.text == result.shadow.text == "echo: hello there"
    assert result.primary.latency_ms is not None and result.primary.latency_ms < SLOW_S * 500
    assert result.shadow.latency_ms is not None and result.shadow.latency_ms >= SLOW_S * 1000
    assert (result.shadow.prompt_tokens, result.shadow.completion_tokens) == (2, 3)
    assert result.shadow.cost_usd == Decimal("0.00001")
    assert result.primary.cost_usd == Decimal("0.0001")
    # the client's request went to the primary, its mirror to the candidate
    assert sorted(calls(server, "slow-1")) == [("fault-slow", "slow-1-shadow"), ("primary-model", "slow-1")]
    stats = runner.stats("triage")
    assert (stats.mirrored, stats.stored, stats.failed, stats.dropped, stats.in_flight) == (1, 1, 0, 0, 0)


async def test_failing_and_timed_out_shadows_are_recorded_never_raised(
    providers: dict[str, OpenAICompatProvider], sqlite_db: Database
) -> None:
    store = SqlShadowStore(sqlite_db)
    runner = ShadowRunner(store)
    timing_out = ShadowSettings(model="slow@v1", share=1.0, timeout_s=0.2)
    failing = ShadowSettings(model="failing@v1", share=1.0)
    t1 = runner.start("a", timing_out, candidate(providers["slow"]), chat("to-1"), "primary@v1")
    t2 = runner.start("b", failing, candidate(providers["failing"]), chat("fail-1"), "primary@v1")
    assert t1 is not None and t2 is not None
    response = await providers["primary"].complete(chat("p-1"))
    for ticket in (t1, t2):
        ticket.primary_answered("d-primary", completion_text(response), 0.01)
    await runner.aclose(timeout_s=5)

    [timed_out] = store.results("a")
    assert timed_out.shadow.error == "timed out after 0.2s" and timed_out.shadow.text is None
    assert timed_out.shadow.latency_ms is not None and 150 <= timed_out.shadow.latency_ms < 900
    assert timed_out.primary.ok and timed_out.primary.text == "echo: hello there"
    [failed] = store.results("b")
    assert failed.shadow.error is not None and failed.shadow.error.startswith("UpstreamHTTPError")
    assert runner.stats("a").failed == 1 and runner.stats("b").failed == 1


async def test_the_concurrency_cap_drops_and_counts(
    providers: dict[str, OpenAICompatProvider], upstream: tuple[OpenAIUpstream, str], sqlite_db: Database
) -> None:
    server, _ = upstream
    store = SqlShadowStore(sqlite_db)
    runner = ShadowRunner(store)
    settings = ShadowSettings(model="slow@v1", share=1.0, max_concurrency=2, timeout_s=10)
    tickets = [
        runner.start("capped", settings, candidate(providers["slow"]), chat(f"cap-{i}"), "p")
        for i in range(6)
    ]
    started = [t for t in tickets if t is not None]
    assert len(started) == 2 and tickets[2:] == [None] * 4
    stats = runner.stats("capped")
    assert (stats.in_flight, stats.dropped, stats.mirrored) == (2, 4, 2)
    for ticket in started:
        ticket.primary_answered("d-primary", "echo: hello there", 0.01)
    await runner.aclose(timeout_s=5)
    assert sorted(calls(server, "cap-")) == [("fault-slow", "cap-0-shadow"), ("fault-slow", "cap-1-shadow")]
    assert len(store.results("capped")) == 2 and stats.in_flight == 0
    samples = {(s.name, s.labels["alias"]): s.value for s in runner.metric_samples()}
    assert samples[("interlock_shadow_dropped", "capped")] == 4.0


async def test_only_the_sampled_share_is_mirrored(
    providers: dict[str, OpenAICompatProvider], sqlite_db: Database
) -> None:
    runner = ShadowRunner(SqlShadowStore(sqlite_db), rng=random.Random(7))
    settings = ShadowSettings(model="fast@v1", share=0.25, max_concurrency=64)
    tickets = [
        runner.start("s", settings, candidate(providers["fast"]), chat(f"s-{i}"), "p") for i in range(40)
    ]
    draws = random.Random(7)
    expected = [draws.random() < 0.25 for _ in range(40)]
    assert [t is not None for t in tickets] == expected
    await runner.aclose(timeout_s=5)


async def test_closing_stores_unreported_primaries_and_cancels_overdue_shadows(
    providers: dict[str, OpenAICompatProvider], sqlite_db: Database
) -> None:
    store = SqlShadowStore(sqlite_db)
    runner = ShadowRunner(store)
    fast = runner.start(
        "u", ShadowSettings(model="fast@v1", share=1.0), candidate(providers["fast"]), chat("u-1"), "p@v1"
    )
    slow = runner.start(
        "o", ShadowSettings(model="slow@v1", share=1.0), candidate(providers["slow"]), chat("o-1"), "p@v1"
    )
    assert fast is not None and slow is not None
    await asyncio.sleep(0.2)  # the fast shadow has answered; nobody reports its primary
    started = time.perf_counter()
    await runner.aclose(timeout_s=0.3)
    assert time.perf_counter() - started < SLOW_S - 0.2  # did not wait for the slow shadow
    [unreported] = store.results("u")
    assert (
        unreported.shadow.ok
        and unreported.primary.error == "gateway shut down before the primary was reported"
    )
    assert unreported.primary.model == "p@v1"
    assert store.results("o") == []  # cancelled at the deadline, nothing half-written
    assert (
        runner.start(
            "u", ShadowSettings(model="fast@v1", share=1.0), candidate(providers["fast"]), chat("u-2"), "p"
        )
        is None
    )
