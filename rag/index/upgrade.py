"""Carry an index of format 2 (every generation a complete folder) over to format 3 (segments).

Format 2 kept documents, chunk and sentence records, their vectors and the lexicon in the generation
folder; all of it goes into one segment of a new generation, as it was: nothing is read from the
articles' files or embedded again, and only the chunks' tokens are computed (BM25 postings). The writer
does it on its first write to such an index (``rag index``, an upload, ``rag remove``), under the lock.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from rag.index import layout
from rag.index.records import Records


def upgrade_format_2(index_dir: Path, generation: Path, manifest: dict) -> None:
    """Publish a format-3 generation holding what the format-2 ``generation`` holds (the caller has the lock)."""
    from rag.index.update import IndexReport, Plan, write

    texts = layout.read_json(generation / "documents.json")
    chunks = layout.read_json(generation / "chunks.json")
    sentences = layout.read_json(generation / "sentences.json")
    counts = Counter(c["doc_id"] for c in chunks)
    documents = {doc_id: {**{k: v for k, v in meta.items() if k != "n_chunks"}, "text": texts[doc_id],
                          "n_chunks": counts.get(doc_id, 0)}
                 for doc_id, meta in manifest["documents"].items()}
    records = Records(documents=documents, chunks=chunks, sentences=sentences)
    chunk_vectors = np.load(generation / "chunk_vectors.npy", allow_pickle=False)
    sentence_vectors = np.load(generation / "sentence_vectors.npy", allow_pickle=False)
    # a vector database (Milvus) already holds these chunks' rows, keyed as format 3 keys them: none is inserted again
    stored = {int(c["key"]) for c in chunks if "key" in c}
    write(index_dir, None, Plan(), manifest["embedder"], manifest.get("vector_store", {"kind": "faiss"}), False,
          manifest.get("chunk_tokens", 200), manifest.get("overlap_tokens", 40), None, IndexReport(),
          assembled=(records, chunk_vectors, sentence_vectors),
          lexicon=layout.read_json(generation / "lexicon.json"), stored_keys=stored)
