"""``SqlShadowStore``: shadow comparisons in the ``shadow_results`` table (SQLite or PostgreSQL)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from interlock.storage.database import Database, Row, as_datetime, as_decimal
from interlock.versions.migrations import ensure_versions_schema
from interlock.versions.results import ShadowResult, SideOutcome

_SIDE = (
    "model",
    "deployment",
    "text",
    "error",
    "latency_ms",
    "prompt_tokens",
    "completion_tokens",
    "cost_usd",
)
_COLUMNS = (
    "ts",
    "alias",
    "request_id",
    "config_hash",
    *(f"primary_{c}" for c in _SIDE),
    *(f"shadow_{c}" for c in _SIDE),
)
_INSERT = f"INSERT INTO shadow_results ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM shadow_results"


def _side_values(side: SideOutcome) -> list[Any]:
    return [
        side.model,
        side.deployment,
        side.text,
        side.error,
        side.latency_ms,
        side.prompt_tokens,
        side.completion_tokens,
        side.cost_usd,
    ]


def _side(values: Row) -> SideOutcome:
    model, deployment, text, error, latency, prompt, completion, cost = values
    return SideOutcome(
        model=model,
        deployment=deployment,
        text=text,
        latency_ms=latency,
        prompt_tokens=prompt,
        completion_tokens=completion,
        cost_usd=as_decimal(cost),
        error=error,
    )


def _result(row: Row) -> ShadowResult:
    ts = as_datetime(row[0])
    assert ts is not None  # the column is NOT NULL
    n = len(_SIDE)
    return ShadowResult(
        alias=row[1],
        request_id=row[2],
        ts=ts,
        primary=_side(row[4 : 4 + n]),
        shadow=_side(row[4 + n : 4 + 2 * n]),
        config_hash=row[3],
    )


class SqlShadowStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        ensure_versions_schema(db)

    def add(self, result: ShadowResult) -> None:
        values = [result.ts, result.alias, result.request_id, result.config_hash]
        values += _side_values(result.primary) + _side_values(result.shadow)
        with self.db.transaction() as tx:
            tx.execute(_INSERT, values)

    def results(
        self, alias: str, *, since: datetime | None = None, limit: int | None = None
    ) -> list[ShadowResult]:
        sql = f"{_SELECT} WHERE alias = ?"
        params: list[Any] = [alias]
        if since is not None:
            sql += " AND ts >= ?"
            params.append(since)
        sql += " ORDER BY ts DESC, id DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [_result(row) for row in self.db.fetchall(sql, params)]

    def aliases(self) -> dict[str, int]:
        rows = self.db.fetchall("SELECT alias, COUNT(*) FROM shadow_results GROUP BY alias ORDER BY alias")
        return {row[0]: int(row[1]) for row in rows}
