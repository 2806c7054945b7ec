"""Real-browser check of the dashboard: run from the page, screenshot, memory over 20 runs.

1. Starts ``backtest dashboard`` on a free port with a fresh runs directory.
2. Opens it in headless Chromium (Debian's ``chromium`` through playwright's
   Python API), picks ``lstm-stateful`` with 10 seeds on the bundled sample,
   clicks Run, waits for the plotly charts of the result and saves
   ``docs/screenshots/run-view.png``; opens the Runs tab and saves
   ``docs/screenshots/runs-browser.png``.
3. Clicks Run ``--runs`` more times (the default ma-trend configuration, one
   session) and prints the server's resident memory after each run.

Usage: ``python benchmarks/dashboard_check.py [--runs 20] [--chromium /usr/bin/chromium]``
(needs ``pip install playwright`` and a Chromium; no network).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "docs" / "screenshots"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children that are not worker runs (the server)."""
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def server_pid(parent: int) -> int:
    """The streamlit server: ``backtest dashboard`` runs it as its child."""
    children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
    return int(children[0]) if children else parent


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"dashboard did not answer at {url}")


def stored_runs(runs_dir: Path) -> int:
    return sum(1 for p in runs_dir.iterdir() if p.is_dir() and not p.name.endswith(".partial"))


def click_run_and_wait(page, runs_dir: Path, timeout_s: float) -> None:
    """Click Run, wait until the run is stored and the page shows its success message and charts."""
    before = stored_runs(runs_dir)
    page.get_by_role("button", name="Run", exact=True).click()
    deadline = time.time() + timeout_s
    while stored_runs(runs_dir) <= before:
        if time.time() > deadline:
            raise SystemExit(f"no run stored within {timeout_s} s")
        time.sleep(0.3)
    newest = max(p.name for p in runs_dir.iterdir() if p.is_dir())
    page.get_by_text(f"run {newest} stored").wait_for(timeout=60_000)
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=60_000)


def choose_strategy(page, name: str) -> None:
    """Replace the strategies multiselect's choice by ``name``."""
    box = page.locator("[data-testid='stMultiSelect']").first
    box.locator("div.react-aria-ComboBox button[aria-label^='Remove ']").first.click()
    box.locator("input[role='combobox']").fill(name)
    page.get_by_role("option", name=name, exact=True).click()
    page.keyboard.press("Escape")
    time.sleep(1.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--no-lstm", action="store_true", help="skip the lstm-stateful screenshot run")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    runs_dir = Path(tempfile.mkdtemp(prefix="stockrnn-dash-runs-"))
    port = free_port()
    env = {**os.environ, "STOCKRNN_RUNS_DIR": str(runs_dir)}
    server = subprocess.Popen(
        [sys.executable, "-m", "engine.cli", "dashboard", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(url + "/_stcore/health")
        SHOTS.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=args.chromium, headless=True)
            # tall: Streamlit scrolls inside the page, so a full-page shot is the viewport
            page = browser.new_page(viewport={"width": 1400, "height": 3600})
            page.goto(url)
            page.get_by_role("button", name="Run", exact=True).wait_for(timeout=60_000)
            if not args.no_lstm:
                choose_strategy(page, "lstm-stateful")
                start = time.time()
                click_run_and_wait(page, runs_dir, timeout_s=600)
                took = time.time() - start
                print(f"lstm-stateful, 10 seeds, bundled sample: run from the page in {took:.1f} s")
                time.sleep(2.0)  # let plotly finish drawing every chart
                page.screenshot(path=str(SHOTS / "run-view.png"), full_page=True)
                print(f"saved {SHOTS / 'run-view.png'}")
                page.get_by_role("tab", name="Runs", exact=True).click()
                time.sleep(5.0)  # the tab's charts draw from the cached run
                page.screenshot(path=str(SHOTS / "runs-browser.png"), full_page=True)
                print(f"saved {SHOTS / 'runs-browser.png'}")
                page.get_by_role("tab", name="Run", exact=True).click()
                choose_strategy(page, "ma-trend")
            pid = server_pid(server.pid)
            readings = [rss_mb(pid)]
            print(f"server RSS before the loop: {readings[0]:.0f} MB")
            for i in range(args.runs):
                click_run_and_wait(page, runs_dir, timeout_s=300)
                readings.append(rss_mb(pid))
                if i + 1 in (1, 2, 5, 10, 15, 20) or i + 1 == args.runs:
                    print(f"  after run {i + 1:2d}: server RSS {readings[-1]:.0f} MB")
            print(
                f"server RSS growth from run 2 to run {args.runs}: {readings[-1] - readings[2]:+.1f} MB "
                f"(runs stored: {len(list(runs_dir.iterdir()))})"
            )
            browser.close()
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    main()
