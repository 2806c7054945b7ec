"""The embedding cache: once per text ever, shared across processes, safe against a crash mid-write."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from feeds.embeddings import Embedder, EmbeddingCache


class FakeModel:
    """Deterministic vectors from the text; counts what it is asked to encode."""

    def __init__(self, fail_after: int | None = None) -> None:
        self.calls: list[int] = []
        self.fail_after = fail_after

    def __call__(self, texts: list[str]) -> np.ndarray:
        if self.fail_after is not None and sum(self.calls) >= self.fail_after:
            raise RuntimeError("killed mid-run")
        self.calls.append(len(texts))
        return np.array([[len(t), sum(map(ord, t)) % 97, 1.0] for t in texts], dtype=np.float32)


def test_each_text_is_embedded_once_and_order_is_kept(tmp_path):
    model = FakeModel()
    embedder = Embedder(tmp_path, encode=model)
    texts = ["b", "a  text", "a text", "c", "b"]  # whitespace variants are one text
    vectors, stats = embedder.embed(texts)
    assert (stats.unique, stats.computed, stats.cache_hits) == (3, 3, 0)
    np.testing.assert_array_equal(vectors[0], vectors[4])
    np.testing.assert_array_equal(vectors[1], vectors[2])
    assert vectors[1][0] == len("a text")
    again, stats = Embedder(tmp_path, encode=model).embed(texts[::-1])
    assert (stats.cache_hits, stats.computed) == (3, 0)
    np.testing.assert_array_equal(again, vectors[::-1])
    assert sum(model.calls) == 3


def test_a_crash_mid_run_keeps_finished_chunks_and_the_rerun_completes(tmp_path):
    texts = [f"headline {i}" for i in range(10)]
    crashing = Embedder(tmp_path, encode=FakeModel(fail_after=4), chunk=4)
    with pytest.raises(RuntimeError, match="killed"):
        crashing.embed(texts)
    crashing.close()
    cache = EmbeddingCache(tmp_path / "embeddings.sqlite")
    assert cache.count() == 4  # the first chunk committed, nothing half-written
    cache.close()
    model = FakeModel()
    vectors, stats = Embedder(tmp_path, encode=model, chunk=4).embed(texts)
    assert (stats.cache_hits, stats.computed) == (4, 6)
    assert vectors.shape == (10, 3)


def test_another_process_reads_the_cache(tmp_path):
    Embedder(tmp_path, encode=FakeModel()).embed(["shared text"])
    code = (
        "import sys; from pathlib import Path; from feeds.embeddings import Embedder\n"
        "e = Embedder(Path(sys.argv[1]), encode=lambda t: (_ for _ in ()).throw(SystemExit('encoded')))\n"
        "v, s = e.embed(['shared text']); print(s.cache_hits, v.shape)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "1 (1, 3)"


def test_a_bad_model_directory_is_named(tmp_path):
    from feeds.errors import InputError

    (tmp_path / "empty_model").mkdir()
    with pytest.raises(InputError, match="empty_model: not a sentence-transformers model"):
        Embedder(tmp_path, str(tmp_path / "empty_model"))


@pytest.mark.slow
def test_the_bundled_minilm_model_embeds_offline(tmp_path):
    embedder = Embedder(tmp_path)
    vectors, stats = embedder.embed(["Stocks rally", "Stocks rally", "Oil falls"])
    assert vectors.shape == (3, 384) and stats.computed == 2
    assert abs(float(np.linalg.norm(vectors[0])) - 1.0) < 1e-3  # all-MiniLM-L6-v2 normalizes its output
    assert embedder.model_id == "sentence-transformers/all-MiniLM-L6-v2"
