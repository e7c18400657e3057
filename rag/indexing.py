"""Build or update an index from article files: only new or changed files are embedded.

>>> from embeddings import load_embedder
>>> report = update_index("seeds", "/tmp/seeds-index", load_embedder())  # doctest: +SKIP
>>> report.summary()                                                      # doctest: +SKIP
'2 added, 0 updated, 0 unchanged, 0 removed, 0 skipped; 2 documents, 49 chunks'
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from embeddings import embedder_name
from rag import store
from rag.chunking import DEFAULT_CHUNK_TOKENS, DEFAULT_OVERLAP_TOKENS, chunk_sections
from rag.embedding_checkpoint import EmbeddingCheckpoint
from rag.errors import EmbedderMismatchError, NoDocumentsError
from rag.index import ArticleIndex
from rag.ingest import RootLabels, UnreadableFileError, file_sha256, find_source_files, read_article
from rag.sentences import split_sentences

log = logging.getLogger(__name__)

EMBED_BATCH = 32


@dataclass
class IndexReport:
    """What an indexing run did."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "path: reason"
    skipped_files: list[Path] = field(default_factory=list)  # the files that could not be read, as found
    n_documents: int = 0
    n_chunks: int = 0
    seconds: float = 0.0
    written: bool = False
    resumed: int = 0  # texts whose vectors an interrupted run had already computed

    def summary(self) -> str:
        return (
            f"{len(self.added)} added, {len(self.updated)} updated, {len(self.unchanged)} unchanged, "
            f"{len(self.removed)} removed, {len(self.skipped)} skipped; "
            f"{self.n_documents} documents, {self.n_chunks} chunks"
            + (f"; resumed {self.resumed} texts embedded by an interrupted run" if self.resumed else "")
        )


def update_index(
    paths,
    index_dir,
    embedder,
    *,
    rebuild: bool = False,
    prune: bool = True,
    progress: bool = False,
    chunk_tokens: int = DEFAULT_CHUNK_TOKENS,
    overlap_tokens: int = DEFAULT_OVERLAP_TOKENS,
    vector_store: dict | None = None,
    max_chars: int | None = None,
) -> IndexReport:
    """Bring the index at ``index_dir`` in line with the files under ``paths``.

    New and changed files (by SHA-256) are read, chunked and embedded; unchanged ones
    keep their vectors. With ``prune``, documents that were indexed from one of the
    given folders and are no longer there are dropped; documents from other folders
    stay. Unreadable files are skipped and listed in ``report.skipped``. The previous
    index stays live until the new one is completely written.

    ``vector_store`` picks where vectors are searched (``rag.vector_store``): ``{"kind": "faiss"}`` (the
    default) or ``{"kind": "milvus", "uri": URI, "collection": NAME}``; given for an existing index
    it moves the vectors there without embedding anything again. Otherwise the index keeps its store.

    ``max_chars`` skips (with the reason) an article whose cleaned text is longer: the page's uploads are
    capped so that one visitor cannot hold the writer for minutes.
    """
    started = time.perf_counter()
    if isinstance(paths, (str, Path)):
        paths = [paths]
    index_dir = Path(index_dir)
    report = IndexReport()
    with store.writer_lock(index_dir):
        old = None if rebuild or not store.exists(index_dir) else ArticleIndex.load(index_dir)
        name = embedder_name(embedder)
        if old is not None and old.embedder != name:
            raise EmbedderMismatchError(index_dir, old.embedder, name)
        checkpoint = EmbeddingCheckpoint(index_dir, name)  # vectors a killed run left behind
        report.resumed = len(checkpoint)
        store_config = resolve_store(vector_store, old, index_dir)

        old_docs = old.documents if old else {}
        labels = RootLabels({doc_id.split("/", 1)[0]: meta["root"] for doc_id, meta in old_docs.items()},
                            uploads=index_dir / "uploads")
        sources, warnings, unreadable = find_source_files(paths, labels)
        report.skipped.extend(warnings)
        for w in warnings:
            log.warning(w)
        keep: set[str] = set()  # old doc ids carried over unchanged
        relocated: dict[str, dict] = {}  # kept doc id -> its file's new place (the folder moved)
        new_articles = []
        seen: set[str] = set()
        for src in sources:
            seen.add(src.doc_id)
            previous = old_docs.get(src.doc_id)
            try:
                digest = file_sha256(src.path)
                if previous and previous.get("sha256") == digest:
                    keep.add(src.doc_id)
                    report.unchanged.append(src.doc_id)
                    if previous.get("root") != str(src.root):
                        relocated[src.doc_id] = {"root": str(src.root), "path": str(src.path)}
                    continue
                article = read_article(src)
                if max_chars is not None and len(article.text) > max_chars:
                    raise UnreadableFileError(
                        f"{len(article.text):,} characters of text; uploads take up to {max_chars:,} "
                        f"(RAG_UPLOAD_MAX_CHARS), index longer articles with `rag index`")
            except (UnreadableFileError, OSError) as exc:
                message = f"skipped {src.path}: {exc}"
                log.warning(message)
                report.skipped.append(message)
                report.skipped_files.append(src.path)
                if previous:
                    keep.add(src.doc_id)  # a file that became unreadable keeps its old version
                continue
            new_articles.append((src, article))
            (report.updated if previous else report.added).append(src.doc_id)

        roots = {str(Path(p).expanduser().resolve()) for p in paths if Path(p).is_dir()}
        for doc_id, meta in old_docs.items():
            if doc_id in keep or doc_id in seen:
                continue
            if prune and labels.moved.get(meta.get("root"), meta.get("root")) in roots and not _under_any(
                    meta.get("path"), unreadable):
                report.removed.append(doc_id)
            else:
                keep.add(doc_id)

        if (not new_articles and not report.removed and not relocated and old is not None
                and store_config == old.store_config):
            checkpoint.clear()
            report.n_documents, report.n_chunks = len(old.documents), len(old.chunks)
            report.seconds = time.perf_counter() - started
            return report  # nothing changed: the live index stays as it is
        if not new_articles and not keep:
            raise NoDocumentsError(
                "No readable .txt, .md or .html articles found in: " + ", ".join(map(str, paths))
                + ("" if not report.skipped else " (" + "; ".join(report.skipped) + ")")
            )

        index = _assemble(old, keep, new_articles, embedder, progress, chunk_tokens, overlap_tokens, checkpoint,
                          store_config)
        for doc_id, place in relocated.items():
            index.documents[doc_id] = {**index.documents[doc_id], **place}
        index.save(index_dir, manifest_extra={"chunk_tokens": chunk_tokens, "overlap_tokens": overlap_tokens})
        checkpoint.clear()
        report.written = True
        report.n_documents, report.n_chunks = len(index.documents), len(index.chunks)
    report.seconds = time.perf_counter() - started
    return report


def remove_documents(doc_ids, index_dir, embedder, *, progress: bool = False) -> IndexReport:
    """Drop documents from the index by id; nothing is embedded (the others keep their vectors).

    Unknown ids raise ``ValueError`` naming them, and so does removing every document (delete the
    folder instead). The files themselves are not touched: ``rag index`` of their folder adds them again.
    """
    started = time.perf_counter()
    doc_ids = list(dict.fromkeys(doc_ids))
    index_dir = Path(index_dir)
    report = IndexReport()
    with store.writer_lock(index_dir):
        old = ArticleIndex.load(index_dir)
        name = embedder_name(embedder)
        if old.embedder != name:
            raise EmbedderMismatchError(index_dir, old.embedder, name)
        unknown = [d for d in doc_ids if d not in old.documents]
        if unknown:
            raise ValueError(f"not in the index: {', '.join(unknown)} (ids look like "
                             f"{next(iter(old.documents), 'seeds/x.txt')}; `rag ask --json` shows them)")
        keep = set(old.documents) - set(doc_ids)
        if not keep:
            raise ValueError("that would leave the index empty; delete its folder instead")
        index = _assemble(old, keep, [], embedder, progress, DEFAULT_CHUNK_TOKENS, DEFAULT_OVERLAP_TOKENS,
                          store_config=old.store_config)
        manifest = store.read_json(store.live_generation(index_dir) / "manifest.json")
        index.save(index_dir, manifest_extra={k: manifest[k] for k in ("chunk_tokens", "overlap_tokens") if k in manifest})
        report.removed = doc_ids
        report.written = True
        report.n_documents, report.n_chunks = len(index.documents), len(index.chunks)
    report.seconds = time.perf_counter() - started
    return report


def resolve_store(store: dict | None, old: ArticleIndex | None, index_dir: Path) -> dict:
    """The store configuration to write with: the one asked for, else the index's own, else FAISS."""
    if store is None:
        return old.store_config if old is not None else {"kind": "faiss"}
    if store.get("kind", "faiss") == "faiss":
        return {"kind": "faiss"}
    if store["kind"] != "milvus":
        raise ValueError(f"unknown store {store['kind']!r}; use 'faiss' or 'milvus'")
    if not store.get("uri"):
        raise ValueError("the milvus store needs a URI: --milvus-uri ./vectors.db (Milvus Lite) or http://host:19530")
    import hashlib

    collection = store.get("collection") or "rag_" + hashlib.sha1(str(index_dir.resolve()).encode()).hexdigest()[:12]
    return {"kind": "milvus", "uri": str(store["uri"]), "collection": collection}


def _assemble(old, keep, new_articles, embedder, progress, chunk_tokens, overlap_tokens,
              checkpoint=None, store_config=None) -> ArticleIndex:
    documents: dict[str, dict] = {}
    chunks: list[dict] = []
    sentences: list[dict] = []
    chunk_vecs: list[np.ndarray] = []
    sent_vecs: list[np.ndarray] = []

    # Unchanged documents: copy their records and vectors, renumbering sentence ids.
    if old is not None:
        sent_map: dict[int, int] = {}
        for j, s in enumerate(old.sentences):
            if s["doc_id"] in keep:
                sent_map[j] = len(sentences)
                sentences.append(s)
        kept_chunks = [i for i, c in enumerate(old.chunks) if c["doc_id"] in keep]
        for i in kept_chunks:
            c = dict(old.chunks[i])
            c["sentence_ids"] = [sent_map[j] for j in c["sentence_ids"]]
            chunks.append(c)
        if kept_chunks:
            chunk_vecs.append(old.chunk_vectors[kept_chunks])
        if sent_map:
            sent_vecs.append(old.sentence_vectors[list(sent_map)])
        documents.update({d: old.documents[d] for d in keep})

    # New or changed documents: chunk, split into sentences, embed.
    chunk_inputs: list[str] = []
    sentence_inputs: list[str] = []
    for src, article in new_articles:
        documents[article.doc_id] = {
            "text": article.text, "title": article.title, "date": article.date,
            "sha256": article.sha256, "root": str(src.root), "path": str(src.path),
        }
        sentence_ids: dict[tuple[int, int], int] = {}
        for piece in chunk_sections(article.sections, chunk_tokens=chunk_tokens, overlap_tokens=overlap_tokens):
            meta = piece.metadata
            ids = []
            for s in split_sentences(piece.page_content, offset=meta["start"]):
                key = (s.start, s.end)
                if key not in sentence_ids:
                    sentence_ids[key] = len(sentences)
                    sentences.append({"doc_id": article.doc_id, "start": s.start, "end": s.end})
                    sentence_inputs.append(s.text)
                ids.append(sentence_ids[key])
            chunks.append({
                "doc_id": article.doc_id, "title": article.title, "date": article.date,
                "section": meta["section"], "start": meta["start"], "end": meta["end"], "sentence_ids": ids,
            })
            # The title gives a chunk its topic; related-news chunks belong to other stories.
            titled = article.title and meta["section"] == "main"
            chunk_inputs.append(f"{article.title}\n{piece.page_content}" if titled else piece.page_content)
        documents[article.doc_id]["n_chunks"] = sum(1 for c in chunks if c["doc_id"] == article.doc_id)
    for doc_id in keep:
        documents[doc_id]["n_chunks"] = sum(1 for c in chunks if c["doc_id"] == doc_id)

    dim = old.dim if old is not None else None
    new_vecs = _embed(embedder, chunk_inputs + sentence_inputs, progress, checkpoint)
    if dim is None:
        dim = new_vecs.shape[1]
    chunk_vecs.append(new_vecs[: len(chunk_inputs)])
    sent_vecs.append(new_vecs[len(chunk_inputs):])

    index = ArticleIndex(
        embedder=embedder_name(embedder),
        dim=dim,
        documents=documents,
        chunks=chunks,
        sentences=sentences,
        chunk_vectors=_stack(chunk_vecs, dim),
        sentence_vectors=_stack(sent_vecs, dim),
        store_config=store_config or {"kind": "faiss"},
    )
    index.build_search_structures()
    return index


def _stack(parts: list[np.ndarray], dim: int) -> np.ndarray:
    parts = [p for p in parts if len(p)]
    return np.vstack(parts).astype(np.float32) if parts else np.zeros((0, dim), dtype=np.float32)


def _embed(embedder, texts: list[str], progress: bool, checkpoint=None) -> np.ndarray:
    """Embed in batches (longest first, so each batch pads little) with a progress bar.

    Texts a killed run already embedded come from ``checkpoint``; each new batch is saved to it.
    """
    from tqdm import tqdm

    if not texts:
        return np.zeros((0, getattr(embedder, "dim", 0) or 0), dtype=np.float32)
    out: list[np.ndarray | None] = [None] * len(texts)
    cached = checkpoint.lookup(texts) if checkpoint is not None else {}
    for i, vector in cached.items():
        out[i] = vector
    order = sorted((i for i in range(len(texts)) if i not in cached), key=lambda i: -len(texts[i]))
    with tqdm(total=len(texts), initial=len(cached), desc="Embedding", unit="text", disable=not progress,
              leave=False) as bar:
        for b in range(0, len(order), EMBED_BATCH):
            batch = order[b: b + EMBED_BATCH]
            vecs = np.asarray(embedder.embed_documents([texts[i] for i in batch]), dtype=np.float32)
            if checkpoint is not None:
                checkpoint.save([texts[i] for i in batch], vecs)
            for i, v in zip(batch, vecs):
                out[i] = v
            bar.update(len(batch))
    matrix = np.vstack(out).astype(np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)


def _under_any(path: str | None, folders: list[Path]) -> bool:
    """Is ``path`` inside one of ``folders``? (A document from a folder that could not be listed is kept.)"""
    return path is not None and any(Path(path).is_relative_to(folder) for folder in folders)
