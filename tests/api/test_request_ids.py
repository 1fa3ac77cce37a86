"""Request ids: the client's is echoed and logged, but upstreams only ever see an id the gateway made."""

from __future__ import annotations

import httpx
from gateway_harness import openai_deployment, running_gateway


def test_a_client_request_id_never_reaches_an_upstream(openai_upstream) -> None:
    upstream, url = openai_upstream
    config = {"deployments": [openai_deployment("external", url)]}
    ssn_shaped = "078-05-1120"  # fits the id pattern; the compliance scan never reads headers
    with running_gateway(config) as (gateway, _runtime):
        before = len(upstream.headers)
        r = httpx.post(gateway + "/v1/chat/completions", headers={"x-request-id": ssn_shaped},
                       json={"model": "external", "messages": [{"role": "user", "content": "hello"}]})
        assert r.status_code == 200 and r.headers["x-request-id"] == ssn_shaped
        sent = upstream.headers[before:]
        assert sent and all(ssn_shaped not in " ".join(h.values()) for h in sent)
        assert all(len(h.get("x-request-id", "")) == 32 for h in sent)  # the gateway's own UUID4 hex
        # Without a client id, the upstream sees the same id the client gets back: one id end to end.
        r = httpx.post(gateway + "/v1/chat/completions",
                       json={"model": "external", "messages": [{"role": "user", "content": "hello"}]})
        assert upstream.headers[-1]["x-request-id"] == r.headers["x-request-id"]
