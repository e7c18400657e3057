"""What kind of answer a question wants and where such an answer sits in a sentence (the hand-scored
answerer's, ``rag.extractive``).

``classify_question`` maps "when/什么时候/何时" to ``date``, "how many/how much/多少"
to ``number``, "who/谁" to ``person``, "where/哪里" to ``place``. ``find_spans``
finds candidate answer spans of that type in a Chinese or English sentence: dates and amounts
through ``rag.quantities`` (which also says them in English), names by title and part of speech.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.lexical import tag_words
from rag.quantities import find_quantities, is_money, render_english

_Q_DATE = re.compile(
    r"\bwhen\b|\bwhat (year|date|month|day|time)\b|\b(date|deadline)\b|\bwhich (year|month|day|date)\b|\bin which (year|month)\b|"
    r"什么时候|何时|哪一?年|几月|哪个月|哪天|哪一天|什么时间|何年|哪年|日期|具体时间",
    re.I,
)
_Q_NUMBER = re.compile(
    r"\bhow (many|much|long|far|large|big|high)\b|\bwhat (percentage|percent|share|amount|number|total|rate|value|"
    r"proportion)\b|\bwhat was the (total|amount|number|rate|value)\b|"
    r"\b(growth rate|rate|percentage|per cent|percent)\b|多少|几个|几项|几家|几届|几位|几次|多长|多远|多大|多高|百分之|增长率|几",
    re.I,
)
_Q_PERSON = re.compile(
    r"\bwho(m|se)?\b|\b(which|what) (\w+ ){0,2}(premier|minister|president|leader|official|secretary|chairman|"
    r"chairwoman|ambassador|person|governor|mayor|spokesperson)\b|谁|哪位|什么人|何人",
    re.I,
)
_Q_PLACE = re.compile(r"\bwhere\b|哪里|哪儿|在哪|何地|何处", re.I)

QUESTION_TYPES = ("date", "number", "person", "place", "other")


def classify_question(question: str) -> str:
    """Return one of ``date``, ``number``, ``person``, ``place``, ``other``.

    >>> classify_question("When does the smart port open?")
    'date'
    >>> classify_question("谅山省2023年进出口总额是多少？")
    'number'
    >>> classify_question("广西壮族自治区党委书记是谁？")
    'person'
    """
    for qtype, pattern in (("date", _Q_DATE), ("person", _Q_PERSON), ("number", _Q_NUMBER), ("place", _Q_PLACE)):
        if pattern.search(question):
            return qtype
    return "other"


_MONEY_QUESTION = re.compile(
    r"\bhow much\b|\b(value|revenue|worth|cost|price|turnover|income|budget|investment|amount)\b|金额|总额|收入|价值|投资|预算|多少钱|成本|价格",
    re.I,
)


def wants_money(question: str) -> bool:
    """Does a number question ask for an amount of money?"""
    return bool(_MONEY_QUESTION.search(question))


_NAME_AFTER_TITLE = re.compile(
    r"(?:总理|书记|主席|总统|部长|大使|主任|副区长|区长|市长|省长|总书记|首相|教授|记者|团长)([\u4e00-\u9fff·]{2,4}?)(?=同志|先生|女士|主持|表示|强调|指出|透露|肯定|称|说|举行|会见|率领|接受|[，,。、：:（(\s]|$)"
)


@dataclass(frozen=True)
class Span:
    text: str
    start: int
    end: int
    confidence: float = 1.0  # below 1 for guesses (a part-of-speech tag rather than a pattern)


def find_spans(sentence: str, qtype: str) -> list[Span]:
    """Candidate answer spans of ``qtype`` in ``sentence`` (offsets relative to it)."""
    if qtype in ("date", "number"):
        return [Span(q.text, q.start, q.end) for q in find_quantities(sentence, qtype)]
    if qtype == "person":
        return _person_spans(sentence)
    if qtype == "place":
        return _place_spans(sentence)
    return []


def _person_spans(sentence: str) -> list[Span]:
    # A name right after a title ("党委书记刘宁") is near certain; jieba's person tag is a guess.
    spans = [Span(m.group(1), m.start(1), m.end(1)) for m in _NAME_AFTER_TITLE.finditer(sentence)]
    spans += [Span(s.text, s.start, s.end, 0.5) for s in _posseg_spans(sentence, ("nr",), min_len=2)]
    return _unique(spans)


def _place_spans(sentence: str) -> list[Span]:
    return _unique(_posseg_spans(sentence, ("ns",), min_len=2))


def _posseg_spans(sentence: str, tags: tuple[str, ...], min_len: int) -> list[Span]:
    return [Span(w.text, w.start, w.end) for w in tag_words(sentence) if w.tag in tags and len(w.text) >= min_len]


def _unique(spans: list[Span]) -> list[Span]:
    seen, out = set(), []
    for s in sorted(spans, key=lambda s: s.start):
        if s.text not in seen:
            seen.add(s.text)
            out.append(s)
    return out


__all__ = ["Span", "classify_question", "find_spans", "is_money", "render_english", "wants_money"]
