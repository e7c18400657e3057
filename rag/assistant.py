"""The public face of the package: ``Assistant`` and ``answer()``.

>>> from rag import answer
>>> a = answer("When does the smart port open?")        # builds the seeds index on first use
>>> a.citations[0].quote                                  # doctest: +SKIP
'该项目预计于2024年12月底建成投入使用,旨在实现通过两个24小时口岸“不关门”、“不等待”的货物通关目标。'

The CLI, the chat page and ``rag eval`` all go through this module.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

from rag.errors import EmbedderMismatchError
from rag.schema import Answer

MAX_QUESTION_TOKENS = 256
DEFAULT_K = 5


class Assistant:
    """Answers questions over one index.

    >>> assistant = Assistant.build(["seeds/"], "/tmp/seeds-index")   # doctest: +SKIP
    >>> assistant.ask("谅山省2023年进出口总额是多少？").text           # doctest: +SKIP
    '49.25亿美元。经该省的进出口总额约达49.25亿美元,达计划的129%,同比增长60%以上。 [1]'

    ``Assistant()`` with no index uses the default one, built from the bundled
    seeds on first use and cached (see ``rag.paths``). An index remembers the
    embedder that built it; passing a different one raises ``EmbedderMismatchError``.
    Safe to share between threads.
    """

    def __init__(self, index_dir: str | Path | None = None, *, embedder=None, k: int = DEFAULT_K):
        from embeddings import load_embedder
        from rag.index import ArticleIndex

        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        if index_dir is None:
            index_dir = ensure_default_index(embedder)
        self.index_dir = Path(index_dir)
        index = ArticleIndex.load(self.index_dir)
        if embedder is None or isinstance(embedder, str):
            wanted = embedder or index.embedder
            if wanted != index.embedder:
                raise EmbedderMismatchError(self.index_dir, index.embedder, wanted)
            embedder = load_embedder(wanted)
        elif getattr(embedder, "spec", None) != index.embedder:
            raise EmbedderMismatchError(self.index_dir, index.embedder, getattr(embedder, "spec", repr(embedder)))
        self.embedder = embedder
        self.k = k
        self._write_lock = threading.Lock()
        self._use(index)

    def _use(self, index) -> None:
        from rag.extractive import ExtractiveAnswerer
        from rag.retrieve import HybridRetriever

        # One assignment swaps the whole pipeline: a question in flight keeps the old one.
        self._pipeline = (HybridRetriever(index=index, embedder=self.embedder, k=self.k),
                          ExtractiveAnswerer(index))

    @property
    def retriever(self):
        """The LangChain retriever over this index."""
        return self._pipeline[0]

    @property
    def index(self):
        return self._pipeline[0].index

    # ---- building ---------------------------------------------------------------------------
    @classmethod
    def build(cls, paths, index_dir: str | Path, *, embedder=None, rebuild: bool = False,
              progress: bool = False, k: int = DEFAULT_K) -> "Assistant":
        """Index ``paths`` (files or folders) into ``index_dir`` and return an assistant over it.

        Only new or changed files are embedded; files deleted from an indexed folder are dropped.
        """
        from embeddings import load_embedder
        from rag.indexing import update_index

        embedder = embedder if embedder is not None and not isinstance(embedder, str) else load_embedder(embedder)
        update_index(paths, index_dir, embedder, rebuild=rebuild, progress=progress)
        return cls(index_dir, embedder=embedder, k=k)

    def add(self, paths, *, progress: bool = False):
        """Add or update articles without dropping anything else; returns the ``IndexReport``."""
        from rag.index import ArticleIndex
        from rag.indexing import update_index

        with self._write_lock:
            report = update_index(paths, self.index_dir, self.embedder, prune=False, progress=progress)
            if report.written:
                self._use(ArticleIndex.load(self.index_dir))
        return report

    def add_uploads(self, uploads, *, progress: bool = False):
        """Store uploaded files (``(original name, temporary path)`` pairs) in ``INDEX_DIR/uploads`` and index them.

        Refuses unsupported types, oversized or empty files (``rag.uploads.UploadError``) before
        anything is written; if indexing fails, the stored copies are removed and the index is as it was.
        """
        from rag.uploads import store_uploads

        stored = store_uploads(list(uploads), self.index_dir / "uploads")
        try:
            report = self.add(stored, progress=progress)
        except BaseException:
            for path in stored:
                path.unlink(missing_ok=True)
            raise
        for line in report.skipped:  # a file that could not be read is not kept either
            for path in stored:
                if str(path) in line:
                    path.unlink(missing_ok=True)
        return report

    def warm_up(self) -> None:
        """Run one question through every stage so lazy loads (jieba's dictionaries) happen now."""
        self.ask("智慧口岸什么时候投入使用？谁是主席？ When does it open?")

    def documents(self) -> list[dict]:
        """The indexed documents: id, title, date and chunk count."""
        return [
            {"doc_id": d, "title": m.get("title"), "date": m.get("date"), "n_chunks": m.get("n_chunks", 0)}
            for d, m in sorted(self.index.documents.items())
        ]

    # ---- asking -----------------------------------------------------------------------------
    def ask(self, question: str, *, k: int | None = None, history: list[str] | None = None) -> Answer:
        """Answer ``question`` from the indexed articles, with citations.

        ``history`` holds the user's earlier questions in this conversation, oldest first;
        a follow-up such as "And exports?" is retrieved together with the previous one.
        Raises ``ValueError`` for an empty question; a question longer than
        256 tokens is cut, and ``Answer.notes`` says so.
        """
        from rag.conversation import condense_question

        started = time.perf_counter()
        question, notes = prepare_question(question)
        standalone = condense_question(question, history)
        if standalone != question:
            notes.append(f"Read as: {standalone}")
        retriever, answerer = self._pipeline
        t0 = time.perf_counter()
        retrieval = retriever.search(standalone, k=k or self.k)
        t1 = time.perf_counter()
        result = answerer.answer(standalone, retrieval)
        result.question = question
        t2 = time.perf_counter()
        result.notes = notes + result.notes
        result.timings = {
            "retrieve_ms": round((t1 - t0) * 1000, 2),
            "answer_ms": round((t2 - t1) * 1000, 2),
            "total_ms": round((t2 - started) * 1000, 2),
        }
        return result

    def stream(self, question: str, *, k: int | None = None,
               history: list[str] | None = None) -> Iterator[str | Answer]:
        """Yield the answer text in pieces as it is produced; the last item is the finished ``Answer``.

        >>> for part in assistant.stream("When does the smart port open?"):   # doctest: +SKIP
        ...     print(part if isinstance(part, str) else "\\n" + str(len(part.citations)) + " citations")
        """
        result = self.ask(question, k=k, history=history)
        for piece in _pieces(result.text):
            yield piece
        yield result


def prepare_question(question) -> tuple[str, list[str]]:
    """Validate and trim a question; returns it and any notes for the user."""
    from rag.tokens import truncate_to_tokens

    if not isinstance(question, str):
        raise ValueError(f"The question must be text, got {type(question).__name__}.")
    question = question.strip()
    if not question:
        raise ValueError("The question is empty: ask something about the articles.")
    question, cut = truncate_to_tokens(question, MAX_QUESTION_TOKENS)
    notes = [f"The question was cut to its first {MAX_QUESTION_TOKENS} tokens."] if cut else []
    return question, notes


def _pieces(text: str) -> Iterator[str]:
    """Split text into small pieces for streaming: words in English, a few characters in Chinese."""
    import re

    for piece in re.findall(r"\S+\s*|\s+", text):
        if len(piece) > 8 and not piece.isascii():
            yield from (piece[i: i + 4] for i in range(0, len(piece), 4))
        else:
            yield piece


# ---- the default index and answer() ------------------------------------------------------------
_default_lock = threading.Lock()  # guards building the default index
_cache_lock = threading.Lock()  # guards the assistants answer() reuses
_assistants: dict[str, Assistant] = {}


def ensure_default_index(embedder=None, *, progress: bool = False) -> Path:
    """Build the default index from the bundled seeds if there is none yet.

    It is not refreshed on every start (that would take the writer lock); after changing
    the seeds run ``rag index seeds/`` to update it.
    """
    from embeddings import load_embedder
    from rag import store
    from rag.indexing import update_index
    from rag.paths import default_index_dir, default_seeds_dir

    index_dir = default_index_dir()
    with _default_lock:
        if not store.exists(index_dir):
            if embedder is None or isinstance(embedder, str):
                embedder = load_embedder(embedder)
            update_index([default_seeds_dir()], index_dir, embedder, progress=progress)
    return index_dir


def answer(question: str, *, index: str | Path | None = None, k: int = DEFAULT_K) -> Answer:
    """Answer one question; the assistant for each index is created once and reused.

    >>> answer("谅山省2023年进出口总额是多少？").answer_span   # doctest: +SKIP
    '49.25亿美元'
    """
    key = str(Path(index).resolve()) if index is not None else ""
    with _cache_lock:
        if key not in _assistants:
            _assistants[key] = Assistant(index)
        assistant = _assistants[key]
    return assistant.ask(question, k=k)
