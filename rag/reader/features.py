"""Features for the reader's three learned decisions: which sentence answers, which span, whether to answer.

Every feature is a number computed the same way at training time (``scripts/train_reader.py``) and at
question time; the models (``rag.reader.model``) see nothing else. ``SENTENCE_FEATURES``,
``SPAN_FEATURES`` and ``QUESTION_FEATURES`` name the columns, in order.

- A **sentence** is described by how close it is to the question (e5 similarity, idf-weighted overlap
  with the question's words or their translations, alone and with the sentence before it), where it
  comes from (passage rank and scores, section, position) and whether it holds what the question asks
  for (a date, a number, the question's year).
- A **span** by its sentence, its shape (length, kind, parts of speech at its edges), how much of
  the question it repeats (answers rarely do), and where it sits relative to the question's words: a
  Chinese answer tends to stand where the question word stands, between the same words.
- A **question** (answer or refuse) by the best sentence's and span's scores, how much of the
  question the evidence covers (its rarest words, its names, its years), and retrieval's scores.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

import numpy as np

from rag.quantities import find_quantities, is_money
from rag.injection import looks_like_instructions
from rag.lexical import tokenize
from rag.lexical import Word, tag_words
from rag.reader.candidates import SpanCandidate
from rag.reader.questions import AUXILIARY_WORDS, ENGLISH_QUESTION_WORDS, KINDS, QuestionInfo
from rag.reader.reader_features import READER_QUESTION_FEATURES, READER_SPAN_FEATURES

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_YEAR = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d)(?!\d)")
_DIGIT = re.compile(r"\d")
_LATIN = re.compile(r"[A-Za-z]")
_QUOTE_MARKS = re.compile(r"[《》“”「」『』]")
_ORDINAL = re.compile(r"^第\s*[\d零〇一二两三四五六七八九十百千]+")
_PERCENT = re.compile(r"[%％]|百分之")
_FUNCTION_CHARS = set("的了是在和与及或而并也都将被把从对向由于为以等着过之这那其该个一有")
NEAR = 12  # characters around a span where the question's words count as its context
FAR = 50  # distance cap

# Part-of-speech groups for a span's edge words (jieba's ICTCLAS tags)
TAG_GROUPS = ("nr", "ns", "nt", "nz", "n", "v", "a", "m", "q", "t", "eng", "other")


def _tag_group(tag: str) -> str:
    if tag in ("nr", "nrt", "nrfg"):
        return "nr"
    for group in ("ns", "nt", "nz", "eng"):
        if tag == group:
            return group
    for group in ("n", "v", "a", "m", "q", "t"):
        if tag.startswith(group):
            return group
    return "other"


def _onehot(prefix: str, values: tuple[str, ...]) -> list[str]:
    return [f"{prefix}_{v}" for v in values]


SENTENCE_FEATURES = [
    "dense", "dense_gap", "dense_rank", "lexical", "lexical_gap", "lexical_rank", "lexical_with_context",
    "terms_matched", "terms_share", "passage_rank", "passage_dense", "passage_lexical", "passage_fused",
    "related", "position", "length", "bigram_share", "common_run", "bm25", "bm25_rank", "neighbour_lexical",
    "previous_dense", "next_dense", "previous_lexical", "refers_back",
    "has_date", "has_number", "has_quote", "q_has_year", "year_in_sentence",
    "other_year_in_sentence", "before_wh_share", "after_wh_share", "head_in_sentence", "question_length",
    "translated", "english", *_onehot("kind", KINDS),
]

SPAN_FEATURES = [
    "sentence_prob", "sentence_rank", "sentence_dense", "sentence_lexical", "chars", "words",
    "source_words", "source_date", "source_number", "source_quoted", "source_clause", "whole_sentence",
    "share_of_sentence", "question_chars_share", "in_question", "question_terms_inside", "is_date", "has_digit",
    "is_number", "is_percent", "is_money", "is_ordinal", "has_quote_marks", "latin_share", "cjk_share",
    *_onehot("first", TAG_GROUPS), *_onehot("last", TAG_GROUPS), "noun_share", "verb_share",
    "left_distance", "right_distance", "left_mass", "right_mass", "before_wh_distance", "after_wh_distance",
    "before_wh_adjacent", "after_wh_adjacent", "question_before_share", "question_after_share", "crossing_share",
    "outside_share", "left_chars", "right_chars", "left_bigrams", "right_bigrams", "gap_f1", "in_gap",
    "gap_distance", "gap_length", "left_anchor", "right_anchor", "head_last_char", "head_inside", "head_after",
    "prev_is_verb", "prev_is_shi", "prev_is_prep", "prev_is_break", "next_is_de", "next_is_break",
    "next_is_verb", "repeats", "translated", "english", *_onehot("kind", KINDS),
]

# the span model sees a span's own features and the span reader's scores for it (rag.reader.reader_features)
SPAN_MODEL_FEATURES = [*SPAN_FEATURES, *READER_SPAN_FEATURES]

LEAD_FEATURES = ["share", "cluster_share", "second_share", "score", "score_gap", "alternatives",
                 *[f"top_{name}" for name in SPAN_MODEL_FEATURES]]

QUESTION_FEATURES = [
    "term_coverage", "translated", "english", "top_dense", "top_lexical", "top_fused", "best_sentence",
    "second_sentence", "best_sentence_dense", "best_sentence_lexical", "best_span", "second_span",
    "span_gap", "q_has_year", "year_in_evidence", "year_in_passages", "missing_idf_max", "missing_idf_share",
    "names_share", "names_in_quoted", "rarest_found", "attribute_known", "attribute_in_quoted",
    "attribute_in_evidence", "attribute_in_passages", "missing_in_passages_share",
    "quoted_terms_share", "lead_prob", "en_words_in_passages", "en_words_in_best", "span_question_before",
    "span_question_after", "span_crossing", "span_outside", "span_before_wh_distance", "span_after_wh_distance",
    *_onehot("kind", KINDS),
]
QUESTION_MODEL_FEATURES = [*QUESTION_FEATURES, *READER_QUESTION_FEATURES]


@dataclass
class SentenceCandidate:
    sentence_id: int
    passage_rank: int
    text: str
    start: int  # offsets of the sentence in its document
    end: int
    dense: float = 0.0
    lexical: float = 0.0
    prob: float = 0.0


@dataclass
class SpanChoice:
    span: SpanCandidate
    sentence: SentenceCandidate
    prob: float = 0.0  # its share of the span model's softmax over the question's spans
    score: float = 0.0  # the span model's raw score
    row: int = -1  # its row in the span feature matrix


@dataclass
class QuestionTerms:
    """The question's index terms with their weights and idf, as the answerer weighs them."""

    weights: dict[str, float]
    idf: dict[str, float]
    names: list[str] = field(default_factory=list)  # people, places, organisations the question names

    @property
    def mass(self) -> float:
        return sum(w * self.idf[t] for t, w in self.weights.items())

    def share(self, tokens: set[str]) -> float:
        mass = self.mass
        return sum(w * self.idf[t] for t, w in self.weights.items() if t in tokens) / mass if mass else 0.0


def question_terms(question: QuestionInfo, retrieval, index) -> QuestionTerms:
    weights = dict(retrieval.query_terms)
    if not retrieval.translated:
        # Words of the question the articles never use still count against every sentence.
        weights.update({t: 1.0 for t in retrieval.query_tokens if t not in weights})
    weights = {t: w for t, w in weights.items() if not t.isdigit()}
    idf = {t: index.idf(t) for t in weights}
    if question.language == "en" and index.lexicon:
        # Chinese terms for the English words on each side of the question word, for the alignment features
        from rag.bilingual import translate_terms

        before, after = question.english_sides
        question.words_before = _strongest(translate_terms(before, index.lexicon, index.vocabulary).weights)
        question.words_after = _strongest(translate_terms(after, index.lexicon, index.vocabulary).weights)
        question.before_wh, question.after_wh = question.words_before[-3:], question.words_after[:3]
        if question.head:
            head_terms = _strongest(translate_terms(question.head, index.lexicon, index.vocabulary).weights)
            question.head = head_terms[0] if head_terms else ""
    names = []
    if question.language == "zh":
        names = [w.text.lower() for w in tag_words(question.text)
                 if _tag_group(w.tag) in ("nr", "ns", "nt", "nz", "eng") and len(w.text) > 1]
    return QuestionTerms(weights, idf, names)


def _strongest(weights: dict[str, float], limit: int = 6) -> list[str]:
    return [t for t, _ in sorted(weights.items(), key=lambda kv: -kv[1])[:limit] if not t.isdigit()]


@functools.lru_cache(maxsize=8192)
def _token_list(text: str) -> tuple[str, ...]:
    return tuple(tokenize(text))


def _tokens(text: str) -> frozenset[str]:
    return frozenset(_token_list(text))


# ---- sentences ------------------------------------------------------------------------------------
def sentence_candidates(retrieval, index) -> list[SentenceCandidate]:
    """The sentences of the retrieved passages, each once, in passage order. A passage holding instructions
    planted for a language model is left out whole: neither they nor the harmless-looking lines around them
    (a title, "以下内容供读者参考") are evidence."""
    seen: set[str] = set()
    out = []
    for rank, passage in enumerate(retrieval.passages):
        if looks_like_instructions(passage.text):
            continue
        for sid in index.chunks[passage.chunk_id]["sentence_ids"]:
            text = index.sentence_text(sid)
            if text in seen or len(text.strip()) < 2:
                continue
            seen.add(text)
            record = index.sentences[sid]
            out.append(SentenceCandidate(sid, rank, text, record["start"], record["end"]))
    return out


def sentence_features(question: QuestionInfo, terms: QuestionTerms, candidates: list[SentenceCandidate],
                      retrieval, index) -> np.ndarray:
    """One row of ``SENTENCE_FEATURES`` per candidate (and each candidate's dense/lexical filled in)."""
    if not candidates:
        return np.zeros((0, len(SENTENCE_FEATURES)), dtype=np.float32)
    ids = [c.sentence_id for c in candidates]
    dense = np.asarray(index.sentence_vectors[ids] @ retrieval.query_vector, dtype=np.float32)
    own = [_tokens(c.text) for c in candidates]
    previous = [_tokens(_previous_sentence(index, c.sentence_id)) for c in candidates]
    lexical = np.array([terms.share(t) for t in own], dtype=np.float32)
    with_context = np.array([terms.share(t | p) for t, p in zip(own, previous)], dtype=np.float32)
    matched = np.array([sum(t in tokens for t in terms.weights) for tokens in own], dtype=np.float32)
    passages = retrieval.passages
    top_lexical = max((p.lexical_score for p in passages), default=0.0) or 1.0
    years = {str(y) for y in question.years}
    kind = [float(question.kind == k) for k in KINDS]
    dense_rank = _ranks(dense)
    lexical_rank = _ranks(lexical)
    bigrams = _question_bigrams(question, terms)
    bm25 = _bm25([_token_list(c.text) for c in candidates], terms)
    mass = terms.mass or 1.0  # scores relative to the question's own weight: a small collection's idf is small
    bm25_rank = _ranks(bm25)
    neighbours = [terms.share(_tokens(_previous_sentence(index, c.sentence_id)) | _tokens(_next_sentence(index, c.sentence_id)))
                  for c in candidates]
    previous_lexical = [terms.share(p) for p in previous]
    previous_dense, next_dense = _neighbour_dense(index, ids, retrieval.query_vector)
    rows = []
    for i, c in enumerate(candidates):
        p = passages[c.passage_rank]
        text = c.text
        sentence_years = set(_YEAR.findall(text))
        tokens = own[i]
        rows.append([
            dense[i], dense.max() - dense[i], dense_rank[i], lexical[i], lexical.max() - lexical[i], lexical_rank[i],
            with_context[i], matched[i], matched[i] / max(1, len(terms.weights)), c.passage_rank, p.dense_score,
            p.lexical_score / top_lexical, p.score, float(p.section == "related"),
            _position(index, c.sentence_id), len(text),
            sum(b in text for b in bigrams) / len(bigrams) if bigrams else -1.0,
            _common_run(question.text, text) / max(1, len(question.text)), bm25[i] / mass, bm25_rank[i], neighbours[i],
            previous_dense[i], next_dense[i], previous_lexical[i], float(bool(_REFERS_BACK.match(text))),
            float(bool(find_quantities(text, "date"))),
            float(bool(_DIGIT.search(text))), float(bool(_QUOTE_MARKS.search(text))), float(bool(years)),
            float(bool(years & sentence_years)), float(bool(sentence_years - years)),
            _share(question.before_wh, tokens, text), _share(question.after_wh, tokens, text),
            float(bool(question.head) and question.head in text), len(terms.weights),
            float(retrieval.translated), float(question.language == "en"), *kind,
        ])
        c.dense, c.lexical = float(dense[i]), float(lexical[i])
    return np.asarray(rows, dtype=np.float32)


def _neighbour_dense(index, ids: list[int], query_vector) -> tuple[np.ndarray, np.ndarray]:
    """e5 similarity of the sentence before and after each one in its document (0 at a document's edge):
    a sentence often leaves its subject to the one before it (该项目预计于…)."""
    n = len(index.sentences)
    same = lambda a, b: 0 <= b < n and index.sentences[a]["doc_id"] == index.sentences[b]["doc_id"]  # noqa: E731
    previous = [j - 1 if same(j, j - 1) else -1 for j in ids]
    following = [j + 1 if same(j, j + 1) else -1 for j in ids]
    wanted = sorted({j for j in previous + following if j >= 0})
    scores = dict(zip(wanted, (index.sentence_vectors[wanted] @ query_vector).tolist())) if wanted else {}
    return (np.array([scores.get(j, 0.0) for j in previous], dtype=np.float32),
            np.array([scores.get(j, 0.0) for j in following], dtype=np.float32))


def _question_bigrams(question: QuestionInfo, terms: QuestionTerms) -> set[str]:
    """Chinese character pairs of the question (its translated terms for an English one), question words left out."""
    source = question.text.replace(question.wh, " ") if question.language == "zh" else " ".join(terms.weights)
    runs = _CJK_RUN.findall(source)
    return {run[i: i + 2] for run in runs for i in range(len(run) - 1)}


def _common_run(a: str, b: str) -> int:
    from difflib import SequenceMatcher

    match = SequenceMatcher(None, a, b, autojunk=False).find_longest_match(0, len(a), 0, len(b))
    return match.size


def _bm25(docs: list[list[str]], terms: QuestionTerms, k1: float = 1.2, b: float = 0.75) -> np.ndarray:
    """BM25 of each sentence against the question's weighted terms (idf from the whole index).

    Written out rather than taken from the index's BM25 (``rag.index.lexical``): scoring a dozen sentences at question
    time needs the collection's idf, not one computed over those sentences, and query terms weighted by
    their translation share, neither of which a BM25 over chunks takes."""
    average = max(1.0, sum(map(len, docs)) / max(1, len(docs)))
    out = np.zeros(len(docs), dtype=np.float32)
    for i, doc in enumerate(docs):
        counts: dict[str, int] = {}
        for t in doc:
            counts[t] = counts.get(t, 0) + 1
        norm = k1 * (1 - b + b * len(doc) / average)
        out[i] = sum(w * terms.idf[t] * counts[t] * (k1 + 1) / (counts[t] + norm)
                     for t, w in terms.weights.items() if t in counts)
    return out


def _share(words: list[str], tokens: frozenset, text: str) -> float:
    return sum(w in tokens or w in text for w in words) / len(words) if words else -1.0


def _ranks(values: np.ndarray) -> np.ndarray:
    order = np.argsort(-values, kind="stable")
    ranks = np.empty(len(values), dtype=np.float32)
    ranks[order] = np.arange(len(values), dtype=np.float32)
    return ranks


def _previous_sentence(index, sentence_id: int) -> str:
    if sentence_id == 0 or index.sentences[sentence_id - 1]["doc_id"] != index.sentences[sentence_id]["doc_id"]:
        return ""
    return index.sentence_text(sentence_id - 1)


def _next_sentence(index, sentence_id: int) -> str:
    if sentence_id + 1 >= len(index.sentences) or \
            index.sentences[sentence_id + 1]["doc_id"] != index.sentences[sentence_id]["doc_id"]:
        return ""
    return index.sentence_text(sentence_id + 1)


def _position(index, sentence_id: int) -> float:
    doc = index.sentences[sentence_id]["doc_id"]
    position = 0
    j = sentence_id - 1
    while j >= 0 and index.sentences[j]["doc_id"] == doc and position < FAR:
        position += 1
        j -= 1
    return float(position)


# ---- spans ----------------------------------------------------------------------------------------
def span_features(question: QuestionInfo, terms: QuestionTerms, choices: list[SpanChoice],
                  sentence_rank: dict[int, int], retrieval) -> np.ndarray:
    """One row of ``SPAN_FEATURES`` per span choice."""
    if not choices:
        return np.zeros((0, len(SPAN_FEATURES)), dtype=np.float32)
    question_chars = set(question.text.lower())
    kind = [float(question.kind == k) for k in KINDS]
    repeats: dict[str, int] = {}
    for c in choices:
        repeats[c.span.text] = repeats.get(c.span.text, 0) + 1
    layouts = {}
    rows = []
    for c in choices:
        s, span = c.sentence, c.span
        if s.sentence_id not in layouts:
            layouts[s.sentence_id] = _Layout(s.text, terms, question)
        layout = layouts[s.sentence_id]
        words = tag_words(s.text)
        inside = [w for w in words if w.start >= span.start and w.end <= span.end and not w.text.isspace()]
        groups = [_tag_group(w.tag) for w in inside] or ["other"]
        text = span.text
        n_chars = max(1, len(text))
        cjk = len(_CJK.findall(text))
        before = _word_before(words, span.start)
        after = _word_after(words, span.end)
        rows.append([
            s.prob, sentence_rank.get(s.sentence_id, 99), s.dense, s.lexical, len(text), len(inside),
            float(span.source == "words"), float(span.source == "date"), float(span.source == "number"),
            float(span.source == "quoted"), float(span.source == "clause"),
            float(len(text) >= 0.9 * len(s.text.rstrip("。.!！?？;；"))), len(text) / max(1, len(s.text)),
            sum(ch in question_chars for ch in text if not ch.isspace()) / n_chars,
            float(text in question.text), layout.terms_inside(span.start, span.end),
            float(_is_whole(text, "date")), float(bool(_DIGIT.search(text))), float(_is_whole(text, "number")),
            float(bool(_PERCENT.search(text))), float(is_money(text)), float(bool(_ORDINAL.match(text))),
            float(bool(_QUOTE_MARKS.search(text))), len(_LATIN.findall(text)) / n_chars, cjk / n_chars,
            *[float(groups[0] == g) for g in TAG_GROUPS], *[float(groups[-1] == g) for g in TAG_GROUPS],
            sum(g in ("n", "nr", "ns", "nt", "nz") for g in groups) / len(groups),
            sum(g == "v" for g in groups) / len(groups),
            layout.left_distance(span.start), layout.right_distance(span.end),
            layout.mass(span.start - NEAR, span.start), layout.mass(span.end, span.end + NEAR),
            layout.wh_distance(span.start, before=True), layout.wh_distance(span.end, before=False),
            float(layout.wh_distance(span.start, before=True) <= 4), float(layout.wh_distance(span.end, before=False) <= 4),
            *layout.alignment(span.start, span.end), *layout.char_windows(span.start, span.end),
            *layout.gap(span.start, span.end),
            float(bool(question.head) and text[-1:] == question.head[-1:]),
            float(bool(question.head) and question.head in text),
            float(bool(question.head) and s.text[span.end: span.end + len(question.head) + 1].strip().startswith(
                question.head)),
            float(before is not None and before.tag.startswith("v")), float(before is not None and before.text == "是"),
            float(before is not None and before.tag.startswith("p")),
            float(before is None or bool(re.match(r"^[\W_]+$", before.text))),
            float(after is not None and after.text == "的"),
            float(after is None or bool(re.match(r"^[\W_]+$", after.text))),
            float(after is not None and after.tag.startswith("v")), repeats[text],
            float(retrieval.translated), float(question.language == "en"), *kind,
        ])
    return np.asarray(rows, dtype=np.float32)


def _is_whole(text: str, kind: str) -> bool:
    return any(s.start == 0 and s.end == len(text) for s in find_quantities(text, kind))


def _word_before(words: tuple[Word, ...], start: int) -> Word | None:
    prior = [w for w in words if w.end <= start and not w.text.isspace()]
    return prior[-1] if prior else None


def _word_after(words: tuple[Word, ...], end: int) -> Word | None:
    return next((w for w in words if w.start >= end and not w.text.isspace()), None)


def cloze_gap(question: QuestionInfo, sentence: str) -> tuple[int, int, int, int] | None:
    """The stretch of ``sentence`` that stands where the question word stands in the question.

    The question and the sentence are aligned character by character (runs of two or more in common); the
    run closest before the question word and the one closest after it anchor a gap in the sentence:
    黑豹队的防守丢了【多少】分 against 黑豹队的防守只丢了【 308 】分. Returns (start, end, left anchor's length,
    right anchor's length), or None for an English question or when nothing anchors a gap.

    >>> from rag.reader.questions import analyze_question
    >>> text = "黑豹队的防守只丢了 308 分，在联盟中排名第六。"
    >>> start, end, _, _ = cloze_gap(analyze_question("黑豹队的防守丢了多少分？"), text)
    >>> text[start:end]
    ' 308 '
    """
    if question.language != "zh" or not question.wh:
        return None
    from difflib import SequenceMatcher

    q = question.text.lower()
    at = q.find(question.wh)
    if at < 0:
        return None
    wh_end = at + len(question.wh)
    # runs of two or more characters, or of one right next to the question word (多少【分】)
    blocks = [b for b in SequenceMatcher(None, q, sentence, autojunk=False).get_matching_blocks()
              if b.size >= 2 or (b.size == 1 and (b.a == wh_end or b.a + 1 == at))]
    left = max((b for b in blocks if b.a + b.size <= at), key=lambda b: b.a + b.size, default=None)
    right = min((b for b in blocks if b.a >= wh_end), key=lambda b: b.a, default=None)
    if left is None and right is None:
        return None
    lo = left.b + left.size if left is not None else max(0, right.b - 15)
    hi = right.b if right is not None else min(len(sentence), lo + 15)
    if hi <= lo:
        return None
    return lo, hi, left.size if left is not None else 0, right.size if right is not None else 0


class _Layout:
    """Where the question's words stand in one sentence (character offsets), for the span features."""

    def __init__(self, text: str, terms: QuestionTerms, question: QuestionInfo):
        lowered = text.lower()
        # the question's own characters and character pairs (its translated terms' for an English question)
        source = question.text.replace(question.wh, " ") if question.language == "zh" else " ".join(terms.weights)
        chars = {ch for ch in _CJK.findall(source) if ch not in _FUNCTION_CHARS}
        pairs = {run[i: i + 2] for run in _CJK_RUN.findall(source) for i in range(len(run) - 1)}
        char_hit = np.array([ch in chars for ch in lowered], dtype=np.int32)
        pair_hit = np.array([lowered[i: i + 2] in pairs for i in range(len(lowered))], dtype=np.int32)
        self._char_sums = np.concatenate([[0], np.cumsum(char_hit)])
        self._pair_sums = np.concatenate([[0], np.cumsum(pair_hit)])
        self._n_chars, self._n_pairs = max(1, len(chars)), max(1, len(pairs))
        self._gap = cloze_gap(question, lowered)

        self.hits: list[tuple[int, int, float]] = []  # (start, end, idf weight) of each question term found
        for t, w in terms.weights.items():
            for m in re.finditer(re.escape(t), lowered):
                self.hits.append((m.start(), m.end(), w * terms.idf[t]))
        self.total = terms.mass or 1.0
        self.before = [m.end() for t in question.before_wh for m in re.finditer(re.escape(t), lowered)]
        self.after = [m.start() for t in question.after_wh for m in re.finditer(re.escape(t), lowered)]
        # every content word of the question, on its side of the question word: where each stands here
        self.sides = [(side, [(m.start(), m.end()) for m in re.finditer(re.escape(t), lowered)])
                      for side, words in (("before", question.words_before), ("after", question.words_after))
                      for t in words]

    def gap(self, start: int, end: int) -> tuple[float, float, float, float, float, float]:
        """Where the question word would stand in this sentence (``cloze_gap``), against the span."""
        if self._gap is None:
            return -1.0, -1.0, FAR, -1.0, -1.0, -1.0
        lo, hi, left, right = self._gap
        common = max(0, min(end, hi) - max(start, lo))
        f1 = 2 * common / ((end - start) + (hi - lo)) if common else 0.0
        distance = 0 if common else (lo - end if end <= lo else start - hi)
        return f1, float(start >= lo and end <= hi), float(min(FAR, distance)), float(hi - lo), float(left), float(right)

    def alignment(self, start: int, end: int) -> tuple[float, float, float, float]:
        """How well the span takes the question word's place: the share of the question's words before it
        found before the span, of those after it found after, of either found on the wrong side, and of
        all of them found outside the span. (-1 when the question has no such words or no question word.)"""
        before = [spots for side, spots in self.sides if side == "before"]
        after = [spots for side, spots in self.sides if side == "after"]
        if not self.sides:
            return -1.0, -1.0, -1.0, -1.0
        share = lambda items, ok: sum(any(ok(s, e) for s, e in spots) for spots in items) / len(items) if items else -1.0  # noqa: E731
        found_before = share(before, lambda s, e: e <= start)
        found_after = share(after, lambda s, e: s >= end)
        wrong = (sum(any(s >= end for s, e in spots) and not any(e <= start for s, e in spots) for spots in before)
                 + sum(any(e <= start for s, e in spots) and not any(s >= end for s, e in spots) for spots in after))
        outside = sum(any(e <= start or s >= end for s, e in spots) for _, spots in self.sides)
        return found_before, found_after, wrong / len(self.sides), outside / len(self.sides)

    def char_windows(self, start: int, end: int, width: int = 10) -> tuple[float, float, float, float]:
        """Shares of the question's characters and character pairs in the ``width`` characters on each side."""
        n = len(self._char_sums) - 1
        lo, hi = max(0, start - width), min(n, end + width)
        return ((self._char_sums[start] - self._char_sums[lo]) / self._n_chars,
                (self._char_sums[hi] - self._char_sums[end]) / self._n_chars,
                (self._pair_sums[max(lo, start - 1)] - self._pair_sums[lo]) / self._n_pairs,
                (self._pair_sums[max(end, hi - 1)] - self._pair_sums[end]) / self._n_pairs)

    def left_distance(self, start: int) -> float:
        return float(min([start - e for s, e, _ in self.hits if e <= start] or [FAR]))

    def right_distance(self, end: int) -> float:
        return float(min([s - end for s, e, _ in self.hits if s >= end] or [FAR]))

    def mass(self, lo: int, hi: int) -> float:
        return sum(w for s, e, w in self.hits if s >= lo and e <= hi) / self.total

    def terms_inside(self, start: int, end: int) -> float:
        return sum(w for s, e, w in self.hits if s >= start and e <= end) / self.total

    def wh_distance(self, offset: int, *, before: bool) -> float:
        if before:
            return float(min([offset - e for e in self.before if e <= offset] or [FAR]))
        return float(min([s - offset for s in self.after if s >= offset] or [FAR]))


# ---- the lead: is the best span right? --------------------------------------------------------------
def lead_features(spans: list[SpanChoice], X_span: np.ndarray) -> np.ndarray:
    """One row of ``LEAD_FEATURES`` for the best span (``spans`` sorted best first, with shares and scores)."""
    from rag.metrics import f1

    if not spans:
        return np.zeros((1, len(LEAD_FEATURES)), dtype=np.float32)
    best = spans[0]
    similar = [c for c in spans if c.sentence is best.sentence and f1(c.span.text, [best.span.text]) >= 0.5]
    second = spans[1] if len(spans) > 1 else None
    rival = next((c for c in spans[1:] if c not in similar), None)
    row = [best.prob, sum(c.prob for c in similar), second.prob if second else 0.0, best.score,
           best.score - (rival.score if rival else best.score - 10.0), len(spans), *X_span[best.row]]
    return np.asarray([row], dtype=np.float32)


# ---- the question: answer or refuse -------------------------------------------------------------
def question_features(question: QuestionInfo, terms: QuestionTerms, sentences: list[SentenceCandidate],
                      spans: list[SpanChoice], retrieval, index, lead_prob: float = 0.0,
                      X_span: np.ndarray | None = None) -> np.ndarray:
    """One row of ``QUESTION_FEATURES``: ``sentences`` and ``spans`` sorted best first, with probabilities;
    ``lead_prob`` is the lead model's probability that the best span is right."""
    passages = retrieval.passages
    best = sentences[0] if sentences else None
    # the evidence: the passages of the sentences an answer would quote (the best two: their order is often
    # a near tie), and those sentences themselves
    quoted = sentences[:EVIDENCE_SENTENCES]
    evidence_text = " ".join(f"{passages[r].title} {passages[r].date or ''} {passages[r].text}"
                             for r in dict.fromkeys(s.passage_rank for s in quoted))
    evidence_tokens = _tokens(evidence_text) if evidence_text else frozenset()
    quoted_text = " ".join(s.text for s in quoted).lower()
    all_text = " ".join(f"{p.title} {p.date or ''} {p.text}" for p in passages)
    all_lower = all_text.lower()
    own_terms = {t: w for t, w in terms.weights.items() if _CJK.search(t) or not retrieval.translated}
    missing = [terms.idf[t] for t in own_terms if t not in evidence_tokens and t not in evidence_text]
    own_mass = sum(terms.idf[t] for t in own_terms) or 1.0
    rarest = max(own_terms, key=lambda t: terms.idf[t], default=None)
    years = {str(y) for y in question.years}
    names = terms.names
    top = passages[0] if passages else None
    span_probs = [c.prob for c in spans[:2]] + [0.0, 0.0]
    row = [
        retrieval.term_coverage, float(retrieval.translated), float(question.language == "en"),
        top.dense_score if top else 0.0, (top.lexical_score / (terms.mass or 1.0)) if top else 0.0,
        top.score if top else 0.0,
        best.prob if best else 0.0, sentences[1].prob if len(sentences) > 1 else 0.0,
        best.dense if best else 0.0, best.lexical if best else 0.0, span_probs[0], span_probs[1],
        span_probs[0] - span_probs[1], float(bool(years)),
        float(bool(years) and any(y in evidence_text for y in years)),
        float(bool(years) and any(y in all_text for y in years)),
        max(missing, default=0.0) / _max_idf(index), sum(missing) / own_mass,
        sum(n in evidence_text.lower() for n in names) / len(names) if names else -1.0,
        sum(n in quoted_text for n in names) / len(names) if names and best else -1.0,
        float(rarest is not None and (rarest in evidence_tokens or rarest in evidence_text)),
        *_attribute_found(question, index, quoted_text, evidence_text.lower()),
        _attribute_found(question, index, "", all_lower)[2],
        sum(terms.idf[t] for t in own_terms if t not in all_text) / own_mass,
        terms.share(_tokens(quoted_text)) if best else 0.0, lead_prob,
        *_english_words_found(question, index, best.text.lower() if best else "", all_lower),
        *_alignment_of(spans, X_span), *[float(question.kind == k) for k in KINDS],
    ]
    return np.asarray([row], dtype=np.float32)


# a sentence that continues the one before it: "该项目预计于…", "此外…", "他表示…"
_REFERS_BACK = re.compile(r"^\W*(该|此|这|其|它|他|她|上述|对此|为此|同时|此外|另外)")
EVIDENCE_SENTENCES = 2  # the answerer quotes at most this many
ABSENT = "\x00"  # a token no tokenizer makes: no chunk has it


def _max_idf(index) -> float:
    """The idf of a word the collection lacks: what idfs are measured against, so that features read the same
    in a collection of two articles and of two thousand."""
    return index.idf(ABSENT) or 1.0


def _attribute_found(question: QuestionInfo, index, sentence: str, evidence: str) -> tuple[float, float, float]:
    """Is the thing asked about (``QuestionInfo.asked``) a word the collection knows (an English one through
    its translations), is it in the best sentence, in its passage? (-1: the question names no such thing)"""
    asked = question.asked
    if not asked:
        return -1.0, -1.0, -1.0
    forms = [asked]
    if question.language == "en":
        from rag.bilingual import translate_terms

        forms = list(translate_terms(asked, index.lexicon, index.vocabulary).weights) if index.lexicon else []
        forms = [f for f in forms if f != asked] or forms
    if not forms:
        return 0.0, 0.0, 0.0
    known = any(f in index.vocabulary for f in forms)
    return float(known), float(any(f in sentence for f in forms)), float(any(f in evidence for f in forms))


def _english_words_found(question: QuestionInfo, index, sentence: str, passages: str) -> tuple[float, float]:
    """For an English question, the share of its content words and phrases ("lang son") with a translation (or the
    word itself) in the retrieved passages, and in the best sentence: "population" in "What is the population of
    Hanoi?" has none in articles about border trade. (-1: not an English question, or no content words)"""
    if question.language != "en":
        return -1.0, -1.0
    from rag.bilingual import translated_phrases

    phrases = [(p, forms) for p, forms in translated_phrases(question.text, index.lexicon or {}, index.vocabulary)
               if p not in ENGLISH_QUESTION_WORDS and p not in AUXILIARY_WORDS]
    if not phrases:
        return -1.0, -1.0
    in_passages = sum(any(f in passages for f in [p, *forms]) for p, forms in phrases)
    in_sentence = sum(any(f in sentence for f in [p, *forms]) for p, forms in phrases)
    return in_passages / len(phrases), in_sentence / len(phrases)


_ALIGNMENT = [SPAN_FEATURES.index(n) for n in ("question_before_share", "question_after_share", "crossing_share",
                                                "outside_share", "before_wh_distance", "after_wh_distance")]


def _alignment_of(spans: list[SpanChoice], X_span: np.ndarray | None) -> list[float]:
    if not spans or X_span is None:
        return [-1.0, -1.0, -1.0, -1.0, FAR, FAR]
    return [float(X_span[spans[0].row, j]) for j in _ALIGNMENT]


__all__ = ["SENTENCE_FEATURES", "SPAN_FEATURES", "SPAN_MODEL_FEATURES", "LEAD_FEATURES", "QUESTION_FEATURES",
           "QUESTION_MODEL_FEATURES", "SentenceCandidate",
           "SpanChoice", "QuestionTerms", "question_terms", "sentence_candidates", "sentence_features",
           "span_features", "lead_features", "question_features"]
