"""Hybrid retrieval: dense (FAISS) and BM25 fused by weighted reciprocal rank, weighted by language.

BM25 only helps when the question shares words with the articles. Measured on
XQuAD, equal-weight fusion lifted Chinese questions over Chinese paragraphs
(recall@1 0.93 vs 0.90 dense) but sank English questions over them (0.22 vs 0.72):
BM25 then ranks noise. So BM25's weight is the share of the question's content
words (numbers aside) that occur in the index vocabulary: about 1 for a Chinese
question over Chinese articles. An English question over Chinese articles is
first given Chinese terms through the index's bilingual lexicon (``rag.bilingual``);
their BM25 list then counts ``TRANSLATED_WEIGHT`` times the share of the question's
words that found a translation. On the seeds test set a weight of 1.0 lifted English
recall@5 from 0.83 (at 0.5) to 0.96 without costing Chinese questions anything.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rag.asked_time import asked_time
from rag.bilingual import translate_terms
from rag.index import ArticleIndex
from rag.language import detect_language
from rag.lexical import is_number, tokenize
from rag.schema import Passage

RRF_K = 60  # the usual reciprocal-rank constant; flattens the head of each list
TIME_WEIGHT = 1.0  # the time list (rag.asked_time) counts as much as the dense one
TIME_DEPTH = 20  # the time list re-orders this many of the best candidates, never reaching below them
TRANSLATED_WEIGHT = 1.0  # see the module docstring
FILTERED_DEPTH = 5000  # chunks a filtered dense search looks through before filtering


@dataclass
class RetrievalResult:
    passages: list[Passage]
    query_vector: np.ndarray
    query_tokens: list[str]
    language: str
    lexical_weight: float
    query_terms: dict[str, float]  # index tokens the question asks about, with weights
    translated: bool = False
    term_coverage: float = 0.0  # share of the question's content words the index knows (own or translated)


def lexical_coverage(tokens: list[str], vocabulary: frozenset) -> float:
    """Share of non-numeric question tokens found in the index vocabulary (0 when there are none)."""
    words = [t for t in tokens if not is_number(t)]
    if not words:
        return 0.0
    return sum(t in vocabulary for t in words) / len(words)


class HybridSearch:
    """Dense + BM25 retrieval over an ``ArticleIndex``. It imports nothing of LangChain, so that a one-off
    question (``rag ask``) does not pay for it; ``rag.langchain_retriever.HybridRetriever`` is its LangChain face.

    >>> from rag import Assistant
    >>> assistant = Assistant()                                             # doctest: +SKIP
    >>> search = HybridSearch(assistant.index, assistant.embedder)          # doctest: +SKIP
    >>> search.search("When does the smart port open?").passages[0].doc_id  # doctest: +SKIP
    """

    def __init__(self, index: ArticleIndex, embedder, k: int = 5, candidates: int = 50):
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        self.index, self.embedder, self.k, self.candidates = index, embedder, k, candidates

    def search(self, question: str, k: int | None = None, *, keep=None) -> RetrievalResult:
        """The ``k`` best passages for ``question``. ``keep``, given a chunk's record (``doc_id``,
        ``date``, ``section``…), says whether that chunk may be returned."""
        k = k or self.k
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        index = self.index
        n = len(index)
        qvec = np.asarray(self.embedder.embed_query(question), dtype=np.float32)
        qvec /= max(float(np.linalg.norm(qvec)), 1e-12)
        tokens = tokenize(question)
        language = detect_language(question)
        terms, weight, translated, coverage = self.query_terms(question, tokens)
        if n == 0:
            return RetrievalResult([], qvec, tokens, language, 0.0, terms, translated, coverage)
        depth = min(n, max(self.candidates, 4 * k))
        allowed = (lambda i: True) if keep is None else (lambda i: keep(index.chunks[i]))

        # Filtered searches look deeper (a few thousand chunks: all of a small index), then drop what is not allowed.
        dense_depth = depth if keep is None else min(n, max(4 * depth, FILTERED_DEPTH))
        dense = {i: s for i, s in index.vector_store.search(qvec, dense_depth) if allowed(i)}

        lexical: dict[int, float] = {}
        if weight > 0 and terms:
            scores = index.bm25_scores(terms)
            for i in np.argsort(-scores):
                if scores[i] <= 0 or len(lexical) >= depth:
                    break
                if allowed(int(i)):
                    lexical[int(i)] = float(scores[i])

        fused: dict[int, float] = {}
        for rank, i in enumerate(sorted(dense, key=dense.get, reverse=True)):
            fused[i] = fused.get(i, 0.0) + 1.0 / (RRF_K + rank + 1)
        for rank, i in enumerate(sorted(lexical, key=lexical.get, reverse=True)):
            fused[i] = fused.get(i, 0.0) + weight / (RRF_K + rank + 1)

        asked = asked_time(question)
        if asked and fused:
            self._prefer_asked_time(fused, asked, max(TIME_DEPTH, 4 * k))
        best = sorted(fused, key=fused.get, reverse=True)[:k]
        # Chunks found by BM25 alone still need a dense score for the answerer.
        missing = [i for i in best if i not in dense]
        if missing:
            extra = index.chunk_vectors[missing] @ qvec
            dense.update({i: float(s) for i, s in zip(missing, extra)})
        passages = [self._passage(i, fused[i], dense[i], lexical.get(i, 0.0)) for i in best]
        return RetrievalResult(passages, qvec, tokens, language, weight, terms, translated, coverage)

    def _prefer_asked_time(self, fused: dict[int, float], asked, depth: int) -> None:
        """One more list in the fusion, over the best ``depth`` candidates: those about the asked period (in
        their order), or, for a question about the newest state, those of the newest document among them. A
        list of every candidate newest first would add nearly the same to each (reciprocal ranks flatten the
        head of a list), so it names only the ones the question prefers."""
        index = self.index
        head = sorted(fused, key=fused.get, reverse=True)[:depth]
        if asked.periods:
            ranked = [i for i in head if asked.fits(index.chunks[i]["date"], index.chunk_text(i))]
        else:
            newest = max((index.chunks[i]["date"] or "" for i in head), default="")
            ranked = [i for i in head if newest and index.chunks[i]["date"] == newest]
        for rank, i in enumerate(ranked):
            fused[i] += TIME_WEIGHT / (RRF_K + rank + 1)

    def query_terms(self, question: str, tokens: list[str]) -> tuple[dict[str, float], float, bool, float]:
        """Weighted index terms for the question, BM25's fusion weight, whether they were translated,
        and the share of the question's content words they cover."""
        vocabulary = self.index.vocabulary
        own = {t: 1.0 for t in tokens if t in vocabulary}
        coverage = lexical_coverage(tokens, vocabulary)
        # A Chinese question, or an index without a lexicon (no Chinese articles): its own words only.
        # An English question is translated even when some of its words occur in the index as they
        # are: one English article among Chinese ones must not switch translation off.
        if detect_language(question) != "en" or not self.index.lexicon:
            return own, coverage, False, coverage
        translation = translate_terms(question, self.index.lexicon, vocabulary)
        if translation.coverage * TRANSLATED_WEIGHT <= coverage:
            return own, coverage, False, coverage
        merged = {**translation.weights, **own}
        return merged, TRANSLATED_WEIGHT * translation.coverage, True, translation.coverage

    def _passage(self, i: int, score: float, dense: float, lexical: float) -> Passage:
        c = self.index.chunks[i]
        return Passage(
            chunk_id=i, doc_id=c["doc_id"], title=c["title"], date=c["date"], section=c["section"],
            text=self.index.chunk_text(i), start=c["start"], end=c["end"],
            score=round(score, 6), dense_score=round(dense, 6), lexical_score=round(lexical, 6),
        )
