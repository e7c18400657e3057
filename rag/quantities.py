"""Dates, numbers and units: found, read and said in English — one module for the extractive answerer
(``rag.reader``) and for the check of a language model's claims (``rag.grounding``).

Numbers are read with their scale (``49.25亿美元`` is 4.925e9 as well as 49.25) and from number words:
Chinese numerals before a counter (``两个`` → 2, ``三千五百人`` → 3500, read by cn2an) and English
number words (``three gates`` → 3, ``two thousand`` → 2000, read by text2num). So a claim of "three
gates" is not supported by a passage that says 两个口岸.

>>> sorted(numeric_values("有两个口岸，约达49.25亿美元"))
[2.0, 49.25, 4925000000.0]
>>> numbers_supported("There are three gates.", "谅山省有两个国际口岸。")
False
>>> numbers_supported("There are two international gates.", "谅山省有两个国际口岸。")
True
>>> find_dates("预计于2024年12月底建成，12 December 2023 and May 6")[0]
[(2024, 12, None), (2023, 12, 12), (None, 5, 6)]
>>> render_english("2024年12月底", "date"), render_english("49.25亿美元", "number")
('end of December 2024', 'USD 4.925 billion')
"""

from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass

# ---- words -----------------------------------------------------------------------------------
MONTHS = "January February March April May June July August September October November December".split()
_MONTH_NUMBER = {m.lower(): i for i, m in enumerate(MONTHS, start=1)}
_MONTH_ABBR = {m[:3]: i for m, i in _MONTH_NUMBER.items()}
_MONTH_NAMES = "|".join(_MONTH_NUMBER) + "|" + "|".join(_MONTH_ABBR)
_MONTH_WORD = re.compile(rf"\b({_MONTH_NAMES})\b\.?", re.I)
SCALE = {"万亿": 1e12, "亿": 1e8, "万": 1e4, "千": 1e3, "trillion": 1e12, "billion": 1e9, "million": 1e6,
         "thousand": 1e3}
_CN_NUMERAL = "零〇一二两三四五六七八九十百千万亿"
# A Chinese numeral counts something when a counter (measure word) follows it: 两个, 三座, 二十多家.
_COUNTERS = "个项家座条名位次届国省市批种类道架辆艘所倍方边场件台份处人年天周岁米吨"
_CN_COUNTED = re.compile(rf"(?<![{_CN_NUMERAL}第])[{_CN_NUMERAL}]+(?=多?[{_COUNTERS}])")
_RANGE = r"(?:至|到|—|–|-|~)"

# ---- dates -----------------------------------------------------------------------------------
# Dates are read whole: "12 December 2023" is not supported by a passage with 2023, 12 and December apart.
_DATES = [
    (re.compile(r"(?:(\d{4})\s*年\s*)?(\d{1,2})\s*月(?:份)?(?:\s*(\d{1,2})\s*[日号])?"), ("y", "m", "d")),
    (re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MONTH_NAMES})\.?,?(?:\s+(\d{{4}}))?", re.I), ("d", "mn", "y")),
    (re.compile(rf"\b({_MONTH_NAMES})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?!\d),?(?:\s+(\d{{4}}))?", re.I), ("mn", "d", "y")),
    (re.compile(rf"\b({_MONTH_NAMES})\.?,?\s+(?:of\s+)?(\d{{4}})\b", re.I), ("mn", "y")),
    (re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b"), ("y", "m", "d")),
    (re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b"), ("d", "m", "y")),
]


def find_dates(text: str) -> tuple[list[tuple], str]:
    """Dates in ``text`` as (year, month, day) with None for parts not given, and the text without them."""
    found: list[tuple[int, tuple]] = []
    taken: list[tuple[int, int]] = []
    for pattern, parts in _DATES:
        for m in pattern.finditer(text):
            if any(m.start() < end and start < m.end() for start, end in taken):
                continue
            values = dict(zip(parts, m.groups()))
            if "mn" in values:
                word = values.pop("mn").lower()
                values["m"] = str(_MONTH_NUMBER.get(word) or _MONTH_ABBR[word[:3]])
            date = tuple(int(values[k]) if values.get(k) else None for k in ("y", "m", "d"))
            if date[1] is not None and not 1 <= date[1] <= 12:
                continue
            found.append((m.start(), date))
            taken.append((m.start(), m.end()))
    rest = text
    for start, end in sorted(taken, reverse=True):
        rest = rest[:start] + " " + rest[end:]
    return [d for _, d in sorted(found)], rest


def date_supported(claim: tuple, available: list[tuple]) -> bool:
    """Is every part the claimed date gives also given, and equal, by one of the available dates?"""
    return any(all(c is None or a is None or c == a for c, a in zip(claim, date))
               and sum(c is not None and c == a for c, a in zip(claim, date)) >= sum(c is not None for c in claim)
               for date in available)


# ---- numbers ---------------------------------------------------------------------------------
_NUMERAL = re.compile(r"(?<![\d.])(\d[\d,]*(?:\.\d+)?)(?!\d*(?:st|nd|rd|th)\b)\s*(万亿|亿|万|千|trillion|billion|million|"
                      r"thousand)?", re.I)


def number_readings(text: str) -> list[set[float]]:
    """Each number of ``text`` with its possible readings (as written, and scaled by its unit), number
    words included; months named in English count as 1–12."""
    out = []
    for m in _NUMERAL.finditer(text):
        try:
            value = float(m.group(1).replace(",", ""))
        except ValueError:
            continue
        scale = SCALE.get((m.group(2) or "").lower())
        out.append({value, value * scale} if scale else {value})
    out.extend({value} for value in _chinese_counted_numbers(text) + _english_number_words(text))
    for m in _MONTH_WORD.finditer(text):
        word = m.group(1).lower()
        if word == "may" and not re.search(r"\d", text[m.end(): m.end() + 6] + text[max(0, m.start() - 4): m.start()]):
            continue  # the verb "may", not the month
        out.append({float(_MONTH_NUMBER.get(word) or _MONTH_ABBR[word[:3]])})
    return out


def numeric_values(text: str) -> set[float]:
    """Every reading of every number in ``text``."""
    return {v for readings in number_readings(text) for v in readings}


def numbers_supported(claim: str, source: str) -> bool:
    """Every date of ``claim`` is a date of ``source``; every other number is one of its numbers."""
    claim_dates, claim_rest = find_dates(claim)
    source_dates, _ = find_dates(source)
    if not all(date_supported(d, source_dates) for d in claim_dates):
        return False
    available = numeric_values(source)
    return all(any(_close(r, v) for r in readings for v in available) for readings in number_readings(claim_rest))


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)


_EN_UNITS = ("two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
             "seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety").split()
_EN_WORD = "|".join(_EN_UNITS + ["one", "hundred", "thousand", "million", "billion", "trillion"])
# a run of number words not right after a figure ("4.925 billion" is read as a figure with its scale);
# it starts at two or more: "one" rarely counts anything ("one of the…")
_EN_NUMBER_WORDS = re.compile(rf"(?<![\d.,]\s)(?<![\d.,])\b(?:{'|'.join(_EN_UNITS)})(?:[\s-]+(?:and[\s-]+)?(?:{_EN_WORD}))*\b",
                              re.I)


def _english_number_words(text: str) -> list[float]:
    """"three gates" → 3, "two thousand people" → 2000, read by text2num."""
    if not re.search(r"[A-Za-z]", text):
        return []
    from text_to_num import text2num

    values = []
    for m in _EN_NUMBER_WORDS.finditer(text):
        try:
            values.append(float(text2num(m.group().lower().replace("-", " "), "en")))
        except ValueError:  # not a number text2num can read
            continue
    return values


def _chinese_counted_numbers(text: str) -> list[float]:
    values = []
    for m in _CN_COUNTED.finditer(text):
        value = chinese_numeral(m.group())
        if value is not None:
            values.append(float(value))
    return values


def chinese_numeral(text: str) -> int | None:
    """The value of a Chinese numeral (两 → 2, 二十 → 20, 三千五百 → 3500), or None.

    >>> chinese_numeral("两"), chinese_numeral("二十"), chinese_numeral("三千五百"), chinese_numeral("口岸")
    (2, 20, 3500, None)
    """
    import cn2an

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            value = cn2an.cn2an(text, "smart")
        except (ValueError, KeyError, TypeError):
            return None
    return int(value) if float(value).is_integer() else None


# ---- spans in a sentence ---------------------------------------------------------------------
_CN_DATE = re.compile(
    rf"(?:\d{{4}}年(?:\d{{1,2}}月(?:份)?(?:\d{{1,2}}日)?)?(?:底|初|末|中旬|上旬|下旬)?"
    rf"(?:{_RANGE}(?:\d{{4}}年)?(?:\d{{1,2}}月)?\d{{1,2}}日)?"
    rf"|\d{{1,2}}月\d{{1,2}}日(?:{_RANGE}(?:\d{{1,2}}月)?\d{{1,2}}日)?(?:上午|下午|晚)?"
    rf"|(?<!\d)\d{{1,2}}月(?:份|底|初|中旬|上旬|下旬)?)"
)
_EN_DATE = re.compile(
    r"\b(?:(?:early|mid|late|end of)[- ]?)?(?:\d{1,2} )?(?:" + "|".join(MONTHS) + r")(?: \d{1,2})?,? \d{4}\b"
    r"|\b(?:19|20)\d{2}\b"
)
_UNIT = (
    r"(?:万亿|亿|万|千)?\s*(?:美元|越盾|元|人民币|公里|千米|平方公里|米|吨|辆次|辆|项|个|人次|人|家|届|周年|年|票|号|次|名|"
    r"多|余|%|％)?"
)
_NUMBER_SPAN = re.compile(
    rf"(?<![\d.])\d[\d,]*(?:\.\d+)?\s*(?:{_RANGE}\s*\d[\d,]*(?:\.\d+)?)?{_UNIT}"
    rf"|[{_CN_NUMERAL}]+(?:个|项|大|家|届|次|位|名|省|国)"
)
_EN_NUMBER_SPAN = re.compile(r"\b\d[\d,]*(?:\.\d+)?\s*(?:%|percent|billion|million|trillion|km|kilometres|kilometers)?")
_MONEY_UNIT = re.compile(r"美元|越盾|元|人民币|USD|VND|CNY|\$")


@dataclass(frozen=True)
class Span:
    text: str
    start: int
    end: int


def find_quantities(sentence: str, kind: str) -> list[Span]:
    """Dates (``kind="date"``) or amounts (``kind="number"``) in ``sentence``, offsets relative to it; a span
    inside a longer one is dropped.

    >>> [s.text for s in find_quantities("该项目预计于2024年12月底建成，投资约5980万越盾。", "date")]
    ['2024年12月底']
    >>> [s.text for s in find_quantities("该项目预计于2024年12月底建成，投资约5980万越盾。", "number")]
    ['2024年', '12', '5980万越盾']
    """
    if kind == "date":
        found = [*_CN_DATE.finditer(sentence), *_EN_DATE.finditer(sentence)]
    elif kind == "number":
        found = [*_NUMBER_SPAN.finditer(sentence), *_EN_NUMBER_SPAN.finditer(sentence)]
    else:
        raise ValueError(f"kind must be 'date' or 'number', not {kind!r}")
    spans = sorted({Span(m.group(0).strip(), m.start(), m.start() + len(m.group(0).strip())) for m in found
                    if m.group(0).strip()}, key=lambda s: (s.start, -len(s.text)))
    out: list[Span] = []
    for s in spans:
        if out and s.start < out[-1].end:
            continue
        out.append(s)
    return out


def is_money(span: str) -> bool:
    """Does the amount name a currency?"""
    return bool(_MONEY_UNIT.search(span))


# ---- in English ------------------------------------------------------------------------------
_CURRENCY = {"美元": "USD", "越盾": "VND", "元": "CNY", "人民币": "CNY"}
_UNITS_EN = {"公里": "km", "千米": "km", "平方公里": "km²", "米": "m", "吨": "tonnes", "辆次": "vehicle trips",
             "辆": "vehicles", "人次": "visits", "人": "people", "家": "companies", "票": "votes", "周年": "years",
             "年": "years", "项": "", "个": "", "届": "", "名": "", "次": "times", "号": ""}
_NUMBER_WORDS = "zero one two three four five six seven eight nine ten".split()
_PART = {"底": "end of ", "末": "end of ", "初": "early ", "上旬": "early ", "中旬": "mid-", "下旬": "late "}


def render_english(span: str, kind: str) -> str | None:
    """English wording of a Chinese date or amount, or None when there is nothing to translate.

    >>> render_english("2024年5月6日至5月13日", "date")
    '6 May 2024 to 13 May 2024'
    >>> render_english("5980万越盾", "number"), render_english("两个", "number")
    ('VND 59.8 million', 'two')
    """
    if kind == "date":
        return _render_date(span)
    if kind == "number":
        return _render_number(span)
    return None


# words that qualify an amount, said in English: 约达49.25亿美元 is "about USD 4.925 billion"
_HEDGES_BEFORE = {"约达": "about", "约为": "about", "约合": "about", "大约": "about", "约": "about", "高达": "",
                  "多达": "", "达到": "", "达": "", "共计": "", "共": "", "总计": "", "合计": "", "超过": "over",
                  "逾": "over", "超": "over", "将近": "nearly", "接近": "nearly", "近": "nearly", "不到": "under",
                  "不足": "under", "至少": "at least"}
_HEDGES_AFTER = {"左右": "about", "以上": "over", "以下": "under"}


def render_english_amount(span: str) -> str | None:
    """English wording of a span that is one amount and the words qualifying it, or None when it is not
    (a number inside a name, two amounts, nothing to translate).

    >>> render_english_amount("约达49.25亿美元"), render_english_amount("同比增长60%以上")
    ('about USD 4.925 billion', None)
    >>> render_english_amount("60%以上"), render_english_amount("近2万人"), render_english_amount("1116号界碑")
    ('over 60%', 'nearly 20,000 people', None)
    """
    found = find_quantities(span, "number")
    if len(found) != 1:
        return None
    before, core, after = span[:found[0].start].strip(), found[0].text, span[found[0].end:].strip()
    if (before and before not in _HEDGES_BEFORE) or (after and after not in _HEDGES_AFTER):
        return None  # more than the amount and a word qualifying it
    hedge = _HEDGES_BEFORE.get(before) or _HEDGES_AFTER.get(after) or ""
    english = _render_number(core)
    if english is None and hedge and re.fullmatch(r"\d[\d,]*(?:\.\d+)?\s*[%％]", core):
        english = core.replace("％", "%")  # a percentage reads the same; its qualifier does not
    if english is None:
        return None
    return f"{hedge} {english}" if hedge else english


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
        words.append(MONTHS[int(month) - 1])
    if year:
        words.append(year)
    text = " ".join(words)
    return _PART[part] + text if part else text


def _render_number(span: str) -> str | None:
    span = span.strip()
    counted = re.fullmatch(rf"([{_CN_NUMERAL}]+)(个|项|大|家|届|次|位|名|省|国)", span)
    if counted:
        value = chinese_numeral(counted.group(1))
        return None if value is None else (_NUMBER_WORDS[value] if value <= 10 else str(value))
    m = re.fullmatch(
        rf"(\d[\d,]*(?:\.\d+)?)\s*(?:{_RANGE}\s*(\d[\d,]*(?:\.\d+)?))?\s*(万亿|亿|万|千)?\s*(\S*)", span
    )
    if not m:
        return None
    low, high, scale, unit = m.groups()
    unit = unit.rstrip("多余")
    if unit in ("%", "％"):
        return None  # already reads the same in English
    factor = SCALE.get(scale or "", 1.0)
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
