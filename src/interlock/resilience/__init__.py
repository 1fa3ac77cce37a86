"""Resilience: timeouts, retries, circuit breakers, health, balancing, hedging and fallback.

``GuardedProvider`` puts one deployment's provider behind its breaker, limits and health record;
``DeploymentRegistry`` keeps one per deployment and builds a per-request ``FallbackChain``.
See docs/resilience.md.
"""

from interlock.errors import AllCandidatesFailed, CircuitOpen, NoEligibleDeployment, StreamInterrupted
from interlock.resilience.attempts import Attempt, AttemptReport
from interlock.resilience.breaker import BreakerSettings, BreakerState, CircuitBreaker
from interlock.resilience.clock import Clock, ManualClock, MonotonicClock
from interlock.resilience.failures import Outcome
from interlock.resilience.fallback import ChainPolicy, FallbackChain
from interlock.resilience.guard import GuardedProvider
from interlock.resilience.health import DeploymentHealth, HealthSnapshot, MetricSample
from interlock.resilience.hedging import HedgeSettings
from interlock.resilience.registry import DeploymentRegistry, DeploymentStatus, ResilienceSettings
from interlock.resilience.retry import RetryPolicy, RetrySettings
from interlock.resilience.timeouts import TimeoutSettings

__all__ = [
    "AllCandidatesFailed",
    "Attempt",
    "AttemptReport",
    "BreakerSettings",
    "BreakerState",
    "ChainPolicy",
    "CircuitBreaker",
    "CircuitOpen",
    "Clock",
    "DeploymentHealth",
    "DeploymentRegistry",
    "DeploymentStatus",
    "FallbackChain",
    "GuardedProvider",
    "HealthSnapshot",
    "HedgeSettings",
    "ManualClock",
    "MetricSample",
    "MonotonicClock",
    "NoEligibleDeployment",
    "Outcome",
    "ResilienceSettings",
    "RetryPolicy",
    "RetrySettings",
    "StreamInterrupted",
    "TimeoutSettings",
]
