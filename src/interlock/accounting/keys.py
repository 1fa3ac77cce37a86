"""Virtual API keys: created once in plaintext, stored only as a SHA-256 hash.

A key is ``il-`` plus 32 random bytes (URL-safe base64), so a fast unsalted hash is
safe: there is nothing to guess. Lookup finds the row by hash and then compares the
hashes in constant time. Only a short hint (``il-...wxyz``) is kept for display.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol

from interlock.storage.database import Database, as_datetime, as_decimal

KEY_PREFIX = "il-"
PERIODS = ("day", "month")

_COLUMNS = (
    "key_id, key_hash, key_hint, team, budget_usd, budget_period, rpm, tpm, models, created_at, revoked_at"
)


def hash_key(presented: str) -> str:
    return hashlib.sha256(presented.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A key's record; never holds the key itself."""

    key_id: str
    team: str
    key_hint: str
    budget_usd: Decimal | None
    budget_period: str
    rpm: int | None
    tpm: int | None
    models: tuple[str, ...]
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def allows_model(self, model: str) -> bool:
        """An empty model list allows every model."""
        return not self.models or model in self.models


@dataclass(frozen=True, slots=True)
class CreatedKey:
    """The one moment the plaintext exists: show ``secret`` to the user, then drop it."""

    key: ApiKey
    secret: str = field(repr=False)


class KeyStore(Protocol):
    def create(
        self,
        team: str,
        *,
        budget_usd: Decimal | None = None,
        period: str = "month",
        rpm: int | None = None,
        tpm: int | None = None,
        models: Sequence[str] = (),
    ) -> CreatedKey: ...

    def list(self, *, include_revoked: bool = False) -> list[ApiKey]: ...

    def revoke(self, key_id: str) -> bool: ...

    def lookup(self, presented: str) -> ApiKey | None: ...

    def revocation_stamp(self) -> str:
        """Changes whenever a key is revoked; cheap enough to read twice a second."""
        ...


def _from_row(row: Sequence[Any]) -> ApiKey:
    created = as_datetime(row[9])
    assert created is not None  # NOT NULL column
    return ApiKey(
        key_id=row[0],
        team=row[3],
        key_hint=row[2],
        budget_usd=as_decimal(row[4]),
        budget_period=row[5],
        rpm=row[6],
        tpm=row[7],
        models=tuple(json.loads(row[8])),
        created_at=created,
        revoked_at=as_datetime(row[10]),
    )


def _validate(team: str, budget_usd: Decimal | None, period: str, rpm: int | None, tpm: int | None) -> None:
    if not team.strip():
        raise ValueError("a key needs a team")
    if budget_usd is not None and budget_usd < 0:
        raise ValueError("budget_usd cannot be negative")
    if period not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}, not {period!r}")
    for name, value in (("rpm", rpm), ("tpm", tpm)):
        if value is not None and value < 1:
            raise ValueError(f"{name} must be at least 1")


class SqlKeyStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create(
        self,
        team: str,
        *,
        budget_usd: Decimal | None = None,
        period: str = "month",
        rpm: int | None = None,
        tpm: int | None = None,
        models: Sequence[str] = (),
    ) -> CreatedKey:
        _validate(team, budget_usd, period, rpm, tpm)
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        key = ApiKey(
            key_id="key_" + secrets.token_hex(6),
            team=team,
            key_hint=f"{KEY_PREFIX}...{secret[-4:]}",
            budget_usd=None if budget_usd is None else Decimal(budget_usd),
            budget_period=period,
            rpm=rpm,
            tpm=tpm,
            models=tuple(models),
            created_at=datetime.now(UTC),
        )
        with self.db.transaction() as tx:
            tx.execute(
                f"INSERT INTO api_keys ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    key.key_id,
                    hash_key(secret),
                    key.key_hint,
                    key.team,
                    key.budget_usd,
                    key.budget_period,
                    key.rpm,
                    key.tpm,
                    json.dumps(list(key.models)),
                    key.created_at,
                    None,
                ),
            )
        return CreatedKey(key, secret)

    def list(self, *, include_revoked: bool = False) -> list[ApiKey]:
        where = "" if include_revoked else " WHERE revoked_at IS NULL"
        rows = self.db.fetchall(f"SELECT {_COLUMNS} FROM api_keys{where} ORDER BY team, created_at")
        return [_from_row(r) for r in rows]

    def get(self, key_id: str) -> ApiKey | None:
        rows = self.db.fetchall(f"SELECT {_COLUMNS} FROM api_keys WHERE key_id = ?", (key_id,))
        return _from_row(rows[0]) if rows else None

    def revoke(self, key_id: str) -> bool:
        """Revoke an active key; ``False`` if there is no such active key."""
        with self.db.transaction() as tx:
            changed = tx.execute(
                "UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL",
                (datetime.now(UTC), key_id),
            )
        return changed > 0

    def revocation_stamp(self) -> str:
        # Revocation is permanent, so the count only grows; the newest time still moves if
        # someone deletes revoked rows by hand.
        rows = self.db.fetchall("SELECT COUNT(*), MAX(revoked_at) FROM api_keys WHERE revoked_at IS NOT NULL")
        count, newest = rows[0] if rows else (0, None)
        return f"{count}:{newest}"

    def lookup(self, presented: str) -> ApiKey | None:
        """The active key matching ``presented``, or ``None``."""
        if not presented.startswith(KEY_PREFIX):
            return None
        digest = hash_key(presented)
        rows = self.db.fetchall(f"SELECT {_COLUMNS} FROM api_keys WHERE key_hash = ?", (digest,))
        if not rows or not hmac.compare_digest(rows[0][1], digest):
            return None
        key = _from_row(rows[0])
        return key if key.active else None
