"""Storage: the database seam (SQLite, the default file, or PostgreSQL) with numbered migrations,
and the writer process that commits ledger and audit batches. What is stored (keys, the ledger)
belongs to ``accounting``; the audit log to ``compliance``.
"""

from interlock.storage.database import Database, default_sqlite_path, open_database
from interlock.storage.migrations import MIGRATIONS, migrate

__all__ = ["MIGRATIONS", "Database", "default_sqlite_path", "migrate", "open_database"]
