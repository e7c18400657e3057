"""When to rebuild an HNSW graph that holds removed chunks (``REBUILD_SHARE`` in rag/index/vectors/faiss_backend.py).

    python bench/hnsw_rebuild.py                    # 100,000 vectors: ~5 minutes on 2 cores
    python bench/hnsw_rebuild.py --size 50000 --no-write

HNSW cannot drop a vector: the backend keeps a removed chunk's vector in the graph, marks it -1, skips it and
searches deeper, until removed ones pass ``REBUILD_SHARE`` of the graph and the graph is built again from the
live vectors. This measures, on the real ``FaissBackend`` forced to HNSW, what the dead vectors cost as their
share grows (single-query latency at the retriever's depth, recall@10 against exact search over the live
vectors, the graph's size) against what a rebuild costs, so that the threshold is where the first starts to
matter. Vectors are ``bench/scale.py``'s synthetic e5-like ones. Writes its section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from report import replace_section  # noqa: E402
from scale import SyntheticEmbeddings  # noqa: E402

from rag.index.vectors import faiss_backend  # noqa: E402
from rag.index.vectors.faiss_backend import FaissBackend  # noqa: E402

DEPTH = 50  # the retriever's dense depth
K = 10
QUERIES = 200
SHARES = (0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5)


def measure(backend: FaissBackend, live: np.ndarray, queries: np.ndarray) -> dict:
    """Median/p95 latency of one query at ``DEPTH`` and recall@10 against exact search over ``live``."""
    exact = np.argsort(-(queries @ live.T), axis=1)[:, :K]
    latencies, recall = [], []
    for q, truth in zip(queries, exact):
        t = time.perf_counter()
        found = [p for p, _ in backend.search(q, DEPTH)][:K]
        latencies.append((time.perf_counter() - t) * 1000)
        recall.append(len(set(found) & set(truth.tolist())) / K)
    return {"median_ms": statistics.median(latencies), "p95_ms": float(np.percentile(latencies, 95)),
            "recall": float(np.mean(recall))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args()
    synthetic = SyntheticEmbeddings()
    vectors = synthetic.sample(args.size, seed=1)
    queries = synthetic.sample(QUERIES, seed=2)
    faiss_backend.REBUILD_SHARE = 1.0  # never rebuild while measuring: the dead vectors stay in the graph
    faiss_backend.EXACT_MAX_VECTORS = 1_000  # HNSW at this size (the backend switches to it above 200k chunks)
    backend = FaissBackend(vectors.shape[1])
    t = time.perf_counter()
    backend._rebuild(vectors, "hnsw")
    build_s = time.perf_counter() - t
    rng = np.random.default_rng(3)
    order = rng.permutation(args.size)  # positions in the order they are removed
    rows = []
    removed = 0
    alive = np.ones(args.size, dtype=bool)
    for share in SHARES:
        target = int(share * args.size)
        if target > removed:
            gone = np.sort(order[removed:target])
            # positions are those of the live chunks at the time of the removal, as the update path passes them
            live_position = np.cumsum(alive) - 1
            backend.remove(live_position[gone])
            alive[gone] = False
            removed = target
        figures = measure(backend, vectors[alive], queries)
        rows.append((share, figures))
        print(share, figures, flush=True)
    t = time.perf_counter()
    backend._rebuild(backend._live_vectors(), "hnsw")
    rebuild_s = time.perf_counter() - t
    rebuilt = measure(backend, vectors[alive], queries)
    print("rebuilt", rebuild_s, rebuilt, flush=True)
    table = "\n".join(f"| {share:.0%} | {f['median_ms']:.2f} | {f['p95_ms']:.2f} | {f['recall']:.3f} |"
                      for share, f in rows)
    body = f"""Written by `python bench/hnsw_rebuild.py --size {args.size}` on {time.strftime('%Y-%m-%d')} ({platform.machine()},
Python {platform.python_version()}, 2 cores). The real `FaissBackend` forced to HNSW (M {faiss_backend.HNSW_M},
efConstruction {faiss_backend.HNSW_EF_CONSTRUCTION}, efSearch {faiss_backend.HNSW_EF_SEARCH}) over {args.size:,} of
`bench/scale.py`'s synthetic e5-like vectors (built in {build_s:.0f} s); chunks removed at random, their vectors left
in the graph marked removed, as the backend does below its rebuild threshold. One query at a time at the
retriever's depth ({DEPTH}), {QUERIES} queries; recall@10 against exact search over the live vectors.

| removed share of the graph | median ms | p95 ms | recall@10 |
|---:|---:|---:|---:|
{table}

Rebuilding the graph from the {int(alive.sum()):,} live vectors took {rebuild_s:.0f} s; after it: median
{rebuilt['median_ms']:.2f} ms, recall@10 {rebuilt['recall']:.3f}.
"""
    if not args.no_write:
        replace_section("HNSW with removed chunks: when to rebuild (issue 14)", body)
    print(body)


if __name__ == "__main__":
    main()
