"""The HTML tearsheet: self-contained, the run's JSON form embedded."""

from __future__ import annotations

import html
import json
import re

from engine.dashboard.tearsheet import tearsheet_html


def test_tearsheet_html_is_self_contained(stored):
    result, equity, weights, payload = stored
    page = tearsheet_html(result, equity, weights)
    embedded = re.search(r"id='metrics'>(.*?)</script>", page).group(1)
    assert json.loads(html.unescape(embedded)) == payload  # the typed dump: metrics.json values
    stored_form = tearsheet_html(result, equity, weights, label="mine", json_form=payload)
    assert "<h1>Run " + payload["run_id"] + ": mine</h1>" in stored_form
    embedded = re.search(r"id='metrics'>(.*?)</script>", stored_form).group(1)
    assert html.unescape(embedded) == json.dumps({**payload, "label": "mine"})  # as stored, key order too
    assert page.startswith("<!doctype html>")
    assert not re.search(r"<script[^>]*\bsrc=", page)  # plotly.js inlined, nothing fetched: opens offline
    assert "Worst drawdowns" in page and "Monthly returns" in page and payload["run_id"] in page
    assert "<th>CAGR %</th>" in page and "± std %" not in page  # ma-trend: no empty seed columns


def test_tearsheet_inlines_the_cartesian_bundle_once_in_plotly_colours_even_beside_streamlit(stored):
    """Importing streamlit makes plotly's default template Streamlit's, whose colours are
    placeholders (#000001 ...) that only Streamlit's page fills in: the file uses plotly's own."""
    import streamlit  # noqa: F401  (the import is the point)

    result, equity, weights, _ = stored
    page = tearsheet_html(result, equity, weights)
    assert page.count("plotly.js (cartesian - minified) v4.1.1") == 1
    charts = page[page.index("</script>") :]  # after the bundle
    assert charts.count("Plotly.newPlot") >= 6 and not re.search(r"#0000[0-9]{2}\b", charts)
