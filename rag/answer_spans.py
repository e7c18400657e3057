"""What kind of answer a question wants, where such an answer sits in a sentence, and how to say it in English.

``classify_question`` maps "when/什么时候/何时" to ``date``, "how many/how much/多少"
to ``number``, "who/谁" to ``person``, "where/哪里" to ``place``. ``find_spans``
finds candidate answer spans of that type in a Chinese or English sentence, and
``render_english`` turns ``2024年12月底`` into "end of December 2024" and
``49.25亿美元`` into "USD 4.925 billion".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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
_MONEY_UNIT = re.compile(r"美元|越盾|元|人民币|USD|VND|CNY|\$")


def wants_money(question: str) -> bool:
    """Does a number question ask for an amount of money?"""
    return bool(_MONEY_QUESTION.search(question))


def is_money(span: str) -> bool:
    return bool(_MONEY_UNIT.search(span))


# ---- spans in sentences -------------------------------------------------------------------

_CN_NUM = "零〇一二两三四五六七八九十百千"
_RANGE = r"(?:至|到|—|–|-|~)"
_CN_DATE = re.compile(
    rf"(?:\d{{4}}年(?:\d{{1,2}}月(?:份)?(?:\d{{1,2}}日)?)?(?:底|初|末|中旬|上旬|下旬)?"
    rf"(?:{_RANGE}(?:\d{{4}}年)?(?:\d{{1,2}}月)?\d{{1,2}}日)?"
    rf"|\d{{1,2}}月\d{{1,2}}日(?:{_RANGE}(?:\d{{1,2}}月)?\d{{1,2}}日)?(?:上午|下午|晚)?"
    rf"|(?<!\d)\d{{1,2}}月(?:份|底|初|中旬|上旬|下旬)?)"
)
_MONTHS = "January February March April May June July August September October November December".split()
_EN_DATE = re.compile(
    r"\b(?:(?:early|mid|late|end of)[- ]?)?(?:\d{1,2} )?(?:" + "|".join(_MONTHS) + r")(?: \d{1,2})?,? \d{4}\b"
    r"|\b(?:19|20)\d{2}\b"
)
_UNIT = (
    r"(?:万亿|亿|万|千)?\s*(?:美元|越盾|元|人民币|公里|千米|平方公里|米|吨|辆次|辆|项|个|人次|人|家|届|周年|年|票|号|次|名|"
    r"多|余|%|％)?"
)
_NUMBER = re.compile(
    rf"(?<![\d.])\d[\d,]*(?:\.\d+)?\s*(?:{_RANGE}\s*\d[\d,]*(?:\.\d+)?)?{_UNIT}"
    rf"|[{_CN_NUM}]+(?:个|项|大|家|届|次|位|名|省|国)"
)
_EN_NUMBER = re.compile(r"\b\d[\d,]*(?:\.\d+)?\s*(?:%|percent|billion|million|trillion|km|kilometres|kilometers)?")
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
    if qtype == "date":
        found = [m for m in _CN_DATE.finditer(sentence)] + [m for m in _EN_DATE.finditer(sentence)]
    elif qtype == "number":
        found = [m for m in _NUMBER.finditer(sentence)] + [m for m in _EN_NUMBER.finditer(sentence)]
    elif qtype == "person":
        return _person_spans(sentence)
    elif qtype == "place":
        return _place_spans(sentence)
    else:
        return []
    spans = sorted({Span(m.group(0).strip(), m.start(), m.start() + len(m.group(0).strip())) for m in found
                    if m.group(0).strip()}, key=lambda s: (s.start, -len(s.text)))
    # Drop spans nested inside a longer one.
    out: list[Span] = []
    for s in spans:
        if out and s.start < out[-1].end:
            continue
        out.append(s)
    return out


def _person_spans(sentence: str) -> list[Span]:
    # A name right after a title ("党委书记刘宁") is near certain; jieba's person tag is a guess.
    spans = [Span(m.group(1), m.start(1), m.end(1)) for m in _NAME_AFTER_TITLE.finditer(sentence)]
    spans += [Span(s.text, s.start, s.end, 0.5) for s in _posseg_spans(sentence, ("nr",), min_len=2)]
    return _unique(spans)


def _place_spans(sentence: str) -> list[Span]:
    return _unique(_posseg_spans(sentence, ("ns",), min_len=2))


def _posseg_spans(sentence: str, tags: tuple[str, ...], min_len: int) -> list[Span]:
    from rag.lexical import _jieba  # initialises jieba's dictionary once

    _jieba()
    import jieba.posseg as pseg

    out, pos = [], 0
    for word, flag in pseg.lcut(sentence):
        start = sentence.find(word, pos)
        if start < 0:
            continue
        pos = start + len(word)
        if flag in tags and len(word) >= min_len:
            out.append(Span(word, start, pos))
    return out


def _unique(spans: list[Span]) -> list[Span]:
    seen, out = set(), []
    for s in sorted(spans, key=lambda s: s.start):
        if s.text not in seen:
            seen.add(s.text)
            out.append(s)
    return out


# ---- English rendering ---------------------------------------------------------------------

_CURRENCY = {"美元": "USD", "越盾": "VND", "元": "CNY", "人民币": "CNY"}
_UNITS_EN = {"公里": "km", "千米": "km", "平方公里": "km²", "米": "m", "吨": "tonnes", "辆次": "vehicle trips",
             "辆": "vehicles", "人次": "visits", "人": "people", "家": "companies", "票": "votes", "周年": "years",
             "年": "years", "项": "", "个": "", "届": "", "名": "", "次": "times", "号": ""}
_SCALE = {"万亿": 1e12, "亿": 1e8, "万": 1e4, "千": 1e3}
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_NUM_WORDS = "zero one two three four five six seven eight nine ten".split()
_PART = {"底": "end of ", "末": "end of ", "初": "early ", "上旬": "early ", "中旬": "mid-", "下旬": "late "}


def render_english(span: str, qtype: str) -> str | None:
    """English wording of a Chinese date or amount, or None when there is nothing to translate.

    >>> render_english("2024年12月底", "date")
    'end of December 2024'
    >>> render_english("2024年5月6日至5月13日", "date")
    '6 May 2024 to 13 May 2024'
    >>> render_english("49.25亿美元", "number")
    'USD 4.925 billion'
    >>> render_english("5980万越盾", "number")
    'VND 59.8 million'
    """
    if qtype == "date":
        return _render_date(span)
    if qtype == "number":
        return _render_number(span)
    return None


def _render_date(span: str) -> str | None:
    parts = re.split(_RANGE, span, maxsplit=1)
    if len(parts) == 2:
        first = _render_one_date(parts[0])
        year = re.match(r"(\d{4})年", parts[0])
        month = re.search(r"(\d{1,2})月", parts[0])
        second_src = parts[1]
        if year and "年" not in second_src:
            second_src = year.group(0) + (second_src if "月" in second_src or not month else month.group(0) + second_src)
        second = _render_one_date(second_src)
        return f"{first} to {second}" if first and second else None
    return _render_one_date(span)


def _render_one_date(span: str) -> str | None:
    m = re.fullmatch(r"(?:(\d{4})年)?(?:(\d{1,2})月(?:份)?)?(?:(\d{1,2})日)?(底|末|初|上旬|中旬|下旬)?(上午|下午|晚)?", span)
    if not m or not any(m.group(i) for i in (1, 2, 3)):
        return None
    year, month, day, part = m.group(1), m.group(2), m.group(3), m.group(4)
    if month and not 1 <= int(month) <= 12:
        return None
    words = []
    if day:
        words.append(str(int(day)))
    if month:
        words.append(_MONTHS[int(month) - 1])
    if year:
        words.append(year)
    text = " ".join(words)
    if part:
        text = _PART[part] + text
    return text


def _render_number(span: str) -> str | None:
    span = span.strip()
    cn = re.fullmatch(rf"([{_CN_NUM}]+)(个|项|大|家|届|次|位|名|省|国)", span)
    if cn:
        value = _cn_small_number(cn.group(1))
        return None if value is None else (_NUM_WORDS[value] if value <= 10 else str(value))
    m = re.fullmatch(
        rf"(\d[\d,]*(?:\.\d+)?)\s*(?:{_RANGE}\s*(\d[\d,]*(?:\.\d+)?))?\s*(万亿|亿|万|千)?\s*(\S*)", span
    )
    if not m:
        return None
    low, high, scale, unit = m.groups()
    unit = unit.rstrip("多余")
    if unit in ("%", "％"):
        return None  # already reads the same in English
    factor = _SCALE.get(scale or "", 1.0)
    values = [float(low.replace(",", "")) * factor] + ([float(high.replace(",", "")) * factor] if high else [])
    amounts = " to ".join(_format_amount(v) for v in values)
    if unit in _CURRENCY:
        return f"{_CURRENCY[unit]} {amounts}"
    english_unit = _UNITS_EN.get(unit, None)
    if english_unit is None:
        return None
    rendered = f"{amounts} {english_unit}".strip()
    return None if rendered == span else rendered


def _format_amount(value: float) -> str:
    for threshold, word in ((1e12, "trillion"), (1e9, "billion"), (1e6, "million")):
        if value >= threshold:
            return f"{value / threshold:.4f}".rstrip("0").rstrip(".") + f" {word}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _cn_small_number(text: str) -> int | None:
    if text == "十":
        return 10
    if len(text) == 1:
        return _CN_DIGITS.get(text)
    if len(text) == 2 and text[0] == "十":
        return 10 + _CN_DIGITS.get(text[1], 0)
    if len(text) == 2 and text[1] == "十":
        return _CN_DIGITS.get(text[0], 0) * 10
    if len(text) == 3 and text[1] == "十":
        return _CN_DIGITS.get(text[0], 0) * 10 + _CN_DIGITS.get(text[2], 0)
    return None
