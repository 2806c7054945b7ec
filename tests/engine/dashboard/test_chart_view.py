"""The dashboard's charts: the bundled plotly.js, what is sent for a figure, what the bundle can draw."""

from __future__ import annotations

import ast
import hashlib
import json
import re
from pathlib import Path

import numpy as np
import plotly
import plotly.graph_objects as go
import pytest

from engine.dashboard import chart_view
from engine.dashboard.chart_view import figure_bytes
from engine.dashboard.plotly_bundle import ASSETS, BUNDLE, TRACES

# npm's plotly.js-cartesian-dist-min 4.1.1, plotly-cartesian.min.js (its tarball's SHA-1 is in chart_view)
BUNDLE_SHA256 = "79542150855a52c567260e3137095dbe2b744e6d702a5cabe67da246942fba7a"
DASHBOARD = Path(chart_view.__file__).parent


def test_the_bundle_is_plotly_js_cartesian_as_released_with_its_licence():
    data = (ASSETS / BUNDLE).read_bytes()
    assert hashlib.sha256(data).hexdigest() == BUNDLE_SHA256
    assert data.startswith(b"/**\n* plotly.js (cartesian - minified) v4.1.1")
    assert "MIT License" in (ASSETS / "PLOTLY-LICENSE").read_text()


def test_the_bundle_is_the_plotly_js_major_version_that_plotly_python_writes_for():
    """Figures are written by the plotly Python package for the plotly.js it ships (its own
    plotly.min.js): the bundle must be of the same major version (pyproject pins plotly 7)."""
    shipped = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    python_js = re.search(rb"plotly\.js v(\d+)\.", shipped.read_bytes()[:200])
    ours = re.search(rb"v(\d+)\.", (ASSETS / BUNDLE).read_bytes()[:200])
    assert python_js and ours and python_js.group(1) == ours.group(1)


def test_the_assets_folder_is_declared_for_the_component_file_route():
    """Streamlit serves a declared component's folder at ``component/<name>/`` (the browser tests
    draw charts through it: tests/app/test_browser.py)."""
    served = chart_view._served
    assert f"component/{served.name}/{BUNDLE}" == chart_view.BUNDLE_URL
    assert Path(served.path).resolve() == ASSETS.resolve() and served.url is None


def test_a_figure_is_sent_without_plotly_python_template_and_is_left_as_it_was():
    figure = go.Figure([go.Scatter(x=np.arange(5), y=np.arange(5.0) / 3, name="s")], layout={"height": 300})
    template_before = figure.layout.template.to_plotly_json()
    sent = json.loads(figure_bytes(figure, {"staticPlot": True}))
    assert "template" not in sent["layout"] and sent["layout"]["height"] == 300
    assert sent["data"][0]["name"] == "s" and sent["config"] == {"staticPlot": True}
    assert figure.layout.template.to_plotly_json() == template_before
    assert "config" not in json.loads(figure_bytes(figure))


def test_every_trace_type_the_dashboard_makes_is_one_the_bundle_draws():
    """The chart modules' ``go.<Trace>(...)`` calls, all of them, against the bundle's trace list."""
    made = set()
    for path in DASHBOARD.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "go":
                made.add(node.attr)
    traces = {name.lower() for name in made - {"Figure", "Layout"}}
    assert traces and traces <= TRACES, traces - TRACES


def test_a_trace_the_bundle_cannot_draw_is_refused_with_its_name():
    with pytest.raises(ValueError, match=r"\['scatter3d'\] are not in plotly-cartesian"):
        chart_view.show_chart(go.Figure([go.Scatter3d(x=[1], y=[1], z=[1])]), key="k")
