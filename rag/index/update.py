"""Writing an index: plan what changed, assemble it into a new segment, publish a new generation.

1. **Plan** (``plan_update``): which files are new or changed (by SHA-256), which documents are gone from an
   indexed folder, which moved; nothing is read yet beyond the live manifest and the files' hashes.
2. **Assemble**: only the new and changed articles are read, chunked, split into sentences, tokenised and
   embedded, into one new segment (``rag.index.segments``). Every other document stays in the segment
   that holds it; the manifest stops counting the versions that were replaced or removed.
3. **Publish**: the new generation lists the segments, its lexicon is extended by the new words only, the
   vector backend adds the new chunks and drops the removed ones, and ``CURRENT`` switches atomically.

A removal (``remove_documents``) is a plan with nothing to assemble. When the segments grow many, or
mostly hold documents no longer counted, the write also merges them into one (``compact``): records, vectors
and postings are copied, nothing is read, tokenised or embedded again.

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
from rag.bilingual import extend_lexicon
from rag.chunking import DEFAULT_CHUNK_TOKENS, DEFAULT_OVERLAP_TOKENS
from rag.errors import EmbedderMismatchError, NoDocumentsError
from rag.index import layout
from rag.index.checkpoint import EmbeddingCheckpoint
from rag.index.lexical import LexicalIndex, Postings
from rag.index.records import Records, records_of
from rag.index.segments import read_segment, write_segment
from rag.ingest import RootLabels, Skipped, UnreadableFileError, file_sha256, find_source_files, read_article

log = logging.getLogger(__name__)

EMBED_BATCH = 32
# Merging segments (``segments_to_merge``): more than MAX_SEGMENTS, and a write merges the newest ones of like size
# (a tail no segment before it outweighs MERGE_FACTOR times), so a big old segment is not rewritten for a small
# new one; when MAX_DEAD_SHARE of the segments' chunks belongs to documents no longer counted, all of them.
MAX_SEGMENTS = 12
MERGE_FACTOR = 4
MAX_DEAD_SHARE = 0.3


@dataclass
class IndexReport:
    """What an indexing run did."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)  # each with its path and reason
    n_documents: int = 0
    n_chunks: int = 0
    seconds: float = 0.0
    written: bool = False
    resumed: int = 0  # texts whose vectors an interrupted run had already computed
    compacted: bool = False  # the segments were merged into one

    def summary(self) -> str:
        return (
            f"{len(self.added)} added, {len(self.updated)} updated, {len(self.unchanged)} unchanged, "
            f"{len(self.removed)} removed, {len(self.skipped)} skipped; "
            f"{self.n_documents} documents, {self.n_chunks} chunks"
            + (f"; resumed {self.resumed} texts embedded by an interrupted run" if self.resumed else "")
        )


@dataclass
class Plan:
    new_articles: list = field(default_factory=list)  # (SourceFile, Article) to read into the new segment
    replaced: set[str] = field(default_factory=set)  # documents whose old version stops counting
    relocated: dict[str, dict] = field(default_factory=dict)  # unchanged documents whose file moved
    kept: set[str] = field(default_factory=set)

    @property
    def empty(self) -> bool:
        return not (self.new_articles or self.replaced or self.relocated)


# ---- reading the live generation ------------------------------------------------------------------
@dataclass
class Live:
    """What a writer needs of the live generation (not the whole index: no vectors, no texts)."""

    generation: Path
    manifest: dict

    @property
    def documents(self) -> dict[str, dict]:
        return self.manifest["documents"]


def read_live(index_dir: Path, *, carry_over: bool = False) -> Live | None:
    """The live generation's manifest, or None for no index. ``carry_over`` (only for a caller holding the
    writer's lock) rewrites an index of format 2 as format 3 first; without it such an index is refused."""
    if not layout.exists(index_dir):
        return None
    generation = layout.live_generation(index_dir)
    try:
        manifest = layout.read_json(generation / "manifest.json")
    except (OSError, ValueError) as exc:
        from rag.errors import CorruptIndexError

        raise CorruptIndexError(index_dir, f"manifest unreadable: {exc}") from exc
    if manifest.get("format_version") == 2 and carry_over:  # one folder per generation: nothing embedded again
        from rag.index.upgrade import upgrade_format_2

        upgrade_format_2(index_dir, generation, manifest)
        return read_live(index_dir)
    if manifest.get("format_version") != layout.FORMAT_VERSION:
        from rag.errors import CorruptIndexError

        raise CorruptIndexError(index_dir, f"it was written in format {manifest.get('format_version')} by another "
                                           f"version of rag-news-qa; this one writes format {layout.FORMAT_VERSION}")
    return Live(generation, manifest)


# ---- update -----------------------------------------------------------------------------------------
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

    New and changed files (by SHA-256) are read, chunked and embedded; unchanged ones keep their
    vectors and tokens where they are. With ``prune``, documents that were indexed from one of the given
    folders and are no longer there are dropped; documents from other folders stay. Unreadable files are
    skipped and listed in ``report.skipped`` with their reasons. The previous index stays live until the
    new one is completely written.

    ``vector_store`` picks where vectors are searched (``rag.index.vectors``): ``{"kind": "faiss"}`` (the
    default) or ``{"kind": "milvus", "uri": URI, "collection": NAME}``; given for an existing index it
    moves the vectors there without embedding anything again. Otherwise the index keeps its store.

    ``max_chars`` skips (with the reason) an article whose cleaned text is longer: the page's uploads are
    capped so that one visitor cannot hold the writer for minutes.
    """
    from rag.index.vectors import resolve_config

    started = time.perf_counter()
    if isinstance(paths, (str, Path)):
        paths = [paths]
    index_dir = Path(index_dir)
    report = IndexReport()
    with layout.writer_lock(index_dir):
        live = None if rebuild else read_live(index_dir, carry_over=True)
        name = embedder_name(embedder)
        if live is not None and live.manifest["embedder"] != name:
            raise EmbedderMismatchError(index_dir, live.manifest["embedder"], name)
        checkpoint = EmbeddingCheckpoint(index_dir, name)  # vectors a killed run left behind
        report.resumed = len(checkpoint)
        current_store = live.manifest.get("vector_store") if live else None
        store_config = resolve_config(vector_store, current_store, index_dir)
        plan = plan_update(paths, index_dir, live, prune, max_chars, report)
        if plan.empty and live is not None and store_config == current_store:
            checkpoint.clear()
            report.n_documents = len(live.documents)
            report.n_chunks = live.manifest.get("n_chunks", 0)
            report.seconds = time.perf_counter() - started
            return report  # nothing changed: the live index stays as it is
        if not plan.new_articles and not plan.kept:
            raise NoDocumentsError(
                "No readable .txt, .md or .html articles found in: " + ", ".join(map(str, paths))
                + ("" if not report.skipped else " (" + "; ".join(map(str, report.skipped)) + ")"))
        manifest = write(index_dir, live, plan, embedder, store_config, progress, chunk_tokens, overlap_tokens,
                         checkpoint, report)
        checkpoint.clear()
        report.written = True
        report.n_documents, report.n_chunks = len(manifest["documents"]), manifest["n_chunks"]
    report.seconds = time.perf_counter() - started
    return report


def plan_update(paths, index_dir: Path, live: Live | None, prune: bool, max_chars: int | None,
                report: IndexReport) -> Plan:
    """Which documents to read (new or changed files), drop (gone from an indexed folder) or keep."""
    plan = Plan()
    old_docs = live.documents if live else {}
    labels = RootLabels({doc_id.split("/", 1)[0]: meta["root"] for doc_id, meta in old_docs.items()},
                        uploads=index_dir / "uploads")
    sources, warnings, unreadable = find_source_files(paths, labels)
    for w in warnings:
        log.warning(str(w))
    report.skipped.extend(warnings)
    seen: set[str] = set()
    for src in sources:
        seen.add(src.doc_id)
        previous = old_docs.get(src.doc_id)
        try:
            digest = file_sha256(src.path)
            if previous and previous.get("sha256") == digest:
                plan.kept.add(src.doc_id)
                report.unchanged.append(src.doc_id)
                if previous.get("root") != str(src.root):
                    plan.relocated[src.doc_id] = {"root": str(src.root), "path": str(src.path)}
                continue
            article = read_article(src)
            if max_chars is not None and len(article.text) > max_chars:
                raise UnreadableFileError(
                    f"{len(article.text):,} characters of text; uploads take up to {max_chars:,} "
                    f"(RAG_UPLOAD_MAX_CHARS), index longer articles with `rag index`")
        except (UnreadableFileError, OSError) as exc:
            skipped = Skipped(src.path, str(exc))
            log.warning(str(skipped))
            report.skipped.append(skipped)
            if previous:
                plan.kept.add(src.doc_id)  # a file that became unreadable keeps its old version
            continue
        plan.new_articles.append((src, article))
        if previous:
            plan.replaced.add(src.doc_id)
        (report.updated if previous else report.added).append(src.doc_id)
    roots = {str(Path(p).expanduser().resolve()) for p in paths if Path(p).is_dir()}
    for doc_id, meta in old_docs.items():
        if doc_id in plan.kept or doc_id in seen:
            continue
        if prune and labels.moved.get(meta.get("root"), meta.get("root")) in roots and not _under_any(
                meta.get("path"), unreadable):
            report.removed.append(doc_id)
            plan.replaced.add(doc_id)
        else:
            plan.kept.add(doc_id)
    return plan


def remove_documents(doc_ids, index_dir, embedder, *, progress: bool = False) -> IndexReport:
    """Drop documents from the index by id; nothing is read or embedded (the others stay where they are).

    Unknown ids raise ``ValueError`` naming them, and so does removing every document (delete the
    folder instead). The files themselves are not touched: ``rag index`` of their folder adds them again.
    """
    started = time.perf_counter()
    doc_ids = list(dict.fromkeys(doc_ids))
    index_dir = Path(index_dir)
    report = IndexReport()
    with layout.writer_lock(index_dir):
        live = read_live(index_dir, carry_over=True)
        if live is None:
            from rag.errors import IndexNotFoundError

            raise IndexNotFoundError(index_dir)
        name = embedder_name(embedder)
        if live.manifest["embedder"] != name:
            raise EmbedderMismatchError(index_dir, live.manifest["embedder"], name)
        unknown = [d for d in doc_ids if d not in live.documents]
        if unknown:
            raise ValueError(f"not in the index: {', '.join(unknown)} (ids look like "
                             f"{next(iter(live.documents), 'seeds/x.txt')}; `rag ask --json` shows them)")
        if not set(live.documents) - set(doc_ids):
            raise ValueError("that would leave the index empty; delete its folder instead")
        plan = Plan(replaced=set(doc_ids), kept=set(live.documents) - set(doc_ids))
        manifest = write(index_dir, live, plan, embedder, live.manifest.get("vector_store", {"kind": "faiss"}),
                         progress, live.manifest.get("chunk_tokens", DEFAULT_CHUNK_TOKENS),
                         live.manifest.get("overlap_tokens", DEFAULT_OVERLAP_TOKENS), None, report)
        report.removed = doc_ids
        report.written = True
        report.n_documents, report.n_chunks = len(manifest["documents"]), manifest["n_chunks"]
    report.seconds = time.perf_counter() - started
    return report


# ---- assemble and publish ---------------------------------------------------------------------------
def write(index_dir: Path, live: Live | None, plan: Plan, embedder, store_config: dict, progress: bool,
          chunk_tokens: int, overlap_tokens: int, checkpoint, report: IndexReport, *,
          assembled: tuple[Records, np.ndarray, np.ndarray] | None = None, lexicon: dict | None = None,
          stored_keys: set[int] | None = None) -> dict:
    """Assemble ``plan`` into a new segment and publish a generation listing it; returns the new manifest.

    ``assembled`` (records with their chunk and sentence vectors) and ``lexicon`` come from an index of an
    older format being carried over (``rag.index.upgrade``); ``embedder`` is then the name it was built with, and
    ``stored_keys`` the chunks its vector store already holds (nothing of them is inserted again)."""
    from rag.index.article_index import ArticleIndex
    from rag.index.vectors import backend_to_write

    records = assembled[0] if assembled else records_of(plan.new_articles, chunk_tokens, overlap_tokens)
    old_segments = live.manifest["segments"] if live else []
    old_stacked = [(read_segment(index_dir, s["id"]), set(s.get("removed", []))) for s in old_segments]
    segments = [dict(s, removed=sorted(set(s.get("removed", [])) | (plan.replaced & set(seg.documents))))
                for s, (seg, _) in zip(old_segments, old_stacked)]
    if records.chunks:
        chunk_vectors, sentence_vectors = (assembled[1:] if assembled
                                           else _embed_records(embedder, records, progress, checkpoint))
        postings = Postings.from_tokens([_tokens(records.chunk_text(i)) for i in range(len(records.chunks))])
        segments.append({"id": write_segment(index_dir, records, chunk_vectors, sentence_vectors, postings),
                         "removed": []})
    documents = {d: dict(m) for d, m in (live.documents if live else {}).items() if d not in plan.replaced}
    for doc_id, place in plan.relocated.items():
        documents[doc_id].update(place)
    for doc_id, doc in records.documents.items():
        documents[doc_id] = {**{k: v for k, v in doc.items() if k != "text"}, "segment": segments[-1]["id"]}
    stacked = [(read_segment(index_dir, s["id"]), set(s["removed"])) for s in segments]
    merge = segments_to_merge(stacked)
    if merge:  # the newest ones, merged in place: the chunks keep their order, so the live backend still fits
        merged, merged_stacked = compact(index_dir, stacked[-merge:], documents)
        segments, stacked = segments[:-merge] + merged, stacked[:-merge] + merged_stacked
        report.compacted = True
    manifest = {
        "format_version": layout.FORMAT_VERSION, "dim": _dim(stacked, live),
        "embedder": embedder if isinstance(embedder, str) else embedder_name(embedder),
        "segments": segments, "documents": documents, "vector_store": store_config,
        "chunk_tokens": chunk_tokens, "overlap_tokens": overlap_tokens,
    }
    index = ArticleIndex.assemble(manifest, stacked, None, texts=False, sentences=False)
    manifest.update(n_documents=len(index.documents), n_chunks=len(index.chunks))
    old_chunks = _live_chunks(old_stacked)
    same_store = live is not None and live.manifest.get("vector_store", {"kind": "faiss"}) == store_config
    removed = np.array([i for i, c in enumerate(old_chunks) if c["doc_id"] in plan.replaced], dtype=np.int64)
    fresh = np.array([i for i, c in enumerate(index.chunks) if c["doc_id"] in records.documents], dtype=np.int64)
    backend = backend_to_write(store_config, manifest["dim"], index,
                               live.generation if same_store else None, removed, fresh)
    old_vocabulary = LexicalIndex([(seg.postings, _positions(seg, gone)) for seg, gone in old_stacked]).vocabulary
    if lexicon is None:
        old_lexicon = layout.read_json(live.generation / "lexicon.json") if live is not None else {}
        lexicon = extend_lexicon(old_lexicon, old_vocabulary, index.lexical.vocabulary)
    # keys only for a store that keeps rows outside the generation folder (Milvus): the rest have none to compare
    keyed = backend.needs_previous
    previous_keys = {int(c["key"]) for c in old_chunks} if keyed and same_store else set(stored_keys or ())
    retired = _retired_keys(index_dir, live) if keyed else set()
    building = layout.new_generation(index_dir)
    try:
        layout.write_json(building / "lexicon.json", lexicon)
        backend.write(building)
        layout.write_json(building / "manifest.json", manifest)  # the manifest last: it completes a generation
        backend.publish(index.chunks, index.chunk_vectors, documents, previous_keys)
        layout.publish(index_dir, building)
    except BaseException:
        layout.discard(building)
        raise
    if keyed:
        kept = previous_keys | {int(c["key"]) for c in index.chunks}
        # a carried-over index changes no document: none has rows to drop
        changed = plan.replaced if stored_keys is not None else plan.replaced | set(records.documents)
        touched: dict[str, set[int]] = {d: set() for d in changed}
        for c in old_chunks + index.chunks:
            if c["doc_id"] in touched:
                touched[c["doc_id"]].add(int(c["key"]))
        backend.clean_up(kept, retired, touched)
    return manifest


def _live_chunks(stacked) -> list[dict]:
    return [c for seg, removed in stacked for c in seg.chunks if c["doc_id"] not in removed]


def _positions(seg, removed: set[str]) -> np.ndarray:
    """Where a segment's chunks stand among its own counted ones (-1: not counted); enough for a vocabulary."""
    alive = np.array([c["doc_id"] not in removed for c in seg.chunks], dtype=bool)
    out = np.full(len(alive), -1, dtype=np.int64)
    out[alive] = np.arange(int(alive.sum()))
    return out


def compact(index_dir: Path, stacked, documents: dict):
    """Merge these segments' counted documents into one new segment (records, vectors and postings copied);
    the merged documents' entries in ``documents`` are pointed at it."""
    from rag.index.article_index import ArticleIndex

    index = ArticleIndex.assemble({"documents": documents, "dim": _dim(stacked, None), "embedder": ""}, stacked, None)
    records = Records(documents={d: {k: v for k, v in doc.items() if k != "segment"} for d, doc in
                                 index.documents.items()}, chunks=index.chunks, sentences=index.sentences)
    parts, start = [], 0
    for seg, removed in stacked:  # each segment's counted chunks take the next positions, as in the index
        positions = _positions(seg, removed)
        parts.append((seg.postings, np.where(positions >= 0, positions + start, -1)))
        start += int((positions >= 0).sum())
    postings = Postings.merge(parts, len(index.chunks))
    seg_id = write_segment(index_dir, records, np.asarray(index.chunk_vectors), np.asarray(index.sentence_vectors),
                           postings)
    for doc_id in index.documents:
        documents[doc_id]["segment"] = seg_id
    segments = [{"id": seg_id, "removed": []}]
    return segments, [(read_segment(index_dir, seg_id), set())]


def segments_to_merge(stacked) -> int:
    """How many of the newest segments a write merges into one (0: none). All of them once removed documents
    hold ``MAX_DEAD_SHARE`` of the chunks; past ``MAX_SEGMENTS``, the newest run of like size: from the newest
    back, while the next older segment is at most ``MERGE_FACTOR`` times what the run holds so far.

    >>> class Seg:
    ...     def __init__(self, n): self.chunks = [{"doc_id": "d"}] * n
    >>> segments_to_merge([(Seg(10_000), set())] + [(Seg(10), set())] * 12)   # the big one is left alone
    12
    >>> segments_to_merge([(Seg(10), set())] * 5), segments_to_merge([(Seg(10), {"d"})] + [(Seg(10), set())] * 2)
    (0, 3)
    """
    sizes = [len(seg.chunks) for seg, _ in stacked]
    total = sum(sizes)
    dead = sum(sum(c["doc_id"] in removed for c in seg.chunks) for seg, removed in stacked if removed)
    if total and dead > MAX_DEAD_SHARE * total:
        return len(stacked)
    if len(stacked) <= MAX_SEGMENTS:
        return 0
    run, held = 1, sizes[-1]
    for size in reversed(sizes[:-1]):
        if size > MERGE_FACTOR * max(held, 1):
            break
        run, held = run + 1, held + size
    return max(run, 2)


def _dim(stacked, live: Live | None) -> int:
    for seg, _ in stacked:
        if len(seg.chunk_vectors):
            return int(seg.chunk_vectors.shape[1])
    return int(live.manifest["dim"]) if live else 0


def generation_chunk_keys(index_dir: Path, generation: Path) -> set[int]:
    """The keys of the chunks a generation counts (its segments' chunks, less the documents it removed)."""
    manifest = layout.read_json(generation / "manifest.json")
    stacked = [(read_segment(index_dir, s["id"]), set(s.get("removed", []))) for s in manifest["segments"]]
    return {int(c["key"]) for seg, removed in stacked for c in seg.chunks if c["doc_id"] not in removed}


def _retired_keys(index_dir: Path, live: Live | None) -> set[int]:
    """Keys of the chunks of the generation the publication will retire (the one before the live one)."""
    if live is None:
        return set()
    keys: set[int] = set()
    for old in index_dir.glob("gen-*"):
        if old != live.generation and (old / "manifest.json").exists():
            try:
                keys |= generation_chunk_keys(index_dir, old)
            except (OSError, ValueError, KeyError):
                continue
    return keys


def _tokens(text: str) -> list[str]:
    from rag.lexical import tokenize

    return tokenize(text)


def _embed_records(embedder, records: Records, progress: bool, checkpoint) -> tuple[np.ndarray, np.ndarray]:
    vectors = _embed(embedder, records.chunk_inputs + records.sentence_inputs, progress, checkpoint)
    return vectors[: len(records.chunk_inputs)], vectors[len(records.chunk_inputs):]


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
