"""The searchable index in memory: one generation's segments seen as one collection.

``ArticleIndex.load(dir)`` reads the live generation (``rag.index.layout``) and stacks the segments it lists
(``rag.index.segments``), leaving out the documents the manifest no longer counts: the chunks and
sentences of the rest get consecutive positions, their vectors stay memory-mapped in the segments
(``RowStack``), BM25 searches the segments' postings (``rag.index.lexical``), and the vector backend
(``rag.index.vectors``) is opened over the same positions. Segments are read once per process, so loading
the index again after a write reads only what the write added.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rag.errors import CorruptIndexError
from rag.index import layout
from rag.index.lexical import LexicalIndex
from rag.index.segments import Segment, read_segment


class RowStack:
    """Chosen rows of several matrices (the segments' vectors) as one matrix, without copying them.

    >>> a, b = np.arange(6.0).reshape(3, 2), np.arange(6.0, 10.0).reshape(2, 2)
    >>> stack = RowStack([(a, np.array([0, 2])), (b, np.array([1]))], 2)
    >>> len(stack), stack[[2, 0]].tolist()
    (3, [[8.0, 9.0], [0.0, 1.0]])
    """

    def __init__(self, parts: list[tuple[np.ndarray, np.ndarray]], dim: int):
        self._parts = [(m, np.asarray(rows, dtype=np.int64)) for m, rows in parts]
        self.dim = dim
        self._starts = np.cumsum([0] + [len(rows) for _, rows in self._parts])

    def __len__(self) -> int:
        return int(self._starts[-1])

    @property
    def shape(self) -> tuple[int, int]:
        return len(self), self.dim

    def __getitem__(self, ids) -> np.ndarray:
        if isinstance(ids, (int, np.integer)):
            return self[[int(ids)]][0]
        if isinstance(ids, slice):
            ids = range(*ids.indices(len(self)))
        ids = np.asarray(list(ids) if not isinstance(ids, np.ndarray) else ids, dtype=np.int64)
        out = np.empty((len(ids), self.dim), dtype=np.float32)
        if not len(ids):
            return out
        if ids.min() < 0 or ids.max() >= len(self):
            raise IndexError(f"row out of range 0..{len(self) - 1}")
        part = np.searchsorted(self._starts, ids, side="right") - 1
        for p in np.unique(part):
            where = part == p
            matrix, rows = self._parts[p]
            out[where] = matrix[rows[ids[where] - self._starts[p]]]
        return out

    def blocks(self):
        """Each part's rows as one contiguous float32 array, in order."""
        for matrix, rows in self._parts:
            if len(rows):
                yield np.ascontiguousarray(matrix[rows], dtype=np.float32)

    def __array__(self, dtype=None, copy=None):
        whole = np.vstack(list(self.blocks())) if len(self) else np.zeros((0, self.dim), np.float32)
        return whole.astype(dtype) if dtype is not None else whole


@dataclass
class ArticleIndex:
    """Everything a retriever and an answerer need, held in memory.

    ``chunks[i]`` is described by a dict with ``doc_id``, ``title``, ``date``, ``section``, ``start``,
    ``end``, ``sentence_ids``, ``key``; its text is ``documents[doc_id]["text"][start:end]``.
    """

    embedder: str
    dim: int
    documents: dict[str, dict]
    chunks: list[dict]
    sentences: list[dict]
    chunk_vectors: RowStack
    sentence_vectors: RowStack
    lexical: LexicalIndex
    vector_store: object  # a rag.index.vectors.VectorBackend
    lexicon: dict = field(default_factory=dict)  # English phrase -> {index token: weight}
    store_config: dict = field(default_factory=lambda: {"kind": "faiss"})
    manifest: dict = field(default_factory=dict)
    location: Path | None = None

    # ---- text access ---------------------------------------------------------------------------
    def chunk_text(self, i: int) -> str:
        c = self.chunks[i]
        return self.documents[c["doc_id"]]["text"][c["start"]:c["end"]]

    def sentence_text(self, j: int) -> str:
        s = self.sentences[j]
        return self.documents[s["doc_id"]]["text"][s["start"]:s["end"]]

    def __len__(self) -> int:
        return len(self.chunks)

    # ---- lexical search ------------------------------------------------------------------------
    @property
    def vocabulary(self) -> frozenset:
        return self.lexical.vocabulary

    def idf(self, token: str) -> float:
        """Inverse document frequency of a token over chunks (highest for tokens the index lacks)."""
        return self.lexical.idf(token)

    def bm25_scores(self, weights: dict[str, float]) -> np.ndarray:
        """BM25 score of every chunk for weighted query terms."""
        return self.lexical.scores(weights)

    # ---- loading -------------------------------------------------------------------------------
    @classmethod
    def load(cls, index_dir: Path) -> "ArticleIndex":
        """Load the live generation. Raises ``IndexNotFoundError`` or ``CorruptIndexError``."""
        index_dir = Path(index_dir)
        generation = layout.live_generation(index_dir)
        try:
            manifest = layout.read_json(generation / "manifest.json")
            if manifest.get("format_version") == 2 and cls._carry_over(index_dir):
                return cls.load(index_dir)
            if manifest.get("format_version") != layout.FORMAT_VERSION:
                raise ValueError(f"it was written in format {manifest.get('format_version')} by another version of "
                                 f"rag-news-qa; this one reads format {layout.FORMAT_VERSION} (and carries format 2 "
                                 f"over when it can write the folder); rebuild it with `rag index FOLDER "
                                 f"--index {index_dir} --rebuild`")
            segments = [(read_segment(index_dir, s["id"]), set(s.get("removed", []))) for s in manifest["segments"]]
            index = cls.assemble(manifest, segments, generation)
            index.lexicon = layout.read_json(generation / "lexicon.json")
        except (OSError, ValueError, KeyError, RuntimeError, TypeError) as exc:
            raise CorruptIndexError(index_dir, f"{type(exc).__name__}: {exc}") from exc
        if len(index.vector_store) != len(index.chunks):
            raise CorruptIndexError(index_dir, "vector and chunk counts disagree")
        index.location = index_dir
        return index

    @staticmethod
    def _carry_over(index_dir: Path) -> bool:
        """Rewrite a format-2 index as format 3 (once; nothing embedded again). False when it cannot be
        written here (read-only, or another writer holds it): it is then reported as of another format."""
        from rag.errors import IndexLockedError
        from rag.index.update import read_live

        try:
            with layout.writer_lock(index_dir):
                read_live(index_dir, carry_over=True)
            return True
        except (OSError, IndexLockedError):
            return False

    @classmethod
    def assemble(cls, manifest: dict, segments: list[tuple[Segment, set[str]]], generation: Path | None,
                 texts: bool = True, sentences: bool = True):
        """Stack ``segments`` (each with the documents it no longer counts) into one index; the vector backend
        is opened only with the ``generation`` folder it reads from, the documents' text only with ``texts``.
        Without ``sentences`` (a write, which needs the chunks, their vectors and tokens) the index has no
        sentences and its chunks are the segments' own records, shared, their ``sentence_ids`` not renumbered."""
        from rag.index.vectors import load_backend

        meta = manifest["documents"]
        with_sentences = sentences
        documents: dict[str, dict] = {}
        chunks: list[dict] = []
        sentences: list[dict] = []
        chunk_parts, sentence_parts, postings = [], [], []
        for segment, removed in segments:
            live = {d for d in segment.documents if d not in removed}
            for doc_id in live:
                documents[doc_id] = {**meta.get(doc_id, segment.documents[doc_id])}
                if texts:
                    documents[doc_id]["text"] = segment.texts[doc_id]
            chunk_position = np.full(len(segment.chunks), -1, dtype=np.int64)
            if not with_sentences and not removed:  # every chunk counts: the segment's records as they are
                chunk_position[:] = len(chunks) + np.arange(len(segment.chunks))
                chunks.extend(segment.chunks)
            elif not with_sentences:
                for j, c in enumerate(segment.chunks):
                    if c["doc_id"] in live:
                        chunk_position[j] = len(chunks)
                        chunks.append(c)
            else:
                sentence_alive = np.array([s["doc_id"] in live for s in segment.sentences], dtype=bool)
                sentence_position = np.full(len(segment.sentences), -1, dtype=np.int64)
                sentence_position[sentence_alive] = len(sentences) + np.arange(int(sentence_alive.sum()))
                sentences.extend(s for s, ok in zip(segment.sentences, sentence_alive) if ok)
                for j, c in enumerate(segment.chunks):
                    if c["doc_id"] in live:
                        chunk_position[j] = len(chunks)
                        chunks.append({**c, "sentence_ids": sentence_position[c["sentence_ids"]].tolist()})
                sentence_parts.append((segment.sentence_vectors, np.flatnonzero(sentence_alive)))
            chunk_parts.append((segment.chunk_vectors, np.flatnonzero(chunk_position >= 0)))
            postings.append((segment.postings, chunk_position))
        dim = int(manifest["dim"])
        chunk_vectors = RowStack(chunk_parts, dim)
        config = manifest.get("vector_store", {"kind": "faiss"})
        backend = load_backend(config, dim, generation, chunk_vectors, chunks) if generation is not None else None
        return cls(embedder=manifest["embedder"], dim=dim, documents=documents, chunks=chunks, sentences=sentences,
                   chunk_vectors=chunk_vectors, sentence_vectors=RowStack(sentence_parts, dim),
                   lexical=LexicalIndex(postings), vector_store=backend, store_config=config, manifest=manifest)

    @staticmethod
    def read_manifest(index_dir: Path) -> dict:
        generation = layout.live_generation(Path(index_dir))
        try:
            return layout.read_json(generation / "manifest.json")
        except (OSError, ValueError) as exc:
            raise CorruptIndexError(index_dir, f"manifest unreadable: {exc}") from exc
