"""Headline embedding benchmark: our cached embedder vs raw SentenceTransformer.encode.

Side by side in one process, on the 73,608 real headlines in ../shared/data (cleaned
by the headline reader; exact duplicates dropped), the bundled all-MiniLM-L6-v2,
the same batch size:

1. raw: ``SentenceTransformer.encode(texts, batch_size=B)`` once over all texts;
2. ours, first run: ``Embedder.embed`` into an empty cache (hashing, cache writes
   in transactions of 4,096 texts included);
3. ours, cached re-run: a new ``Embedder`` (as a new run would) reading the cache.

Prints headlines/s, the ratio raw/ours (1.0 = as fast as raw; 0.9 or better
wanted) and the speed-up of the cached re-run over the first (50x or better wanted).

Usage: ``python benchmarks/embed_bench.py [--limit N] [--batch-size B]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from feeds.embeddings import Embedder, resolve_model
from feeds.headlines import read_headline_file

DATA = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "data"
    / "headlines_reddit_worldnews_2008-06-08_2016-07-01.csv"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=0, help="use only the first N headlines (0 = all)")
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    if not DATA.exists():
        raise SystemExit(f"needs {DATA}")
    frame, _ = read_headline_file(DATA)
    texts = frame["headline"].to_list()
    if args.limit:
        texts = texts[: args.limit]
    distinct = len(set(texts))
    print(
        f"{len(texts)} headlines ({distinct} distinct texts) from {DATA.name}; batch size {args.batch_size}"
    )

    from sentence_transformers import SentenceTransformer

    _, path = resolve_model("default")
    model = SentenceTransformer(path, device="cpu")
    model.encode(texts[:256], batch_size=args.batch_size)  # warm up both paths alike
    start = time.perf_counter()
    raw = model.encode(texts, batch_size=args.batch_size, convert_to_numpy=True, show_progress_bar=False)
    t_raw = time.perf_counter() - start
    print(f"raw SentenceTransformer.encode: {t_raw:7.1f} s  {len(texts) / t_raw:7.0f} headlines/s")

    with tempfile.TemporaryDirectory() as cache:
        embedder = Embedder(Path(cache), batch_size=args.batch_size)
        embedder._model = model  # the same loaded model: compare the encoding paths, not load time
        start = time.perf_counter()
        ours, stats = embedder.embed(texts)
        t_first = time.perf_counter() - start
        embedder.close()
        print(
            f"ours, first run (empty cache):  {t_first:7.1f} s  {len(texts) / t_first:7.0f} headlines/s  "
            f"({stats.computed} computed)"
        )
        start = time.perf_counter()
        again = Embedder(Path(cache), batch_size=args.batch_size)
        cached, stats = again.embed(texts)
        t_cached = time.perf_counter() - start
        again.close()
        print(
            f"ours, cached re-run:            {t_cached:7.2f} s  {len(texts) / t_cached:7.0f} headlines/s  "
            f"({stats.cache_hits} cache hits, {stats.computed} computed)"
        )
    diff = float(np.max(np.abs(ours - raw)))
    print(f"ratio raw / ours (first run): {t_raw / t_first:.2f} (wanted >= 0.9)")
    print(f"speed-up cached re-run vs first: {t_first / t_cached:.0f}x (wanted >= 50x)")
    print(
        f"largest difference ours vs raw vectors: {diff:.2e}; cached == first: {np.array_equal(cached, ours)}"
    )


if __name__ == "__main__":
    main()
