"""Candidate answers: the sentences of the retrieved passages, and the short spans inside them.

A span is any run of one to ``MAX_SPAN_WORDS`` words inside one clause (jieba's words, so a span
never cuts a word), plus dates, amounts and quoted titles found whole by pattern. The learned span
model (``rag.reader.features`` + ``rag.reader.model``) decides which of them answers; here we only
make sure the right one is among them without drowning it: spans never start or end with a
particle, a preposition or a conjunction.

>>> words = tag_words("广西壮族自治区党委书记刘宁会见了越南总理。")
>>> [(w.text, w.tag) for w in words][:3]
[('广西壮族自治区', 'ns'), ('党委书记', 'n'), ('刘宁', 'nr')]
>>> spans = {s.text for s in enumerate_spans("广西壮族自治区党委书记刘宁会见了越南总理。", words)}
>>> {"刘宁", "党委书记刘宁", "越南总理"} <= spans, "了越南" in spans, "刘宁会见了" in spans
(True, False, False)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.lexical import Word, tag_words
from rag.quantities import find_quantities

MAX_SPAN_WORDS = 8  # not counting spaces
MAX_SPAN_CHARS = 40
MAX_CLAUSES_CHARS = 160  # runs of whole clauses (CMRC answers "why" and "how" with them)
# Part-of-speech tags (jieba's ICTCLAS set) a span may not start or end with: particles (u*), prepositions
# (p), conjunctions (c), modal particles (y), interjections (e), onomatopoeia (o); and words that only join.
_NO_EDGE_TAGS = ("u", "p", "c", "y", "e", "o")
_NO_EDGE_WORDS = frozenset("的 了 是 在 和 与 及 或 而 并 也 都 将 被 把 从 对 向 由 于 为 以 等 着 过 之".split())
# jieba sometimes glues a preposition to the name after it (由约翰): such a word may also start one later.
_GLUED_PREFIX = frozenset("由在从对将把被向与和于为是")
_NAME_TAGS = frozenset(("nr", "nrt", "nrfg", "ns", "nt", "nz"))
_PUNCT_WORD = re.compile(r"^[\W_]+$")
_CLAUSE_BREAK = re.compile(r"^[，,。；;：:！!？?、\n—…]+$")
_OPENING, _CLOSING = "“‘「『《（([【", "”’」』》）)]】"
_QUOTED = re.compile(r"《[^《》]{1,40}》|“[^“”]{1,30}”|「[^「」]{1,30}」")
_PAREN = re.compile(r"\s*[（(][^（）()]{1,30}[）)]")
_BARE_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


@dataclass(frozen=True)
class SpanCandidate:
    text: str
    start: int  # offsets within the sentence
    end: int
    first: int  # index of its first and last word (-1 for pattern spans that cut words)
    last: int
    source: str  # "words", "date", "number", "quoted"


def _edge_ok(word: Word, side: str = "") -> bool:
    if side == "start" and word.text in _OPENING or side == "end" and word.text in _CLOSING:
        return True  # a quoted or bracketed span; balanced() keeps only whole ones
    return (not _PUNCT_WORD.match(word.text) and not word.tag.startswith(_NO_EDGE_TAGS)
            and word.text not in _NO_EDGE_WORDS)


def balanced(text: str) -> bool:
    """No quote or bracket opened without being closed, or closed without being opened."""
    depth = 0
    for ch in text:
        if ch in _OPENING:
            depth += 1
        elif ch in _CLOSING:
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def _breaks_clause(words: tuple[Word, ...], i: int) -> bool:
    w = words[i]
    if not _CLAUSE_BREAK.match(w.text):
        return False
    # 711,988: a comma between digits is a thousands separator, not a pause
    return not (w.text == "," and 0 < i < len(words) - 1 and words[i - 1].text[-1:].isdigit()
                and words[i + 1].text[:1].isdigit())


def enumerate_spans(sentence: str, words: tuple[Word, ...] | None = None) -> list[SpanCandidate]:
    """Every plausible short answer in ``sentence`` (offsets relative to it), without duplicates."""
    words = words if words is not None else tag_words(sentence)
    seen: dict[tuple[int, int], SpanCandidate] = {}

    def add(start: int, end: int, first: int, last: int, source: str, limit: int = MAX_SPAN_CHARS) -> None:
        while start < end and sentence[start].isspace():
            start += 1
        while end > start and sentence[end - 1].isspace():
            end -= 1
        if start < end and end - start <= limit and (start, end) not in seen and balanced(sentence[start:end]):
            seen[(start, end)] = SpanCandidate(sentence[start:end], start, end, first, last, source)

    clauses: list[tuple[int, int]] = []  # (first word, last word) of each clause
    clause_start = 0
    for i, w in enumerate(words):
        if _breaks_clause(words, i):
            if i > clause_start:
                clauses.append((clause_start, i - 1))
            clause_start = i + 1
            continue
        if not _edge_ok(w, "end"):
            continue
        counted = 0
        for j in range(i, clause_start - 1, -1):
            if not words[j].text.isspace():
                counted += 1
            if counted > MAX_SPAN_WORDS:
                break
            start_word = words[j]
            glued = len(start_word.text) > 1 and start_word.text[0] in _GLUED_PREFIX and start_word.tag in _NAME_TAGS
            if glued:  # 由约翰: the name starts one character later
                add(start_word.start + 1, w.end, j, i, "words")
            elif _edge_ok(start_word, "start"):
                add(start_word.start, w.end, j, i, "words")
        paren = _PAREN.match(sentence, w.end)
        if paren:  # 摩摩斯 (Momus): a name with its original in brackets
            add(w.start, paren.end(), i, i, "words")
    if len(words) > clause_start:
        clauses.append((clause_start, len(words) - 1))
    _add_clause_runs(words, clauses, add)
    for kind in ("date", "number"):
        for s in find_quantities(sentence, kind):
            add(s.start, s.end, -1, -1, kind)
            bare = _BARE_NUMBER.match(sentence, s.start) if kind == "number" else None
            if bare:
                add(bare.start(), bare.end(), -1, -1, kind)
    for m in _QUOTED.finditer(sentence):
        add(m.start(), m.end(), -1, -1, "quoted")
        add(m.start() + 1, m.end() - 1, -1, -1, "quoted")
    return list(seen.values())


def _add_clause_runs(words: tuple[Word, ...], clauses: list[tuple[int, int]], add) -> None:
    """Runs of whole clauses (a clause alone, several, the whole sentence), each also without the function
    words it opens with and with its closing punctuation."""
    for a, (first, _) in enumerate(clauses):
        for b in range(a, len(clauses)):
            last = clauses[b][1]
            start, end = words[first].start, words[last].end
            if end - start > MAX_CLAUSES_CHARS:
                break
            add(start, end, first, last, "clause", MAX_CLAUSES_CHARS)
            trimmed = first
            while trimmed < last and not _edge_ok(words[trimmed], "start"):
                trimmed += 1
            add(words[trimmed].start, end, trimmed, last, "clause", MAX_CLAUSES_CHARS)
            if last + 1 < len(words) and _CLAUSE_BREAK.match(words[last + 1].text):
                add(start, words[last + 1].end, first, last + 1, "clause", MAX_CLAUSES_CHARS)
