"""The searchable index in memory: chunks, their vectors in FAISS, BM25 beside them, and sentences.

``ArticleIndex.load(dir)`` reads the live generation written by ``rag.indexing``;
``ArticleIndex.save(dir)`` writes a new one atomically (see ``rag.store``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rag import store
from rag.bilingual import build_lexicon
from rag.errors import CorruptIndexError


@dataclass
class ArticleIndex:
    """Everything a retriever and an answerer need, held in memory.

    ``chunks[i]`` is described by a dict with ``doc_id``, ``title``, ``date``,
    ``section``, ``start``, ``end``, ``sentence_ids``; its text is
    ``documents[doc_id]["text"][start:end]``.
    """

    embedder: str
    dim: int
    documents: dict[str, dict]
    chunks: list[dict]
    sentences: list[dict]
    chunk_vectors: np.ndarray
    sentence_vectors: np.ndarray
    vector_store: object = None  # rag.vector_store.FaissStore or MilvusStore
    store_config: dict = field(default_factory=lambda: {"kind": "faiss"})
    bm25: object = None
    vocabulary: frozenset = field(default_factory=frozenset)
    lexicon: dict = field(default_factory=dict)  # English phrase -> {index token: weight}
    location: Path | None = None
    _idf: np.ndarray | None = None

    # ---- text access -------------------------------------------------------------
    def chunk_text(self, i: int) -> str:
        c = self.chunks[i]
        return self.documents[c["doc_id"]]["text"][c["start"]:c["end"]]

    def sentence_text(self, j: int) -> str:
        s = self.sentences[j]
        return self.documents[s["doc_id"]]["text"][s["start"]:s["end"]]

    def __len__(self) -> int:
        return len(self.chunks)

    # ---- derived search structures ----------------------------------------------
    def build_search_structures(self, chunk_tokens: list[list[str]] | None = None) -> None:
        """(Re)build FAISS and BM25 from the chunk vectors and texts."""
        import logging

        import bm25s

        from rag.lexical import tokenize
        from rag.vector_store import FaissStore, MilvusStore, chunk_key

        logging.getLogger("bm25s").setLevel(logging.ERROR)  # it warns on every build from tokens
        for c in self.chunks:  # stable ids for stores that outlive a generation (Milvus)
            c.setdefault("key", chunk_key(c["doc_id"], self.documents[c["doc_id"]].get("sha256", ""), c["start"], c["end"]))
        if self.store_config.get("kind") == "milvus":
            self.vector_store = MilvusStore.build(self.chunks, self.chunk_vectors, self.dim, self.store_config)
        else:
            self.vector_store = FaissStore.build(self.chunk_vectors, self.dim)
        if chunk_tokens is None:
            chunk_tokens = [tokenize(self.chunk_text(i)) for i in range(len(self.chunks))]
        self.bm25 = bm25s.BM25()
        # bm25s needs at least one token per document.
        self.bm25.index([toks or ["∅"] for toks in chunk_tokens], show_progress=False)
        self.vocabulary = frozenset(self.bm25.vocab_dict)
        self.lexicon = build_lexicon(self.vocabulary)
        self._idf = None

    def idf(self, token: str) -> float:
        """Inverse document frequency of a token over chunks (highest for tokens the index lacks)."""
        if self._idf is None:
            df = np.diff(np.asarray(self.bm25.scores["indptr"]))
            self._idf = np.log((len(self.chunks) + 1) / (df + 0.5))
        i = self.bm25.vocab_dict.get(token)
        if i is None or i >= len(self._idf):
            return float(np.log((len(self.chunks) + 1) / 0.5))  # unseen: rarer than any indexed word
        return float(self._idf[i])

    def bm25_scores(self, weights: dict[str, float]) -> np.ndarray:
        """BM25 score of every chunk for weighted query terms."""
        scores = np.zeros(len(self.chunks), dtype=np.float32)
        for token, weight in weights.items():
            if token in self.vocabulary:
                scores += weight * self.bm25.get_scores([token])
        return scores

    # ---- persistence --------------------------------------------------------------
    def save(self, index_dir: Path, manifest_extra: dict | None = None) -> Path:
        """Write this index as a new generation and make it live. Returns the generation folder."""
        index_dir = Path(index_dir)
        building = store.new_generation(index_dir)
        try:
            manifest = {
                "format_version": store.FORMAT_VERSION,
                "embedder": self.embedder,
                "dim": self.dim,
                "n_documents": len(self.documents),
                "n_chunks": len(self.chunks),
                "n_sentences": len(self.sentences),
                "vector_store": self.vector_store.config(),
                "documents": {
                    doc_id: {k: v for k, v in d.items() if k != "text"} for doc_id, d in self.documents.items()
                },
                **(manifest_extra or {}),
            }
            store.write_json(building / "documents.json", {k: d["text"] for k, d in self.documents.items()})
            store.write_json(building / "chunks.json", self.chunks)
            store.write_json(building / "sentences.json", self.sentences)
            np.save(building / "chunk_vectors.npy", self.chunk_vectors.astype(np.float32), allow_pickle=False)
            np.save(building / "sentence_vectors.npy", self.sentence_vectors.astype(np.float32), allow_pickle=False)
            self.vector_store.write(building)
            self.bm25.save(str(building / "bm25"), allow_pickle=False)
            store.write_json(building / "lexicon.json", self.lexicon)
            # The manifest goes last: a generation without one is never complete.
            store.write_json(building / "manifest.json", manifest)
            # For stores that outlive a generation (Milvus): the live generation's chunks, and those of
            # the older one that publishing retires.
            previous, retired = [], []
            if self.vector_store.needs_previous and store.exists(index_dir):
                live = store.live_generation(index_dir)
                previous = store.read_json(live / "chunks.json")
                for old_gen in index_dir.glob("gen-*"):
                    if old_gen != live and (old_gen / "chunks.json").exists():
                        retired += store.read_json(old_gen / "chunks.json")
            self.vector_store.publish(self.chunks, self.chunk_vectors, self.documents, previous)
            gen = store.publish(index_dir, building)
        except BaseException:
            store.discard(building)
            raise
        self.vector_store.clean_up(self.chunks, previous, retired)
        self.location = index_dir
        return gen

    @classmethod
    def load(cls, index_dir: Path) -> "ArticleIndex":
        """Load the live generation. Raises ``IndexNotFoundError`` or ``CorruptIndexError``."""
        import bm25s

        from rag.vector_store import FaissStore, MilvusStore

        index_dir = Path(index_dir)
        gen = store.live_generation(index_dir)
        try:
            manifest = store.read_json(gen / "manifest.json")
            if manifest.get("format_version") != store.FORMAT_VERSION:
                raise ValueError(f"it was written in format {manifest.get('format_version')} by another version of "
                                 f"rag-news-qa; this one reads format {store.FORMAT_VERSION}")
            texts = store.read_json(gen / "documents.json")
            documents = {doc_id: {**meta, "text": texts[doc_id]} for doc_id, meta in manifest["documents"].items()}
            index = cls(
                embedder=manifest["embedder"],
                dim=int(manifest["dim"]),
                documents=documents,
                chunks=store.read_json(gen / "chunks.json"),
                sentences=store.read_json(gen / "sentences.json"),
                # Memory-mapped: FAISS holds its own copy for search; these are read a few rows at a time.
                chunk_vectors=np.load(gen / "chunk_vectors.npy", allow_pickle=False, mmap_mode="r"),
                sentence_vectors=np.load(gen / "sentence_vectors.npy", allow_pickle=False, mmap_mode="r"),
                location=index_dir,
            )
            index.store_config = manifest.get("vector_store", {"kind": "faiss"})
            if index.store_config["kind"] == "milvus":
                index.vector_store = MilvusStore.load(gen, index.store_config, index.dim)
            else:
                index.vector_store = FaissStore.load(gen, index.store_config)
            index.bm25 = bm25s.BM25.load(str(gen / "bm25"), allow_pickle=False)
            index.vocabulary = frozenset(index.bm25.vocab_dict)
            index.lexicon = store.read_json(gen / "lexicon.json")
        except (OSError, ValueError, KeyError, RuntimeError, TypeError) as exc:
            raise CorruptIndexError(index_dir, f"{type(exc).__name__}: {exc}") from exc
        if len(index.vector_store) != len(index.chunks) or len(index.sentence_vectors) != len(index.sentences):
            raise CorruptIndexError(index_dir, "vector and chunk counts disagree")
        return index

    @staticmethod
    def read_manifest(index_dir: Path) -> dict:
        gen = store.live_generation(Path(index_dir))
        try:
            return store.read_json(gen / "manifest.json")
        except (OSError, ValueError) as exc:
            raise CorruptIndexError(index_dir, f"manifest unreadable: {exc}") from exc
