"""``Front``: the API's POST routes reach their handler directly; everything else reaches the framework app."""

from __future__ import annotations

import httpx
from servers import serve_in_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from interlock.api.exchange import Exchange
from interlock.api.front import Front
from interlock.api.rendering import json_response


async def _echo(exchange: Exchange) -> Response:
    return json_response({"request_id": exchange.request_id, "upstream_id": exchange.upstream_request_id,
                          "path": exchange.scope["path"]})


async def _broken(exchange: Exchange) -> Response:
    raise RuntimeError("a bug in a handler, with a secret in its message: sk-live-123")


async def _other(request: Request) -> Response:
    return PlainTextResponse("framework")


def _front() -> Front:
    app = Starlette(routes=[Route("/other", _other)])
    return Front(app, app.state, None, {"/v1/chat/completions": _echo, "/v1/messages": _broken})  # type: ignore[arg-type]


def test_api_posts_reach_their_handler_with_request_ids_and_the_rest_reaches_the_app() -> None:
    with serve_in_thread(_front()) as url, httpx.Client(base_url=url) as client:
        r = client.post("/v1/chat/completions", content=b"{}")
        assert r.status_code == 200
        body = r.json()
        assert r.headers["x-request-id"] == body["request_id"] == body["upstream_id"]  # one id end to end
        assert len(body["request_id"]) == 32
        r = client.post("/v1/chat/completions", content=b"{}", headers={"x-request-id": "client-id.1"})
        assert r.headers["x-request-id"] == r.json()["request_id"] == "client-id.1"
        assert r.json()["upstream_id"] != "client-id.1"  # upstreams never see the client's text
        r = client.post("/v1/chat/completions", content=b"{}", headers={"x-request-id": "not ok!"})
        assert r.json()["request_id"] != "not ok!"  # a malformed id is replaced
        assert client.get("/other").text == "framework"


def test_another_method_on_an_api_path_is_405_in_the_route_format() -> None:
    with serve_in_thread(_front()) as url:
        r = httpx.get(url + "/v1/chat/completions")
        assert r.status_code == 405 and r.headers["allow"] == "POST"
        assert r.json()["error"]["code"] == "method_not_allowed" and r.headers["x-request-id"]
        r = httpx.delete(url + "/v1/messages")
        assert r.status_code == 405 and r.json()["type"] == "error"  # Anthropic's shape on /v1/messages


def test_a_handler_bug_is_a_500_in_the_route_format_and_the_connection_keeps_serving() -> None:
    with serve_in_thread(_front()) as url, httpx.Client(base_url=url) as client:
        r = client.post("/v1/messages", content=b"{}")
        assert r.status_code == 500 and r.json()["type"] == "error"
        assert "sk-live-123" not in r.text  # the exception's message is never shown
        assert r.headers["x-request-id"]
        again = client.post("/v1/chat/completions", content=b"{}")  # same keep-alive connection
        assert again.status_code == 200


def test_a_root_path_prefix_is_stripped_before_matching() -> None:
    front = _front()

    async def with_root(scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] == "http":
            scope = {**scope, "root_path": "/gw", "path": "/gw" + scope["path"]}
        await front(scope, receive, send)

    with serve_in_thread(with_root) as url:
        r = httpx.post(url + "/v1/chat/completions", content=b"{}")
        assert r.status_code == 200 and r.json()["path"] == "/gw/v1/chat/completions"
