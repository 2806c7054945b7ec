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
    assert embedder.model_id.startswith("sentence-transformers/all-MiniLM-L6-v2#")  # keyed by content


# the key is the model's content, not its name (issue 23) ----------------------------------------
def fake_model_dir(path, weights: bytes):
    path.mkdir(parents=True)
    (path / "modules.json").write_text("[]")
    (path / "config.json").write_text("{}")
    (path / "model.safetensors").write_bytes(weights)
    return path


def test_two_local_models_of_the_same_folder_name_never_share_vectors(tmp_path):
    one = fake_model_dir(tmp_path / "a" / "my-model", b"weights one")
    two = fake_model_dir(tmp_path / "b" / "my-model", b"weights two")
    cache = tmp_path / "cache"
    first = Embedder(cache, str(one), encode=lambda t: np.ones((len(t), 3), dtype=np.float32))
    vectors, _ = first.embed(["Stocks rally"])
    second = Embedder(cache, str(two), encode=lambda t: np.zeros((len(t), 3), dtype=np.float32))
    other, stats = second.embed(["Stocks rally"])
    assert (stats.cache_hits, stats.computed) == (0, 1)
    assert first.model_id != second.model_id and first.model_id.startswith("local:my-model#")
    assert vectors[0][0] == 1.0 and other[0][0] == 0.0
    # the same content in a third folder of that name is the same model: served from the cache
    three = fake_model_dir(tmp_path / "c" / "my-model", b"weights one")
    again, stats = Embedder(cache, str(three), encode=FakeModel()).embed(["Stocks rally"])
    assert stats.cache_hits == 1 and again[0][0] == 1.0


def test_new_weights_in_the_same_folder_are_a_new_model(tmp_path):
    folder = fake_model_dir(tmp_path / "my-model", b"old")
    before = Embedder(tmp_path, str(folder), encode=FakeModel()).model_id
    (folder / "model.safetensors").write_bytes(b"new weights, another size")
    after = Embedder(tmp_path, str(folder), encode=FakeModel())
    assert after.model_id != before
    _, stats = after.embed(["x"])
    assert stats.computed == 1


def test_rows_stored_under_a_name_only_are_not_served(tmp_path):
    folder = fake_model_dir(tmp_path / "my-model", b"w")
    old = EmbeddingCache(tmp_path / "embeddings.sqlite")
    from feeds.embeddings import text_key

    old.put("local:my-model", [text_key("Stocks rally")], np.full((1, 3), 7.0, dtype=np.float32))
    old.close()
    vectors, stats = Embedder(tmp_path, str(folder), encode=FakeModel()).embed(["Stocks rally"])
    assert (stats.cache_hits, stats.computed) == (0, 1) and vectors[0][0] != 7.0


def test_a_hub_name_is_keyed_by_its_snapshot_on_disk(tmp_path, monkeypatch):
    import huggingface_hub

    snapshot = {"path": fake_model_dir(tmp_path / "snap1", b"rev one")}
    monkeypatch.setattr(huggingface_hub, "snapshot_download", lambda repo, **kw: str(snapshot["path"]))
    first = Embedder(tmp_path, "org/model", encode=FakeModel())
    assert first.model_id.startswith("org/model#") and first.model_path == str(snapshot["path"])
    first.embed(["x"])
    snapshot["path"] = fake_model_dir(tmp_path / "snap2", b"rev two")  # the hub's model changed
    _, stats = Embedder(tmp_path, "org/model", encode=FakeModel()).embed(["x"])
    assert stats.computed == 1


def test_a_hub_model_not_on_disk_is_one_line(tmp_path, monkeypatch):
    import huggingface_hub

    from feeds.errors import InputError

    def offline(repo, **kw):
        raise OSError("offline")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", offline)
    with pytest.raises(InputError, match="'org/model': not a local model directory"):
        Embedder(tmp_path, "org/model")
