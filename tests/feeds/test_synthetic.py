"""feeds.synthetic: the synthetic markets the tests and the plugin check run on."""

from __future__ import annotations

import numpy as np

from feeds.synthetic import synthetic_market
from strategies.history import History


def test_synthetic_market_is_long_and_has_bars():
    m = synthetic_market()
    assert m.n_days > 3000 and (m.bar("high") >= m.bar("low")).all()
    h = History(m, 10)
    assert h.volume.shape == (10, 2) and np.isfinite(h.open).all()
