"""The FAISS index over chunk vectors, and how its kind is chosen by size.

Vectors are L2-normalised, so inner product is cosine similarity.

- Up to ``EXACT_MAX_VECTORS`` chunks: ``IndexFlatIP``, exact search. At 100k × 384 a query
  takes ~6–7 ms on 2 cores, at 1M ~55–90 ms: too slow beyond a few hundred thousand.
- Above: ``IndexHNSWFlat`` (M = ``HNSW_M``, built with efConstruction ``HNSW_EF_CONSTRUCTION``,
  searched with efSearch ``HNSW_EF_SEARCH``). Measured by ``bench/scale.py`` on 1M clustered
  384-dim vectors: see docs/benchmarks.md for latency, recall@10 against exact search and memory.

The index is written with ``faiss.write_index`` (FAISS's own format, no pickle) and read back
as it was built, so an HNSW graph is built once, when the index is written.
"""

from __future__ import annotations

import numpy as np

EXACT_MAX_VECTORS = 200_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 512


def index_kind(n_vectors: int) -> str:
    """``"flat"`` or ``"hnsw"``: what ``build_vector_index`` makes for this many vectors.

    >>> index_kind(5_000), index_kind(1_000_000)
    ('flat', 'hnsw')
    """
    return "flat" if n_vectors <= EXACT_MAX_VECTORS else "hnsw"


def build_vector_index(vectors: np.ndarray, dim: int, kind: str | None = None):
    """A FAISS inner-product index over ``vectors`` (n × dim, float32, normalised)."""
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    kind = kind or index_kind(len(vectors))
    if kind == "flat":
        index = faiss.IndexFlatIP(dim)
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = HNSW_EF_SEARCH
    else:
        raise ValueError(f"unknown vector index kind {kind!r}; use 'flat' or 'hnsw'")
    if len(vectors):
        index.add(vectors)
    return index


def prepare_for_search(index) -> None:
    """Settings FAISS does not keep in its file: the HNSW search breadth."""
    import faiss

    hnsw = getattr(faiss.downcast_index(index), "hnsw", None)
    if hnsw is not None:
        hnsw.efSearch = max(hnsw.efSearch, HNSW_EF_SEARCH)
