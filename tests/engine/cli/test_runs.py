"""`run --ablate-headlines` reports failures by its exit code (it used to return 0 before checking)."""

from __future__ import annotations

import numpy as np
import pytest

import feeds.headline_sources as headline_sources
from engine.cli import main
from feeds.embeddings import Embedder
from tests.conftest import random_walk_market, write_yahoo_csv


@pytest.fixture
def fake_embedder(monkeypatch):
    """Deterministic 3-dim vectors instead of the MiniLM model (fast, offline)."""

    def make(cache_dir, model="default", **kwargs):
        return Embedder(
            cache_dir,
            model,
            encode=lambda texts: np.array([[len(t), sum(map(ord, t)) % 97, 1.0] for t in texts]),
        )

    monkeypatch.setattr(headline_sources, "Embedder", make)


def test_ablate_headlines_exits_1_when_a_strategy_failed(tmp_path, capsys, fake_embedder):
    market = random_walk_market(n=400, tickers=("IDX",), seed=2)
    data = write_yahoo_csv(tmp_path / "IDX.csv", market)
    news = tmp_path / "news.csv"
    news.write_text("Headlines,Time\n" + "".join(f"news of {d},{d}\n" for d in market.dates[::3]))
    args = ["run", "--data", f"csv:{data}", "--headlines", f"csv:{news}", "--ablate-headlines"]
    args += ["--headline-column", "Headlines", "--time-column", "Time", "--strategy", "ma-trend"]
    args += ["--param", "ma-trend.window=20"]
    with pytest.raises(SystemExit) as ok:
        main(args)
    assert ok.value.code == 0
    capsys.readouterr()
    with pytest.raises(SystemExit) as failed:
        main([*args, "--strategy", "tests/fixtures/bad_plugins.py:Raises"])
    captured = capsys.readouterr()
    assert failed.value.code == 1
    assert "Headlines ablation" in captured.out and "strategy raises failed" in captured.err
    with pytest.raises(SystemExit) as failed_json:
        main([*args, "--strategy", "tests/fixtures/bad_plugins.py:Raises", "--json"])
    assert failed_json.value.code == 1
