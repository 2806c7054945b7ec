"""``python -m engine``: the ``backtest`` command line (same commands, options and exit codes)."""

from engine.cli import main

if __name__ == "__main__":
    main()
