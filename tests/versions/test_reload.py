"""Hot reload: an invalid config is rejected and the old one stays; a valid one is applied and recorded;
file changes and SIGHUP trigger it; rollback re-applies a stored config and writes it back."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from interlock.config.load import LoadedConfig, load_config
from interlock.storage.database import Database
from interlock.config.history import ConfigHistory, HistoryLookupError
from interlock.config.reload import ConfigReloader, unchanged_deployments
from versions.builders import CONFIG_V1

CONFIG_V2 = CONFIG_V1.replace("context_window: 1000", "context_window: 2000")
CONFIG_V3 = CONFIG_V1.replace("port: 8080", "port: 8081")
INVALID = CONFIG_V1.replace("context_window: 1000", "context_window: -5")


class Applied:
    """The ``apply`` callback: keeps what it was given (a real gateway would swap its runtime)."""

    def __init__(self, refuse: Callable[[LoadedConfig], bool] = lambda _c: False) -> None:
        self.configs: list[LoadedConfig] = []
        self.refuse = refuse

    def __call__(self, loaded: LoadedConfig) -> None:
        if self.refuse(loaded):
            raise RuntimeError("deployment qwen-a could not be built")
        self.configs.append(loaded)


def setup(tmp_path: Path, db: Database, apply: Applied | None = None) -> tuple[Path, ConfigReloader, Applied]:
    path = tmp_path / "gateway.yaml"
    path.write_text(CONFIG_V1)
    applied = apply or Applied()
    reloader = ConfigReloader(
        path, applied, current=load_config(path), history=ConfigHistory(db), poll_interval_s=0.02
    )
    reloader.record_current()
    return path, reloader, applied


async def until(condition: Callable[[], bool], timeout_s: float = 3.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.01)


def test_an_invalid_config_is_rejected_and_the_old_one_stays(tmp_path: Path, sqlite_db: Database) -> None:
    path, reloader, applied = setup(tmp_path, sqlite_db)
    before = reloader.current
    path.write_text(INVALID)
    outcome = reloader.reload()
    assert outcome.status == "rejected" and not outcome.applied
    assert any("deployments[0].context_window" in p and "greater than 0" in p for p in outcome.problems)
    assert outcome.to_dict()["config_hash"] == before.hash  # type: ignore[union-attr]
    assert reloader.current is before and applied.configs == []
    assert [e.reason for e in ConfigHistory(sqlite_db).list()] == ["startup"]


def test_a_valid_config_is_applied_and_recorded(tmp_path: Path, sqlite_db: Database) -> None:
    path, reloader, applied = setup(tmp_path, sqlite_db)
    old_hash = reloader.current.hash  # type: ignore[union-attr]
    path.write_text(CONFIG_V2)
    outcome = reloader.reload("admin")
    assert outcome.applied and outcome.previous_hash == old_hash and outcome.hash != old_hash
    assert [c.config.deployments[0].context_window for c in applied.configs] == [2000]
    newest = ConfigHistory(sqlite_db).latest()
    assert newest is not None and (newest.hash, newest.reason, newest.previous_hash) == (
        outcome.hash,
        "admin",
        old_hash,
    )
    assert newest.source == str(path.absolute()) and "+    context_window: 2000" in newest.diff
    assert reloader.reload().status == "unchanged"  # same canonical config: nothing to do
    path.write_text(CONFIG_V2 + "# a comment changes the text, not the config\n")
    assert reloader.reload().status == "unchanged" and len(applied.configs) == 1


def test_a_config_apply_refuses_is_rejected(tmp_path: Path, sqlite_db: Database) -> None:
    refusing = Applied(refuse=lambda c: c.config.deployments[0].context_window == 2000)
    path, reloader, _ = setup(tmp_path, sqlite_db, refusing)
    before = reloader.current
    path.write_text(CONFIG_V2)
    outcome = reloader.reload()
    assert outcome.status == "rejected"
    assert outcome.problems == (
        "applying the config failed: RuntimeError: deployment qwen-a could not be built",
    )
    assert reloader.current is before and len(ConfigHistory(sqlite_db).list()) == 1


async def test_a_file_change_is_detected_and_applied(tmp_path: Path, sqlite_db: Database) -> None:
    path, reloader, applied = setup(tmp_path, sqlite_db)
    reloader.start_watching()
    try:
        await asyncio.sleep(0.1)
        assert applied.configs == []  # nothing changed yet
        path.write_text(CONFIG_V2)
        await until(lambda: len(applied.configs) == 1)
        path.write_text(INVALID)
        path.write_text(CONFIG_V3)  # if a poll saw the bad one in between, it was rejected; this applies
        await until(lambda: len(applied.configs) == 2)
        assert applied.configs[-1].config.server.port == 8081
        assert ConfigHistory(sqlite_db).list()[0].reason == "file change"
    finally:
        await reloader.aclose()


async def test_an_invalid_file_is_reported_once_then_a_fix_applies(
    tmp_path: Path, sqlite_db: Database
) -> None:
    path, reloader, applied = setup(tmp_path, sqlite_db)
    path.write_text(INVALID)
    first = reloader.check_file()
    assert first is not None and first.status == "rejected"
    assert reloader.check_file() is None  # same bad content: not reported again
    path.write_text(CONFIG_V2)
    fixed = reloader.check_file()
    assert fixed is not None and fixed.applied and len(applied.configs) == 1


async def test_sighup_reloads(tmp_path: Path, sqlite_db: Database) -> None:
    path, reloader, applied = setup(tmp_path, sqlite_db)
    assert reloader.install_sighup()
    try:
        path.write_text(CONFIG_V2)
        os.kill(os.getpid(), signal.SIGHUP)
        await until(lambda: len(applied.configs) == 1)
        assert ConfigHistory(sqlite_db).list()[0].reason == "SIGHUP"
    finally:
        await reloader.aclose()


def test_rollback_reapplies_a_stored_config_and_writes_the_file(tmp_path: Path, sqlite_db: Database) -> None:
    path, reloader, applied = setup(tmp_path, sqlite_db)
    v1_hash = reloader.current.hash  # type: ignore[union-attr]
    path.write_text(CONFIG_V2)
    assert reloader.reload().applied
    outcome = reloader.rollback(v1_hash[:8])
    assert outcome.applied and outcome.hash == v1_hash
    assert path.read_text() == CONFIG_V1 and applied.configs[-1].hash == v1_hash
    assert ConfigHistory(sqlite_db).list()[0].reason == f"rollback to {v1_hash}"
    assert reloader.check_file() is None  # the watcher sees the file it wrote, not a change
    with pytest.raises(HistoryLookupError):
        reloader.rollback("ffffffff")


def test_rollback_validates_the_stored_config_again(tmp_path: Path, sqlite_db: Database) -> None:
    path, reloader, applied = setup(tmp_path, sqlite_db)
    history = ConfigHistory(sqlite_db)
    current = reloader.current
    assert current is not None
    # A config stored by an older interlock whose schema no longer accepts it.
    stale = LoadedConfig(current.config, "0123456789abcdef", current.source)
    history.record(stale, CONFIG_V1.replace("vendor: qwen", "vendor: qwen\n    retired_field: 1"))
    outcome = reloader.rollback("0123456789")
    assert outcome.status == "rejected" and "retired_field" in " ".join(outcome.problems)
    assert path.read_text() == CONFIG_V1 and applied.configs == []


def test_unchanged_deployments_can_carry_their_state_over() -> None:
    from interlock.config.load import parse_config

    v1, v2 = parse_config(CONFIG_V1), parse_config(CONFIG_V3)
    assert unchanged_deployments(v1, v2) == {"qwen-a"}  # only the server port changed
    assert unchanged_deployments(v1, parse_config(CONFIG_V2)) == set()
