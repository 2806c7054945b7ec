"""``backtest new-strategy``: the generated plugin package."""

from __future__ import annotations

from engine.cli.scaffold import compatible_range, scaffold


def test_scaffold_requires_a_compatible_version_range(tmp_path):
    folder = scaffold("my-idea", tmp_path)
    text = (folder / "pyproject.toml").read_text()
    assert f'"stock-rnn{compatible_range()}"' in text
    assert compatible_range("1.4.2") == ">=1.4.2,<2" and compatible_range("0.3.1") == ">=0.3.1,<0.4"
    assert "from engine.api import check_strategy" in next((folder / "tests").glob("*.py")).read_text()
