"""Which documents a question may be answered from: a date range and a source.

A date bound may be a day, a month or a year ("2024" as ``date_from`` means from 1 January 2024, as
``date_to`` up to 31 December 2024); both ends are included. A document without a date is left out when a
date bound is given: nothing says it falls inside. ``source`` names the folder label a document was indexed
from (the first part of its id: ``seeds`` in ``seeds/000_….txt``, ``uploads`` for the page's uploads); several
may be given, comma-separated.

>>> f = Filters.of(date_from="2023-12", date_to="2024")
>>> f.date_from, f.date_to
('2023-12-01', '2024-12-31')
>>> f.allows({"doc_id": "seeds/a.txt", "date": "2023-12-11"}), f.allows({"doc_id": "seeds/b.txt", "date": None})
(True, False)
>>> Filters.of(source="seeds").allows({"doc_id": "uploads/x.txt", "date": "2024-01-01"})
False
>>> Filters.of(date_from="yesterday")
Traceback (most recent call last):
...
ValueError: date_from must be a date as YYYY-MM-DD, YYYY-MM or YYYY, got 'yesterday'
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass

_DATE = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")


def _bound(value, name: str, *, end: bool) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = str(value).strip()
    match = _DATE.fullmatch(text)
    try:
        if not match:
            raise ValueError
        year, month, day = int(match[1]), int(match[2] or (12 if end else 1)), match[3]
        last = calendar.monthrange(year, month)[1]
        day = int(day) if day else (last if end else 1)
        if not 1 <= day <= last:
            raise ValueError
    except (ValueError, calendar.IllegalMonthError):
        raise ValueError(f"{name} must be a date as YYYY-MM-DD, YYYY-MM or YYYY, got {text!r}") from None
    return f"{year:04d}-{month:02d}-{day:02d}"


@dataclass(frozen=True)
class Filters:
    date_from: str | None = None  # YYYY-MM-DD, included
    date_to: str | None = None  # YYYY-MM-DD, included
    sources: tuple[str, ...] = ()

    @classmethod
    def of(cls, *, date_from=None, date_to=None, source=None) -> "Filters":
        """Read the bounds users give (``ValueError`` with what is wrong); ``source``: a label, a comma-separated
        list or a list."""
        start, end = _bound(date_from, "date_from", end=False), _bound(date_to, "date_to", end=True)
        if start and end and start > end:
            raise ValueError(f"date_from ({start}) is after date_to ({end})")
        if source is None:
            sources: tuple[str, ...] = ()
        elif isinstance(source, str):
            sources = tuple(s.strip().strip("/") for s in source.split(",") if s.strip())
        elif isinstance(source, (list, tuple)) and all(isinstance(s, str) for s in source):
            sources = tuple(s.strip().strip("/") for s in source if s.strip())
        else:
            raise ValueError("source must be a folder label or a list of them")
        return cls(start, end, sources)

    def __bool__(self) -> bool:
        return bool(self.date_from or self.date_to or self.sources)

    def allows(self, record: dict) -> bool:
        """May a chunk (or document) with this record (``doc_id``, ``date``) be used?"""
        if self.sources and record["doc_id"].split("/", 1)[0] not in self.sources:
            return False
        if self.date_from or self.date_to:
            date = (record.get("date") or "")[:10]
            if not date:
                return False
            if (self.date_from and date < self.date_from) or (self.date_to and date > self.date_to):
                return False
        return True

    def describe(self) -> str:
        """How the filters read in a note: "documents dated 2024-01-01 to 2024-12-31 from seeds"."""
        parts = []
        if self.date_from and self.date_to:
            parts.append(f"dated {self.date_from} to {self.date_to}")
        elif self.date_from:
            parts.append(f"dated {self.date_from} or later")
        elif self.date_to:
            parts.append(f"dated {self.date_to} or earlier")
        if self.sources:
            parts.append(f"from {', '.join(self.sources)}")
        return "documents " + " ".join(parts)
