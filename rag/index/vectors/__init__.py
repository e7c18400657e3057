"""Where chunk vectors are searched: FAISS in the index folder (default) or a Milvus collection.

This package is the one place that knows which backend an index uses; everything else sees the
``VectorBackend`` protocol. Both search the chunks of one loaded generation by position
(``search(query, depth) -> [(position, score), ...]``); the retriever fuses that list with BM25, which stays
local for both (``rag.index.lexical``). Writes go through three steps the update path calls in order:
``add`` (the new chunks, in memory), ``write(generation)`` (what the generation folder must hold), then,
around the switch of ``CURRENT``, ``publish`` (before: what readers of the new generation need elsewhere)
and ``clean_up`` (after: what no kept generation needs any more).

>>> backend = build_backend({"kind": "faiss"}, dim=4)
>>> backend.add(np.eye(4, dtype=np.float32)[:2], [{"key": 1}, {"key": 2}])
>>> backend.search(np.array([0, 1, 0, 0], dtype=np.float32), 1)
[(1, 1.0)]
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np


class VectorBackend(Protocol):
    kind: str
    needs_previous: bool  # publish and clean_up compare the chunks' keys with the generations being replaced

    def __len__(self) -> int: ...

    def add(self, vectors: np.ndarray, chunks: list[dict]) -> None:
        """Append chunks (their records carry ``key``) at the next positions."""

    def remove(self, positions: np.ndarray) -> None:
        """Forget the chunks at ``positions``; the others move up to close the gaps, in order."""

    def search(self, query: np.ndarray, depth: int) -> list[tuple[int, float]]: ...

    def write(self, generation: Path) -> None:
        """Write what the generation folder must hold to load this backend again."""

    def publish(self, chunks: list[dict], vectors, documents: dict, previous_keys: set[int]) -> None:
        """Before the new generation goes live."""

    def clean_up(self, kept_keys: set[int], retired_keys: set[int], touched: dict[str, set[int]]) -> None:
        """After it went live: drop what neither it nor its predecessor needs (``touched``: the documents this
        write changed, with their keys the two generations use)."""

    def config(self) -> dict: ...


def build_backend(config: dict, dim: int) -> VectorBackend:
    """An empty backend of the configured kind (``{"kind": "faiss"}`` or ``{"kind": "milvus", "uri", "collection"}``)."""
    if config.get("kind", "faiss") == "faiss":
        from rag.index.vectors.faiss_backend import FaissBackend

        return FaissBackend(dim)
    if config["kind"] == "milvus":
        from rag.index.vectors.milvus import MilvusBackend

        return MilvusBackend(config, dim)
    raise ValueError(f"unknown vector store {config['kind']!r}; use 'faiss' or 'milvus'")


def load_backend(config: dict, dim: int, generation: Path, vectors, chunks: list[dict]) -> VectorBackend:
    """The backend of a generation being loaded: ``vectors`` (row per live chunk, in position order) and
    ``chunks`` are the generation's; a backend reads from its folder what it keeps there."""
    if config.get("kind", "faiss") == "faiss":
        from rag.index.vectors.faiss_backend import FaissBackend

        return FaissBackend.load(generation, dim, vectors, chunks)
    if config["kind"] == "milvus":
        from rag.index.vectors.milvus import MilvusBackend

        return MilvusBackend.load(config, dim, chunks)
    raise ValueError(f"unknown vector store {config['kind']!r}; use 'faiss' or 'milvus'")


def backend_to_write(config: dict, dim: int, index, live_generation: Path | None, removed: np.ndarray,
                     fresh: np.ndarray) -> VectorBackend:
    """The backend of a generation being written for ``index`` (the new stack of segments): the live one's
    (``live_generation``, same kind) without the chunks at ``removed`` (its positions) and with the ones at
    ``fresh`` (the new index's positions), or a new one."""
    if config.get("kind", "faiss") == "faiss":
        from rag.index.vectors.faiss_backend import FaissBackend

        return FaissBackend.for_write(dim, index, live_generation, removed, fresh)
    if config["kind"] == "milvus":
        from rag.index.vectors.milvus import MilvusBackend

        return MilvusBackend.load(config, dim, index.chunks)
    raise ValueError(f"unknown vector store {config['kind']!r}; use 'faiss' or 'milvus'")


def resolve_config(asked: dict | None, current: dict | None, index_dir: Path) -> dict:
    """The backend configuration to write with: the one asked for, else the index's own, else FAISS."""
    if asked is None:
        return current if current is not None else {"kind": "faiss"}
    if asked.get("kind", "faiss") == "faiss":
        return {"kind": "faiss"}
    if asked["kind"] != "milvus":
        raise ValueError(f"unknown store {asked['kind']!r}; use 'faiss' or 'milvus'")
    if not asked.get("uri"):
        raise ValueError("the milvus store needs a URI: --milvus-uri ./vectors.db (Milvus Lite) or http://host:19530")
    import hashlib

    collection = asked.get("collection") or "rag_" + hashlib.sha1(str(index_dir.resolve()).encode()).hexdigest()[:12]
    return {"kind": "milvus", "uri": str(asked["uri"]), "collection": collection}
