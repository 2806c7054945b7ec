"""Stock-RNN dashboard: run strategies, look at them against their benchmarks, browse and compare runs.

The Streamlit page: ``backtest dashboard`` serves this file (engine.dashboard.launch),
``streamlit run app.py`` in a checkout serves the same through app.py. Runs execute
in a worker process (engine.dashboard.jobs) recorded in the runs directory, so a
reloaded page re-attaches to them; results land in the same store the CLI uses,
and every chart and table is drawn from the stored run (engine.dashboard.charts, ...),
so the numbers are those of ``backtest show``. The form is checked as a whole
before Run is enabled (engine.dashboard.form): a rejected value is shown beside
its field, never replaced. Tabs are lazy (only the open one runs) and store reads
are cached on the runs directory's modification time (engine.dashboard.reads), so
the page stays quick with hundreds of runs; once the browser has drawn the page and is
idle, a hidden empty chart and table have it start their code before a run is opened
(engine.dashboard.warm_up).
"""

from __future__ import annotations

import os
import sys

import streamlit as st

from engine.dashboard.compare import compare_runs
from engine.dashboard.form_state import keep_form_state
from engine.dashboard.job_view import follow_job
from engine.dashboard.run_panel import run_panel
from engine.dashboard.runs_browser import runs_browser
from engine.dashboard.sweeps import sweeps_view
from engine.dashboard.today import today_view
from engine.dashboard.warm_up import warm_up_drawing_code

INTRO = (
    "**What this page does.** Pick a strategy and run it: the engine trades it day by day without "
    "look-ahead, after costs, and sets it against buy-and-hold over the same period (annual stock "
    "pickers: against the equal-weight universe and the index). Learned strategies run over several "
    "seeds. The **bundled sample** is the S&P 500 index (^GSPC) and 20 large US stocks, daily, "
    "1990-2022, so everything works offline. Every run is stored; **Runs** opens one, **Compare** "
    "overlays several, **Sweeps** summarises parameter grids."
)


def main() -> None:
    """Draw the page once (Streamlit calls the script again on every interaction)."""
    st.set_page_config(page_title="Stock-RNN backtests", layout="wide", menu_items={"About": None})
    st.title("Stock-RNN: learned strategies vs buy-and-hold")
    if not st.session_state.get("intro-seen") and st.query_params.get("intro") != "seen":
        box = st.container(border=True)
        box.markdown(INTRO)
        if box.button("got it", key="intro-ok"):
            st.session_state["intro-seen"] = True
            st.query_params["intro"] = "seen"  # in the address: a reload or bookmark skips it too
            st.rerun()
    follow_job()
    keep_form_state()  # before the tabs: a hidden Run tab's widgets lose their state at this run's end
    run_tab, runs_tab, compare_tab, sweeps_tab, today_tab = st.tabs(
        ["Run", "Runs", "Compare", "Sweeps", "Today"], key="section", on_change="rerun"
    )
    # lazy: only the open tab runs (a widget change elsewhere never re-reads the store for hidden tabs)
    if run_tab.open:
        with run_tab:
            run_panel()
    if runs_tab.open:
        with runs_tab:
            runs_browser()
    if compare_tab.open:
        with compare_tab:
            compare_runs()
    if sweeps_tab.open:
        with sweeps_tab:
            sweeps_view()
    if today_tab.open:
        with today_tab:
            today_view()
    warm_up_drawing_code()


def _unlist_own_folder() -> None:
    """Streamlit puts the served script's folder first on ``sys.path``; take this package's folder off.

    Its modules are ``engine.dashboard.*``: as top-level names (``charts``, ``jobs``,
    ...) they could shadow other packages imported later in the server.
    """
    here = os.path.dirname(os.path.realpath(__file__))
    sys.path[:] = [p for p in sys.path if not p or os.path.realpath(p) != here]


if __name__ == "__main__":  # served as the script itself (`backtest dashboard`)
    _unlist_own_folder()
    main()
