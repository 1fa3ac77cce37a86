"""What each aiohttp knob saves, timed in isolation: the piece of a request's work that it skips.

    .venv/bin/python benchmarks/upstream_client/knobs.py

Each line is the best of 5 repeats, in µs per call. The end-to-end effect is in ``bench.py``.
The cookie lines matter only once an upstream sets cookies (the mock sets none): a CDN in front of
a hosted API typically sets two, which every later request then filters and sends back.
"""

from __future__ import annotations

import asyncio
import timeit
from typing import Any

import aiohttp
from multidict import CIMultiDict
from yarl import URL

BASE = "https://api.example.com/v1"
SET_COOKIE = [
    "__cf_bm=" + "a" * 60 + "-1700000000-1.0.1.1-" + "B" * 40 + "; path=/; "
    "expires=Mon, 07-Dec-2026 02:00:00 GMT; domain=.api.example.com; HttpOnly; Secure; SameSite=None",
    "_cfuvid=" + "c" * 40 + "-1700000000000-0.0.1.1-604800000; path=/; "
    "domain=.api.example.com; HttpOnly; Secure; SameSite=None",
]


def _us(stmt: Any, number: int = 20000) -> float:
    return 1e6 * min(timeit.repeat(stmt, number=number, repeat=5)) / number


async def main() -> None:
    url = URL(BASE + "/chat/completions")
    fixed = {"content-type": "application/json"}
    fixed_ci = CIMultiDict(fixed)
    per_call = {"x-request-id": "req-00000001", "authorization": "Bearer sk-bench"}

    def ci_headers() -> Any:
        headers = fixed_ci.copy()
        headers.update(per_call)
        return headers

    async with aiohttp.ClientSession() as session, aiohttp.ClientSession(
        cookie_jar=aiohttp.DummyCookieJar()
    ) as dummy:
        rows = [
            ("url: a joined string, parsed per call", lambda: session._build_url(BASE + "/chat/completions")),
            ("url: from a yarl.URL parsed once", lambda: session._build_url(url)),
            ("headers: merge a dict per call", lambda: session._prepare_headers({**fixed, **per_call})),
            ("headers: copy a prepared CIMultiDict", lambda: session._prepare_headers(ci_headers())),
            ("timeout: a ClientTimeout per call", lambda: aiohttp.ClientTimeout(total=301.0, sock_connect=5)),
            ("jar: CookieJar.filter_cookies, no cookies", lambda: session.cookie_jar.filter_cookies(url)),
            ("jar: DummyCookieJar.filter_cookies", lambda: dummy.cookie_jar.filter_cookies(url)),
        ]
        for label, stmt in rows:
            print(f"{label:58} {_us(stmt):6.2f} µs")
        for name, jar in (("CookieJar", session.cookie_jar), ("DummyCookieJar", dummy.cookie_jar)):
            jar.update_cookies_from_headers(SET_COOKIE, url)
            send = lambda: jar.filter_cookies(url)  # noqa: B023
            store = lambda: jar.update_cookies_from_headers(SET_COOKIE, url)  # noqa: B023
            print(f"{'jar: ' + name + '.filter_cookies, 2 cookies':58} {_us(send):6.2f} µs")
            print(f"{'jar: ' + name + ', an answer with 2 Set-Cookie':58} {_us(store, 5000):6.2f} µs")


if __name__ == "__main__":
    asyncio.run(main())
