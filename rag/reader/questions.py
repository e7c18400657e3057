"""What a question asks for: its kind of answer, the words around its question word, and its times.

The extractive reader does not rely on these by hand-set rules: they become features of the
learned models (``rag.reader.features``). ``analyze_question`` is cheap and language-aware:

>>> q = analyze_question("谅山省2023年进出口总额是多少？")
>>> q.kind, q.years, q.before_wh
('number', [2023], ['谅山省', '进出口', '总额'])
>>> q = analyze_question("Which country hosted the 2022 World Cup?")
>>> q.kind, q.head, q.years
('place', 'country', [2022])

A question about the newest state ("latest", "最新") asks about the year of the newest evidence:

>>> with_newest_year(analyze_question("谅山省最新的进出口总额是多少？"), ["2022-12-27", "2024-12-30", None]).years
[2024]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from rag.asked_time import asked_time
from rag.language import detect_language
from rag.lexical import STOPWORDS, _jieba

KINDS = ("date", "number", "person", "place", "which", "what", "why", "how", "yesno", "other")

# Chinese question words, longest first so 哪一年 wins over 哪; each with the kind it asks for.
_ZH_WH = [
    ("什么时候", "date"), ("什么时间", "date"), ("哪一年", "date"), ("哪年", "date"), ("何年", "date"),
    ("哪个月", "date"), ("几月", "date"), ("哪一天", "date"), ("哪天", "date"), ("何时", "date"),
    ("多少", "number"), ("几个", "number"), ("几次", "number"), ("几", "number"), ("多长", "number"),
    ("多远", "number"), ("多大", "number"), ("多高", "number"), ("多久", "number"), ("多重", "number"),
    ("谁", "person"), ("哪位", "person"), ("什么人", "person"), ("何人", "person"),
    ("哪里", "place"), ("哪儿", "place"), ("何地", "place"), ("何处", "place"),
    ("为什么", "why"), ("为何", "why"), ("什么原因", "why"),
    ("如何", "how"), ("怎样", "how"), ("怎么", "how"),
    ("哪个", "which"), ("哪些", "which"), ("哪一", "which"), ("哪种", "which"), ("哪家", "which"),
    ("哪", "which"), ("什么", "what"), ("何", "what"),
    ("是否", "yesno"), ("吗", "yesno"),
]
_ZH_WH_RE = re.compile("|".join(re.escape(w) for w, _ in sorted(_ZH_WH, key=lambda p: -len(p[0]))))
_ZH_KIND = dict(_ZH_WH)
_NAMING = set("名称成作认视改译叫")
# Heads that make a which/what question a date, place or person question ("哪个国家", "什么时候").
_ZH_HEAD_KIND = {"年": "date", "年份": "date", "月": "date", "日期": "date", "时间": "date", "时期": "date",
                 "世纪": "date", "国家": "place", "城市": "place", "地方": "place", "省": "place", "地区": "place",
                 "人": "person", "球员": "person", "演员": "person", "总统": "person"}

_EN_RULES = [
    (r"\bwhen\b|\bwhat (year|date|month|day|time|century|decade)\b|\bwhich (year|month|day|date|century)\b|"
     r"\bin (which|what) (year|month)\b", "date"),
    (r"\bhow (many|much|long|far|large|big|high|old|tall|often)\b|\bwhat (percentage|percent|share|amount|number|"
     r"total|rate|value|proportion)\b", "number"),
    (r"\bwho(m|se)?\b", "person"),
    (r"\bwhere\b|\b(which|what) (country|city|province|state|place|region|town|continent)\b", "place"),
    (r"\bwhy\b", "why"),
    (r"\bhow\b", "how"),
    (r"\bwhich\b", "which"),
    (r"\bwhat\b", "what"),
    (r"^\s*(is|are|was|were|do|does|did|can|could|has|have|had|will|would)\b", "yesno"),
]
_EN_RULES = [(re.compile(p, re.I), kind) for p, kind in _EN_RULES]
_EN_HEAD = re.compile(r"\b(?:which|what)\s+(?:of the\s+)?([a-z]+)", re.I)
_PUNCT = re.compile(r"^[\W_]+$")
_YEAR = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d)(?!\d)")


@dataclass
class QuestionInfo:
    """What ``analyze_question`` found. ``before_wh``/``after_wh`` are the Chinese question's content
    words right before and after its question word: the answer tends to sit between the same words
    in the sentence that holds it."""

    text: str
    language: str
    kind: str
    wh: str = ""
    head: str = ""  # the noun the question word asks about: 国家 in 哪个国家, country in "which country"
    before_wh: list[str] = field(default_factory=list)
    after_wh: list[str] = field(default_factory=list)
    years: list[int] = field(default_factory=list)
    words_before: list[str] = field(default_factory=list)  # every content word before the question word
    words_after: list[str] = field(default_factory=list)
    english_sides: tuple[str, str] = ("", "")  # an English question's text before and after its question word
    asked: str = ""  # the thing asked about: 总额 in 总额是多少, population in "what is the population of…"


def analyze_question(question: str) -> QuestionInfo:
    language = detect_language(question)
    years = [int(y) for y in _YEAR.findall(question)]
    if language == "en":
        kind, wh_at = "other", None
        for pattern, k in _EN_RULES:
            found = pattern.search(question)
            if found:
                kind, wh_at = k, found
                break
        head_match = _EN_HEAD.search(question)
        head = head_match.group(1).lower() if head_match else ""
        # the English words on each side of the question word; rag.reader.features translates them
        before = question[: wh_at.start()] if wh_at else ""
        after = question[wh_at.end():] if wh_at else question
        head = head if head not in STOPWORDS else ""
        return QuestionInfo(question, language, kind, wh=wh_at.group(0) if wh_at else "", head=head, years=years,
                            english_sides=(before, after), asked=head or _first_content_word(after))
    m = _ZH_WH_RE.search(question)
    if not m:
        return QuestionInfo(question, language, "other", years=years)
    if m.group(0) == "为什么" and question[max(0, m.start() - 1): m.start()] in _NAMING:
        # 命名为什么 / 称为什么: "为" belongs to the verb, the question word is 什么
        m = _ZH_WH_RE.search(question, m.start() + 1)
    wh = m.group(0)
    kind = _ZH_KIND[wh]
    after_text = question[m.end():]
    head = ""
    if kind in ("which", "what"):
        head_tokens = [t for t in content_words(after_text[:6]) if not t.isdigit()]
        head = head_tokens[0] if head_tokens and after_text.startswith(head_tokens[0][:1]) else ""
        kind = _ZH_HEAD_KIND.get(head, kind)
    words_before = content_words(question[: m.start()])
    words_after = content_words(after_text)
    before = [t for t in words_before if t not in years_as_text(years)][-3:]
    asked = head or (words_after[:1] or before[-1:] or [""])[0]
    return QuestionInfo(question, language, kind, wh=wh, head=head, before_wh=before, after_wh=words_after[:3],
                        years=years, words_before=words_before, words_after=words_after, asked=asked)


def with_newest_year(info: QuestionInfo, dates) -> QuestionInfo:
    """``info`` asking about the year of the newest of ``dates`` (the retrieved passages' document dates)
    when its question asks for the newest state and names no year; ``info`` itself otherwise. The models'
    year features (the sentence names the asked year, or another one) then read "latest" as that year."""
    if info.years or not asked_time(info.text).latest:
        return info
    newest = max((d for d in dates if d), default="")
    return replace(info, years=[int(newest[:4])]) if _YEAR.fullmatch(newest[:4]) else info


ENGLISH_QUESTION_WORDS = frozenset("what which who whom whose when where why how".split())
AUXILIARY_WORDS = frozenset("is are was were be been do does did has have had can could will would should many much "
                       "long far old often large big high tall".split())


def _first_content_word(text: str) -> str:
    """population in " is the population of Guangxi?", votes in " many votes did Vietnam receive"."""
    for word in re.findall(r"[a-z][a-z'-]*", text.lower()):
        if word not in STOPWORDS and word not in AUXILIARY_WORDS:
            return word
    return ""


def content_words(text: str) -> list[str]:
    """Words in reading order (jieba's precise mode), lower-cased, without punctuation or stopwords."""
    return [w for w in (w.strip().lower() for w in _jieba().lcut(text)) if w and not _PUNCT.match(w)
            and w not in STOPWORDS]


def years_in(text: str) -> set[int]:
    """The years ``text`` names, read as a question's are.

    >>> sorted(years_in("台湾人口于2023年6月底为23,373,283人，较2022年减少"))
    [2022, 2023]
    """
    return {int(y) for y in _YEAR.findall(text)}


def years_as_text(years: list[int]) -> set[str]:
    return {str(y) for y in years}
