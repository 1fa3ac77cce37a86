"""Shadow results and config history round-trip through real SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from interlock.config.load import LoadedConfig, parse_config
from interlock.storage.database import Database
from interlock.storage.migrations import applied_versions
from interlock.config.history import ConfigHistory, HistoryLookupError
from interlock.versions.migrations import VERSIONS_MIGRATIONS, ensure_versions_schema
from interlock.versions.results import ShadowResult, SideOutcome
from interlock.versions.store import SqlShadowStore
from versions.builders import CONFIG_V1

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def result(i: int, alias: str = "triage", cost: Decimal | None = Decimal("0.000123")) -> ShadowResult:
    return ShadowResult(
        alias=alias,
        request_id=f"r{i}",
        ts=T0 + timedelta(minutes=i),
        primary=SideOutcome("qwen@v1", "qwen-a", f"answer {i}", 100 + i, 10, 5, cost),
        shadow=SideOutcome.failed("llama", "llama-a", "timed out after 30s", 30.0)
        if i % 2
        else SideOutcome("llama", "llama-a", f"Answer {i}", 300 + i, 10, 7, None),
        config_hash="abcd",
    )


def test_versions_migrations_run_once_beside_storage_ones(database: Database) -> None:
    storage_versions = applied_versions(database)
    assert ensure_versions_schema(database) == [1001, 1002]
    assert ensure_versions_schema(database) == []
    assert applied_versions(database) == [*storage_versions, *(m.version for m in VERSIONS_MIGRATIONS)]


def test_shadow_results_round_trip(database: Database) -> None:
    store = SqlShadowStore(database)
    for i in range(4):
        store.add(result(i))
    store.add(result(9, alias="other"))
    newest_first = store.results("triage")
    assert [r.request_id for r in newest_first] == ["r3", "r2", "r1", "r0"]
    assert newest_first[-1] == result(0)
    assert (
        newest_first[-2].shadow.error == "timed out after 30s" and newest_first[-2].shadow.latency_ms == 30000
    )
    assert [r.request_id for r in store.results("triage", since=T0 + timedelta(minutes=2))] == ["r3", "r2"]
    assert len(store.results("triage", limit=1)) == 1
    assert store.aliases() == {"other": 1, "triage": 4}


def loaded(text: str, hash_: str | None = None) -> LoadedConfig:
    parsed = parse_config(text, source="/etc/interlock/gateway.yaml")
    return LoadedConfig(parsed.config, hash_ or parsed.hash, parsed.source)


def test_history_records_each_applied_config_with_a_diff(database: Database) -> None:
    clock = iter(T0 + timedelta(hours=h) for h in range(10))
    history = ConfigHistory(database, now=lambda: next(clock))
    v1 = loaded(CONFIG_V1)
    first = history.record(v1, CONFIG_V1, reason="startup")
    assert (first.hash, first.previous_hash, first.reason, first.applied_at) == (v1.hash, None, "startup", T0)
    assert first.diff.startswith("--- (none)\n+++ config " + v1.hash)
    assert history.record(v1, CONFIG_V1) == first  # re-applying the newest is no change

    text2 = CONFIG_V1.replace("context_window: 1000", "context_window: 2000")
    v2 = loaded(text2)
    second = history.record(v2, text2, reason="SIGHUP")
    assert second.previous_hash == v1.hash and second.text == text2
    assert "-    context_window: 1000\n+    context_window: 2000\n" in second.diff
    assert second.diff_stat == (1, 1)
    assert [e.hash for e in history.list()] == [v2.hash, v1.hash]
    assert history.get(v1.hash[:6]) == first and history.get(v2.hash.upper()) == second

    third = history.record(v1, CONFIG_V1, reason="rollback")  # back to v1: a new application
    assert third.id != first.id and history.get(v1.hash) == third


def test_history_lookup_errors(database: Database) -> None:
    history = ConfigHistory(database)
    history.record(loaded(CONFIG_V1, "aaaa1111bbbb2222"), CONFIG_V1)
    history.record(loaded(CONFIG_V1.replace("1000", "999"), "aaaa3333bbbb4444"))
    with pytest.raises(HistoryLookupError, match="matches several configs"):
        history.get("aaaa")
    with pytest.raises(HistoryLookupError, match="no applied config"):
        history.get("ffff")
    with pytest.raises(HistoryLookupError, match="not a config hash"):
        history.get("xyz")
    assert history.get("aaaa3").text.startswith("deployments:")  # no file text: a YAML dump of the config
