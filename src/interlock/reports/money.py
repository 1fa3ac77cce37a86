"""Dollar amounts as a reader expects them: ``$1,234``, ``$12.30``, ``$0.0042``, one rule for every format.

Whole dollars from $100 up (cents are noise there), cents from $1, and below a dollar two
significant figures, so a cost of a tenth of a cent still shows its size instead of ``$0.00``.
"""

from __future__ import annotations

import math

NO_VALUE = "—"
SMALLEST = 0.0001  # below this a price is "under $0.0001": more digits would only be noise


def _below_a_dollar(value: float) -> str:
    """Two significant figures, at least two decimals: ``$0.50``, ``$0.015``, ``$0.0042``."""
    decimals = max(2, 1 - math.floor(math.log10(value)))
    text = f"{value:.{decimals}f}"
    if decimals > 2:
        text = text.rstrip("0")
    return "$" + text


def format_usd(value: float | None, *, compact: bool = False) -> str:
    """``$1,234``, ``$12.30``, ``$0.0042``; ``compact`` drops ``.00`` from whole dollars (axis ticks)."""
    if value is None or math.isnan(value):
        return NO_VALUE
    if value < 0:
        return "-" + format_usd(-value, compact=compact)
    if value == 0:
        return "$0" if compact else "$0.00"
    if round(value, 2) >= 100:
        return f"${value:,.0f}"
    if round(value, 2) >= 1:
        text = f"${value:,.2f}"
        return text.removesuffix(".00") if compact else text
    if value < SMALLEST:
        return f"under ${SMALLEST:g}" if not compact else f"${value:.0e}"
    rounded = float(f"{value:.2g}")
    if rounded >= 1:  # 0.996 rounds up to a dollar
        return "$1" if compact else "$1.00"
    return _below_a_dollar(rounded)
