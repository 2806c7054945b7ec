"""Every chart on the page: a plotly figure drawn by plotly.js's cartesian bundle, in the page.

Streamlit's own ``st.plotly_chart`` loads its 4.7 MB plotly bundle on the first chart of a visit:
starting it held a 2-core machine's browser for 0.8-1.1 s (1.1 s measured on its own), so the
Runs tab clicked right at first paint took 2.1-2.5 s where a person expects 1.5 s
(benchmarks/dashboard_check.py timings). The dashboard draws bar, box, heatmap, histogram and
scatter traces only: plotly.js's official cartesian bundle (``plotly.js-cartesian-dist-min``
4.1.1, the plotly.js version the ``plotly`` Python package ships, MIT, 1.5 MB, in ``assets/``)
has them all and starts in 0.45 s (a page that loads only the bundle, 5 loads each, side by
side: 0.44-0.50 s against 1.08-1.14 s for the full one; its first 16,000-point chart then takes
0.12-0.13 s against 0.09 s). That click now takes 1.4-1.6 s (benchmarks/dashboard_check.py
timings, 500 runs, side by side with the code before: 2.0-2.6 s).

How it is served: a tiny in-page component (Streamlit components v2, no iframe) adds the
bundle's script once per page from the server's component file route (the folder is declared
as a v1 component's static files; nothing is fetched from the internet), then draws each figure
with ``Plotly.react``. The figure's look follows Streamlit's theme, light or dark, from the CSS
variables Streamlit gives every component (text and background colours, fonts); colours set
by the figure win. The bundle itself, its provenance and its trace types: engine.dashboard.plotly_bundle.
"""

from __future__ import annotations

import json

import plotly.graph_objects as go
import plotly.io as pio
import streamlit as st
from streamlit.components import v1 as components_v1

from engine.dashboard.pandas_import import pandas_whole_or_absent
from engine.dashboard.plotly_bundle import ASSETS, BUNDLE, TRACES, unsupported_traces
from engine.dashboard.style import COLORS

DEFAULT_HEIGHT = 450  # px, as st.plotly_chart: a figure without a height of its own

# the folder served read-only at <page>/component/<name>/ (a v1 component that is never drawn)
_served = components_v1.declare_component("plotly_files", path=str(ASSETS))
BUNDLE_URL = f"component/{_served.name}/{BUNDLE}"

CHART_JS = """
const BUNDLE = new URL("%(bundle)s", document.baseURI).href;
const COLORWAY = %(colorway)s;

// one script element per page, however many charts ask for it
function plotly() {
  if (!window.stockrnnPlotly) {
    window.stockrnnPlotly = new Promise((ok, fail) => {
      const script = document.createElement("script");
      script.src = BUNDLE;
      script.async = true;
      script.onload = () => ok(window.Plotly);
      script.onerror = () => { window.stockrnnPlotly = null; fail(new Error("could not load " + BUNDLE)); };
      document.head.appendChild(script);
    });
  }
  return window.stockrnnPlotly;
}

// a CSS colour as rgba() at opacity a
function faded(probe, color, a) {
  probe.style.color = color;
  const rgb = getComputedStyle(probe).color.match(/[0-9.]+/g) || ["0", "0", "0"];
  return `rgba(${rgb[0]}, ${rgb[1]}, ${rgb[2]}, ${a})`;
}

// Streamlit's chart theme: its fonts and colours, light or dark, from the component's CSS variables
function theme(el) {
  const css = getComputedStyle(el);
  const v = (name, fallback) => css.getPropertyValue(name).trim() || fallback;
  const text = v("--st-text-color", "#31333F"), heading = v("--st-heading-color", text);
  const bg = v("--st-background-color", "#FFFFFF");
  const font = v("--st-font", "sans-serif");
  const probe = document.createElement("span");
  el.appendChild(probe);
  const soft = faded(probe, text, 0.75), grid = faded(probe, text, 0.12);
  probe.remove();
  const axis = { gridcolor: grid, zerolinecolor: grid, tickcolor: grid, linecolor: grid,
                 tickfont: { color: soft, size: 12 }, title: { font: { color: soft, size: 14 } } };
  return { layout: {
    colorway: COLORWAY, font: { family: font, color: soft, size: 12 },
    title: { x: 0, xanchor: "left",
             font: { family: v("--st-heading-font", font), size: 16, weight: 600, color: heading } },
    paper_bgcolor: bg, plot_bgcolor: bg,
    xaxis: { ...axis, showgrid: false, zeroline: false }, yaxis: axis,
    legend: { font: { color: soft, size: 12 }, bgcolor: "rgba(0,0,0,0)" },
    hoverlabel: { bgcolor: bg, bordercolor: grid, font: { color: text, family: font, size: 12 } },
  } };
}

export default function ({ data, parentElement }) {
  const figure = JSON.parse(new TextDecoder().decode(data));
  let box = parentElement.querySelector(":scope > .stockrnn-chart");
  if (!box) {
    box = document.createElement("div");
    box.className = "stockrnn-chart";
    parentElement.appendChild(box);
  }
  const layout = figure.layout || {};
  box.style.height = (layout.height || %(height)d) + "px";
  layout.template = theme(parentElement);
  const config = { displaylogo: false, responsive: true, ...(figure.config || {}) };
  plotly()
    .then((Plotly) => {
      if (box.dataset.failed) { delete box.dataset.failed; box.textContent = ""; }
      return Plotly.react(box, figure.data || [], layout, config);
    })
    .catch((err) => {  // say so where the chart would be (the next figure tries again)
      box.dataset.failed = "1";
      box.style.height = "auto";
      box.textContent = "chart not drawn: " + err.message;
    });
  // called before the next figure (the box stays: Plotly.react updates it) and when the element
  // goes (the box leaves the page): then free the plot and its window resize listener
  return () => setTimeout(() => { if (!box.isConnected && window.Plotly) window.Plotly.purge(box); }, 0);
}
"""

_chart = st.components.v2.component(
    "stockrnn.chart",
    js=CHART_JS % {"bundle": BUNDLE_URL, "colorway": list(COLORS), "height": DEFAULT_HEIGHT},
    isolate_styles=False,  # plotly styles its hover labels and mode bar from the page's <head>
)


def figure_bytes(figure: go.Figure, config: dict | None = None) -> bytes:
    """The figure as plotly.js reads it (UTF-8 JSON; arrays as typed binary), without plotly's template.

    The page gives the theme (:data:`CHART_JS`): Python's default template, Streamlit's
    placeholders among them, would only add kilobytes. ``figure`` is left as it was.
    """
    template = figure.layout.template
    figure.layout.template = None
    try:
        with pandas_whole_or_absent():  # the JSON writer reads pandas if another thread is importing it
            text = pio.to_json(figure, validate=False)
    finally:
        figure.layout.template = template
    if config:
        text = text[:-1] + ', "config": ' + json.dumps(config) + "}"
    return text.encode()


def show_chart(figure: go.Figure, *, key: str, config: dict | None = None) -> None:
    """Draw ``figure`` across the container's width (its own height, else 450 px).

    ``key``: the element's key (unique on the page); ``config``: plotly.js options
    (``staticPlot``, ...) over the defaults (no plotly logo, resized with the window).
    Raises ValueError for a trace type the bundle cannot draw (:data:`TRACES`).
    """
    missing = unsupported_traces({t.type for t in figure.data})
    if missing:
        raise ValueError(
            f"chart {key!r}: trace type(s) {missing} are not in {BUNDLE} (it draws {sorted(TRACES)})"
        )
    _chart(data=figure_bytes(figure, config), key=key, width="stretch")
