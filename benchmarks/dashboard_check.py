"""The dashboard in a real browser (playwright + Debian's chromium): screenshots and page timings.

    python benchmarks/dashboard_check.py shots [--runs-dir DIR]
        docs/screenshots/: run view with the tearsheet panels, the exposure chart, Compare
        of an LSTM run with an annual run and of two runs with two strategies each, the
        invalid-field state, dark mode (runs the five runs it needs when DIR lacks them).
    python benchmarks/dashboard_check.py memory --runs 20
        server memory over 20 runs clicked from the page.
    python benchmarks/dashboard_check.py timings --runs 500 [--app-root DIR]
        first paint, a tab switch and opening a run with N stored runs (copies of three
        real runs under new ids); ``--app-root`` times another checkout (e.g. the code
        before this change, from ``git archive``) on the same store, side by side;
        ``--returning`` keeps each app's browser cache across visits (a person's second visit);
        ``--floor`` visits the bare page below in the same rounds.
    python benchmarks/dashboard_check.py floor
        the same first paint and tab switch for a bare Streamlit page with a 500-row table and
        three small plotly charts: what Streamlit itself costs on this machine.

Times are wall-clock seconds from the browser's action until the expected element is
on screen (waits on selectors, never sleeps), median of a few repetitions. They depend on
the machine's load: compare figures measured in the same run.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = ("/usr/bin/chromium", "/usr/bin/chromium-browser")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def chromium() -> str:
    found = next((p for p in CHROMIUM if Path(p).is_file()), None)
    if found is None:
        raise SystemExit("no chromium: apt-get install -y chromium")
    return found


class Server:
    """``streamlit run APP`` on a free port with its own runs directory."""

    def __init__(self, app_root: Path, runs_dir: Path) -> None:
        self.root, self.port = app_root, free_port()
        env = {**os.environ, "STOCKRNN_RUNS_DIR": str(runs_dir), "PYTHONPATH": str(app_root)}
        command = [sys.executable, "-m", "streamlit", "run", str(app_root / "app.py")]
        command += ["--server.headless", "true", "--server.port", str(self.port)]
        command += ["--browser.gatherUsageStats", "false", "--client.toolbarMode", "minimal"]
        command += ["--server.fileWatcherType", "none"]  # as `backtest dashboard` (bare page included)
        self.process = subprocess.Popen(
            command, env=env, cwd=app_root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                urllib.request.urlopen(self.url + "/_stcore/health", timeout=2)
                return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise SystemExit(f"dashboard did not answer at {self.url}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def backtest(runs_dir: Path, *args: str) -> str:
    env = {**os.environ, "STOCKRNN_RUNS_DIR": str(runs_dir), "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-m", "engine.cli", "run", *args, "--json"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout)["run_id"]


def seed_runs(runs_dir: Path) -> dict[str, str]:
    """An LSTM run, an annual run and a ma-trend run (reused when ``runs_dir`` has them)."""
    found: dict[str, str] = {}
    if runs_dir.is_dir():
        for folder in sorted(runs_dir.iterdir()):
            try:
                manifest = json.loads((folder / "manifest.json").read_text())
            except (OSError, ValueError):
                continue
            if manifest.get("status") == "complete":
                kind = "annual" if manifest.get("frequency") == "annual" else manifest["strategies"][0]
                found.setdefault(kind, folder.name)
    if "lstm-stateful" not in found:
        found["lstm-stateful"] = backtest(
            runs_dir,
            "--strategy",
            "lstm-stateful",
            "--seeds",
            "5",
            "--param",
            "hidden=16",
            "--start",
            "2000-01-01",
        )
    if "annual" not in found:
        found["annual"] = backtest(runs_dir, "--frequency", "annual")
    if "ma-trend" not in found:
        found["ma-trend"] = backtest(runs_dir, "--strategy", "ma-trend")
    return found


# --- page actions (selectors, no sleeps) ------------------------------------------------------------
def open_page(page, url: str) -> float:
    start = time.perf_counter()
    page.goto(url)
    page.get_by_role("tab", name="Runs", exact=True).wait_for(timeout=120_000)
    return time.perf_counter() - start


def settle(page) -> None:
    """Wait until the script run that the last action started has finished (no stale elements)."""
    page.wait_for_timeout(150)  # the rerun request reaches the server
    running = "[data-testid='stStatusWidget'] [data-testid='stStatusWidgetRunningIcon']"
    page.wait_for_function(
        f'!document.querySelector("{running}") && !document.querySelector("[data-stale=true]")',
        timeout=120_000,
    )


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name, exact=True).click()
    settle(page)


# charts drawn (a plot with its svg), the page's hidden warm-up chart not counted (page.py)
DRAWN_CHARTS = (
    "[...document.querySelectorAll('.js-plotly-plot')]"
    ".filter(p => !p.closest('.st-key-warm-up') && p.querySelector('.main-svg')).length"
)
SCRIPT_RUNNING = "[data-testid='stStatusWidget'] [data-testid='stStatusWidgetRunningIcon']"


def charts_ready(page, count: int = 1, *, finished: bool = False) -> None:
    """Wait until ``count`` charts are drawn; ``finished``: and the script run is over, nothing stale
    left on the page (the charts are the new ones, not those of the run shown before)."""
    done = f' && !document.querySelector("{SCRIPT_RUNNING}") && !document.querySelector("[data-stale=true]")'
    page.wait_for_function(f"{DRAWN_CHARTS} >= {count}" + (done if finished else ""), timeout=120_000)


def dismiss_intro(page) -> None:
    button = page.get_by_role("button", name="got it")
    if button.count():
        button.click()
        button.wait_for(state="detached")


def select_option(page, label: str, option: str, *, multi: bool = False) -> float:
    """Pick ``option`` in the selectbox/multiselect labelled ``label``; the clock when it was chosen."""
    settle(page)
    box = page.locator(f"[data-testid='{'stMultiSelect' if multi else 'stSelectbox'}']").filter(
        has=page.get_by_text(label, exact=True)
    )
    field = box.locator("input").first
    field.click()
    field.fill("")
    field.press_sequentially(option[-8:])  # filter the list (long lists are virtualised)
    page.get_by_role("option", name=option, exact=True).first.wait_for(timeout=60_000)
    field.press("ArrowDown")
    field.press("Enter")
    chosen = time.perf_counter()
    page.keyboard.press("Escape")
    return chosen


def save(page, path: Path) -> None:
    """A full-page screenshot without the blank below the content; refused if the page shows an error."""
    from PIL import Image, ImageChops

    settle(page)  # a script run still going (the idle warm-up's, say) can still show an error
    errors = page.locator("[data-testid='stException']")
    if errors.count():
        raise SystemExit(f"{path.name}: the page shows an error: {errors.first.inner_text()[:300]}")
    page.mouse.move(0, 0)  # no hover or focus ring on the last control clicked
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.screenshot(path=str(path), full_page=True)
    image = Image.open(path).convert("RGB")
    blank = Image.new("RGB", image.size, image.getpixel((image.width - 1, image.height - 1)))
    box = ImageChops.difference(image, blank).getbbox()
    if box:
        image.crop((0, 0, image.width, min(image.height, box[3] + 32))).save(path)
    print(f"saved {path}")


def open_run(page, run_id: str) -> None:
    select_option(page, "open run", run_id)
    page.get_by_text(f"Run {run_id}", exact=False).first.wait_for(timeout=120_000)
    charts_ready(page, 3)
    settle(page)


def pair_runs(runs_dir: Path) -> list[str]:
    """Two runs of ma-trend and lstm-stateful (2 seeds, from 2012), ma-trend's window 200 and 100
    (reused when ``runs_dir`` has them): two runs with two strategies each, for Compare."""
    found: dict[str, str] = {}
    for folder in sorted(runs_dir.iterdir()):
        try:
            manifest = json.loads((folder / "manifest.json").read_text())
        except (OSError, ValueError):
            continue
        if manifest.get("status") == "complete" and manifest["strategies"] == ["ma-trend", "lstm-stateful"]:
            found.setdefault(
                str(manifest["config"]["strategies"][0]["params"].get("window", "200")), folder.name
            )
    for window in ("200", "100"):
        if window not in found:
            found[window] = backtest(
                runs_dir,
                *("--strategy", "ma-trend", "--strategy", "lstm-stateful", "--seeds", "2"),
                *("--param", "lstm-stateful.hidden=16", "--param", f"ma-trend.window={window}"),
                *("--start", "2012-01-01"),
            )
    return [found["200"], found["100"]]


def compare(page, run_ids: list[str], path: Path) -> None:
    """The Compare tab with ``run_ids`` chosen, saved to ``path``."""
    open_tab(page, "Compare")
    box = page.locator("[data-testid='stMultiSelect']").filter(has=page.get_by_text("runs to compare"))
    while box.locator("[aria-label^='Remove ']").count():  # clear the default choice
        box.locator("[aria-label^='Remove ']").first.click()
        settle(page)
    for run_id in run_ids:
        select_option(page, "runs to compare", run_id, multi=True)
    page.get_by_text("Settings that differ").wait_for(timeout=120_000)
    settle(page)
    charts_ready(page, 2)
    save(page, path)


def tearsheet(page, run_id: str, path: Path) -> None:
    """One run's Tearsheet view, saved to ``path``."""
    open_run(page, run_id)
    page.get_by_role("tab", name="Tearsheet", exact=True).click()
    page.get_by_text("Worst drawdowns").first.wait_for(timeout=120_000)
    charts_ready(page, 5)
    settle(page)
    save(page, path)


def shots(runs_dir: Path) -> None:
    from playwright.sync_api import sync_playwright

    runs = seed_runs(runs_dir)
    pair = pair_runs(runs_dir)
    print(f"runs: {runs}")
    SHOTS.mkdir(parents=True, exist_ok=True)
    server = Server(ROOT, runs_dir)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium(), headless=True)
            page = browser.new_page(viewport={"width": 1400, "height": 1500})
            open_page(page, server.url)
            # the invalid-field state: two fields rejected, Run disabled, the reasons beside them
            page.get_by_label("costs [bps per unit traded]", exact=True).fill("1e9")
            page.keyboard.press("Enter")
            page.get_by_text("ma-trend — ").click()  # open the strategy's parameters
            window = page.get_by_label("window", exact=True)
            window.fill("1")
            window.press("Enter")
            page.get_by_text("greater than or equal to 2").first.wait_for()
            page.get_by_text("Run is disabled: 2 field(s)").wait_for()
            assert page.get_by_role("button", name="Run", exact=True).is_disabled()
            save(page, SHOTS / "invalid-field.png")
            page.set_viewport_size({"width": 1400, "height": 5200})
            dismiss_intro(page)
            open_tab(page, "Runs")
            open_run(page, runs["lstm-stateful"])
            save(page, SHOTS / "run-view.png")
            tearsheet(page, runs["lstm-stateful"], SHOTS / "run-view-tearsheet.png")
            tearsheet(page, runs["annual"], SHOTS / "run-view-annual-tearsheet.png")
            tearsheet(page, pair[0], SHOTS / "run-view-tearsheet-exposure.png")
            chart = page.locator(".stockrnn-chart").filter(has_text="Gross exposure")
            chart.screenshot(path=str(SHOTS / "exposure-chart.png"))
            print(f"saved {SHOTS / 'exposure-chart.png'}")
            compare(page, [runs["lstm-stateful"], runs["annual"]], SHOTS / "compare-lstm-annual.png")
            compare(page, pair, SHOTS / "compare-two-runs-two-strategies.png")
            dark = browser.new_page(viewport={"width": 1400, "height": 1800}, color_scheme="dark")
            open_page(dark, server.url)
            dismiss_intro(dark)
            open_tab(dark, "Runs")
            open_run(dark, runs["annual"])
            save(dark, SHOTS / "run-view-dark.png")
            browser.close()
    finally:
        server.stop()


def make_store(runs_dir: Path, n: int) -> list[str]:
    """``n`` runs: copies of three real runs under new ids (a listing's work, not a backtest's)."""
    sys.path.insert(0, str(ROOT))
    from engine.api import run_reader

    seeds = seed_runs(runs_dir)
    ids = []
    for i in range(n - len(seeds)):
        source = runs_dir / list(seeds.values())[i % len(seeds)]
        run_id = f"20200101-{i // 3600 % 24:02d}{i // 60 % 60:02d}{i % 60:02d}-{i:06x}"
        target = runs_dir / run_id
        if not target.exists():
            shutil.copytree(source, target)
            # the store checks that the files name their run and still have the digests recorded at
            # publishing: rename the run in metrics.json, then record its new size and SHA-256
            metrics = json.loads((target / "metrics.json").read_text())
            (target / "metrics.json").write_text(json.dumps({**metrics, "run_id": run_id}))
            manifest = json.loads((target / "manifest.json").read_text())
            manifest["run_id"] = run_id
            if "files" in manifest:
                manifest["files"] = run_reader.digests(target)
            (target / "manifest.json").write_text(json.dumps(manifest))
        ids.append(run_id)
    return [*seeds.values(), *ids]


IDLE = "() => new Promise(done => requestIdleCallback(() => done(true), {timeout: 20000}))"


READING_S = 1.5  # a person reads the page before the next click


def idle(page) -> None:
    """The page as a person meets it before the next click: its script run over, shown for a moment's
    reading (READING_S: work a page leaves for idle time, such as the chart code's start-up, happens
    meanwhile), any script run that started meanwhile over, and the main thread idle."""
    settle(page)
    page.wait_for_timeout(READING_S * 1000)
    settle(page)
    page.evaluate(IDLE)
    page.wait_for_timeout(200)  # a second idle period: script chunks loaded meanwhile have started
    page.evaluate(IDLE)


def measure(page, url: str, ids: list[str], target: str, *, wait_idle: bool) -> dict[str, float]:
    """One visit: first paint, the switch to the Runs tab (newest run drawn), opening another run.

    ``wait_idle``: each click once the page is idle (a person looks before clicking); else at once.
    "open a run" counts from the click on the selectbox (typing the id included), "from choosing"
    from the moment the option is chosen.
    """
    when = "after idle" if wait_idle else "at once"
    out = {}
    start = time.perf_counter()
    page.goto(url)
    page.get_by_role("button", name="Run", exact=True).wait_for(timeout=120_000)
    out["first paint"] = time.perf_counter() - start
    if wait_idle:
        idle(page)
    start = time.perf_counter()
    open_tab(page, "Runs")
    page.get_by_text(f"Run {max(ids)}").first.wait_for(timeout=120_000)  # the newest run opens
    charts_ready(page, 3, finished=True)
    out[f"Runs tab ({when})"] = time.perf_counter() - start
    if wait_idle:
        idle(page)
    start = time.perf_counter()
    chosen = select_option(page, "open run", target)
    try:
        page.get_by_text(f"Run {target}").first.wait_for(timeout=60_000)
    except Exception:  # the choice got lost in a rerun under load: choose again (counted in the time)
        chosen = select_option(page, "open run", target)
        page.get_by_text(f"Run {target}").first.wait_for(timeout=120_000)
    charts_ready(page, 3, finished=True)
    out[f"open a run ({when})"] = time.perf_counter() - start
    out[f"open a run from choosing ({when})"] = time.perf_counter() - chosen
    return out


def timings(
    runs_dir: Path,
    n: int,
    app_roots: list[Path],
    repeat: int,
    returning: bool = False,
    with_floor: bool = False,
) -> None:
    """Every app root served at once on the same store, visits interleaved (same load for each).

    Each visit opens a fresh browser context (a first visit: Streamlit's scripts fetched and
    compiled again); ``returning``: one context per app root across its visits, so the browser's
    HTTP and compiled-code caches persist as for a person who has opened the page before.
    ``with_floor``: the bare Streamlit page (:func:`floor`) visited in the same rounds, so the
    dashboard's figures can be set beside what Streamlit itself costs under the same load.
    """
    from playwright.sync_api import sync_playwright

    make_store(runs_dir, n)
    ids = sorted(p.name for p in runs_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
    listed = len(ids)
    print(f"store: {listed} runs in {runs_dir}")
    servers = [Server(root, runs_dir) for root in app_roots]
    figures: dict[Path, dict[str, list[float]]] = {root: {} for root in app_roots}
    bare = floor_server() if with_floor else None
    bare_figures: dict[str, list[float]] = {}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium(), headless=True)
            viewport = {"width": 1400, "height": 2400}
            roots = [*app_roots, *([bare.root] if bare else [])]
            contexts = {root: browser.new_context(viewport=viewport) for root in roots}
            for r in range(repeat + 1):  # visit 0 warms the browser's and the servers' caches
                target = sorted(ids)[len(ids) // 2 + r]
                pairs = list(zip(app_roots, servers, strict=True))
                for wait_idle, (root, server) in itertools.product((False, True), pairs):
                    page = contexts[root].new_page() if returning else browser.new_page(viewport=viewport)
                    try:
                        got = measure(page, server.url, ids, target, wait_idle=wait_idle)
                    except Exception:
                        page.screenshot(path=str(runs_dir / f"failed-{root.name}.png"))
                        print(f"{root}: visit {r} failed; screenshot in {runs_dir}")
                        raise
                    page.close()
                    if r:
                        for k, v in got.items():
                            figures[root].setdefault(k, []).append(v)
                if bare is not None:  # as the apps: a fresh context, or one kept across visits
                    kept = contexts[bare.root]
                    page = kept.new_page() if returning else browser.new_page(viewport=viewport)
                    got = measure_floor(page, bare.url)
                    page.close()
                    for k, v in got.items() if r else ():
                        bare_figures.setdefault(k, []).append(v)
            browser.close()
    finally:
        for server in [*servers, *([bare] if bare else [])]:
            server.stop()
    visits = "returning visitor" if returning else "fresh browser context each visit"
    print(f"median of {repeat} visits (after one warm-up visit; {visits}), every figure in brackets:")
    for root in app_roots:
        print(f"{root}:")
        report(figures[root])
    if bare_figures:
        print("bare Streamlit page (one button; a tab: 500-row table, three plotly charts), same rounds:")
        report(bare_figures)


FLOOR_APP = """
import numpy as np
import plotly.graph_objects as go
import streamlit as st

st.set_page_config(layout="wide")
run_tab, runs_tab = st.tabs(["Run", "Runs"], key="section", on_change="rerun")
if run_tab.open:
    with run_tab:
        st.button("Run", type="primary")
if runs_tab.open:
    with runs_tab:
        st.dataframe({"run": [f"r{i}" for i in range(500)], "n": list(range(500))})
        st.selectbox("open run", [f"r{i}" for i in range(500)])
        st.subheader("Run r0")
        for i in range(3):
            y = np.cumsum(np.random.default_rng(i).normal(size=2000))
            st.plotly_chart(go.Figure([go.Scatter(y=y)]), key=f"c{i}")
"""


def floor_server() -> Server:
    """The bare Streamlit page (FLOOR_APP) served from a temporary folder."""
    folder = Path(tempfile.mkdtemp(prefix="stockrnn-dash-floor-"))
    (folder / "app.py").write_text(FLOOR_APP)
    return Server(folder, folder)


def measure_floor(page, url: str) -> dict[str, float]:
    """One visit to the bare page: first paint, then the switch to its chart tab (clicked at once)."""
    start = time.perf_counter()
    page.goto(url)
    page.get_by_role("button", name="Run", exact=True).wait_for(timeout=120_000)
    out = {"first paint": time.perf_counter() - start}
    start = time.perf_counter()
    open_tab(page, "Runs")
    page.get_by_text("Run r0").first.wait_for(timeout=120_000)
    charts_ready(page, 3, finished=True)
    out["tab switch (at once)"] = time.perf_counter() - start
    return out


def floor(repeat: int) -> None:
    """The least Streamlit itself costs here: a page with one button, then a tab with a 500-row
    table, a 500-option selectbox and three 2,000-point plotly charts (the browser fetches and
    compiles Streamlit's table and plotly bundles on their first use)."""
    from playwright.sync_api import sync_playwright

    server = floor_server()
    got: dict[str, list[float]] = {}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium(), headless=True)
            for r in range(repeat + 1):
                page = browser.new_page(viewport={"width": 1400, "height": 2400})
                visit = measure_floor(page, server.url)
                page.close()
                for k, v in visit.items() if r else ():  # visit 0 warms the caches
                    got.setdefault(k, []).append(v)
            browser.close()
    finally:
        server.stop()
    print(f"bare Streamlit page (median of {repeat}, after one warm-up visit):")
    report(got)


def report(figures: dict[str, list[float]]) -> None:
    for k, v in figures.items():
        print(f"  {k:36s} {statistics.median(v):5.2f} s  [{', '.join(f'{x:.2f}' for x in v)}]")


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def memory(runs_dir: Path, n: int) -> None:
    """Server memory over ``n`` ma-trend runs clicked from the page (workers run in child processes)."""
    from playwright.sync_api import sync_playwright

    server = Server(ROOT, runs_dir)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium(), headless=True)
            page = browser.new_page(viewport={"width": 1400, "height": 2400})
            page.goto(server.url)
            readings = []
            for i in range(n):
                before = {p.name for p in runs_dir.iterdir()}
                run = page.get_by_role("button", name="Run", exact=True)
                run.wait_for(timeout=120_000)
                enabled = "[...document.querySelectorAll('button')].some(b => b.innerText.trim() === 'Run'"
                page.wait_for_function(enabled + " && !b.disabled)", timeout=300_000)
                run.click()
                page.get_by_text("stored in").wait_for(timeout=300_000)
                new = {p.name for p in runs_dir.iterdir()} - before
                charts_ready(page, 3)
                readings.append(rss_mb(server.process.pid))
                if i + 1 in (1, 2, 5, 10, 15, 20) or i + 1 == n:
                    print(f"  after run {i + 1:2d}: server RSS {readings[-1]:.0f} MB (stored {sorted(new)})")
            print(
                f"server RSS growth from run 2 to run {n}: {readings[-1] - readings[min(1, n - 1)]:+.1f} MB"
            )
            browser.close()
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["shots", "timings", "memory", "floor"])
    parser.add_argument("--runs-dir", type=Path, default=None)
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--app-root", type=Path, action="append", default=None)
    parser.add_argument(
        "--returning", action="store_true", help="timings: keep each app's browser cache across visits"
    )
    parser.add_argument(
        "--floor", action="store_true", help="timings: visit the bare Streamlit page in the same rounds"
    )
    args = parser.parse_args()
    runs_dir = args.runs_dir or Path(tempfile.mkdtemp(prefix="stockrnn-dash-runs-"))
    runs_dir.mkdir(parents=True, exist_ok=True)
    if args.mode == "shots":
        shots(runs_dir)
    elif args.mode == "floor":
        floor(args.repeat)
    elif args.mode == "memory":
        memory(runs_dir, args.runs)
    else:
        timings(runs_dir, args.runs, args.app_root or [ROOT], args.repeat, args.returning, args.floor)


if __name__ == "__main__":
    main()
