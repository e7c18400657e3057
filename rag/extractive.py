"""The offline answerer: quote the sentences that answer the question, lead with the answer itself.

Sentences of the retrieved passages are scored by embedding similarity to the
question, overlap with the question's words, and whether they hold the kind of
answer asked for (a date for "when", a number for "how many", a name for "who").
The best one or two are quoted verbatim, each followed by its ``[n]`` marker.
When even the best sentence is a weak match the answerer refuses.
"""

from __future__ import annotations

from dataclasses import dataclass

from rag.answer_spans import Span, classify_question, find_spans, render_english
from rag.index import ArticleIndex
from rag.lexical import tokenize
from rag.retrieve import RetrievalResult
from rag.schema import Answer, Citation

# Weights of the sentence score (tuned on tests/data/seeds_qa.jsonl; see docs/benchmarks.md).
LEXICAL_WEIGHT = 0.15
TYPE_WEIGHT = 0.03
RELATED_PENALTY = 0.02
RANK_WEIGHT = 0.01
SECOND_SENTENCE_MARGIN = 0.012

# Refusal thresholds on the best sentence's cosine similarity, by whether the question shares
# words with the articles (e5 similarities sit high: unrelated text still scores ~0.7).
MIN_DENSE_CROSSLINGUAL = 0.76
MIN_DENSE_SAME_LANGUAGE = 0.80
MIN_LEXICAL_SAME_LANGUAGE = 0.34

REFUSAL_TEXT = {
    "en": "The articles do not say. None of the indexed passages answers this question.",
    "zh": "文章中没有提到这一点：检索到的段落都无法回答这个问题。",
}


@dataclass
class ScoredSentence:
    sentence_id: int
    passage_rank: int
    text: str
    score: float
    dense: float
    lexical: float
    spans: list[Span]


class ExtractiveAnswerer:
    """Pick answer sentences from retrieved passages.

    >>> answerer = ExtractiveAnswerer(index)                      # doctest: +SKIP
    >>> answerer.answer(question, retriever.search(question))     # doctest: +SKIP
    """

    def __init__(self, index: ArticleIndex, *, max_sentences: int = 2):
        if max_sentences < 1:
            raise ValueError(f"max_sentences must be at least 1, got {max_sentences}")
        self.index = index
        self.max_sentences = max_sentences

    def answer(self, question: str, retrieval: RetrievalResult) -> Answer:
        language = retrieval.language
        qtype = classify_question(question)
        scored = self.score_sentences(question, qtype, retrieval)
        if not scored or self._too_weak(scored[0], retrieval):
            return Answer(question=question, text=REFUSAL_TEXT[language], refused=True,
                          passages=retrieval.passages, language=language)

        chosen = [scored[0]]
        for s in scored[1: self.max_sentences * 3]:
            if len(chosen) >= self.max_sentences:
                break
            if s.score >= scored[0].score - SECOND_SENTENCE_MARGIN and s.text not in chosen[0].text:
                chosen.append(s)

        citations = [self._citation(n, s, retrieval) for n, s in enumerate(chosen, start=1)]
        span = self._answer_span(question, retrieval.query_tokens, chosen[0])
        body = " ".join(f"{c.quote} [{c.n}]" for c in citations)
        text = body
        if span is not None:
            english = render_english(span.text, qtype) if language == "en" else None
            lead = f"{english[0].upper()}{english[1:]} ({span.text})" if english else span.text
            separator = "." if language == "en" else "。"
            text = f"{lead}{separator} {body}"
        return Answer(question=question, text=text, citations=citations, refused=False,
                      passages=retrieval.passages, language=language,
                      answer_span=span.text if span else None)

    # ---- scoring -----------------------------------------------------------------------------
    def score_sentences(self, question: str, qtype: str, retrieval: RetrievalResult) -> list[ScoredSentence]:
        index = self.index
        q_terms = set(retrieval.query_tokens)
        seen: set[str] = set()
        ids, ranks, texts = [], [], []
        for rank, passage in enumerate(retrieval.passages):
            for sid in index.chunks[passage.chunk_id]["sentence_ids"]:
                text = index.sentence_text(sid)
                if text in seen or len(text) < 4:
                    continue
                seen.add(text)
                ids.append(sid)
                ranks.append(rank)
                texts.append(text)
        if not ids:
            return []
        dense = index.sentence_vectors[ids] @ retrieval.query_vector
        out = []
        for sid, rank, text, d in zip(ids, ranks, texts, dense):
            lexical = len(q_terms & set(tokenize(text))) / len(q_terms) if q_terms else 0.0
            spans = [s for s in find_spans(text, qtype) if s.text not in question] if qtype != "other" else []
            section = index.chunks[retrieval.passages[rank].chunk_id]["section"]
            score = (
                float(d)
                + LEXICAL_WEIGHT * lexical
                + (TYPE_WEIGHT if spans else 0.0)
                - (RELATED_PENALTY if section == "related" else 0.0)
                + RANK_WEIGHT / (1 + rank)
            )
            out.append(ScoredSentence(sid, rank, text, score, float(d), lexical, spans))
        out.sort(key=lambda s: s.score, reverse=True)
        return out

    @staticmethod
    def _too_weak(best: ScoredSentence, retrieval: RetrievalResult) -> bool:
        if retrieval.lexical_weight > 0.5:  # the question speaks the articles' language
            return best.dense < MIN_DENSE_SAME_LANGUAGE or best.lexical < MIN_LEXICAL_SAME_LANGUAGE
        return best.dense < MIN_DENSE_CROSSLINGUAL

    @staticmethod
    def _answer_span(question: str, q_tokens: list[str], best: ScoredSentence) -> Span | None:
        """The span of the asked-for type nearest to the question's words in the sentence."""
        if not best.spans:
            return None
        anchors = [i for t in set(q_tokens) if len(t) > 1 for i in _find_all(best.text, t)]
        if not anchors:
            return best.spans[0]

        def distance(span: Span) -> float:
            # Answers tend to follow the words that introduce them ("总额约达49.25亿美元").
            return min((span.start - a) if span.start >= a else (a - span.end) * 1.5 for a in anchors)

        return min(best.spans, key=distance)

    def _citation(self, n: int, s: ScoredSentence, retrieval: RetrievalResult) -> Citation:
        record = self.index.sentences[s.sentence_id]
        passage = retrieval.passages[s.passage_rank]
        return Citation(
            n=n, doc_id=passage.doc_id, title=passage.title, date=passage.date, section=passage.section,
            quote=s.text, text=passage.text, score=round(s.score, 4),
            start=record["start"], end=record["end"], chunk_id=passage.chunk_id,
        )


def _find_all(text: str, term: str) -> list[int]:
    out, i = [], text.find(term)
    while i >= 0:
        out.append(i + len(term))
        i = text.find(term, i + 1)
    return out
