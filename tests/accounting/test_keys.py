"""Virtual API keys: shown once, stored as a hash only, found again by the presented key."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from pathlib import Path

import pytest

from interlock.storage.database import Database, open_database
from interlock.accounting.keys import SqlKeyStore


def test_create_returns_the_key_once_and_stores_only_its_hash(database: Database) -> None:
    store = SqlKeyStore(database)
    created = store.create(
        "ml",
        budget_usd=Decimal("100"),
        period="month",
        rpm=60,
        tpm=100_000,
        models=["gpt-4.1-mini", "llama-3.1-8b"],
    )
    assert created.secret.startswith("il-") and len(created.secret) > 40
    assert created.secret not in repr(created)

    rows = database.fetchall("SELECT * FROM api_keys")
    stored = " ".join(str(value) for row in rows for value in row)
    assert created.secret not in stored
    assert created.secret[3:] not in stored
    assert hashlib.sha256(created.secret.encode()).hexdigest() in stored

    key = store.lookup(created.secret)
    assert key is not None
    assert (key.key_id, key.team, key.budget_usd, key.budget_period) == (
        created.key.key_id,
        "ml",
        100,
        "month",
    )
    assert (key.rpm, key.tpm, key.models) == (60, 100_000, ("gpt-4.1-mini", "llama-3.1-8b"))
    assert key.allows_model("gpt-4.1-mini") and not key.allows_model("gpt-4.1")
    assert key.key_hint == f"il-...{created.secret[-4:]}"


def test_the_sqlite_file_never_contains_the_key(tmp_path: Path) -> None:
    path = tmp_path / "keys.db"
    db = open_database(str(path))
    secret = SqlKeyStore(db).create("ml").secret
    db.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("keys.db"))
    assert secret.encode() not in raw and secret[3:].encode() not in raw


def test_unknown_mangled_and_revoked_keys_are_not_found(database: Database) -> None:
    store = SqlKeyStore(database)
    created = store.create("ml")
    assert store.lookup(created.secret[:-1]) is None
    assert store.lookup("sk-" + created.secret[3:]) is None
    assert store.lookup("") is None

    assert store.revoke(created.key.key_id) is True
    assert store.revoke(created.key.key_id) is False
    assert store.lookup(created.secret) is None
    assert store.list() == []
    [revoked] = store.list(include_revoked=True)
    assert revoked.revoked_at is not None and not revoked.active


def test_list_orders_by_team(database: Database) -> None:
    store = SqlKeyStore(database)
    for team in ("web", "ml", "ml"):
        store.create(team)
    assert [k.team for k in store.list()] == ["ml", "ml", "web"]
    assert len({k.key_id for k in store.list()}) == 3


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"team": " "}, "team"),
        ({"team": "ml", "period": "week"}, "period"),
        ({"team": "ml", "rpm": 0}, "rpm"),
        ({"team": "ml", "budget_usd": Decimal(-1)}, "negative"),
    ],
)
def test_bad_key_settings_are_refused(database: Database, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SqlKeyStore(database).create(**kwargs)
