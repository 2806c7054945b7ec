"""Stock-RNN dashboard: ``streamlit run app.py`` in a checkout; ``backtest dashboard`` serves the same page.

The page lives in the package (engine/dashboard/page.py); this file only serves it.
"""

from engine.dashboard.page import main

main()
