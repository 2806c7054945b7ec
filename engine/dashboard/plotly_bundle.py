"""The plotly.js the dashboard ships: plotly.js's official cartesian bundle and what it can draw.

``plotly.js-cartesian-dist-min`` 4.1.1 from npm (MIT, license beside it in ``assets/``; the npm
tarball's SHA-1 is 4282e25097f00195aa7aeafb3f1678d6bf25a36c, tests pin the file's SHA-256): the
plotly.js version the ``plotly`` Python package 7 writes figures for, with the trace types the
dashboard draws. 1.5 MB where the full bundle is 4.7 MB: it starts in 0.45 s where Streamlit's
full one took 1.1 s on a 2-core machine (engine/dashboard/chart_view.py), and a tearsheet file
that inlines it is 3 MB smaller. Free of streamlit: ``backtest show --html`` reads it too.
"""

from __future__ import annotations

from pathlib import Path

ASSETS = Path(__file__).with_name("assets")
BUNDLE = "plotly-cartesian.min.js"
# the trace types the bundle draws (its README); a figure with another type is refused before it is sent
TRACES = frozenset(
    {"bar", "box", "contour", "heatmap", "histogram", "histogram2d", "histogram2dcontour", "image", "pie"}
    | {"scatter", "scatterternary", "violin"}
)


def bundle_text() -> str:
    """The bundle's JavaScript, to inline in a self-contained HTML file (it holds no ``</script``)."""
    return (ASSETS / BUNDLE).read_text(encoding="utf-8")


def unsupported_traces(types: set[str]) -> list[str]:
    """The trace types of ``types`` the bundle cannot draw, sorted (empty: all drawable)."""
    return sorted(types - TRACES)
