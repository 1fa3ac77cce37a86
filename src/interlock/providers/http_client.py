"""The connection to one HTTP upstream: a connection pool, auth headers, timeouts, error mapping.

Plain ``http://`` upstreams (self-hosted servers inside the perimeter) go through ``http1``'s
keep-alive pool, which costs a fraction of aiohttp's CPU per call; ``https://`` ones through an
aiohttp session. Both answer the same way here.

Wire-format translation lives in the provider modules; this module only moves bytes and
turns transport failures into the error tree (at exactly this boundary). The named timeouts
(first token, stall, total) are enforced one layer up, in ``resilience.timeouts``; here only
the connect timeout applies, plus a safety net a little beyond the total.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import SplitResult, urlsplit

import aiohttp
import orjson

from interlock.config.deployments import Timeouts
from interlock.errors import (
    InvalidRequest,
    UpstreamConnectionError,
    UpstreamKeyMissing,
    UpstreamMalformed,
    UpstreamTimeout,
)
from interlock.providers import http1
from interlock.providers.http_errors import error_from_response
from interlock.providers.sse import SseReader
from interlock.types import JSON

_GRACE_S = 1.0  # the safety net fires only if the resilience layer's limits somehow did not
# A stream read to its last event (``[DONE]``) keeps its connection if the body's end follows this soon.
_STREAM_END_GRACE_S = 0.05
# The transports' failures, for either transport: a deadline passed; the body broke off; anything else.
_TIMEOUTS = (TimeoutError, aiohttp.ServerTimeoutError)
_BROKEN_STREAM = (aiohttp.ClientPayloadError, http1.IncompleteBody)
_TRANSPORT_ERRORS = (aiohttp.ClientError, http1.HttpError)


class UpstreamClient:
    def __init__(
        self,
        deployment: str,
        base_url: str,
        headers: dict[str, str],
        timeouts: Timeouts,
        max_connections: int,
        api_key_env: str | None = None,
    ) -> None:
        self.deployment = deployment
        self.base_url = base_url
        self.timeouts = timeouts
        self.max_connections = max_connections
        self.api_key_env = api_key_env
        self._headers = {"content-type": "application/json", **headers}
        self._session: aiohttp.ClientSession | None = None
        self._pool: http1.Http1Pool | None = None
        # plain http:// (self-hosted servers inside the perimeter) goes through the lighter http1 pool;
        # https:// and URLs with credentials in them through aiohttp
        url = urlsplit(base_url)
        self._plain: SplitResult | None = url if url.scheme == "http" and url.hostname and not url.username else None

    @classmethod
    def for_deployment(cls, deployment: Any) -> UpstreamClient:
        """The connection an HTTP deployment's config describes (``config.deployments.HttpDeployment``)."""
        return cls(deployment.name, deployment.base_url, deployment.headers, deployment.timeouts,
                   deployment.max_connections, deployment.api_key_env)

    def key(self) -> str | None:
        """The API key, read from the named environment variable (never stored in config)."""
        if not self.api_key_env:
            return None
        value = os.environ.get(self.api_key_env)
        if not value:
            raise UpstreamKeyMissing(self.deployment, self.api_key_env)
        return value

    def _pool_now(self) -> http1.Http1Pool:
        if self._pool is None or self._pool.closed:
            url = self._plain
            assert url is not None and url.hostname is not None  # checked when _plain was set
            self._pool = http1.Http1Pool(url.hostname, url.port or 80, max_connections=self.max_connections,
                                         connect_timeout=self.timeouts.connect, host_header=url.netloc)
        return self._pool

    def _session_now(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            t = self.timeouts
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.max_connections, ttl_dns_cache=300),
                # stateless, as the http:// pool is: a cookie an upstream set while serving one caller
                # (a session, a sticky-routing token) must not ride along on the next caller's request
                cookie_jar=aiohttp.DummyCookieJar(),
                timeout=aiohttp.ClientTimeout(total=t.total + _GRACE_S, sock_connect=t.connect),
                json_serialize=lambda o: orjson.dumps(o).decode(),
                auto_decompress=True,
            )
        return self._session

    def _encode(self, body: JSON) -> bytes:
        """The body as bytes. A body that cannot be encoded is the request's fault (too deep, a number
        past 64 bits), never the deployment's: it must not count against its health or breaker."""
        try:
            return orjson.dumps(body)
        except orjson.JSONEncodeError as exc:
            raise InvalidRequest(
                f"The request cannot be sent to deployment {self.deployment!r}: its body cannot be encoded "
                f"as JSON ({exc}).",
                code="unencodable_request",
            ) from None

    async def _send(self, path: str, data: bytes, headers: dict[str, str]) -> Any:
        """POST and return the answer once its head has arrived (an ``http1.Response`` or an aiohttp
        ``ClientResponse``: the same ``status``, ``headers``, ``content_type``, ``read``, ``content``,
        ``release``); the caller releases it."""
        if self._plain is not None:
            pool = self._pool_now()
            return await pool.request(self._plain.path + path, {**self._headers, **headers}, data,
                                      self.timeouts.total + _GRACE_S)
        # the session's timeouts (connect, and the safety net past total) apply
        session = self._session_now()
        return await session.post(self.base_url + path, data=data, headers={**self._headers, **headers})

    async def post_json(self, path: str, body: JSON, headers: dict[str, str]) -> JSON:
        data = self._encode(body)
        resp: Any = None
        try:
            resp = await self._send(path, data, headers)
            raw = await resp.read()
            if resp.status >= 400:
                raise error_from_response(self.deployment, resp.status, raw, resp.headers)
            return self._parse_json(raw, resp)
        except _TIMEOUTS:
            raise UpstreamTimeout(
                f"Upstream deployment {self.deployment!r} did not answer within {self.timeouts.total:g}s",
                deployment=self.deployment,
            ) from None
        except http1.InvalidHeader as exc:
            raise self._unsendable(exc) from None
        except _TRANSPORT_ERRORS as exc:
            raise UpstreamConnectionError(
                f"Could not reach upstream deployment {self.deployment!r}: {type(exc).__name__}",
                deployment=self.deployment,
            ) from None
        finally:
            if resp is not None:
                resp.release()

    def _unsendable(self, exc: http1.InvalidHeader) -> UpstreamConnectionError:
        """A configured or per-call header that HTTP cannot carry: refused before anything is sent."""
        return UpstreamConnectionError(
            f"Could not send to upstream deployment {self.deployment!r}: {exc}; check the `headers` of this "
            "deployment in the config (and the API key in its environment variable)", deployment=self.deployment
        )

    def _parse_json(self, raw: bytes, resp: Any) -> JSON:
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:  # the content type is parsed only to explain the failure
            raise UpstreamMalformed(
                f"Upstream deployment {self.deployment!r} sent a body that is not JSON ({resp.content_type})",
                deployment=self.deployment,
            ) from None
        if not isinstance(data, dict):
            raise UpstreamMalformed(
                f"Upstream deployment {self.deployment!r} sent JSON that is not an object",
                deployment=self.deployment,
            )
        return data

    @contextlib.asynccontextmanager
    async def open_sse(self, path: str, body: JSON, headers: dict[str, str]) -> AsyncIterator[SseReader]:
        """POST and read the answer as server-sent events, within this block (which releases the
        connection); transport failures while reading are mapped onto the error tree here too."""
        data = self._encode(body)
        resp: Any = None
        try:
            resp = await self._send(path, data, headers)
            if resp.status >= 400:
                raw = await resp.read()
                raise error_from_response(self.deployment, resp.status, raw, resp.headers)
            if resp.content_type != "text/event-stream":
                raise UpstreamMalformed(
                    f"Upstream deployment {self.deployment!r} answered a stream request with "
                    f"{resp.content_type or 'no content type'}, not text/event-stream",
                    deployment=self.deployment,
                )
            yield SseReader(resp.content)
            if isinstance(resp, http1.Response):  # done with it: its chunked end may be on its way
                resp.release(linger=_STREAM_END_GRACE_S)
        except _TIMEOUTS:
            raise UpstreamTimeout(
                f"Upstream deployment {self.deployment!r} timed out while streaming",
                deployment=self.deployment,
            ) from None
        except _BROKEN_STREAM:
            raise UpstreamConnectionError(
                f"Upstream deployment {self.deployment!r} broke off its stream", deployment=self.deployment
            ) from None
        except http1.InvalidHeader as exc:
            raise self._unsendable(exc) from None
        except _TRANSPORT_ERRORS as exc:
            raise UpstreamConnectionError(
                f"Could not reach upstream deployment {self.deployment!r}: {type(exc).__name__}",
                deployment=self.deployment,
            ) from None
        finally:
            if resp is not None:
                resp.release()

    async def aclose(self) -> None:
        if self._pool is not None and not self._pool.closed:
            await self._pool.aclose()
        if self._session is not None and not self._session.closed:
            await self._session.close()
