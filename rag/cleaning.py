"""Turn the text of a scraped news page into a clean article: title, date, main body, related blocks.

Scraped pages repeat image captions, carry a ``12:17 | 11/12/2023`` time stamp and
end with blocks of links to other stories (相关新闻, 更多, "Related news"). Those
blocks stay searchable but are marked ``section="related"`` so the answerer can
prefer the article itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

RELATED_MARKERS = {
    "相关新闻", "相关阅读", "相关文章", "相关报道", "延伸阅读", "更多", "更多新闻", "推荐阅读", "热点新闻",
    "related", "related news", "related articles", "related stories", "read more", "more", "more news",
    "see also", "you may also like",
}

# 12:17 | 11/12/2023 — Vietnamese sites write day/month/year.
_DMY_STAMP = re.compile(r"(?:\d{1,2}:\d{2}\s*\|\s*)?\b(\d{1,2})/(\d{1,2})/(\d{4})\b")
_ISO_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)")
_YMD_SLASH = re.compile(r"(?<!\d)(\d{4})/(\d{1,2})/(\d{1,2})(?!\d)")  # 2024/12/30, as Chinese sites write it
_CN_DATE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")
_DATE_LINE = re.compile(
    r"^\s*(?:\d{1,2}:\d{2}\s*\|\s*)?(?:\d{1,2}/\d{1,2}/\d{4}|\d{4}/\d{1,2}/\d{1,2}|\d{4}-\d{1,2}-\d{1,2}|\d{4}年\d{1,2}月\d{1,2}日)"
    r"(?:\s*\|?\s*\d{1,2}:\d{2})?\s*$"
)
_HEADER_LINES = 8  # a publication date is looked for near the top only


@dataclass
class Section:
    name: str  # "main" or "related"
    text: str
    start: int  # offset of ``text`` in the article's cleaned text


@dataclass
class CleanArticle:
    title: str
    date: str | None
    text: str
    sections: list[Section] = field(default_factory=list)


def parse_date(line: str) -> str | None:
    """Find a date in ``line`` and return it as ``YYYY-MM-DD``.

    >>> parse_date("12:17 | 11/12/2023")
    '2023-12-11'
    >>> parse_date("发布时间：2024年5月6日")
    '2024-05-06'
    >>> parse_date("2024/12/30 09:15")
    '2024-12-30'
    """
    for pattern, order in ((_DMY_STAMP, "dmy"), (_ISO_DATE, "ymd"), (_YMD_SLASH, "ymd"), (_CN_DATE, "ymd")):
        m = pattern.search(line)
        if not m:
            continue
        a, b, c = (int(x) for x in m.groups())
        day, month, year = (a, b, c) if order == "dmy" else (c, b, a)
        if 1 <= month <= 12 and 1 <= day <= 31:
            return f"{year:04d}-{month:02d}-{day:02d}"
    return None


def _is_related_marker(line: str) -> bool:
    return line.strip().strip(":：»>").strip().lower() in RELATED_MARKERS


def drop_repeated_lines(lines: list[str]) -> list[str]:
    """Drop a line equal to the previous non-blank line (scrapers repeat captions and link titles)."""
    out: list[str] = []
    previous = None
    for line in lines:
        key = line.strip()
        if key and key == previous:
            continue
        out.append(line)
        if key:
            previous = key
    return out


def clean_article(raw_text: str, *, title: str | None = None, date: str | None = None) -> CleanArticle:
    """Clean scraped article text.

    ``title``/``date`` override what is found in the text (HTML pages supply them).
    The returned ``text`` is the article as stored in the index: every chunk and
    citation offset points into it.
    """
    text = raw_text.replace("\r\n", "\n").replace("\r", "\n").replace("\u3000", " ")
    text = re.sub(r"[\u200b\u200c\u200d\u2060\ufeff]", "", text)
    text = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", text)
    lines = [line.rstrip() for line in text.split("\n")]
    lines = drop_repeated_lines(lines)

    found_date = None
    kept: list[str] = []
    nonblank_seen = 0
    for line in lines:
        if line.strip():
            nonblank_seen += 1
        if nonblank_seen <= _HEADER_LINES and _DATE_LINE.match(line):
            found_date = found_date or parse_date(line)
            continue  # a bare time stamp is not article text
        kept.append(line)
    if found_date is None:
        for line in [ln for ln in kept if ln.strip()][:_HEADER_LINES]:
            if len(line) < 60 and (found_date := parse_date(line)):
                break

    body = re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()
    if title is None:
        title = find_title(body)

    sections = _split_sections(body)
    return CleanArticle(title=title, date=date or found_date, text=body, sections=sections)


MAX_TITLE_CHARS = 80


def find_title(body: str) -> str:
    """The first line when it reads as a headline: short, with the article after it. Else no title.

    >>> find_title("越中关系发展\\n\\n谅山省与广西的合作……")
    '越中关系发展'
    >>> find_title("黑豹队的防守只丢了 308 分，在联盟中排名第六，同时也以 24 次拦截领先国家橄榄球联盟 (NFL)，成为职业碗的四位选手之一。")
    ''
    """
    lines = [ln.strip() for ln in body.split("\n") if ln.strip()]
    if len(lines) < 2:
        return ""
    first = lines[0].lstrip("#").strip()
    return first if len(first) <= MAX_TITLE_CHARS else ""


def _split_sections(body: str) -> list[Section]:
    """Main text up to the first related-news marker line; everything after is ``related``."""
    offset = 0
    for line in body.split("\n"):
        if _is_related_marker(line) and offset > 0:
            main = body[:offset].rstrip()
            related_start = offset + len(line) + 1
            related = body[related_start:]
            lead = len(related) - len(related.lstrip())
            sections = [Section("main", main, 0)]
            if related.strip():
                sections.append(Section("related", related.strip(), related_start + lead))
            return sections
        offset += len(line) + 1
    return [Section("main", body, 0)]
