"""``interlock spend``: what the ledger says was spent, and saved against the baseline, per group.

Reads the usage ledger (``--db`` or ``$INTERLOCK_DB_URL``, else the default SQLite file) and prints
requests, tokens, cost, baseline cost and savings per team, key, route, category, model or
deployment over a date range, with a totals row. ``--json`` prints the same rows as JSON.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from interlock.cli.report_cmd import ledger_url
from interlock.storage.database import ENV_DB_URL, open_database
from interlock.accounting.ledger import SqlLedgerStore
from interlock.accounting.records import SpendRow

console = Console()


class SpendBy(StrEnum):
    team = "team"
    key = "key"
    route = "route"
    category = "category"
    model = "model"
    deployment = "deployment"


DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar=ENV_DB_URL,
        show_default=False,
        help="ledger: SQLite path or postgresql:// URL (default: interlock.db in the user data dir)",
    ),
]


def usd(amount: Decimal | None) -> str:
    """``$1,234.56``; below a cent, six decimals (``$0.000123``) so small spend does not read as zero."""
    if amount is None:
        return "unknown"
    if amount == 0 or abs(amount) >= Decimal("0.01"):
        return f"${amount:,.2f}"
    return f"${amount:,.6f}"


def _day(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"expected a date as YYYY-MM-DD, got {text!r}", param_hint=option) from None


def date_range(since: str | None, until: str | None) -> tuple[datetime | None, datetime | None]:
    """``--since`` from 00:00 UTC of that day; ``--until`` includes its whole day."""
    start, end = _day(since, "--since"), _day(until, "--until")
    if start and end and end < start:
        raise typer.BadParameter("--until is before --since", param_hint="--until")
    first = datetime.combine(start, time(), UTC) if start else None
    after = datetime.combine(end + timedelta(days=1), time(), UTC) if end else None
    return first, after


def savings_share(row: SpendRow) -> str:
    if not row.baseline_cost_usd:
        return "-"
    return f"{row.savings_usd / row.baseline_cost_usd:.1%}"


def row_dict(row: SpendRow) -> dict[str, Any]:
    return {
        "group": row.group,
        "requests": row.requests,
        "prompt_tokens": row.prompt_tokens,
        "completion_tokens": row.completion_tokens,
        "cached_tokens": row.cached_tokens,
        "cost_usd": f"{row.cost_usd:f}",
        "baseline_cost_usd": f"{row.baseline_cost_usd:f}",
        "savings_usd": f"{row.savings_usd:f}",
        "unpriced_requests": row.unpriced_requests,
        "estimated_requests": row.estimated_requests,
        "first_at": row.first_at.isoformat() if row.first_at else None,
        "last_at": row.last_at.isoformat() if row.last_at else None,
    }


# Headers of the figures, in the order of ``_cells``; the token and count columns give way first when
# the terminal is narrow (the unpriced and estimated counts are also said below the table).
_HEADERS = ("requests", "prompt tok", "output tok", "cached tok", "cost", "baseline cost", "savings", "saved",
            "unpriced", "estimated")
_ESSENTIAL = ("requests", "cost", "baseline cost", "savings", "saved")


def spend_table(rows: list[SpendRow], total: SpendRow, by: SpendBy | None, title: str,
                width: int | None = None) -> Table:
    """One row per group and a totals footer; without ``by``, the totals alone.

    Figures are never cut; when all columns do not fit ``width``, only the essential ones are shown.
    """
    groups = [("total" if by is None else "(none)" if row.group is None else row.group, row)
              for row in (rows if by else [total])]
    cells = [dict(zip(_HEADERS, _cells(row), strict=True)) for _, row in groups]
    footer = dict(zip(_HEADERS, _cells(total), strict=True))
    headers, caption = _HEADERS, None
    if width is not None and _table_width(groups, cells + [footer], _HEADERS) > width:
        headers, caption = _ESSENTIAL, "token counts left out to fit the terminal; --json has every figure"
    table = Table(title=title, caption=caption, show_footer=by is not None)
    # a long name folds onto more lines rather than being cut or pushing the figures out
    table.add_column(by.value if by else "", footer="total", overflow="fold", ratio=1)
    for header in headers:
        table.add_column(header, footer=footer[header], justify="right", no_wrap=True)
    for (name, _), row_cells in zip(groups, cells, strict=True):
        table.add_row(escape(name), *(row_cells[h] for h in headers))
    return table


def _table_width(groups: list[tuple[str, SpendRow]], cells: list[dict[str, str]], headers: tuple[str, ...]) -> int:
    name = max([len(n) for n, _ in groups] + [len("total")])
    figures = sum(max(len(h), *(len(c[h]) for c in cells)) for h in headers)
    return name + figures + 3 * (len(headers) + 1) + 1  # a padded cell and a border per column


def _cells(row: SpendRow) -> list[str]:
    return [
        f"{row.requests:,}",
        f"{row.prompt_tokens:,}",
        f"{row.completion_tokens:,}",
        f"{row.cached_tokens:,}",
        usd(row.cost_usd),
        usd(row.baseline_cost_usd),
        usd(row.savings_usd),
        savings_share(row),
        f"{row.unpriced_requests:,}",
        f"{row.estimated_requests:,}",
    ]


def _period_text(since: datetime | None, until: datetime | None) -> str:
    if since is None and until is None:
        return "all time"
    start = since.date().isoformat() if since else "the first record"
    end = (until - timedelta(days=1)).date().isoformat() if until else "now"
    return f"{start} to {end}"


def spend(
    by: Annotated[
        SpendBy | None, typer.Option("--by", help="one row per team, key, route, ... (default: totals)")
    ] = None,
    since: Annotated[str | None, typer.Option("--since", help="from this day, YYYY-MM-DD (UTC)")] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="up to and including this day, YYYY-MM-DD")
    ] = None,
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the rows as JSON")] = False,
) -> None:
    """Spend from the usage ledger: requests, tokens, cost, baseline cost and savings."""
    start, end = date_range(since, until)
    database = open_database(ledger_url(db, None))
    try:
        store = SqlLedgerStore(database)
        totals = store.spend(since=start, until=end)
        rows = store.spend(by.value, since=start, until=end) if by else totals
    finally:
        database.close()
    total = totals[0] if totals else None
    if as_json:
        print(
            json.dumps(
                {
                    "by": by.value if by else None,
                    "since": start.isoformat() if start else None,
                    "until": end.isoformat() if end else None,
                    "rows": [row_dict(r) for r in rows] if by else [],
                    "total": row_dict(total) if total else None,
                },
                indent=2,
            )
        )
        return
    period = _period_text(start, end)
    if total is None:
        console.print(f"No requests in the ledger for {period}.")
        return
    console.print(spend_table(rows, total, by, f"Spend, {period}", width=console.width))
    if total.unpriced_requests:
        console.print(
            f"{total.unpriced_requests:,} request(s) had no known price: their cost is not included."
        )
    if total.estimated_requests:
        console.print(
            f"{total.estimated_requests:,} request(s) had tokens counted locally (no upstream usage)."
        )
