"""Read retrieved passages for a question: score every sentence, the spans the span reader proposes in the
best sentences, and whether the passages answer the question at all — each with its learned model.

1. The sentence model (LightGBM) ranks every sentence of the retrieved passages.
2. The span reader (e5 with a trained start/end head, ``rag.reader.span_reader``) reads the question with
   each of the ``TOP_SENTENCES`` best and proposes its likeliest spans.
3. The span model (LightGBM) ranks those spans on the reader's scores and on the span's own features
   (``rag.reader.features``: its shape, where it stands against the question's words); the lead model
   says whether the best is right often enough to lead with; the question model whether to answer at all,
   unless a refusal guard (``rag.reader.guards``) already says no.

>>> reader = Reader(assistant.index)                                       # doctest: +SKIP
>>> reading = reader.read("谅山省2023年进出口总额是多少？", retrieval)       # doctest: +SKIP
>>> reading.spans[0].span.text, round(reading.spans[0].prob, 2), round(reading.answerable, 2)  # doctest: +SKIP
('49.25亿美元', 0.83, 0.97)
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from rag.reader.candidates import SpanCandidate
from rag.reader.features import (
    QuestionTerms,
    SentenceCandidate,
    SpanChoice,
    lead_features,
    question_features,
    question_terms,
    sentence_candidates,
    sentence_features,
    span_features,
)
from rag.reader.guards import fired_guard
from rag.reader.model import ReaderModel, default_model
from rag.reader.questions import QuestionInfo, analyze_question, with_newest_year
from rag.reader.reader_features import question_reader_row, span_reader_rows
from rag.reader.span_reader import SentenceSpans, SpanReader, default_span_reader

TOP_SENTENCES = 3  # the span reader reads this many of the best sentences
SPANS_PER_SENTENCE = 3  # and proposes this many spans in each


@dataclass
class Reading:
    question: QuestionInfo
    terms: QuestionTerms
    sentences: list[SentenceCandidate]  # best first, each with its share of the sentence model's softmax
    spans: list[SpanChoice]  # best first, each with its share of the span model's softmax
    answerable: float  # probability that the passages answer the question
    lead: float = 0.0  # probability that the best span is right (CMRC F1 >= 0.5)
    readings: list[SentenceSpans] | None = None  # the span reader's, for the best sentences in order
    guard: str | None = None  # the refusal guard the evidence met (rag.reader.guards): refuse, whatever ``answerable``


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


def quoting_shares(sentences: list[SentenceCandidate], readings: list[SentenceSpans] | None) -> list[SentenceCandidate]:
    """The sentences the span reader read (the first ``len(readings)`` of ``sentences``, best first), each a copy
    whose ``prob`` is its share of P(the sentence model picks it) × P(the span reader says it answers), best first:
    the two models' product of experts, with nothing fitted on top. The answer quotes in this order: on the dev sets'
    held-out fold it finds the gold as often as the sentence model's order does with about one sentence fewer
    (docs/benchmarks.md, "Quoting by both models"). Without readings: ``sentences`` as they are.

    >>> a, b = SentenceCandidate(0, 0, "A", 0, 1, prob=0.6), SentenceCandidate(1, 0, "B", 0, 1, prob=0.4)
    >>> [(s.text, round(s.prob, 2)) for s in quoting_shares([a, b], [SentenceSpans(-3.0), SentenceSpans(2.0)])]
    [('B', 0.93), ('A', 0.07)]
    """
    if not readings:
        return sentences
    read = sentences[: len(readings)]
    logs = np.array([np.log(max(s.prob, 1e-12)) - np.logaddexp(0.0, -r.answers) for s, r in zip(read, readings)])
    shares = softmax(logs)
    return [replace(read[i], prob=float(shares[i])) for i in np.argsort(-logs, kind="stable")]


def score_spans(spans: list[SpanChoice], scores) -> None:
    """Give each span its raw score and softmax share; sort them best first."""
    for c, score, share in zip(spans, scores, softmax(scores)):
        c.score, c.prob = float(score), float(share)
    spans.sort(key=lambda c: -c.score)


def read_spans(info: QuestionInfo, terms: QuestionTerms, top: list[SentenceCandidate],
               readings: list[SentenceSpans], retrieval) -> tuple[list[SpanChoice], np.ndarray]:
    """The spans the span reader proposed in ``top`` (the best sentences, in order) with their rows of
    ``SPAN_FEATURES`` followed by ``READER_SPAN_FEATURES``."""
    guesses, reader_rows = span_reader_rows(readings)
    spans = [SpanChoice(SpanCandidate(g.text, g.start, g.end, -1, -1, "reader"), top[g.sentence], row=i)
             for i, g in enumerate(guesses)]
    ranks = {s.sentence_id: r for r, s in enumerate(top)}
    return spans, np.hstack([span_features(info, terms, spans, ranks, retrieval), reader_rows])


def question_row(info: QuestionInfo, terms: QuestionTerms, sentences: list[SentenceCandidate],
                 spans: list[SpanChoice], readings: list[SentenceSpans], retrieval, index, lead: float,
                 X_span: np.ndarray) -> np.ndarray:
    """The question model's row: ``QUESTION_FEATURES`` followed by ``READER_QUESTION_FEATURES``."""
    base = question_features(info, terms, sentences, spans, retrieval, index, lead, X_span)
    return np.hstack([base, question_reader_row(readings)[None, :]])


class Reader:
    def __init__(self, index, model: ReaderModel | None = None, span_reader: SpanReader | None = None):
        self.index = index
        self.model = model or default_model()
        self.span_reader = span_reader or default_span_reader()

    def read(self, question: str, retrieval) -> Reading:
        index, model = self.index, self.model
        info = with_newest_year(analyze_question(question), [p.date for p in retrieval.passages])
        terms = question_terms(info, retrieval, index)
        sentences = sentence_candidates(retrieval, index)
        if not sentences:
            return Reading(info, terms, [], [], 0.0)
        score_sentences(sentences, model.sentence.predict(sentence_features(info, terms, sentences, retrieval, index)))
        top = sentences[:TOP_SENTENCES]
        readings = self.span_reader.read(question, [s.text for s in top], keep=SPANS_PER_SENTENCE)
        spans, X_span = read_spans(info, terms, top, readings, retrieval)
        score_spans(spans, model.span.predict(X_span))
        lead = float(model.lead.predict(lead_features(spans, X_span))[0]) if spans else 0.0
        row = question_row(info, terms, sentences, spans, readings, retrieval, index, lead, X_span)
        answerable = float(model.question.predict(row)[0])
        return Reading(info, terms, sentences, spans, answerable, lead, readings, fired_guard(model.guards, row[0]))
