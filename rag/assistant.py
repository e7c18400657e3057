"""The public face of the package: ``Assistant`` and ``answer()``.

>>> from rag import answer
>>> a = answer("When does the smart port open?")  # builds the seeds index on first use  # doctest: +SKIP
>>> a.citations[0].quote                                  # doctest: +SKIP
'该项目预计于2024年12月底建成投入使用,旨在实现通过两个24小时口岸“不关门”、“不等待”的货物通关目标。'

The CLI, the chat page and ``rag eval`` all go through this module.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from rag.errors import EmbedderMismatchError, RagError
from rag.filters import Filters
from rag.schema import Answer

MAX_QUESTION_TOKENS = 256
DEFAULT_K = 5
READERS = ("learned", "scored")  # the extractive answerers: rag.reader's trained models, or hand-set sentence scores
DEFAULT_READER = "learned"


class Assistant:
    """Answers questions over one index.

    >>> assistant = Assistant.build(["seeds/"], "/tmp/seeds-index")   # doctest: +SKIP
    >>> assistant.ask("谅山省2023年进出口总额是多少？").text           # doctest: +SKIP
    '49.25亿美元。经该省的进出口总额约达49.25亿美元,达计划的129%,同比增长60%以上。 [1]'

    ``Assistant()`` with no index uses the default one, built from the bundled
    seeds on first use and cached (see ``rag.paths``). An index remembers the
    embedder that built it; passing a different one raises ``EmbedderMismatchError``.
    Safe to share between threads.

    ``llm`` chooses who writes the answer: ``None`` reads the environment (``RAG_LLM`` and
    friends, see ``rag.llm``) and answers extractively when it names no model; ``"extractive"``;
    ``"openai"`` or ``"llamacpp"`` (the rest from the environment); an ``LLMConfig``; any
    LangChain chat model; or a pair ``(LLMConfig.for_chat_model(model, context_window=...), model)``. Model answers are verified against the passages (``rag.grounding``).

    ``reader`` chooses the extractive answerer (it also stands in when a model's answer fails the
    check): ``"learned"``, the models trained on public dev sets (``rag.reader``, the default), or ``"scored"``,
    sentences scored by hand-set weights (``rag.extractive``); None reads ``RAG_READER``.
    """

    def __init__(self, index_dir: str | Path | None = None, *, embedder=None, k: int = DEFAULT_K, llm=None,
                 reader: str | None = None):
        from embeddings import embedder_name, load_embedder
        from rag.index import ArticleIndex

        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        self.reader = reader or os.environ.get("RAG_READER") or DEFAULT_READER
        if self.reader not in READERS:
            raise ValueError(f"reader must be one of {', '.join(READERS)}, got {self.reader!r}")
        if index_dir is None:
            index_dir = ensure_default_index(embedder)
        self.index_dir = Path(index_dir)
        index = ArticleIndex.load(self.index_dir)
        if embedder is None or isinstance(embedder, str):
            wanted = embedder or index.embedder
            if wanted != index.embedder:
                raise EmbedderMismatchError(self.index_dir, index.embedder, wanted)
            try:
                embedder = load_embedder(wanted)
            except ValueError:
                raise ValueError(f"{self.index_dir} was built with the embedder {wanted!r}, which cannot be loaded by "
                                 f"name; pass the same one: Assistant({str(self.index_dir)!r}, embedder=...)") from None
        elif embedder_name(embedder) != index.embedder:
            raise EmbedderMismatchError(self.index_dir, index.embedder, embedder_name(embedder))
        self.embedder = embedder
        self.k = k
        self._write_lock = threading.Lock()
        self._model_lock = threading.Lock()
        self._chat_models: dict = {}
        self.llm = self._resolve_llm(llm)  # (LLMConfig, chat model) or None for extractive
        self._use(index)

    def _use(self, index) -> None:
        from rag.retrieve import HybridSearch

        if self.reader == "learned":
            from rag.reader.extractive import LearnedAnswerer as answerer_class
        else:
            from rag.extractive import ExtractiveAnswerer as answerer_class
        # One assignment swaps the whole pipeline: a question in flight keeps the old one.
        self._pipeline = (HybridSearch(index, self.embedder, self.k), answerer_class(index))

    def _resolve_llm(self, llm):
        """``(config, chat model)`` for what ``llm`` asks for, or None to answer extractively."""
        from rag.llm import NO_MODEL, LLMConfig, make_chat_model

        if llm is None:
            llm = LLMConfig.from_env()
            if llm is None:
                return None
        if isinstance(llm, str):
            if llm.strip().lower() in NO_MODEL:
                return None
            llm = LLMConfig.from_env(backend=llm)
        if isinstance(llm, tuple) and len(llm) == 2 and isinstance(llm[0], LLMConfig):
            return llm  # (settings, a chat model built by the caller)
        if isinstance(llm, LLMConfig):
            with self._model_lock:
                if llm not in self._chat_models:
                    self._chat_models[llm] = make_chat_model(llm)
                return llm, self._chat_models[llm]
        if hasattr(llm, "stream") and hasattr(llm, "invoke"):  # any LangChain chat model
            return LLMConfig.for_chat_model(llm), llm
        raise ValueError(f"llm must be None, 'extractive', 'openai', 'llamacpp', an LLMConfig or a LangChain "
                         f"chat model, got {type(llm).__name__}")

    @property
    def llm_config(self):
        """The ``LLMConfig`` of the model answers are written with, or None when answers are extractive."""
        return None if self.llm is None else self.llm[0]

    @property
    def answers_with(self) -> str:
        """Who writes the answers: 'extractive' or the model's description."""
        return "extractive" if self.llm_config is None else self.llm_config.describe()

    @property
    def retriever(self):
        """The LangChain retriever over this index (``retriever.invoke(question, k=3)``)."""
        from rag.langchain_retriever import HybridRetriever

        search = self._pipeline[0]
        return HybridRetriever(index=search.index, embedder=search.embedder, k=search.k)

    def search(self, question: str, k: int | None = None, *, keep=None):
        """The retrieved passages for ``question`` without an answer (``RetrievalResult``); ``keep``, given
        a chunk's record, says whether it may be returned."""
        return self._pipeline[0].search(question, k or self.k, keep=keep)

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

        embedder = embedder if embedder is not None and not isinstance(embedder, str) else load_embedder(embedder)
        cls.update(paths, index_dir, embedder=embedder, rebuild=rebuild, progress=progress)
        return cls(index_dir, embedder=embedder, k=k)

    @staticmethod
    def update(paths, index_dir: str | Path | None = None, *, embedder=None, rebuild: bool = False,
               prune: bool = True, progress: bool = False, vector_store: dict | None = None):
        """Bring the index at ``index_dir`` (default: the seeds index plain ``rag ask`` uses) in line with
        ``paths``, as ``rag index`` does, and return the ``IndexReport``: new and changed files embedded,
        files deleted from an indexed folder dropped (unless ``prune=False``); ``vector_store`` as in
        ``rag.index.update_index``."""
        from embeddings import load_embedder
        from rag.index import update_index
        from rag.index.update import read_live
        from rag.paths import default_index_dir

        index_dir = Path(index_dir or default_index_dir())
        if embedder is None and not rebuild:  # an existing index goes on with the embedder that built it
            try:
                live = read_live(index_dir)
            except RagError:
                live = None  # unreadable: update_index says so
            embedder = live.manifest["embedder"] if live is not None else None
        embedder = embedder if embedder is not None and not isinstance(embedder, str) else load_embedder(embedder)
        return update_index(paths, index_dir, embedder, rebuild=rebuild, prune=prune, progress=progress,
                            vector_store=vector_store)

    def add(self, paths, *, progress: bool = False, max_chars: int | None = None):
        """Add or update articles without dropping anything else; returns the ``IndexReport``.
        Articles whose text is longer than ``max_chars`` are skipped with the reason."""
        from rag.index import ArticleIndex
        from rag.index import update_index

        with self._write_lock:
            report = update_index(paths, self.index_dir, self.embedder, prune=False, progress=progress,
                                  max_chars=max_chars)
            if report.written:
                self._use(ArticleIndex.load(self.index_dir))
        return report

    def add_urls(self, urls, *, allow_private: bool = False, progress: bool = False):
        """Fetch pages or feeds (``rag.fetch``: polite, only what changed) into ``INDEX_DIR/web`` and index what
        is new or changed; returns ``(FetchReport, IndexReport)``. A private or local address is refused
        unless ``allow_private``."""
        from rag.fetch import Fetcher

        fetched = Fetcher(self.index_dir, allow_private=allow_private).fetch(urls, progress=progress)
        web = self.index_dir / "web"
        report = self.add([web], progress=progress) if web.is_dir() else None
        return fetched, report

    def source_urls(self) -> dict[str, str]:
        """Document id → the URL a fetched page came from."""
        from rag.fetch import source_urls

        return source_urls(self.index_dir)

    def remove(self, doc_ids, *, progress: bool = False):
        """Drop documents by id (``rag.index.remove_documents``); an upload's stored file goes too, so that
        it does not come back. Returns the ``IndexReport``."""
        from rag.index import ArticleIndex
        from rag.index import remove_documents

        doc_ids = [doc_ids] if isinstance(doc_ids, str) else list(doc_ids)
        with self._write_lock:
            report = remove_documents(doc_ids, self.index_dir, self.embedder, progress=progress)
            self._use(ArticleIndex.load(self.index_dir))
        uploads = (self.index_dir / "uploads").resolve()
        for doc_id in report.removed:
            if doc_id.startswith("uploads/"):
                stored = (uploads / doc_id.split("/", 1)[1]).resolve()
                if stored.parent == uploads:
                    stored.unlink(missing_ok=True)
        return report

    def add_uploads(self, uploads, *, progress: bool = False):
        """Store uploaded files (``(original name, temporary path)`` pairs) in ``INDEX_DIR/uploads`` and index them.

        Refuses unsupported types, oversized or empty files (``rag.uploads.UploadError``) before
        anything is written; if indexing fails, the stored copies are removed and the index is as it was.
        A file whose text is longer than ``rag.uploads.MAX_UPLOAD_CHARS`` is skipped with the reason.
        """
        from rag.uploads import MAX_UPLOAD_CHARS, store_uploads

        stored = store_uploads(list(uploads), self.index_dir / "uploads")
        try:
            report = self.add(stored, progress=progress, max_chars=MAX_UPLOAD_CHARS)
        except BaseException:
            for path in stored:
                path.unlink(missing_ok=True)
            raise
        unread = {Path(s.path).resolve() for s in report.skipped}
        for path in stored:  # a file that could not be read is not kept either (by path, not by name inside text)
            if path.resolve() in unread:
                path.unlink(missing_ok=True)
        return report

    def warm_up(self) -> None:
        """Run one question through retrieval and the extractive answerer so lazy loads (jieba's
        dictionaries) happen now; the language model, if any, is not called."""
        self.ask("智慧口岸什么时候投入使用？谁是主席？ When does it open?", llm="extractive")

    def documents(self) -> list[dict]:
        """The indexed documents: id, title, date and chunk count; a web page's author, site and language
        when they were found."""
        return [
            {"doc_id": d, "title": m.get("title"), "date": m.get("date"), "n_chunks": m.get("n_chunks", 0),
             **{k: m[k] for k in ("author", "site", "language") if m.get(k)}}
            for d, m in sorted(self.index.documents.items())
        ]

    # ---- asking -----------------------------------------------------------------------------
    def ask(self, question: str, *, k: int | None = None, history: list[str] | None = None,
            llm=None, date_from=None, date_to=None, source=None) -> Answer:
        """Answer ``question`` from the indexed articles, with citations.

        ``history`` holds the user's earlier questions in this conversation, oldest first;
        a follow-up such as "And exports?" is retrieved together with the previous one.
        ``llm`` overrides the assistant's answerer for this question (same values as in the
        constructor; ``"extractive"`` forces the offline answerer).
        ``date_from`` / ``date_to`` (YYYY-MM-DD, YYYY-MM or YYYY, both included) and ``source`` (the folder
        label a document was indexed from, e.g. ``"seeds"``; comma-separated for several) limit the
        documents answers may come from (``rag.filters``); ``Answer.notes`` says so.
        Raises ``ValueError`` for an empty question or a bad filter; a question longer than
        256 tokens is cut, and ``Answer.notes`` says so.
        """
        result = None
        for part in self._generate(question, k=k, history=history, llm=llm,
                                   filters=Filters.of(date_from=date_from, date_to=date_to, source=source)):
            result = part
        return result

    def stream(self, question: str, *, k: int | None = None, history: list[str] | None = None,
               llm=None, date_from=None, date_to=None, source=None) -> Iterator[str | Answer]:
        """Yield the answer text in pieces as it is produced; the last item is the finished ``Answer``.

        With a language model the pieces are the model's text as it arrives; the final ``Answer``
        is verified and its ``text`` is what to show — it replaces the streamed text when the
        model's answer failed verification and the extractive answer took its place.

        >>> for part in assistant.stream("When does the smart port open?"):   # doctest: +SKIP
        ...     print(part if isinstance(part, str) else "\\n" + str(len(part.citations)) + " citations")
        """
        streamed = False
        filters = Filters.of(date_from=date_from, date_to=date_to, source=source)
        for part in self._generate(question, k=k, history=history, llm=llm, filters=filters):
            if isinstance(part, str):
                streamed = True
                yield part
                continue
            if not streamed:
                yield from _pieces(part.text)
            yield part

    def _generate(self, question, *, k, history, llm, filters: Filters) -> Iterator[str | Answer]:
        from rag.conversation import context_helps, merged_question
        from rag.generation import LLMAnswerer

        started = time.perf_counter()
        question, notes = prepare_question(question)
        model = self.llm if llm is None else self._resolve_llm(llm)
        retriever, extractive = self._pipeline
        keep = filters.allows if filters else None
        if filters:
            notes.append(f"Answered from {filters.describe()} only.")
        t0 = time.perf_counter()
        standalone = question
        retrieval = retriever.search(question, k=k or self.k, keep=keep)
        retrieve_ms = round((time.perf_counter() - t0) * 1000, 2)
        # A question that cannot stand alone is read with the previous one when that retrieves better.
        merged = merged_question(question, history)
        if merged is not None:
            t = time.perf_counter()
            with_context = retriever.search(merged, k=k or self.k, keep=keep)
            retrieve_ms = round(retrieve_ms + (time.perf_counter() - t) * 1000, 2)
            if context_helps(retrieval, with_context, retriever.index):
                standalone, retrieval = merged, with_context
                notes.append(f"Read as: {merged}")

        def extractive_answer() -> Answer:
            t = time.perf_counter()
            answer = extractive.answer(standalone, retrieval)
            answer.timings = {"answer_ms": round((time.perf_counter() - t) * 1000, 2)}
            return answer

        def finish(answer: Answer) -> Answer:
            answer.question = question
            set_pages(answer, retriever.index.documents)
            answer.notes = notes + answer.notes
            total = round((time.perf_counter() - started) * 1000, 2)
            answer.timings = {"retrieve_ms": retrieve_ms, **answer.timings, "total_ms": total}
            if "generate_ms" in answer.timings:  # our own work around the model call
                answer.timings["pipeline_ms"] = round(total - answer.timings["generate_ms"], 2)
            return answer

        if model is None:
            yield finish(extractive_answer())
            return
        config, chat_model = model
        answerer = LLMAnswerer(config, retriever.index, self.embedder, chat_model=chat_model)
        for part in answerer.stream(question, retrieval, history=history, fallback=extractive_answer):
            yield part if isinstance(part, str) else finish(part)


def set_pages(answer: Answer, documents: dict) -> None:
    """Give each citation of a paged document (a PDF) the page its quote starts on."""
    import bisect

    for c in answer.citations:
        pages = (documents.get(c.doc_id) or {}).get("pages")
        if pages:
            c.page = bisect.bisect_right(pages, c.start)


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
    """Build the default index from the bundled seeds if there is none yet, or if an older version of
    this package wrote it (it is ours to rebuild: the seeds, plus the page's uploads kept beside it).

    It is not refreshed on every start (that would take the writer lock); after changing
    the seeds run ``rag index seeds/`` to update it.
    """
    from embeddings import load_embedder
    from rag.index import layout
    from rag.index import update_index
    from rag.paths import default_index_dir, default_seeds_dir

    index_dir = default_index_dir()
    with _default_lock:
        if not layout.exists(index_dir) or not layout.current_format(index_dir):
            if embedder is None or isinstance(embedder, str):
                embedder = load_embedder(embedder)
            kept = [index_dir / name for name in ("uploads", "web") if (index_dir / name).is_dir()]
            update_index([default_seeds_dir(), *kept], index_dir, embedder,
                         rebuild=True, progress=progress)
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
