"""What time a question asks about: the years and months it names ("2023年", "in May 2024", "last year",
"去年"), and whether it asks for the newest state ("latest", "最新", "most recent").

The retriever (``rag.retrieve``) ranks its candidates by how well their documents' dates (or, undated, the
years their text names) fit, as one more list in its rank fusion: a question that names a time prefers
passages from that time, and one about the newest state prefers the newest documents that answer it.

>>> import datetime
>>> today = datetime.date(2025, 3, 1)
>>> asked_time("谅山省2023年进出口总额是多少？", today).periods
(('2023-01-01', '2023-12-31'),)
>>> asked_time("What was the export total in May 2024?", today).periods
(('2024-05-01', '2024-05-31'),)
>>> asked_time("How much did the province export last year?", today).periods
(('2024-01-01', '2024-12-31'),)
>>> asked_time("谅山口岸的最新通关数据是什么？", today).latest
True
>>> bool(asked_time("When does the smart port open?", today))
False
"""

from __future__ import annotations

import calendar
import datetime
import re
from dataclasses import dataclass

MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_name) if m} | {
    m.lower(): i for i, m in enumerate(calendar.month_abbr) if m}
_YEAR_MONTH_ZH = re.compile(r"(?<!\d)((?:19|20)\d\d)\s*年\s*(\d{1,2})\s*月")
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)")
_MONTH_EN = re.compile(r"\b(" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?\s+((?:19|20)\d\d)\b", re.I)
_ISO_MONTH = re.compile(r"(?<!\d)((?:19|20)\d\d)-(\d{1,2})(?!\d)")
_RELATIVE = [(re.compile(r"今年|this year", re.I), 0), (re.compile(r"去年|last year|a year ago", re.I), -1),
             (re.compile(r"前年|two years ago", re.I), -2)]
_LATEST = re.compile(r"最新|最近|近期|目前|当前|latest|newest|most recent|recent(ly)?|currently|as of now|now\b", re.I)


@dataclass(frozen=True)
class AskedTime:
    periods: tuple[tuple[str, str], ...] = ()  # (first day, last day), ISO dates
    latest: bool = False

    def __bool__(self) -> bool:
        return bool(self.periods or self.latest)

    def fits(self, date: str | None, text: str = "") -> bool:
        """Is a passage of a document dated ``date``, reading ``text``, about an asked period: the document dated
        in it, or the text naming its year (an article of January 2024 on the figures of 2023)?"""
        day = (date or "")[:10]
        return any((day and start <= day <= end) or start[:4] in text for start, end in self.periods)


def _month(year: int, month: int) -> tuple[str, str] | None:
    if not 1 <= month <= 12:
        return None
    return f"{year:04d}-{month:02d}-01", f"{year:04d}-{month:02d}-{calendar.monthrange(year, month)[1]:02d}"


def _year(year: int) -> tuple[str, str]:
    return f"{year:04d}-01-01", f"{year:04d}-12-31"


def asked_time(question: str, today: datetime.date | None = None) -> AskedTime:
    """The periods ``question`` names, and whether it asks for the newest state."""
    today = today or datetime.date.today()
    periods: list[tuple[str, str]] = []
    taken: list[tuple[int, int]] = []

    def add(period, span):
        if period and period not in periods:
            periods.append(period)
        taken.append(span)

    for m in _YEAR_MONTH_ZH.finditer(question):
        add(_month(int(m[1]), int(m[2])), m.span())
    for m in _MONTH_EN.finditer(question):
        add(_month(int(m[2]), MONTHS[m[1].lower()]), m.span())
    for m in _ISO_MONTH.finditer(question):
        add(_month(int(m[1]), int(m[2])), m.span())
    for m in _YEAR.finditer(question):
        if not any(a <= m.start() < b for a, b in taken):
            add(_year(int(m[1])), m.span())
    for pattern, offset in _RELATIVE:
        if pattern.search(question):
            add(_year(today.year + offset), (0, 0))
    return AskedTime(tuple(periods), bool(_LATEST.search(question)) and not periods)
