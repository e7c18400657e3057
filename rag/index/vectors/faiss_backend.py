"""The FAISS backend: chunk vectors searched in process, and how the index kind is chosen by size.

Vectors are L2-normalised, so inner product is cosine similarity.

- Up to ``EXACT_MAX_VECTORS`` chunks: ``IndexFlatIP``, exact search. At 100k × 384 a query takes
  ~5 ms on 2 cores, at 1M ~55 ms: too slow beyond a few hundred thousand. Nothing of it is written:
  it is built from the segments' vectors when the index is loaded (100k rows in a few tens of ms), a
  write appends to it, a removal drops rows from it.
- Above: ``IndexHNSWFlat`` (M = ``HNSW_M``, built with efConstruction ``HNSW_EF_CONSTRUCTION``, searched
  with efSearch ``HNSW_EF_SEARCH``), written into each generation (``faiss.index``, FAISS's own format) with
  ``faiss_positions.npy``: which chunk position each of the graph's vectors stands for. New chunks are
  added to the graph (``add``); HNSW cannot drop a vector, so a removed chunk's vector stays in the graph
  marked -1 and is skipped, until removed ones pass ``REBUILD_SHARE`` of the graph and it is built again.
  Measured by ``bench/scale.py`` (latency, recall@10 against exact search, memory) and
  ``bench/hnsw_rebuild.py`` (the rebuild threshold): see docs/benchmarks.md.

>>> backend = FaissBackend(2)
>>> backend.add(np.array([[1, 0], [0, 1], [0.6, 0.8]], dtype=np.float32), [{}, {}, {}])
>>> backend.remove(np.array([1]))
>>> [(p, round(s, 2)) for p, s in backend.search(np.array([0.0, 1.0], dtype=np.float32), 2)]
[(1, 0.8), (0, 0.0)]
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

EXACT_MAX_VECTORS = 200_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 512
# An HNSW graph is rebuilt once this share of its vectors belongs to removed chunks. Measured (bench/hnsw_rebuild.py):
# up to half the graph removed, a query takes as long and finds as much (recall@10 0.997) as on a clean graph, while a
# rebuild costs ~10 s per 50k live vectors; what the removed ones cost is memory, and the deeper search (2 x depth + 16)
# must still reach ``depth`` live chunks: at 0.4 at least 60% of what it asks for is live, 1.2 x depth.
REBUILD_SHARE = 0.4
FILE, POSITIONS = "faiss.index", "faiss_positions.npy"


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


class FaissBackend:
    kind = "faiss"
    needs_previous = False  # everything lives in the generation folder: no keys to compare

    def __init__(self, dim: int, index=None, positions: np.ndarray | None = None):
        self.dim = dim
        self.index = index if index is not None else build_vector_index(np.zeros((0, dim), np.float32), dim, "flat")
        # the chunk position each vector of ``index`` stands for (-1: a removed chunk's, HNSW only)
        self.positions = np.arange(self.index.ntotal, dtype=np.int64) if positions is None else positions
        self._live = int((self.positions >= 0).sum())

    @property
    def is_exact(self) -> bool:
        import faiss

        return isinstance(faiss.downcast_index(self.index), faiss.IndexFlat)

    def __len__(self) -> int:
        return self._live

    def add(self, vectors: np.ndarray, chunks: list[dict]) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        if not len(vectors):
            return
        if self.is_exact and index_kind(self._live + len(vectors)) == "hnsw":
            self._rebuild(np.vstack([self._live_vectors(), vectors]), "hnsw")
            return
        self.index.add(vectors)
        self.positions = np.concatenate([self.positions, np.arange(self._live, self._live + len(vectors))])
        self._live += len(vectors)

    def remove(self, positions: np.ndarray) -> None:
        import faiss

        positions = np.unique(np.asarray(positions, dtype=np.int64))
        if not len(positions):
            return
        gone = np.isin(self.positions, positions)
        if self.is_exact:
            self.index.remove_ids(faiss.IDSelectorBatch(np.flatnonzero(gone).astype(np.int64)))
            kept = self.positions[~gone]
        else:
            kept = self.positions.copy()
            kept[gone] = -1
        # the chunks after a removed one move up by how many removed ones precede them
        shift = np.searchsorted(positions, kept, side="left")
        self.positions = np.where(kept >= 0, kept - shift, -1)
        self._live -= int(gone.sum())
        dead = int((self.positions < 0).sum())
        if not self.is_exact and (dead > REBUILD_SHARE * len(self.positions) or index_kind(self._live) == "flat"):
            self._rebuild(self._live_vectors(), index_kind(self._live))

    def search(self, query: np.ndarray, depth: int) -> list[tuple[int, float]]:
        if not self._live:
            return []
        dead = len(self.positions) - self._live
        asked = min(len(self.positions), depth + (dead and depth + 16))  # removed ones are skipped: look deeper
        scores, ids = self.index.search(np.asarray(query, dtype=np.float32)[None, :], asked)
        out = [(int(self.positions[i]), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0 and self.positions[i] >= 0]
        return out[:depth]

    def write(self, generation: Path) -> None:
        if self.is_exact:
            return  # rebuilt from the segments' vectors when loaded: nothing to write
        import faiss

        faiss.write_index(self.index, str(generation / FILE))
        np.save(generation / POSITIONS, self.positions, allow_pickle=False)

    def publish(self, chunks, vectors, documents, previous_keys) -> None:
        """Nothing lives outside the generation folder."""

    def clean_up(self, kept_keys, retired_keys, touched) -> None:
        """Nothing lives outside the generation folder."""

    def config(self) -> dict:
        return {"kind": self.kind}

    @classmethod
    def load(cls, generation: Path, dim: int, vectors, chunks) -> "FaissBackend":
        import faiss

        if (generation / FILE).exists():
            index = faiss.read_index(str(generation / FILE))
            prepare_for_search(index)
            return cls(dim, index, np.load(generation / POSITIONS, allow_pickle=False))
        backend = cls(dim)
        for block in vectors.blocks():  # segment by segment: no copy of the whole matrix
            backend.add(block, [])
        return backend

    @classmethod
    def for_write(cls, dim: int, index, live_generation: Path | None, removed: np.ndarray,
                  fresh: np.ndarray) -> "FaissBackend":
        """What a new generation holds: nothing for an exact index (it is built from the segments when
        loaded); the live HNSW graph with the removed chunks dropped and the fresh ones added; or a new graph."""
        if index_kind(len(index.chunks)) == "flat":
            return cls(dim)
        if live_generation is not None and (live_generation / FILE).exists():
            backend = cls.load(live_generation, dim, None, None)
            backend.remove(removed)
            backend.add(index.chunk_vectors[fresh], [])
            return backend
        backend = cls(dim)
        backend._rebuild(np.asarray(index.chunk_vectors), "hnsw")
        return backend

    def _live_vectors(self) -> np.ndarray:
        keep = np.flatnonzero(self.positions >= 0)
        stored = self.index.reconstruct_n(0, self.index.ntotal) if self.index.ntotal else np.zeros((0, self.dim))
        order = np.argsort(self.positions[keep], kind="stable")
        return np.ascontiguousarray(stored[keep][order], dtype=np.float32)

    def _rebuild(self, vectors: np.ndarray, kind: str) -> None:
        self.index = build_vector_index(vectors, self.dim, kind)
        self.positions = np.arange(len(vectors), dtype=np.int64)
        self._live = len(vectors)
