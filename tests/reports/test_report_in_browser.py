"""The evaluation report in a real browser: headless Chromium opens the file, every plot decodes and
paints, the per-task sections, the method section and the per-category table are there, nothing is
fetched, nothing is logged as an error, and a full-page screenshot is saved.

Chromium is driven over its DevTools protocol on a loopback websocket: no WebDriver, no downloaded
browser, and the protocol's network events show every request the page makes.
"""

from __future__ import annotations

import base64
import contextlib
import io
import itertools
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from services import in_ci
from websockets.sync.client import ClientConnection, connect

from interlock.evaluation import Results
from interlock.reports import ReportOptions, build_evaluation_report
from reports.sample_results import build_results

WAIT_S = 30.0  # bound on any single wait: browser start, a command, the page load
VIEWPORT = {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False}
# As root Chromium needs --no-sandbox; the rest keep it off the network and out of $HOME. Resolving
# no host names means nothing can leave the machine even if the page tried; the test checks it did not.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--remote-debugging-port=0",
]
QUALITY = {
    "frontier-large": {"extraction": 0.95, "classification": 0.95, "customer_support": 0.9},
    "open-mid": {"extraction": 0.85, "classification": 0.95, "customer_support": 0.8},
    "open-small": {"extraction": 0.5, "classification": 0.9, "customer_support": 0.55},
}
COST_USD = {"frontier-large": 0.012, "open-mid": 0.0009, "open-small": 0.0002}
LATENCY_MS = {"frontier-large": 900.0, "open-mid": 420.0, "open-small": 150.0}
TASKS = ["extraction", "classification", "customer_support"]
CHARTS = [
    "pareto-chart",
    "savings-chart",
    "latency-chart",
    *(f"task-{task.replace('_', '-')}-{kind}" for task in TASKS for kind in ("pareto", "savings")),
    "quality-chart",
]


def results() -> Results:
    return build_results(QUALITY, COST_USD, latency_ms=LATENCY_MS, suite="browser-check")


class DevTools:
    """A minimal DevTools protocol client: commands matched to replies by id, events kept in order."""

    def __init__(self, socket: ClientConnection) -> None:
        self._socket = socket
        self._ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []

    def _receive(self, deadline: float) -> dict[str, Any]:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("Chromium did not answer in time")
        return json.loads(self._socket.recv(timeout=remaining))

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> Any:
        message: dict[str, Any] = {"id": next(self._ids), "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self._socket.send(json.dumps(message))
        deadline = time.monotonic() + WAIT_S
        while True:
            reply = self._receive(deadline)
            if reply.get("id") != message["id"]:
                self.events.append(reply)
            elif "error" in reply:
                raise RuntimeError(f"{method} failed: {reply['error']}")
            else:
                return reply["result"]

    def wait_for(self, method: str, session: str) -> dict[str, Any]:
        deadline = time.monotonic() + WAIT_S
        seen = 0
        while True:
            for event in self.events[seen:]:
                if event.get("method") == method and event.get("sessionId") == session:
                    return event["params"]
            seen = len(self.events)
            self.events.append(self._receive(deadline))

    def evaluate(self, expression: str, session: str) -> Any:
        reply = self.send(
            "Runtime.evaluate",
            {"expression": expression, "awaitPromise": True, "returnByValue": True},
            session,
        )
        assert "exceptionDetails" not in reply, reply["exceptionDetails"]
        return reply["result"]["value"]


@contextlib.contextmanager
def launch_chromium(tmp_path: Path, flags: list[str]) -> Iterator[DevTools]:
    """Debian's Chromium, headless with ``flags``, driven over the DevTools protocol; skipped with the
    reason when it is not installed, a failure when CI=true."""
    binary = shutil.which("chromium")
    if binary is None:
        reason = "Debian's chromium is not installed (apt-get install chromium)"
        if in_ci():
            pytest.fail(f"{reason}, and CI=true requires it")
        pytest.skip(f"{reason}; with CI=true this is a failure")
    profile = tmp_path / "chromium-profile"  # fresh each run: no state, no first-run network
    log = tmp_path / "chromium.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [binary, *flags, f"--user-data-dir={profile}"],
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so teardown kills renderers too
        )
    try:
        # Chromium writes the port it chose, then the browser's websocket path, into this file.
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + WAIT_S
        while len(lines := (port_file.read_text().split() if port_file.exists() else [])) < 2:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"Chromium did not start (exit {process.poll()}):\n{log.read_text()[-2000:]}")
            time.sleep(0.05)
        url = f"ws://127.0.0.1:{lines[0]}{lines[1]}"
        with connect(url, open_timeout=WAIT_S, max_size=None) as socket:
            yield DevTools(socket)
    finally:
        with contextlib.suppress(ProcessLookupError):  # already gone if it failed to start
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=WAIT_S)


@pytest.fixture
def chromium(tmp_path: Path) -> Iterator[DevTools]:
    with launch_chromium(tmp_path, CHROMIUM_FLAGS) as devtools:
        yield devtools


PAGE_STATE = """(async () => {
  const images = [...document.images];
  const decoded = await Promise.all(images.map((image) => image.decode().then(() => true, () => false)));
  const box = (element) => {
    const r = element.getBoundingClientRect();
    return {x: r.x + scrollX, y: r.y + scrollY, width: r.width, height: r.height};
  };
  const table = document.getElementById("quality-by-category");
  const text = (cell) => cell.textContent.trim();
  const section = (element) => ({id: element.id, heading: text(element.querySelector("h2, h3")),
                                 height: box(element).height});
  const method = document.getElementById("method");
  return {
    images: images.map((image, i) => ({figure: image.closest("figure")?.id, decoded: decoded[i],
                                        naturalWidth: image.naturalWidth, naturalHeight: image.naturalHeight,
                                        box: box(image)})),
    table: table && {box: box(table), header: [...table.tHead.rows[0].cells].map(text),
                     rows: [...table.tBodies[0].rows].map((row) => [...row.cells].map(text))},
    sections: [...document.querySelectorAll("section")].map(section),
    tasks: [...document.querySelectorAll("#per-task > section")].map((task) => ({
      id: task.id, figures: [...task.querySelectorAll("figure")].map((figure) => figure.id),
      tables: [...task.querySelectorAll("table")].map((t) => t.id)})),
    method: method && {items: method.querySelectorAll("li").length, text: method.textContent},
    warnings: document.querySelectorAll(".warning").length,
    notes: [...document.querySelectorAll(".no-chart")].map(text),
    headline: text(document.getElementById("substitution")),
    references: [...document.querySelectorAll("[src], [href]")]
      .map((element) => element.getAttribute("src") ?? element.getAttribute("href")),
  };
})()"""


def test_report_renders_in_headless_chromium(chromium: DevTools, tmp_path: Path) -> None:
    report = build_evaluation_report(
        results(), ReportOptions(open_models={"open-mid", "open-small"}, requests_per_month=1_000_000)
    )
    html_path, _ = report.write(tmp_path / "report.html")

    target = chromium.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    page = chromium.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    for domain in ("Page", "Network", "Log", "Runtime"):
        chromium.send(f"{domain}.enable", session=page)
    chromium.send("Emulation.setDeviceMetricsOverride", VIEWPORT, page)
    navigation = chromium.send("Page.navigate", {"url": html_path.as_uri()}, page)
    assert "errorText" not in navigation, navigation
    chromium.wait_for("Page.loadEventFired", page)
    state = chromium.evaluate(PAGE_STATE, page)

    # The plots: every chart present, decoded, and laid out at a visible size; no chart replaced by a note.
    assert [image["figure"] for image in state["images"]] == CHARTS
    assert state["notes"] == [] and state["warnings"] == 0
    for image in state["images"]:
        assert image["decoded"], f"{image['figure']} could not be decoded"
        assert image["naturalWidth"] > 100 and image["naturalHeight"] > 100, image
        assert image["box"]["width"] > 100 and image["box"]["height"] > 100, image

    # The parts, in reading order, each laid out; one section per task with its two charts and tables.
    assert [section["id"] for section in state["sections"] if not section["id"].startswith("task-")] == [
        "overview",
        "per-task",
        "quality",
        "comparisons",
        "routes-section",
        "method",
    ]
    assert all(section["height"] > 0 for section in state["sections"])
    assert state["tasks"] == [
        {
            "id": f"task-{task.replace('_', '-')}",
            "figures": [f"task-{task.replace('_', '-')}-{kind}" for kind in ("pareto", "savings")],
            "tables": [f"task-{task.replace('_', '-')}-{kind}" for kind in ("models", "floors")],
        }
        for task in TASKS
    ]
    assert state["headline"].startswith("At a quality floor of 95% of frontier-large's quality")
    method = state["method"]
    assert method is not None and method["items"] >= 5
    assert all(word in method["text"] for word in ("Quality:", "Cost:", "Quality floor:", "Limits:"))

    # The per-category table: one column per model, one row per category, a quality with its interval in each.
    table = state["table"]
    assert table is not None and table["box"]["height"] > 0
    assert table["header"] == ["category", *QUALITY]
    assert [row[0] for row in table["rows"]] == ["extraction", "classification", "customer support"]
    assert all(cell.count("[") == 1 and cell.endswith("]") for row in table["rows"] for cell in row[1:])

    # Nothing from the network: no outside references, and the only request was the file itself.
    assert all(reference.startswith(("data:", "#")) for reference in state["references"])
    requested = [
        event["params"]["request"]["url"]
        for event in chromium.events
        if event.get("method") == "Network.requestWillBeSent" and event.get("sessionId") == page
    ]
    assert [url for url in requested if not url.startswith("data:")] == [html_path.as_uri()]
    # No errors from the browser (Log) or the page's console and scripts (Runtime).
    errors = [
        event["params"]
        for event in chromium.events
        if event.get("sessionId") == page
        and (
            (event.get("method") == "Log.entryAdded" and event["params"]["entry"]["level"] == "error")
            or (
                event.get("method") == "Runtime.consoleAPICalled"
                and event["params"]["type"] in ("error", "assert")
            )
            or event.get("method") == "Runtime.exceptionThrown"
        )
    ]
    assert errors == []

    # A full-page screenshot; each plot's area in it is painted, not blank.
    size = chromium.send("Page.getLayoutMetrics", session=page)["cssContentSize"]
    clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
    shot = chromium.send(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip}, page
    )
    png = base64.b64decode(shot["data"])
    screenshot = tmp_path / "report.png"
    screenshot.write_bytes(png)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 50_000
    with Image.open(io.BytesIO(png)) as picture:
        assert picture.width == VIEWPORT["width"] and picture.height >= 1500
        grey = picture.convert("L")
    for image in state["images"]:
        box = image["box"]
        area = grey.crop((box["x"], box["y"], box["x"] + box["width"], box["y"] + box["height"]))
        darkest, lightest = area.getextrema()
        assert lightest - darkest > 100, f"{image['figure']} looks blank in the screenshot"
