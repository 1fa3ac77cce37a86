"""Storage: the usage ledger, its batched writer, and virtual API keys, on SQLite (the
default file) or PostgreSQL behind one ``Database`` seam with numbered migrations.
"""

from interlock.storage.database import Database, default_sqlite_path, open_database
from interlock.storage.key_auth import KeyAuthenticator
from interlock.storage.keys import ApiKey, CreatedKey, KeyStore, SqlKeyStore, hash_key
from interlock.storage.ledger import LedgerStore, SqlLedgerStore, monthly_projection
from interlock.storage.migrations import MIGRATIONS, migrate
from interlock.storage.records import GroupBy, Projection, SpendRow, UsageRecord
from interlock.storage.writer import LedgerClosed, LedgerWriteError, LedgerWriter

__all__ = [
    "MIGRATIONS",
    "ApiKey",
    "CreatedKey",
    "Database",
    "GroupBy",
    "KeyAuthenticator",
    "KeyStore",
    "LedgerClosed",
    "LedgerStore",
    "LedgerWriteError",
    "LedgerWriter",
    "Projection",
    "SpendRow",
    "SqlKeyStore",
    "SqlLedgerStore",
    "UsageRecord",
    "default_sqlite_path",
    "hash_key",
    "migrate",
    "monthly_projection",
    "open_database",
]
