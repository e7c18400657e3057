"""The hand-scored offline answerer (``Assistant(reader="scored")``; the default is the learned one, ``rag.reader``):
quote the sentences that answer the question, lead with the answer itself.

Sentences of the retrieved passages are scored by embedding similarity to the
question, overlap with the question's words, and whether they hold the kind of
answer asked for (a date for "when", a number for "how many", a name for "who").
The best one or two are quoted verbatim, each followed by its ``[n]`` marker.
When even the best sentence is a weak match the answerer refuses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.answer_spans import Span, classify_question, find_spans, is_money, render_english, wants_money
from rag.index import ArticleIndex
from rag.injection import looks_like_instructions
from rag.lexical import tokenize
from rag.retrieve import RetrievalResult
from rag.schema import Answer, Citation

# Weights of the sentence score (tuned on tests/data/seeds_qa.jsonl; see docs/benchmarks.md).
LEXICAL_WEIGHT = 0.15
TYPE_WEIGHT = 0.03
RELATED_PENALTY = 0.02
RANK_WEIGHT = 0.01
SECOND_SENTENCE_MARGIN = 0.012
CONTEXT_WEIGHT = 0.6

# Refusal. A question about something the articles cover uses words the index knows: its own
# (Chinese over Chinese) or their translations (English over Chinese). On the seeds test set
# answerable questions covered >= 0.72 of their content words, unanswerable ones <= 0.50.
# Then the best sentence must match: same-language questions by idf-weighted word overlap
# (answerable >= 0.48, unanswerable <= 0.35) and similarity; translated ones by similarity
# alone (e5 similarities sit high: unrelated text still scores ~0.7).
MIN_TERM_COVERAGE = 0.6
MIN_LEXICAL_SAME_LANGUAGE = 0.42
MIN_DENSE_SAME_LANGUAGE = 0.80
MIN_DENSE_TRANSLATED = 0.70

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
        span = self._answer_span(list(retrieval.query_terms), chosen[0])
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
        q_terms = dict(retrieval.query_terms)
        if not retrieval.translated:
            # Words of the question the articles never use still count against every sentence.
            q_terms.update({t: 1.0 for t in retrieval.query_tokens if t not in q_terms})
        idf = {t: index.idf(t) for t in q_terms}
        q_mass = sum(w * idf[t] for t, w in q_terms.items())
        seen: set[str] = set()
        ids, ranks, texts, previous = [], [], [], []
        for rank, passage in enumerate(retrieval.passages):
            if looks_like_instructions(passage.text):
                continue  # a passage planting instructions is no evidence: not them, nor the lines around them
            sentence_ids = index.chunks[passage.chunk_id]["sentence_ids"]
            for pos, sid in enumerate(sentence_ids):
                text = index.sentence_text(sid)
                if text in seen or len(text) < 4:
                    continue
                seen.add(text)
                ids.append(sid)
                ranks.append(rank)
                texts.append(text)
                previous.append(index.sentence_text(sentence_ids[pos - 1]) if pos else "")
        if not ids:
            return []
        dense = index.sentence_vectors[ids] @ retrieval.query_vector
        out = []
        for sid, rank, text, before, d in zip(ids, ranks, texts, previous, dense):
            own = set(tokenize(text))
            # "该项目预计于…" names its subject in the sentence before: count those words, discounted.
            context = set(tokenize(before)) - own
            matched = sum(w * idf[t] for t, w in q_terms.items() if t in own)
            matched += CONTEXT_WEIGHT * sum(w * idf[t] for t, w in q_terms.items() if t in context)
            lexical = matched / q_mass if q_mass else 0.0
            spans = [s for s in find_spans(text, qtype) if not _given_in_question(s.text, question)]
            if qtype == "number" and wants_money(question):
                spans = [s for s in spans if is_money(s.text)]
            section = index.chunks[retrieval.passages[rank].chunk_id]["section"]
            score = (
                float(d)
                + LEXICAL_WEIGHT * lexical
                + TYPE_WEIGHT * max((sp.confidence for sp in spans), default=0.0)
                - (RELATED_PENALTY if section == "related" else 0.0)
                + RANK_WEIGHT / (1 + rank)
            )
            out.append(ScoredSentence(sid, rank, text, score, float(d), lexical, spans))
        out.sort(key=lambda s: s.score, reverse=True)
        return out

    @staticmethod
    def _too_weak(best: ScoredSentence, retrieval: RetrievalResult) -> bool:
        if retrieval.term_coverage < MIN_TERM_COVERAGE:
            return True
        if retrieval.translated:
            return best.dense < MIN_DENSE_TRANSLATED
        return best.dense < MIN_DENSE_SAME_LANGUAGE or best.lexical < MIN_LEXICAL_SAME_LANGUAGE

    @staticmethod
    def _answer_span(q_tokens: list[str], best: ScoredSentence) -> Span | None:
        """The span of the asked-for type nearest to the question's words in the sentence."""
        if not best.spans:
            return None
        anchors = [i for t in set(q_tokens) if len(t) > 1 for i in _find_all(best.text, t)]
        if not anchors:
            return best.spans[0]

        def distance(span: Span) -> float:
            # Answers tend to follow the words that introduce them ("总额约达49.25亿美元").
            return min((span.start - a) if span.start >= a else (a - span.end) * 1.5 for a in anchors)

        return min(best.spans, key=lambda span: (-span.confidence, distance(span)))

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


def _given_in_question(span: str, question: str) -> bool:
    """True when the span only repeats the question ("2023年" for "in 2023")."""
    digits = re.findall(r"\d+", span)
    if digits:
        return all(d in question for d in digits)
    return span in question
