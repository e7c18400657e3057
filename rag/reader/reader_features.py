"""Features from the span reader's scores (``rag.reader.span_reader``), beside those of ``rag.reader.features``.

The span reader proposes each of the best sentences' likeliest spans; these columns say how sure it is:
a span's log-probability within its sentence, its sentence's "answers here" log-odds, the two combined
(the reader's own confidence), how the span ranks in its sentence and overall, and its share of a softmax
over every proposed span's combined score. The question's columns summarise the readings for the
answer-or-refuse model.

>>> from rag.reader.span_reader import SentenceSpans, SpanGuess
>>> readings = [SentenceSpans(2.0, [SpanGuess(0, 0, 2, "两个", -0.5), SpanGuess(0, 0, 4, "两个口岸", -2.0)]),
...             SentenceSpans(-3.0, [SpanGuess(1, 3, 5, "三个", -0.2)])]
>>> guesses, rows = span_reader_rows(readings)
>>> [g.text for g in guesses], [round(float(x), 2) for x in rows[0][:3]]
(['两个', '两个口岸', '三个'], [-0.5, 2.0, -0.63])
>>> [round(float(x), 2) for x in question_reader_row(readings)[:3]]
[-0.63, -3.25, 2.0]
"""

from __future__ import annotations

import numpy as np

from rag.reader.span_reader import SentenceSpans, SpanGuess

READER_SPAN_FEATURES = ["reader_span", "reader_answers", "reader_confidence", "reader_rank_in_sentence",
                        "reader_rank", "reader_share", "reader_sentence_rank", "reader_confidence_gap"]
READER_QUESTION_FEATURES = ["reader_best_confidence", "reader_second_confidence", "reader_best_answers",
                            "reader_max_answers", "reader_mean_answers", "reader_sentences_answering"]
FLOOR = -30.0  # a confidence (log-probability) below this counts as this


def _log_sigmoid(x: float) -> float:
    return float(-np.logaddexp(0.0, -x))


def span_reader_rows(readings: list[SentenceSpans]) -> tuple[list[SpanGuess], np.ndarray]:
    """Every proposed span (sentence by sentence, best first in each) and its row of ``READER_SPAN_FEATURES``."""
    guesses = [(g, rank, r) for r in readings for rank, g in enumerate(r.best)]
    if not guesses:
        return [], np.zeros((0, len(READER_SPAN_FEATURES)), dtype=np.float32)
    confidence = np.array([max(FLOOR, _log_sigmoid(r.answers) + g.score) for g, _, r in guesses], dtype=np.float64)
    shares = np.exp(confidence - confidence.max())
    shares /= shares.sum()
    overall = np.empty(len(confidence))
    overall[np.argsort(-confidence, kind="stable")] = np.arange(len(confidence))
    sentence_rank = {id(r): k for k, r in enumerate(sorted(readings, key=lambda r: -r.margin))}
    rows = [[g.score, r.answers, confidence[i], rank, overall[i], shares[i], sentence_rank[id(r)],
             confidence.max() - confidence[i]] for i, (g, rank, r) in enumerate(guesses)]
    return [g for g, _, _ in guesses], np.asarray(rows, dtype=np.float32)


def question_reader_row(readings: list[SentenceSpans]) -> np.ndarray:
    """``READER_QUESTION_FEATURES`` for one question's readings (none: the "nothing read" values)."""
    read = [r for r in readings if r.best]
    if not read:
        return np.array([FLOOR, FLOOR, -10.0, -10.0, -10.0, 0.0], dtype=np.float32)
    ordered = sorted(read, key=lambda r: -r.margin)
    second = max(FLOOR, ordered[1].margin) if len(ordered) > 1 else FLOOR
    answers = [r.answers for r in read]
    return np.array([max(FLOOR, ordered[0].margin), second, ordered[0].answers, max(answers),
                     float(np.mean(answers)), sum(a > 0 for a in answers)], dtype=np.float32)
