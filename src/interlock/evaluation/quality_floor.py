"""Paired statistics behind a routing promise: how much traffic a cheaper model may take and stay above a floor.

On the items both models answered, send a weight ``w_i`` of item ``i`` to the cheaper model
(``w_i = s`` for a traffic mix, 0 or 1 for a per-prompt router). Routed quality stays at or above
``target`` times the stronger model's exactly when the mean of

    z_i = w_i * (strong_i - cheap_i) - (1 - target) * strong_i

is at most 0. A promise holds at ``risk`` when the one-sided upper confidence bound of that mean
(Student t, paired items) is at most 0: differences are measured on the same items, so the bound is
much tighter than one built from two separate quality intervals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import t as student_t

SHARE_STEP = 0.001  # shares are promised to a tenth of a percent, rounded down


@dataclass(frozen=True, slots=True)
class Bounds:
    value: float
    low: float
    high: float


def _critical(n: int, risk: float) -> float:
    return float(student_t.ppf(1.0 - risk, n - 1)) if n > 1 else float("inf")


def mean_bounds(values: np.ndarray, risk: float) -> Bounds:
    """The mean with its lower and upper one-sided bounds at ``risk`` (a two-sided 1 - 2*risk interval)."""
    n = values.size
    mean = float(values.mean()) if n else 0.0
    if n < 2:
        return Bounds(mean, -np.inf if n else 0.0, np.inf if n else 0.0)
    half = _critical(n, risk) * float(values.std(ddof=1)) / np.sqrt(n)
    return Bounds(mean, mean - half, mean + half)


def floor_slack_upper(weights: np.ndarray, cheap: np.ndarray, strong: np.ndarray, target: float,
                      risk: float) -> np.ndarray:
    """Upper bounds of mean(z) for each row of ``weights`` (shape (k, n) or (n,)); <= 0 means the floor holds."""
    w = np.atleast_2d(weights)
    z = w * (strong - cheap) - (1.0 - target) * strong
    n = strong.size
    mean = z.mean(axis=1)
    if n < 2:
        return np.where(mean <= 0, mean, np.inf)
    spread = z.std(axis=1, ddof=1)
    return mean + _critical(n, risk) * spread / np.sqrt(n)


def max_cheap_share(cheap: np.ndarray, strong: np.ndarray, target: float, risk: float) -> float:
    """The largest share of traffic (a multiple of ``SHARE_STEP``) the cheaper model may take at ``risk``."""
    # z(s) = s*d - c*b is linear in s, so its mean and variance are closed forms in s: no (shares x items) array.
    n, c = strong.size, 1.0 - target
    shares = np.arange(0.0, 1.0 + SHARE_STEP / 2, SHARE_STEP)
    d = strong - cheap
    mean = shares * d.mean() - c * strong.mean()
    if n < 2:
        upper = np.where(mean <= 0, mean, np.inf)
    else:
        cov = np.cov(np.vstack([d, strong]), ddof=1)
        var = shares**2 * cov[0, 0] + c**2 * cov[1, 1] - 2 * shares * c * cov[0, 1]
        upper = mean + _critical(n, risk) * np.sqrt(np.maximum(var, 0.0)) / np.sqrt(n)
    holds = upper <= 1e-12
    return float(shares[holds].max()) if holds.any() else 0.0


def best_threshold(scores: np.ndarray, cheap: np.ndarray, strong: np.ndarray, target: float,
                   risk: float, grid: int = 200) -> tuple[float, float]:
    """For a per-prompt router (``score >= threshold`` -> cheaper model), the threshold sending the most
    items to the cheaper model while the floor holds at ``risk``: ``(threshold, cheap share)``.
    ``(inf, 0.0)`` when no threshold does better than sending everything to the stronger model."""
    candidates = np.unique(np.quantile(scores, np.linspace(0.0, 1.0, grid + 1)))
    weights = (scores[None, :] >= candidates[:, None]).astype(float)
    holds = floor_slack_upper(weights, cheap, strong, target, risk) <= 1e-12
    if not holds.any():
        return float("inf"), 0.0
    shares = weights.mean(axis=1)
    best = int(np.argmax(np.where(holds, shares, -1.0)))
    return float(candidates[best]), float(shares[best])
