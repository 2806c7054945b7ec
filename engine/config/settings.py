"""Where things live on disk: one settings object, with environment overrides.

- runs directory: ``--runs-dir``, else ``$STOCKRNN_RUNS_DIR``, else the platform's
  user data dir (``~/.local/share/stockrnn/runs`` on Linux);
- cache directory (Yahoo prices, embeddings): ``--cache-dir``, else
  ``$STOCKRNN_CACHE_DIR``, else the platform's user cache dir
  (``~/.cache/stockrnn`` on Linux).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP = "stockrnn"


@dataclass(frozen=True)
class Settings:
    runs_dir: Path
    cache_dir: Path

    @classmethod
    def resolve(cls, runs_dir: Path | None = None, cache_dir: Path | None = None) -> Settings:
        """Explicit values win, then environment variables, then platform defaults."""
        runs = runs_dir or _env_path("STOCKRNN_RUNS_DIR") or _platform_dir("runs")
        cache = cache_dir or _env_path("STOCKRNN_CACHE_DIR") or _platform_dir("cache")
        return cls(runs_dir=Path(runs).expanduser(), cache_dir=Path(cache).expanduser())


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name, "").strip()
    return Path(value) if value else None


def _platform_dir(kind: str) -> Path:
    return (
        Path(platformdirs.user_data_dir(APP)) / "runs"
        if kind == "runs"
        else Path(platformdirs.user_cache_dir(APP))
    )


def default_dir(kind: str) -> str:
    """The platform's runs (``kind="runs"``) or cache directory, home written ``~`` (for help texts)."""
    path = _platform_dir(kind)
    try:
        return "~/" + str(path.relative_to(Path.home()))
    except ValueError:
        return str(path)
