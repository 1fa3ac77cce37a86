"""Observability: the per-request record, Prometheus metrics and structured JSON logs."""
