"""Read retrieved passages for a question: score every sentence, every short span in the best sentences,
and whether the passages answer the question at all — each with its learned model.

>>> reader = Reader(assistant.index)                                       # doctest: +SKIP
>>> reading = reader.read("谅山省2023年进出口总额是多少？", retrieval)       # doctest: +SKIP
>>> reading.spans[0].span.text, round(reading.spans[0].prob, 2), round(reading.answerable, 2)  # doctest: +SKIP
('49.25亿美元', 0.83, 0.97)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rag.reader.features import (
    QuestionTerms,
    SentenceCandidate,
    SpanChoice,
    lead_features,
    question_features,
    question_terms,
    sentence_candidates,
    sentence_features,
    span_choices,
    span_features,
)
from rag.reader.model import ReaderModel, default_model
from rag.reader.questions import QuestionInfo, analyze_question

TOP_SENTENCES = 3  # spans are looked for in this many of the best sentences


@dataclass
class Reading:
    question: QuestionInfo
    terms: QuestionTerms
    sentences: list[SentenceCandidate]  # best first, each with its share of the sentence model's softmax
    spans: list[SpanChoice]  # best first, each with its share of the span model's softmax
    answerable: float  # probability that the passages answer the question
    lead: float = 0.0  # probability that the best span is right (CMRC F1 >= 0.5)


def softmax(scores) -> np.ndarray:
    """A ranking model's scores for one question's candidates as shares that sum to 1: the best one's
    share says how clearly it beats the rest."""
    scores = np.asarray(scores, dtype=np.float64)
    if not len(scores):
        return scores
    e = np.exp(scores - scores.max())
    return e / e.sum()


def score_sentences(sentences: list[SentenceCandidate], scores) -> None:
    """Give each sentence its softmax share of the sentence model's scores; sort them best first."""
    for s, share in zip(sentences, softmax(scores)):
        s.prob = float(share)
    sentences.sort(key=lambda s: -s.prob)


def score_spans(spans: list[SpanChoice], scores) -> None:
    """Give each span its raw score and softmax share; sort them best first."""
    for c, score, share in zip(spans, scores, softmax(scores)):
        c.score, c.prob = float(score), float(share)
    spans.sort(key=lambda c: -c.score)


class Reader:
    def __init__(self, index, model: ReaderModel | None = None):
        self.index = index
        self.model = model or default_model()

    def read(self, question: str, retrieval) -> Reading:
        index, model = self.index, self.model
        info = analyze_question(question)
        terms = question_terms(info, retrieval, index)
        sentences = sentence_candidates(retrieval, index)
        if not sentences:
            return Reading(info, terms, [], [], 0.0)
        score_sentences(sentences, model.sentence.predict(sentence_features(info, terms, sentences, retrieval, index)))
        top = sentences[:TOP_SENTENCES]
        spans = span_choices(top)
        ranks = {s.sentence_id: r for r, s in enumerate(top)}
        X_span = span_features(info, terms, spans, ranks, retrieval)
        score_spans(spans, model.span.predict(X_span))
        lead = float(model.lead.predict(lead_features(spans, X_span))[0]) if spans else 0.0
        answerable = float(model.question.predict(question_features(info, terms, sentences, spans, retrieval,
                                                                    index, lead, X_span))[0])
        return Reading(info, terms, sentences, spans, answerable, lead)
