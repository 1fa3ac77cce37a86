"""Times every console page (HTML shell, stylesheet, scripts and the page's JSON call) over 1M ledger rows.

Run: PYTHONPATH=src python benchmarks/console/bench_console.py [--rows 1000000] [--audit-rows 1000000]
     [--repeat 20] [--json] [--dir DIR]

The ledger is a fresh SQLite file filled through ``SqlLedgerStore.append`` (so the hourly rollup is
written as the gateway writes it), spread over 30 days: 10 teams, 100 keys, 4 models, 3 routes,
8 categories, 5 deployments, 2% errors. The audit log gets ``--audit-rows`` records spread over the
same 30 days. Then a real gateway (uvicorn on 127.0.0.1) serves the console on that database and
each page is loaded ``--repeat`` times the way a browser does: the shell, its CSS and two scripts,
then its data endpoint, one after the other; the time of the whole sequence is reported. The first
load of each page (once per process: it reads the rollup's state, and counts the audit log) is
reported apart, and so is the cold backfill (rolling up records written before the rollup existed).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from interlock.api.app import build_app
from interlock.compliance.audit import AuditEntry, AuditLog
from interlock.config.load import config_from_object
from interlock.config.schema import GatewayConfig
from interlock.gateway.runtime import Runtime
from interlock.storage.database import open_database
from interlock.accounting.keys import SqlKeyStore
from interlock.accounting.ledger import SqlLedgerStore
from interlock.accounting.records import UsageRecord

ADMIN_ENV = "INTERLOCK_BENCH_ADMIN_KEY"
TOTALS = "SELECT SUM(requests), SUM(errors) FROM usage_hourly WHERE dim = 'all'"
PAGES = ["overview", "routing", "deployments", "keys", "compliance", "evaluations"]
MODELS = ["frontier", "mid", "small", "tiny"]
DEPLOYMENTS = ["frontier", "mid-a", "mid-b", "small", "tiny"]
CATEGORIES = ["extraction", "classification", "summarisation", "coding", "math", "chat", "translation", "rag"]


def fill_ledger(db_path: Path, rows: int, keys: list[tuple[str, str]], seed: int = 7) -> float:
    db = open_database(str(db_path))
    store = SqlLedgerStore(db)
    rng = random.Random(seed)
    now = datetime.now(UTC)
    started = time.perf_counter()
    batch: list[UsageRecord] = []
    for n in range(rows):
        key_id, team = keys[rng.randrange(len(keys))]
        model = rng.choice(MODELS)
        cost = Decimal(str(round(rng.uniform(0.00001, 0.02 if model == "frontier" else 0.002), 8)))
        batch.append(
            UsageRecord(
                model=model,
                ts=now - timedelta(seconds=rng.uniform(0, 30 * 86400)),
                key_id=key_id,
                team=team,
                route=rng.choice(["auto", "premium", None]),
                category=rng.choice(CATEGORIES),
                deployment=rng.choice(DEPLOYMENTS),
                prompt_tokens=rng.randrange(50, 4000),
                completion_tokens=rng.randrange(10, 800),
                cost_usd=cost,
                baseline_cost_usd=cost * 4 + Decimal("0.001"),
                latency_ms=rng.randrange(80, 4000),
                decision_reason="cheapest model above the quality floor",
                status="ok" if rng.random() > 0.02 else "upstream_error",
            )
        )
        if len(batch) == 5000 or n == rows - 1:
            store.append(batch)
            batch = []
    db.close()
    return time.perf_counter() - started


def fill_audit(path: Path, rows: int, seed: int = 11) -> float:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    start = now - timedelta(days=30)
    clock_at = [start]
    log = AuditLog(path, clock=lambda: clock_at[0])
    step = timedelta(seconds=30 * 86400 / max(rows, 1))
    classes = [[], [], [], ["email"], ["phi"], ["secret"], ["email", "phone"]]
    started = time.perf_counter()
    batch: list[AuditEntry] = []
    for n in range(rows):
        chosen = rng.choice(classes)
        action = "allow" if not chosen else rng.choice(["route", "redact", "refuse"])
        batch.append(
            AuditEntry(
                request_id=f"req-{n}",
                data_classes=chosen,
                rules=[],
                action=action,
                config_hash="bench",
                deployment=None if action == "refuse" else "small",
            )
        )
        if len(batch) == 5000 or n == rows - 1:
            log.append_many(batch)
            clock_at[0] += step * len(batch)
            batch = []
    log.close()
    return time.perf_counter() - started


def time_backfill(db_path: Path) -> float:
    """Pretend every record predates the rollup, then time the one-off roll-up of them."""
    conn = sqlite3.connect(db_path)
    live = conn.execute(TOTALS).fetchone()
    conn.execute("DELETE FROM usage_hourly")
    conn.execute(
        "UPDATE usage_hourly_state SET backfill_from = 0, backfilled_at = NULL, "
        "backfill_below = (SELECT MAX(id) + 1 FROM usage_records)"
    )
    conn.commit()
    conn.close()
    db = open_database(str(db_path))
    started = time.perf_counter()
    SqlLedgerStore(db).backfill_hourly()
    elapsed = time.perf_counter() - started
    db.close()
    with sqlite3.connect(db_path) as conn:
        again = conn.execute(TOTALS).fetchone()
    assert again == live, f"the backfill disagrees with the rollup written live: {again} != {live}"
    return elapsed


def serve(db_path: Path, audit_path: Path) -> tuple[uvicorn.Server, str]:
    config = GatewayConfig.model_validate(
        {
            "server": {"auth": True, "admin_key_env": ADMIN_ENV},
            "accounting": {"database_url": str(db_path), "baseline_model": "frontier"},
            "audit_log": str(audit_path),
            "deployments": [
                {
                    "name": d,
                    "type": "openai",
                    "model": d.split("-")[0],
                    "vendor": "bench",
                    "perimeter": "external",
                    "context_window": 8192,
                    "base_url": "http://127.0.0.1:9/v1",
                    "price": {"type": "per_token", "input_per_mtok": 1.0, "output_per_mtok": 2.0},
                }
                for d in DEPLOYMENTS
            ],
        }
    )
    runtime = Runtime(config_from_object(config, source="<bench>"))
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(build_app(runtime), host="127.0.0.1", port=port, log_level="error")
    )
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 120
    while not server.started:
        if time.monotonic() > deadline:
            raise SystemExit("the gateway did not start")
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{port}"


def load_page(client: httpx.Client, page: str) -> float:
    started = time.perf_counter()
    for path in (
        f"/console/{page}",
        "/console/static/console.css",
        "/console/static/charts.js",
        "/console/static/console.js",
    ):
        client.get(path).raise_for_status()
    query = "" if page in ("keys", "evaluations") else "?days=7"
    client.get(f"/console/api/{page}{query}").raise_for_status()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--audit-rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--dir", type=Path, help="keep the databases here; reuse them if already filled")
    args = parser.parse_args()
    os.environ[ADMIN_ENV] = "bench-admin-key"
    folder = args.dir or Path(tempfile.mkdtemp(prefix="interlock-console-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    db_path, audit_path = folder / "ledger.db", folder / "audit.db"
    ledger_s = audit_s = 0.0
    if not db_path.exists():
        db = open_database(str(db_path))
        store = SqlKeyStore(db)
        keys = [
            (store.create(f"team-{k % 10}", budget_usd=Decimal(500)).key.key_id, f"team-{k % 10}")
            for k in range(100)
        ]
        db.close()
        print(f"filling {args.rows:,} ledger rows and {args.audit_rows:,} audit records in {folder} ...",
              file=sys.stderr)
        ledger_s = fill_ledger(db_path, args.rows, keys)
        audit_s = fill_audit(audit_path, args.audit_rows)
    backfill_s = time_backfill(db_path)
    server, url = serve(db_path, audit_path)
    results: dict[str, Any] = {
        "rows": args.rows,
        "audit_rows": args.audit_rows,
        "ledger_fill_s": round(ledger_s, 1),
        "audit_fill_s": round(audit_s, 1),
        "backfill_s": round(backfill_s, 2),
        "pages": {},
    }
    try:
        with httpx.Client(base_url=url, timeout=60) as client:
            assert client.post("/console/login", data={"admin_key": "bench-admin-key"}).status_code == 303
            for page in PAGES:
                started = time.perf_counter()
                first = load_page(client, page)  # once per process: rollup state, audit counts
                while page == "compliance" and client.get("/console/api/compliance").json().get("counting"):
                    time.sleep(0.05)  # the first count of the audit log runs in the background
                counted = time.perf_counter() - started
                times = sorted(load_page(client, page) for _ in range(args.repeat))
                results["pages"][page] = {
                    "first_ms": round(first, 1),
                    "ready_s": round(counted, 2),
                    "p50_ms": round(statistics.median(times), 1),
                    "p95_ms": round(times[max(0, int(len(times) * 0.95) - 1)], 1),
                    "max_ms": round(times[-1], 1),
                }
    finally:
        server.should_exit = True
        time.sleep(0.5)
        if args.dir is None:
            shutil.rmtree(folder, ignore_errors=True)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(
        f"ledger fill {results['ledger_fill_s']} s, audit fill {results['audit_fill_s']} s, "
        f"cold rollup backfill {results['backfill_s']} s"
    )
    print(f"{'page':<14}{'first ms':>10}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}")
    for page, t in results["pages"].items():
        print(f"{page:<14}{t['first_ms']:>10}{t['p50_ms']:>10}{t['p95_ms']:>10}{t['max_ms']:>10}")


if __name__ == "__main__":
    main()
