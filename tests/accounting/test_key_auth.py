"""Authenticating presented keys on the request path."""

from __future__ import annotations

import pytest

from interlock.errors import AuthenticationFailed
from interlock.storage.database import Database
from interlock.accounting.key_auth import KeyAuthenticator
from interlock.accounting.keys import SqlKeyStore


class Ticker:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def keys(database: Database) -> SqlKeyStore:
    return SqlKeyStore(database)


async def test_a_bearer_key_authenticates(keys: SqlKeyStore) -> None:
    created = keys.create("ml")
    auth = KeyAuthenticator(keys)
    assert (await auth.authenticate(f"Bearer {created.secret}")).key_id == created.key.key_id
    assert (await auth.authenticate(created.secret)).team == "ml"


@pytest.mark.parametrize("presented", [None, "", "Bearer ", "Bearer il-nope"])
async def test_missing_or_wrong_keys_are_401_without_echoing_the_key(keys: SqlKeyStore, presented) -> None:
    with pytest.raises(AuthenticationFailed) as caught:
        await KeyAuthenticator(keys).authenticate(presented)
    assert caught.value.status == 401
    assert "il-nope" not in caught.value.message


async def test_a_revoked_key_is_refused_at_the_next_revocation_check_not_the_cache_ttl(keys: SqlKeyStore) -> None:
    clock = Ticker()
    created = keys.create("ml")
    auth = KeyAuthenticator(keys, ttl_s=30, revocation_check_s=0.5, clock=clock)
    await auth.authenticate(created.secret)
    keys.revoke(created.key.key_id)

    clock.now = 0.4
    await auth.authenticate(created.secret)  # cached, and the stamp was read 0.4 s ago
    clock.now = 0.5
    with pytest.raises(AuthenticationFailed):
        await auth.authenticate(created.secret)


async def test_another_key_revoked_leaves_the_others_working(keys: SqlKeyStore) -> None:
    clock = Ticker()
    kept, dropped = keys.create("ml"), keys.create("ml")
    auth = KeyAuthenticator(keys, revocation_check_s=0.5, clock=clock)
    for created in (kept, dropped):
        await auth.authenticate(created.secret)
    keys.revoke(dropped.key.key_id)
    clock.now = 1
    assert (await auth.authenticate(kept.secret)).key_id == kept.key.key_id
    with pytest.raises(AuthenticationFailed):
        await auth.authenticate(dropped.secret)


def test_the_revocation_stamp_moves_only_on_revocation(keys: SqlKeyStore) -> None:
    before = keys.revocation_stamp()
    created = keys.create("ml")
    assert keys.revocation_stamp() == before
    keys.revoke(created.key.key_id)
    after = keys.revocation_stamp()
    assert after != before
    assert not keys.revoke(created.key.key_id) and keys.revocation_stamp() == after


class CountingKeys:
    def __init__(self, store: SqlKeyStore) -> None:
        self.store = store
        self.lookups = 0

    def lookup(self, presented: str):
        self.lookups += 1
        return self.store.lookup(presented)

    def revocation_stamp(self) -> str:
        return self.store.revocation_stamp()


async def test_answers_are_cached_by_hash_good_and_bad(database: Database) -> None:
    clock = Ticker()
    keys = CountingKeys(SqlKeyStore(database))
    auth = KeyAuthenticator(keys, ttl_s=30, negative_ttl_s=5, clock=clock)  # type: ignore[arg-type]
    created = keys.store.create("ml")
    for _ in range(3):
        await auth.authenticate(created.secret)
        with pytest.raises(AuthenticationFailed):
            await auth.authenticate("il-wrong")
    assert keys.lookups == 2
    clock.now = 6  # the negative answer expired, the positive one has not
    with pytest.raises(AuthenticationFailed):
        await auth.authenticate("il-wrong")
    await auth.authenticate(created.secret)
    assert keys.lookups == 3


class StampDown(CountingKeys):
    """The key database stops answering the revocation stamp (a network partition)."""

    down = False

    def revocation_stamp(self) -> str:
        if self.down:
            raise ConnectionError("database unreachable")
        return super().revocation_stamp()


async def test_an_unreadable_stamp_keeps_cached_keys_until_their_ttl(database: Database) -> None:
    clock = Ticker()
    keys = StampDown(SqlKeyStore(database))
    created = keys.store.create("ml")
    auth = KeyAuthenticator(keys, ttl_s=30, revocation_check_s=0.5, clock=clock)  # type: ignore[arg-type]
    await auth.authenticate(created.secret)
    keys.down = True
    clock.now = 10
    assert (await auth.authenticate(created.secret)).key_id == created.key.key_id
    keys.down = False
    keys.store.revoke(created.key.key_id)
    clock.now = 11
    with pytest.raises(AuthenticationFailed):
        await auth.authenticate(created.secret)
