"""Code the page needs later, loaded once the browser has drawn the page and is idle: pandas on
the server, the chart and table scripts in the browser.

A first click on the Runs tab waited for three things in a row: Streamlit's 4.7 MB plotly bundle
started in the browser (0.8-1.1 s of a 2-core machine's main thread), pandas imported on the server
(Streamlit's tables convert through it) and the browser's table bundle fetched and started (1.3 MB
in some forty files). A hidden chart and table make all three happen ahead of the click; they are
drawn only when the browser says it is idle (a tiny in-page component calls back from
``requestIdleCallback``), because drawn in the first script run the chart code started while the
page's own widgets were still arriving and delayed first paint by 1-1.5 s in over a third of the
visits measured (benchmarks/dashboard_check.py timings).

A click on the Runs tab right at first paint paid Streamlit's plotly start-up (1.8-2.2 s in all).
The Overview's three charts drawn with Streamlit's Vega-Lite instead (measured side by side, 500
runs, 5 visits): that click 2.16 -> 1.55 s, but the Runs tab after reading 0.92 -> 1.21 s and
opening a run 1.22 -> 1.49 s, since Vega-Lite draws these curves slower once started. The charts
are now drawn by plotly.js's cartesian bundle (engine.dashboard.chart_view), which starts in
0.45 s instead of 1.1: that click 2.04 -> 1.37 s, after reading 0.86 -> 0.74 s (side by side).
Drawing this warm-up first in the script run of a chart tab opened before the page was idle (so
that the chart code starts while the server reads the store) did not help: Runs tab at once
2.08 s without, 2.28 s with (500 runs, 4 visits each, side by side); the server's part of that
click is small beside the browser's.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from engine.dashboard.pandas_import import import_pandas_once

# hidden: the warm-up draws nothing a person sees
WARM_UP_STYLE = "<style>.st-key-warm-up { display: none; }</style>"
WARMED = "warm-up-done"  # session state: the chart and table code is loaded in this page

# runs in the page (Streamlit's in-page components, no iframe): once the page is idle, tell Python
IDLE_JS = """
export default function ({ setTriggerValue }) {
  const idle = (f) =>
    window.requestIdleCallback ? requestIdleCallback(f, { timeout: 10000 }) : setTimeout(f, 1000);
  // two idle periods 200 ms apart: the page drawn, then the chunks its widgets fetched started
  idle(() => setTimeout(() => idle(() => setTriggerValue("idle", true)), 200));
}
"""
page_idle = st.components.v2.component("stockrnn.page_idle", js=IDLE_JS)


@st.fragment
def warm_up_drawing_code() -> None:
    """At the page's end: an in-page idle signal, then (a rerun of only this part) an empty chart and
    an empty table, hidden, so the browser loads and starts their code while the person reads.

    Once drawn, every later script run draws them again (a few hundred bytes, the code stays loaded)
    and no longer asks for the signal.
    """
    box = st.container(key="warm-up")
    box.html(WARM_UP_STYLE)
    if not st.session_state.get(WARMED):
        with box:
            signal = page_idle(key="page-idle", on_idle_change=lambda: None, height=0)
        if not signal.idle:
            return
        st.session_state[WARMED] = True
    import plotly.graph_objects as go

    from engine.dashboard.chart_view import show_chart

    with box:
        show_chart(go.Figure(), key="warm-up-chart", config={"staticPlot": True})
    import_pandas_once()
    box.dataframe(pl.DataFrame({"-": []}), key="warm-up-table", hide_index=True)
