"""Reload notices between gateways: what one applies, the others learn from the shared config history
and re-read their own file; one whose file says otherwise logs both hashes and keeps its config."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from versions.builders import CONFIG_V1

from interlock.config.history import ConfigHistory
from interlock.config.load import LoadedConfig, load_config
from interlock.config.reload import ConfigReloader
from interlock.storage.database import Database, open_database

CONFIG_V2 = CONFIG_V1.replace("context_window: 1000", "context_window: 2000")
CONFIG_V3 = CONFIG_V1.replace("context_window: 1000", "context_window: 3000")


@pytest.fixture
def db(tmp_path: Path):
    database = open_database(str(tmp_path / "shared.db"))
    yield database
    database.close()


def gateway(tmp_path: Path, db: Database, name: str, text: str = CONFIG_V1) -> tuple[Path, ConfigReloader, list[LoadedConfig]]:
    """One gateway: its own config file, the shared history, a list standing in for its runtime."""
    path = tmp_path / name / "gateway.yaml"
    path.parent.mkdir()
    path.write_text(text)
    applied: list[LoadedConfig] = []
    reloader = ConfigReloader(path, applied.append, current=load_config(path), history=ConfigHistory(db),
                              poll_interval_s=3600, peer_poll_s=0.02)
    reloader.record_current()
    return path, reloader, applied


def test_a_peer_rereads_its_file_when_another_gateway_applies_a_config(tmp_path: Path, db: Database) -> None:
    path_a, a, _ = gateway(tmp_path, db, "a")
    path_b, b, applied_b = gateway(tmp_path, db, "b")
    history = ConfigHistory(db)
    assert b.check_peers(history.newest_notice()) is None  # nothing new since it started
    path_a.write_text(CONFIG_V2)
    path_b.write_text(CONFIG_V2)  # the rollout reached b's host too, but b's watcher has not looked yet
    assert a.reload().applied
    outcome = b.check_peers(history.newest_notice())
    assert outcome is not None and outcome.applied
    assert applied_b[-1].hash == a.current.hash  # type: ignore[union-attr]
    assert "applied by another gateway" in outcome.trigger
    assert b.check_peers(history.newest_notice()) is None  # a notice is acted on once
    assert a.check_peers(history.newest_notice()) is None  # its own change is no notice to itself


def test_a_peer_whose_file_differs_keeps_its_config_and_says_why(
    tmp_path: Path, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    path_a, a, _ = gateway(tmp_path, db, "a")
    _, b, applied_b = gateway(tmp_path, db, "b")
    path_a.write_text(CONFIG_V3)
    assert a.reload().applied
    with caplog.at_level(logging.WARNING, logger="interlock.config.reload"):
        outcome = b.check_peers(ConfigHistory(db).newest_notice())
    assert outcome is not None and outcome.status == "unchanged" and applied_b == []
    said = caplog.text
    assert a.current.hash in said and b.current.hash in said  # type: ignore[union-attr]
    assert str(b.path) in said and "stays in force" in said


async def test_the_listener_applies_a_peers_change_within_its_poll(tmp_path: Path, db: Database) -> None:
    path_a, a, _ = gateway(tmp_path, db, "a")
    path_b, b, applied_b = gateway(tmp_path, db, "b")
    b.start_watching()
    try:
        path_a.write_text(CONFIG_V2)
        path_b.write_text(CONFIG_V2)
        assert a.reload().applied
        async with asyncio.timeout(3):
            while not applied_b:
                await asyncio.sleep(0.01)
    finally:
        await b.aclose()
    assert applied_b[-1].hash == a.current.hash  # type: ignore[union-attr]
