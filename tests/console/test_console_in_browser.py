"""The console in a real browser, on a real gateway that has served real traffic.

Headless Chromium (Debian's, driven over the DevTools protocol like the report's browser test)
signs in through the form, opens every page, checks that its charts are drawn with data and its
tables filled, creates a key and revokes it through the UI, and finds no console or script
errors and no failed requests. A screenshot of each page is saved in ``$INTERLOCK_TEST_ARTIFACTS/console``
(or the test's temporary directory when that variable is unset).
"""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from reports.test_report_in_browser import CHROMIUM_FLAGS, VIEWPORT, WAIT_S, DevTools, launch_chromium

from console.conftest import ADMIN_KEY, Gateway, write_suite

# The report's flags, but loopback resolves: the gateway under test is on 127.0.0.1, and nothing else may.
FLAGS = [
    (
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"
        if f.startswith("--host-resolver-rules")
        else f
    )
    for f in CHROMIUM_FLAGS
]
PAGES = ["overview", "routing", "deployments", "keys", "compliance", "evaluations"]


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[DevTools]:
    with launch_chromium(tmp_path, FLAGS) as devtools:
        yield devtools


@pytest.fixture
def artifacts(tmp_path: Path) -> Path:
    root = os.environ.get("INTERLOCK_TEST_ARTIFACTS")
    folder = Path(root) / "console" if root else tmp_path / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class Tab:
    def __init__(self, devtools: DevTools) -> None:
        self.devtools = devtools
        target = devtools.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = devtools.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        for domain in ("Page", "Network", "Log", "Runtime"):
            devtools.send(f"{domain}.enable", session=self.session)
        devtools.send("Emulation.setDeviceMetricsOverride", VIEWPORT, self.session)

    def open(self, url: str) -> None:
        mark = len(self.devtools.events)
        navigation = self.devtools.send("Page.navigate", {"url": url}, self.session)
        assert "errorText" not in navigation, navigation
        self.loaded_since(mark)

    def loaded_since(self, mark: int) -> None:
        """Wait for a page load after event number ``mark`` (earlier loads are already in the list)."""
        deadline = time.monotonic() + WAIT_S
        while not any(
            e.get("method") == "Page.loadEventFired" and e.get("sessionId") == self.session
            for e in self.devtools.events[mark:]
        ):
            assert time.monotonic() < deadline, "the page did not load"
            self.run("true")  # reading a reply also collects the events that came before it
            time.sleep(0.05)

    def run(self, expression: str) -> Any:
        return self.devtools.evaluate(expression, self.session)

    def wait_until(self, expression: str) -> Any:
        deadline = time.monotonic() + WAIT_S
        while not (value := self.run(expression)):
            assert time.monotonic() < deadline, f"timed out waiting for {expression}"
            time.sleep(0.05)
        return value

    def ready(self) -> None:
        """The page's script has fetched its data and drawn it (``error`` fails the test)."""
        ready = "document.body.dataset.ready"  # 'pending': a placeholder that redraws itself shortly
        state = self.wait_until(f"['true', 'error'].includes({ready}) ? {ready} : ''")
        assert state == "true", self.run("document.getElementById('content').textContent")

    def screenshot(self, path: Path) -> None:
        size = self.devtools.send("Page.getLayoutMetrics", session=self.session)["cssContentSize"]
        clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
        shot = self.devtools.send(
            "Page.captureScreenshot",
            {"format": "png", "captureBeyondViewport": True, "clip": clip},
            self.session,
        )
        png = base64.b64decode(shot["data"])
        assert png.startswith(b"\x89PNG") and len(png) > 10_000
        path.write_bytes(png)

    def errors(self) -> list[dict[str, Any]]:
        out = []
        for event in self.devtools.events:
            if event.get("sessionId") != self.session:
                continue
            method, params = event.get("method"), event.get("params", {})
            if (
                (method == "Log.entryAdded" and params["entry"]["level"] == "error")
                or (method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"))
                or method == "Runtime.exceptionThrown"
                or (method == "Network.responseReceived" and params["response"]["status"] >= 400)
            ):
                out.append(params)
        return out


CHARTS = """[...document.querySelectorAll("svg.chart")].map((svg) => ({
  title: svg.getAttribute("aria-label"),
  marks: svg.querySelectorAll(".series, .bar").length,
  box: svg.getBoundingClientRect().height,
}))"""


def test_every_page_renders_with_data_and_keys_work_in_chromium(
    gateway: Gateway, browser: DevTools, artifacts: Path
) -> None:
    tab = Tab(browser)
    tab.open(gateway.url + "/console/login")
    mark = len(tab.devtools.events)
    tab.run(
        f"document.querySelector('input[name=admin_key]').value = {ADMIN_KEY!r}; "
        "document.querySelector('form').submit(); true"
    )
    tab.loaded_since(mark)
    assert tab.run("location.pathname") == "/console/overview", tab.run("document.body.textContent")
    tab.ready()

    charts: dict[str, list[dict[str, Any]]] = {}
    tables: dict[str, list[int]] = {}
    for name in PAGES:
        tab.open(f"{gateway.url}/console/{name}?days=1")
        tab.ready()
        charts[name] = tab.run(CHARTS)
        tables[name] = tab.run("[...document.querySelectorAll('table')].map((t) => t.tBodies[0].rows.length)")
        assert all(c["marks"] > 0 and c["box"] > 20 for c in charts[name]), (name, charts[name])
        tab.screenshot(artifacts / f"{name}.png")

    assert len(charts["overview"]) >= 4  # spend and baseline, requests, spend by team, savings by team
    assert charts["routing"] and charts["deployments"] and charts["keys"] and charts["compliance"]
    assert all(rows >= 1 for page in PAGES[:5] for rows in tables[page]), tables  # no empty table
    assert len(tables["deployments"]) == 4  # deployments, aliases, shadow comparison, deprecations
    assert tables["overview"][0] >= 2 and tables["routing"][0] >= 20 and tables["deployments"][0] == 3
    assert tables["keys"][0] >= 2 and tables["compliance"][0] >= 2
    assert (artifacts / "overview.png").stat().st_size > 10_000

    # A key made through the form is shown once, listed, and revoked with two clicks.
    tab.open(gateway.url + "/console/keys")
    tab.ready()
    tab.run(
        "const f = document.getElementById('create-key'); f.team.value = 'browser-team'; "
        "f.budget_usd.value = '3'; f.requestSubmit(); true"
    )
    secret = tab.wait_until(
        "document.getElementById('secret') && document.getElementById('secret').textContent"
    )
    assert secret.startswith("il-")
    key_id = tab.run(
        "[...document.querySelectorAll('#keys tbody tr')].find((r) => "
        "r.textContent.includes('browser-team')).cells[0].textContent"
    )
    tab.screenshot(artifacts / "keys-created.png")
    button = f"document.querySelector('button.revoke[data-key=\"{key_id}\"]')"
    tab.run(f"{button}.click(); true")
    assert tab.run(f"{button}.textContent") == "Confirm revoke"
    tab.run(f"{button}.click(); true")
    tab.wait_until(f"!{button}")
    row = tab.run(
        f"[...document.querySelectorAll('#keys tbody tr')].find((r) => r.cells[0].textContent === "
        f"{key_id!r}).textContent"
    )
    assert "revoked" in row

    # The audit chain is verified from the page.
    tab.open(gateway.url + "/console/compliance")
    tab.ready()
    tab.run("document.getElementById('verify').click(); true")
    result = tab.wait_until(
        "document.querySelector('#verify-result .ok, #verify-result .error')?.textContent || ''"
    )
    assert result.startswith("Chain intact")
    tab.screenshot(artifacts / "compliance-verified.png")

    # An evaluation launched from the page runs to the end, its progress polled by the page.
    write_suite("console-browser", 3, "say hello")
    tab.open(gateway.url + "/console/evaluations")
    tab.ready()
    tab.run("const f = document.getElementById('launch-eval'); f.suite.value = 'console-browser'; "
            "f.querySelector('input[value=small]').checked = true; f.requestSubmit(); true")
    status = tab.wait_until(
        "[...document.querySelectorAll('#runs tbody tr')].map((r) => r.cells[3].textContent)"
        ".find((s) => s.startsWith('done') || s.startsWith('failed')) || ''")
    assert status.startswith("done"), status
    tab.screenshot(artifacts / "evaluations-done.png")

    assert tab.errors() == []
