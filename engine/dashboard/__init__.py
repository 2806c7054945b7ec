"""The Streamlit dashboard: a surface over the engine, like the CLI (streamlit and plotly live only here).

- ``page``: the page (tabs Run, Runs, Compare, Sweeps); ``run_panel``, ``run_view``,
  ``runs_browser``, ``compare``, ``sweeps``, ``job_view``: its parts; ``reads``:
  cached reads of the store;
- figures and tables of stored runs: ``series`` (the curves drawn, a ``Series``
  each), ``charts`` (equity, drawdown, yearly, seed and rank figures, runs
  compared), ``analysis`` (monthly, rolling, excess, histogram, drawdown periods,
  exposure, costs), ``tables`` (the page's tables), ``style`` (colours, layout,
  log axis), ``tearsheet`` (the HTML tearsheet, also ``backtest show --html``),
  ``sweep_chart`` (the sweep report's chart);
- ``form``: the run form checked as a whole into a ``RunConfig``; ``form_state``: its values kept
  across tab switches and reloads (the address);
- ``jobs`` and ``worker``: runs in worker processes through the Python API
  (engine.api), re-attached after a reload, cancellable; ``isolated``: how those
  children start, so the working directory cannot shadow the package;
- ``launch``: ``backtest dashboard`` (Streamlit serving ``page.py``).

Importing this package imports no streamlit: the page's modules do.
"""
