"""Milvus Lite vs FAISS on the same 100k synthetic chunks: ingest rate and search latency.

    python bench/milvus.py                # a few minutes on 2 cores
    python bench/milvus.py --chunks 20000

Uses the backends the assistant uses (``rag.index.vectors``): FAISS as built for an index of this size
(exact up to 200k), and a Milvus Lite file with the same rule (FLAT index). Vectors come from
``bench/scale.py``'s e5-shaped generator. Ingest is from vectors to searchable (the embedder's own
time is in the build-throughput section); search is one query at a time for the retriever's depth (50).
Writes its section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from report import replace_section  # noqa: E402
from scale import DIM, SyntheticEmbeddings  # noqa: E402

QUERIES = 200
DEPTH = 50


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def timed_search(store, queries):
    out, found = [], []
    for q in queries:
        t = time.perf_counter()
        hits = store.search(q, DEPTH)
        out.append((time.perf_counter() - t) * 1000)
        found.append([i for i, _ in hits[:10]])
    return out, found


def main() -> None:
    import pymilvus

    from rag.index.vectors import build_backend

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chunks", type=int, default=100_000)
    args = parser.parse_args()
    n = args.chunks
    generator = SyntheticEmbeddings()
    vectors = generator.sample(n, seed=n)
    queries = generator.sample(QUERIES, seed=99)
    chunks = [{"key": i + 1, "doc_id": f"doc-{i // 10:06d}.txt", "title": "综合新闻", "date": "2024-01-01",
               "section": "main", "start": (i % 10) * 300, "end": (i % 10) * 300 + 300} for i in range(n)]
    documents = {c["doc_id"]: {"sha256": "0" * 64} for c in chunks}

    t = time.perf_counter()
    faiss_store = build_backend({"kind": "faiss"}, DIM)
    faiss_store.add(vectors, chunks)
    faiss_ingest = time.perf_counter() - t
    timed_search(faiss_store, queries[:10])
    faiss_lat, exact = timed_search(faiss_store, queries)

    with tempfile.TemporaryDirectory(prefix="rag-bench-milvus-") as scratch:
        store = build_backend({"kind": "milvus", "uri": str(Path(scratch) / "vectors.db"), "collection": "bench"}, DIM)
        store.add(vectors, chunks)
        t = time.perf_counter()
        store.publish(chunks, vectors, documents, set())
        milvus_ingest = time.perf_counter() - t
        t = time.perf_counter()
        timed_search(store, queries[:10])  # the first search loads the collection
        load_s = time.perf_counter() - t
        milvus_lat, found = timed_search(store, queries)
    recall = float(np.mean([len(set(f) & set(e)) / 10 for f, e in zip(found, exact)]))

    body = f"""Written by `python bench/milvus.py --chunks {n}` on {time.strftime('%Y-%m-%d')} ({platform.machine()},
{platform.python_version()}, 2 cores; pymilvus {pymilvus.__version__}, Milvus Lite file). {n:,} synthetic e5-shaped
384-dim chunks (see the scale section) with their metadata fields; {QUERIES} queries one at a time for the
retriever's depth of {DEPTH}. Both stores use an exact index at this size.

| store | ingest (s) | ingest (chunks/s) | search median (ms) | search p95 (ms) | recall@10 vs FAISS |
|---|---:|---:|---:|---:|---:|
| FAISS (in the index folder) | {faiss_ingest:.1f} | {n / faiss_ingest:,.0f} | {statistics.median(faiss_lat):.2f} | {pct(faiss_lat, 0.95):.2f} | 1.000 |
| Milvus Lite (`--store milvus --milvus-uri vectors.db`) | {milvus_ingest:.1f} | {n / milvus_ingest:,.0f} | {statistics.median(milvus_lat):.2f} | {pct(milvus_lat, 0.95):.2f} | {recall:.3f} |

Loading the Milvus collection for the first search took {load_s:.1f} s. Milvus Lite is a single-process,
pure-Python engine meant for tests and small deployments; what Milvus buys is the same code against a
Milvus server or cluster (`--milvus-uri http://host:19530`) when the vectors outgrow one machine — its
numbers there depend on that deployment and are not measured here. Ingest excludes embedding, which
dominates a real build (see the build-throughput section).
"""
    replace_section("Milvus Lite vs FAISS (issue 6)", body)
    print(body)


if __name__ == "__main__":
    main()
