"""Errors the public API raises, each with a message a user can act on."""


class RagError(Exception):
    """Base class for errors this package raises on purpose."""


class IndexNotFoundError(RagError):
    """There is no index at the given directory."""

    def __init__(self, index_dir):
        super().__init__(
            f"No index found at {index_dir}. Build one with: rag index PATH... --index {index_dir}"
        )
        self.index_dir = index_dir


class CorruptIndexError(RagError):
    """The index directory exists but cannot be read."""

    def __init__(self, index_dir, reason):
        super().__init__(
            f"The index at {index_dir} cannot be read ({reason}). "
            f"Rebuild it with: rag index PATH... --index {index_dir} --rebuild"
        )
        self.index_dir = index_dir


class EmbedderMismatchError(RagError):
    """The query embedder differs from the one that built the index."""

    def __init__(self, index_dir, index_embedder, query_embedder):
        super().__init__(
            f"The index at {index_dir} was built with embedder {index_embedder!r}, "
            f"but queries would use {query_embedder!r}; their vectors are not comparable. "
            f"Use --embedder {index_embedder} or rebuild the index with: "
            f"rag index PATH... --index {index_dir} --embedder {query_embedder} --rebuild"
        )


class IndexLockedError(RagError):
    """Another process is writing to the index."""

    def __init__(self, index_dir):
        super().__init__(
            f"Another process is updating the index at {index_dir}; try again when it has finished."
        )


class NoDocumentsError(RagError):
    """Nothing indexable was found in the given paths."""


class LLMConfigError(RagError, ValueError):
    """The language-model settings are incomplete or wrong (no model name, no such GGUF file...)."""


class LLMError(RagError):
    """The language model could not produce an answer; ``kind`` says why.

    Kinds: ``connection``, ``timeout``, ``auth``, ``rate_limit``, ``not_found``, ``status``,
    ``malformed``, ``failed``. The assistant catches these and answers extractively instead.
    """

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
