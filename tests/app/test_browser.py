"""The dashboard in a real browser: playwright driving Debian's chromium against the dashboard's server.

The server is started as ``backtest dashboard`` starts it (engine.dashboard.launch).

Skipped, with the reason, only when playwright or a chromium binary cannot be found
(``.ci/run`` installs both). Waits on selectors, never on fixed sleeps.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = ("/usr/bin/chromium", "/usr/bin/chromium-browser")

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install -e '.[dev]')"
)
expect = sync_api.expect
BROWSER = next((p for p in CHROMIUM if Path(p).is_file()), shutil.which("chromium"))
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(BROWSER is None, reason="no chromium binary (apt-get install -y chromium)"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def dashboard(tmp_path):
    port = free_port()
    runs = Path(os.environ["STOCKRNN_RUNS_DIR"])
    # started from a directory whose engine/ and strategies/ folders must not be imported (by the server
    # or its worker runs); -P: like the `backtest` script, the launcher itself skips the working directory
    where = tmp_path / "elsewhere"
    for name in ("engine", "strategies"):
        (where / name).mkdir(parents=True)
        (where / name / "__init__.py").write_text(f"raise SystemExit('the local {name}/ was imported')")
    server = subprocess.Popen(
        [sys.executable, "-P", "-c", f"from engine.dashboard.launch import launch; launch(port={port})"],
        cwd=where,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 90
        while True:
            try:
                urllib.request.urlopen(url + "/_stcore/health", timeout=2)
                break
            except OSError:
                if time.time() > deadline or server.poll() is not None:
                    pytest.fail("the dashboard did not start")
                time.sleep(0.3)
        yield url, runs
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


@contextlib.contextmanager
def opened(url: str) -> Iterator[Any]:
    """The dashboard in a fresh headless chromium page, its first paint (the Run button) shown."""
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=BROWSER, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 2400})
            page.goto(url)
            page.get_by_role("button", name="Run", exact=True).wait_for(timeout=90_000)
            yield page
        finally:
            browser.close()


def settle(page) -> None:
    """Wait until the page's script run has finished (Streamlit shows a running icon meanwhile)."""
    page.wait_for_timeout(150)
    running = "[data-testid='stStatusWidget'] [data-testid='stStatusWidgetRunningIcon']"
    page.wait_for_function(f'!document.querySelector("{running}")', timeout=60_000)


def test_a_strategy_runs_from_the_page_an_invalid_field_blocks_run_and_a_run_is_cancelled(dashboard):
    url, runs = dashboard
    with opened(url) as page:
        run = page.get_by_role("button", name="Run", exact=True)
        expect(run).to_be_enabled()
        # one invalid field: Run is disabled and the reason stands beside the field
        cost = page.get_by_label("costs [bps per unit traded]", exact=True)
        cost.fill("1e9")
        cost.press("Enter")
        page.get_by_text("less than or equal to 10000").first.wait_for(timeout=30_000)
        expect(run).to_be_disabled(timeout=30_000)
        cost.fill("5")
        cost.press("Enter")
        page.get_by_text("Run is disabled").wait_for(state="detached", timeout=30_000)
        # ma-trend (the default) on the bundled sample, a short period
        page.get_by_text("limit dates", exact=True).click()
        start = page.locator("[data-testid='stDateInput'] input").first
        start.wait_for(timeout=30_000)
        start.fill("2018-01-02")  # the picker's display format
        start.press("Enter")
        page.get_by_text("signals", exact=True).click(force=True)  # leaving the field commits it
        settle(page)
        expect(run).to_be_enabled(timeout=30_000)
        run.click()
        page.get_by_text("stored in").wait_for(timeout=180_000)
        page.wait_for_function(
            "document.querySelectorAll('.js-plotly-plot .main-svg').length >= 3", timeout=60_000
        )
        page.get_by_text("ma-trend: window=200").first.wait_for(timeout=30_000)  # the config echo
        # drawn by the bundled cartesian plotly.js (engine/dashboard/chart_view.py), fetched once;
        # Streamlit's 4.7 MB plotly chunk is never loaded
        loaded = page.evaluate("performance.getEntriesByType('resource').map(e => e.name)")
        assert sum(u.endswith("/plotly-cartesian.min.js") for u in loaded) == 1, loaded
        assert not [u for u in loaded if "PlotlyChart" in u]
        # the form keeps what was typed across a tab switch (Streamlit drops hidden widgets' state)
        cost.fill("7")
        cost.press("Enter")
        settle(page)
        for tab in ("Runs", "Run"):
            page.get_by_role("tab", name=tab, exact=True).click()
            settle(page)
        cost = page.get_by_label("costs [bps per unit traded]", exact=True)
        expect(cost).to_have_value("7", timeout=30_000)
        # a long run (lstm-stateful, 10 seeds, 1990-2022) cancelled while it trains
        page.get_by_text("limit dates", exact=True).click()
        strategies = page.locator("[data-testid='stMultiSelect']").filter(has_text="daily strategies")
        box = strategies.locator("input")
        box.click()
        box.fill("lstm-stateful")
        box.press("Enter")
        page.keyboard.press("Escape")
        settle(page)
        expect(run).to_be_enabled(timeout=30_000)
        run.click()
        page.get_by_text("strategy lstm-stateful: day").wait_for(timeout=120_000)
        page.get_by_role("button", name="cancel").click()
        # the message follows the store: this run was stopped before storing, so the store says cancelled
        page.get_by_text("is listed as cancelled under Runs").wait_for(timeout=60_000)
        # then annual signals: every row of the form once (a row was once seen twice after this)
        page.get_by_text("annual", exact=True).click()
        page.get_by_text("annual strategies", exact=True).wait_for(timeout=30_000)
        settle(page)
        for label in ("annual strategies", "limit dates", "dividends", "headline column [auto]", "Run"):
            once = 2 if label == "Run" else 1  # Run: the tab and the button
            expect(page.get_by_text(label, exact=True)).to_have_count(once)
        expect(page.get_by_text("daily strategies", exact=True)).to_have_count(0)
    stored = sorted(p for p in runs.iterdir() if p.is_dir() and not p.name.startswith("."))
    manifests = [json.loads((p / "manifest.json").read_text()) for p in stored]
    assert [m["status"] for m in manifests] == ["complete", "cancelled"]
    assert manifests[0]["config"]["start"] == "2018-01-02" and manifests[0]["config"]["cost_bps"] == 5.0
    assert manifests[1]["strategies"] == ["ma-trend", "lstm-stateful"]
    assert manifests[1]["config"]["cost_bps"] == 7.0  # the value kept across the tab switch ran
    assert not list((runs / ".jobs").iterdir())  # each job's record removed once its outcome was shown


def test_the_run_form_keeps_its_values_across_a_reload(dashboard):
    url, _ = dashboard
    with opened(url) as page:
        cost = page.get_by_label("costs [bps per unit traded]", exact=True)
        cost.fill("7")
        cost.press("Enter")
        settle(page)
        box = (
            page.locator("[data-testid='stMultiSelect']").filter(has_text="daily strategies").locator("input")
        )
        box.click()
        box.fill("lstm-stateful")
        box.press("Enter")
        page.keyboard.press("Escape")
        settle(page)
        seeds = page.get_by_label("seeds", exact=True)
        seeds.fill("3")
        seeds.press("Enter")
        settle(page)
        page.wait_for_url("**seeds=3**", timeout=30_000)  # the address holds what was typed
        page.reload()
        page.get_by_role("button", name="Run", exact=True).wait_for(timeout=90_000)
        expect(page.get_by_label("costs [bps per unit traded]", exact=True)).to_have_value("7")
        expect(page.get_by_label("seeds", exact=True)).to_have_value("3")
        chosen = page.locator("[data-testid='stMultiSelect']").filter(has_text="daily strategies")
        expect(chosen.get_by_text("lstm-stateful", exact=True)).to_be_visible()
        expect(chosen.get_by_text("ma-trend", exact=True)).to_be_visible()
        # once the page is idle, its hidden warm-up has the browser load the chart and table code
        for drawn in (".js-plotly-plot .main-svg", "[data-testid='stDataFrame']"):
            page.locator(f".st-key-warm-up {drawn}").first.wait_for(state="attached", timeout=60_000)
