"""``python -m engine.cli``: the ``backtest`` command line (the dashboard's job runner starts it so)."""

from engine.cli import main

if __name__ == "__main__":
    main()
