"""The ``observability`` block of the config: where traces go (nowhere unless set)."""

from __future__ import annotations

from pydantic import Field, field_validator

from interlock.config.deployments import Strict


class ObservabilitySettings(Strict):
    otlp_endpoint: str | None = Field(
        None,
        description="OTLP/HTTP collector base URL for traces (e.g. http://otel-collector:4318); "
        "unset: the OTEL_EXPORTER_OTLP_ENDPOINT environment variable, else no traces",
    )
    service_name: str = Field("interlock", min_length=1, description="service.name of the traces")

    @field_validator("otlp_endpoint")
    @classmethod
    def _is_http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"must be an http:// or https:// URL, got {value!r}")
        return value
