"""Read article files (``.txt``, ``.md``, ``.html``, ``.pdf``, ``.docx``) into LangChain ``Document``s, one per
section. A PDF's page breaks are kept (``Article.pages``), so that a citation can say its page.

A document's id is the label of the folder it was indexed from, then its path relative to that
folder: ``seeds/000_714598442bb43c6e.txt``. A folder's label is its name, made unique within the
index (``articles``, ``articles-2``); a file given on its own belongs to its parent folder, and the
chat page's uploads to ``uploads/``. So two folders holding ``x.txt`` never replace each other's
article. Files that cannot be read are skipped with a warning that names them; the rest are still read.
"""

from __future__ import annotations

import codecs
import hashlib
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from langchain_core.documents import Document

from rag.cleaning import clean_article, parse_date

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = {".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx"}
SUPPORTED_TYPES = "use .txt, .md, .html, .pdf or .docx"
# A news article is rarely over 1 MB; a 50 MB "article" would take hours to embed. Larger files are
# skipped with a message, before anything is read. RAG_MAX_FILE_MB raises the limit.
MAX_FILE_BYTES = int(float(os.environ.get("RAG_MAX_FILE_MB", "10")) * 1024 * 1024)
MIN_WORD_SHARE = 0.25  # below this share of letters, digits and CJK characters a file is markup debris, not prose


class UnreadableFileError(ValueError):
    """The file is not text we can decode, or not a supported type."""


@dataclass
class SourceFile:
    """A file to index, with the id it will have and the folder it was found under."""

    path: Path
    doc_id: str
    root: Path


@dataclass
class Article:
    """A cleaned article: its sections as ``Document``s, and the text their offsets point into."""

    doc_id: str
    title: str
    date: str | None
    text: str
    sha256: str
    sections: list[Document]
    pages: list[int] | None = None  # a PDF's: where each page starts in ``text`` (page 1 first)
    about: dict = field(default_factory=dict)  # a web page's author, site and language, when found


UPLOADS_LABEL = "uploads"  # the chat page's uploads (INDEX_DIR/uploads) and nothing else


class RootLabels:
    """Unique, stable labels for the folders an index holds documents from: the first part of a doc id.

    >>> import tempfile
    >>> a, b = Path(tempfile.mkdtemp(), "news"), Path(tempfile.mkdtemp(), "news")
    >>> a.mkdir(); b.mkdir()
    >>> labels = RootLabels()
    >>> labels.label(a), labels.label(b), labels.label(a)
    ('news', 'news-2', 'news')

    A folder whose recorded location no longer exists (the index moved to another machine) hands its
    label to the first folder of the same name indexed from elsewhere; ``moved`` records the change.
    """

    def __init__(self, known: dict[str, str] | None = None, *, uploads: Path | None = None):
        self.by_label: dict[str, str] = dict(known or {})
        self.moved: dict[str, str] = {}  # recorded root that no longer exists -> the folder now indexed in its place
        self._uploads = str(Path(uploads).resolve()) if uploads is not None else None

    def label(self, root: Path) -> str:
        root_text = str(root)
        for label, path in self.by_label.items():
            if path == root_text:
                return label
        if root_text == self._uploads:
            base = UPLOADS_LABEL
        else:
            base = re.sub(r"[^\w.\-]+", "_", root.name).strip("._") or "files"
            base = f"{base}-folder" if base == UPLOADS_LABEL else base
        label, n = base, 1
        while label in self.by_label:
            if base != UPLOADS_LABEL and not Path(self.by_label[label]).is_dir():
                self.moved[self.by_label[label]] = root_text
                break
            n += 1
            label = f"{base}-{n}"
        self.by_label[label] = root_text
        return label


@dataclass(frozen=True)
class Skipped:
    """A file (or folder) that was not indexed, and why.

    >>> str(Skipped(Path("/news/a.odt"), f"unsupported file type ({SUPPORTED_TYPES})"))
    'skipped /news/a.odt: unsupported file type (use .txt, .md, .html, .pdf or .docx)'
    """

    path: Path
    reason: str

    def __str__(self) -> str:
        return f"skipped {_shown(self.path)}: {self.reason}"


def find_source_files(paths, labels: RootLabels | None = None) -> tuple[list[SourceFile], list[Skipped], list[Path]]:
    """Expand files and folders into the supported files under them, each with its doc id.

    ``labels`` holds the folder labels the index already uses (new folders get new ones).
    Returns the files, what was skipped with the reason (missing paths, unsupported files given by name,
    folders that could not be listed, file names that are not valid UTF-8, hidden files), and the folders
    that could not be listed: what was indexed from them is not to be taken for deleted.
    """
    labels = labels if labels is not None else RootLabels()
    files: list[SourceFile] = []
    warnings: list[Skipped] = []
    unreadable: list[Path] = []
    for given in paths:
        path = Path(given).expanduser()
        if path.is_dir():
            root = path.resolve()
            label = labels.label(root)
            for f in _walk(root, warnings, unreadable):
                if f.suffix.lower() not in SUPPORTED_SUFFIXES:
                    continue
                if not _utf8_name(f, warnings):
                    continue
                if not f.resolve().is_relative_to(root):
                    # a link inside the folder to a file elsewhere (/etc/…, another user's files)
                    warnings.append(Skipped(f, f"a link pointing outside {root}"))
                    continue
                files.append(SourceFile(f, f"{label}/{f.relative_to(root).as_posix()}", root))
        elif path.is_file():
            if not _utf8_name(path, warnings):
                continue
            if path.suffix.lower() not in SUPPORTED_SUFFIXES:
                warnings.append(Skipped(path, f"unsupported file type ({SUPPORTED_TYPES})"))
                continue
            parent = path.resolve().parent
            files.append(SourceFile(path.resolve(), f"{labels.label(parent)}/{path.name}", parent))
        else:
            warnings.append(Skipped(path, "no such file or folder"))
    return files, warnings, unreadable


def _walk(root: Path, warnings: list[Skipped], unreadable: list[Path]) -> list[Path]:
    """The files under ``root``, sorted; a folder that cannot be listed is reported, not skipped silently."""
    def cannot_list(error: OSError) -> None:
        folder = Path(error.filename)
        unreadable.append(folder)
        warnings.append(Skipped(folder, f"could not read the folder ({error.strerror}): its articles already in "
                                        "the index are kept"))

    found, hidden = [], 0
    for folder, subfolders, names in os.walk(root, onerror=cannot_list):
        hidden += sum(d.startswith(".") for d in subfolders) + sum(n.startswith(".") for n in names)
        subfolders[:] = [d for d in subfolders if not d.startswith(".")]
        found.extend(Path(folder, name) for name in names if not name.startswith("."))
    if hidden:
        warnings.append(Skipped(root, f"{hidden} hidden file(s) or folder(s) in it (names starting with '.')"))
    return sorted(f for f in found if f.is_file())


def _utf8_name(path: Path, warnings: list[Skipped]) -> bool:
    """Is the path valid UTF-8? (Ids and the index's JSON need it.) Else warn, naming its bytes escaped."""
    try:
        str(path).encode("utf-8")
        return True
    except UnicodeEncodeError:
        warnings.append(Skipped(path, "its name is not valid UTF-8 (rename it to index it)"))
        return False


def _shown(path: Path) -> str:
    """A path for a message: undecodable bytes escaped (``\\xff``) rather than failing to print."""
    return os.fsencode(path).decode("utf-8", errors="backslashreplace")


def decode_bytes(data: bytes) -> str:
    """Decode UTF-8 (with or without BOM), UTF-16/32 with a BOM, GB18030/GBK or Big5; refuse binary data.

    >>> decode_bytes("谅山省".encode("gb18030")), decode_bytes("谅山省".encode("utf-16"))
    ('谅山省', '谅山省')
    >>> decode_bytes("諒山省與中國廣西的邊境貿易。".encode("big5"))  # also "valid" GB18030: 教籔い…
    '諒山省與中國廣西的邊境貿易。'
    """
    for bom, encoding in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                          (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):  # Windows editors save "Unicode" text as UTF-16 with a byte-order mark
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise UnreadableFileError(f"not valid {encoding.upper()} ({exc.reason})") from exc
    if b"\x00" in data[:8192]:
        raise UnreadableFileError("binary data (NUL bytes)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    repaired = data.decode("utf-8-sig", errors="replace")
    bad = repaired.count("\ufffd")
    if bad <= len(repaired) // 20:  # GBK read as UTF-8 breaks nearly every character, not one in twenty
        # UTF-8 with a few broken bytes (a cut download, a bad copy): GB18030 would turn it all into nonsense
        log.warning("%d byte sequence(s) were not valid UTF-8 and are shown as \ufffd", bad)
        return repaired
    from charset_normalizer import from_bytes

    readings = {}
    for encoding in ("gb18030", "big5"):
        try:
            readings[encoding] = data.decode(encoding)
        except UnicodeDecodeError:
            pass
    if len(readings) == 2:  # Big5 bytes also "decode" as GB18030, into nonsense: ask which reads as language
        chaos = {m.encoding: m.chaos for m in from_bytes(data, cp_isolation=["gb18030", "big5"])}
        big5 = chaos.get("big5", 1.0) < chaos.get("gb18030", 1.0)  # a tie (a few characters) stays GB18030
        return readings["big5" if big5 else "gb18030"]
    if readings:
        return next(iter(readings.values()))
    best = from_bytes(data).best()
    if best is None:
        raise UnreadableFileError("not text in a known encoding")
    return str(best)


MAX_EXTRACTED_ELEMENTS = 20_000  # a news page has a few thousand; beyond this the page is read whole (below)
MIN_MAIN_CHARS = 20  # main text shorter than this is taken for a miss, and the page is read whole
_RELATED_BLOCK = re.compile(r"relat|xiangguan|tuijian|recommend|more-?news|read-?more", re.I)


class WebPage(NamedTuple):
    text: str
    title: str | None
    date: str | None
    author: str | None = None
    site: str | None = None
    language: str | None = None


def web_page_text(html: str) -> WebPage:
    """A web page's article: its main text (trafilatura: navigation, cookie banners, share bars, footers and
    sidebars left out), then its related-news links after a "相关新闻" line, so that they stay searchable as
    ``section="related"`` (``rag.cleaning``); its title and date (trafilatura's, which reads meta tags, JSON-LD
    and the text; else the page's own ``<h1>``/``<title>`` and date meta tags); its author, site name and
    language when trafilatura finds them. Returns a ``WebPage``.

    A page trafilatura finds no main text in, or one too large or too deep to hand it, is read whole by
    ``html_to_text``. Plain-text scrapes (``.txt``, like the seeds) never come here.

    >>> page = ("<html><head><title>T</title></head><body><ul class='nav'><li><a href='/'>首页</a></li></ul>"
    ...         "<article><h1>智慧口岸</h1><p>该项目预计于2024年12月底建成投入使用，旨在实现货物通关“不等待”。</p></article>"
    ...         "<div class='related'><a href='/1'>谅山省推进边境经济区建设</a></div></body></html>")
    >>> found = web_page_text(page)
    >>> print(found.text)
    智慧口岸
    <BLANKLINE>
    该项目预计于2024年12月底建成投入使用，旨在实现货物通关“不等待”。
    <BLANKLINE>
    相关新闻
    谅山省推进边境经济区建设
    >>> found.title
    '智慧口岸'
    """
    import lxml.etree
    import lxml.html

    if _HUGE_TAG.search(html):
        return WebPage(*html_to_text(html))
    parser = lxml.html.HTMLParser(encoding="utf-8", huge_tree=True, remove_comments=True, remove_pis=True)
    root = lxml.etree.fromstring(html.encode("utf-8", "replace"), parser)
    if root is None or any("Excessive depth" in error.message for error in parser.error_log):
        return WebPage(*html_to_text(html))
    if sum(1 for _ in root.iter()) > MAX_EXTRACTED_ELEMENTS:
        return WebPage(*_whole_page(root))  # the tree is read as it is (trafilatura has not touched it)
    related = _related_links(root)
    own_title, own_date = _first_text(root, "h1") or _first_text(root, "title"), _meta_date(root)
    import trafilatura

    found = trafilatura.bare_extraction(root, with_metadata=True, include_comments=False, include_tables=True,
                                        favor_precision=True)
    main = (found.text or "").strip() if found is not None else ""
    if len(main) < MIN_MAIN_CHARS:
        return WebPage(*html_to_text(html))
    paragraphs = [line.strip() for line in main.split("\n") if line.strip()]
    text = "\n\n".join(paragraphs)
    if related:
        text += "\n\n相关新闻\n" + "\n".join(related)
    date = parse_date(found.date[:10]) if found.date else None
    return WebPage(text, found.title or own_title, date or own_date, found.author or None, found.sitename or None,
                   found.language or None)


def _related_links(root) -> list[str]:
    """The link texts of the page's related-news blocks: an element whose class or id says so ("related",
    "xiangguan", "recommend"…), or whose heading is a related-news marker ("相关新闻", "Related")."""
    from rag.cleaning import RELATED_MARKERS

    blocks = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        marks = f"{element.get('class', '')} {element.get('id', '')}"
        if _RELATED_BLOCK.search(marks):
            blocks.append(element)
        elif element.tag in ("h2", "h3", "h4", "h5") and element.text_content().strip().strip(":：").lower() in RELATED_MARKERS:
            if element.getparent() is not None:
                blocks.append(element.getparent())
    out: list[str] = []
    for block in blocks:
        for link in block.iter("a"):
            text = " ".join(link.text_content().split())
            if len(text) >= 4 and text not in out:
                out.append(text)
    return out[:30]


def _meta_date(root) -> str | None:
    for attribute, value in (("property", "article:published_time"), ("name", "date"), ("name", "pubdate")):
        content = next((m.get("content") for m in root.iter("meta") if m.get(attribute) == value), None)
        if content:
            return parse_date(content[:10])
    return None


def html_to_text(html: str) -> tuple[str, str | None, str | None]:
    """Reduce an HTML page to text, all of it; return ``(text, title, date)``. Scripts, styles and the head are
    dropped. (``web_page_text`` keeps only the article; this is its fallback.)

    libxml2 (through lxml) parses in C in time linear in the page: 5 MB of hostile markup (unclosed comments,
    a million unclosed tags) takes well under a second (``bench/redteam.py``). A page nested deeper than
    libxml2's limit is read by the streaming reader below instead, which keeps no tree; so is a page with a
    tag of more than 10,000 characters, since libxml2 checks each attribute against all the tag's others
    (40,000 attributes: 1.5 s; 480,000: minutes).

    >>> html_to_text("<html><head><title>T</title></head><body><h1>智慧口岸</h1><p>一</p>二<br>三</body></html>")
    ('\\n智慧口岸\\n\\n一\\n二\\n\\n三', '智慧口岸', None)
    """
    import lxml.etree
    import lxml.html

    if _HUGE_TAG.search(html):
        return _stream_text(html), None, None
    parser = lxml.html.HTMLParser(encoding="utf-8", huge_tree=True, remove_comments=True, remove_pis=True)
    root = lxml.etree.fromstring(html.encode("utf-8", "replace"), parser)
    if any("Excessive depth" in error.message for error in parser.error_log):
        return _stream_text(html), None, None
    if root is None:
        return "", None, None
    return _whole_page(root)


def _whole_page(root) -> tuple[str, str | None, str | None]:
    """``html_to_text`` of a parsed page."""
    title = _first_text(root, "h1") or _first_text(root, "title")
    return _text_with_breaks(root), title, _meta_date(root)


# a tag 10,000 characters long; each try stops at the next "<" or ">", so the search is linear in the page
_HUGE_TAG = re.compile(r"<[A-Za-z][^<>]{10000}")
_BLOCKS = frozenset(("p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "section", "article"))
_DROPPED = frozenset(("head", "script", "style", "noscript", "template", "iframe", "svg"))
_STREAM_DROPPED = _DROPPED - {"head"}


def _first_text(root, tag: str) -> str | None:
    for element in root.iter(tag):
        text = " ".join(part.strip() for part in element.itertext() if part.strip())
        if text:
            return text
    return None


def _text_with_breaks(root) -> str:
    """The tree's text with a line break around each block element, in one pass (lxml's ``iterwalk``, no
    recursion, so nesting depth costs nothing extra)."""
    import lxml.etree

    out: list[str] = []
    walker = lxml.etree.iterwalk(root, events=("start", "end"))
    for event, element in walker:
        tag = element.tag if isinstance(element.tag, str) else ""
        if event == "start":
            if tag in _DROPPED:
                walker.skip_subtree()
                continue
            if tag in _BLOCKS:
                out.append("\n")
            out.append(element.text or "")
        else:
            if tag in _BLOCKS:
                out.append("\n")
            out.append(element.tail or "")
    return "".join(out)


def _stream_text(html: str) -> str:
    """Text of a page libxml2 should not build a tree of (too deep, or a huge tag): Python's streaming HTML
    parser, after comments are cut out in one linear scan (the parser itself rescans an unclosed comment
    quadratically). ``<head>`` is read, not dropped: without a tree, an unclosed one would swallow the page.

    >>> _stream_text("<div>" * 3000 + "一<!-- 注释 -->二<p>三<script>x</script>" + "<!--" * 5).strip()
    '一二\\n三'
    """
    from html.parser import HTMLParser

    kept, at = [], 0
    while (start := html.find("<!--", at)) >= 0:
        kept.append(html[at:start])
        end = html.find("-->", start + 4)
        at = len(html) if end < 0 else end + 3
    kept.append(html[at:])

    out: list[str] = []
    dropped = 0

    class _Reader(HTMLParser):
        def handle_starttag(self, tag, attrs):
            nonlocal dropped
            if tag in _STREAM_DROPPED:
                dropped += 1
            elif tag in _BLOCKS and not dropped:
                out.append("\n")

        def handle_endtag(self, tag):
            nonlocal dropped
            if tag in _STREAM_DROPPED:
                dropped = max(0, dropped - 1)
            elif tag in _BLOCKS and not dropped:
                out.append("\n")

        def handle_data(self, data):
            if not dropped:
                out.append(data)

    reader = _Reader(convert_charrefs=True)
    reader.feed("".join(kept))
    reader.close()
    return "".join(out)


_MD_SYNTAX = [
    (re.compile(r"^\s{0,3}#{1,6}\s*", re.M), ""),  # headings
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),  # images -> alt text
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # links -> their text
    (re.compile(r"(\*\*|__)(.+?)\1"), r"\2"),  # bold
    (re.compile(r"^\s{0,3}>\s?", re.M), ""),  # block quotes
]


def markdown_to_text(md: str) -> str:
    for pattern, repl in _MD_SYNTAX:
        md = pattern.sub(repl, md)
    return md


def read_article(source: SourceFile) -> Article:
    """Read, decode and clean one file. Raises ``UnreadableFileError`` with the reason."""
    try:
        size = source.path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise UnreadableFileError(
                f"{size / 2**20:.0f} MB is larger than the {MAX_FILE_BYTES / 2**20:.0f} MB limit for one article; "
                f"split it into articles, or raise RAG_MAX_FILE_MB")
        data = source.path.read_bytes()
    except OSError as exc:
        raise UnreadableFileError(exc.strerror or str(exc)) from exc
    title = date = None
    page_texts = None
    about: dict = {}
    suffix = source.path.suffix.lower()
    if suffix == ".pdf":
        page_texts, title, date = pdf_pages(data)
        text = "\n\n".join(page_texts)
    elif suffix == ".docx":
        text, title, date = docx_text(data)
    else:
        text = decode_bytes(data)
    if suffix in (".html", ".htm"):
        page = web_page_text(text)
        text, title, date = page.text, page.title, page.date
        about = {k: v for k, v in (("author", page.author), ("site", page.site), ("language", page.language)) if v}
    elif suffix in (".md", ".markdown"):
        text = markdown_to_text(text)
    cleaned = clean_article(text, title=title, date=date)
    if not cleaned.text.strip():
        raise UnreadableFileError("no text layer (a scanned PDF?)" if suffix == ".pdf" else "no text after cleaning")
    words = sum(c.isalnum() for c in cleaned.text)
    if words < MIN_WORD_SHARE * len(cleaned.text):  # Chinese news: ~85% of characters; English: ~80%
        raise UnreadableFileError(f"not article text: only {words / len(cleaned.text):.0%} of its characters are "
                                  f"letters, digits or CJK")
    sections = [
        Document(
            page_content=s.text,
            metadata={
                "doc_id": source.doc_id,
                "title": cleaned.title,
                "date": cleaned.date,
                "section": s.name,
                "start": s.start,
                "end": s.start + len(s.text),
            },
        )
        for s in cleaned.sections
    ]
    return Article(
        doc_id=source.doc_id,
        title=cleaned.title,
        date=cleaned.date,
        text=cleaned.text,
        sha256=hashlib.sha256(data).hexdigest(),
        sections=sections,
        pages=page_starts(page_texts, cleaned.text) if page_texts else None,
        about=about,
    )


def pdf_pages(data: bytes) -> tuple[list[str], str | None, str | None]:
    """A PDF's text, page by page (pypdf), with its title and creation date from its metadata."""
    import io

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise UnreadableFileError("the PDF is encrypted")
        pages = [page.extract_text() or "" for page in reader.pages]
        meta = reader.metadata
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise UnreadableFileError(f"not a readable PDF ({exc})") from None
    title = (meta.title or "").strip() if meta else ""
    created = meta.creation_date if meta else None
    return pages, title or None, created.strftime("%Y-%m-%d") if created else None


def docx_text(data: bytes) -> tuple[str, str | None, str | None]:
    """A Word document's paragraphs (python-docx), with its title and creation date from its properties."""
    import io
    import zipfile

    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise UnreadableFileError(f"not a readable .docx ({exc})") from None
    text = "\n\n".join(p.text for p in document.paragraphs if p.text.strip())
    props = document.core_properties
    return text, (props.title or "").strip() or None, props.created.strftime("%Y-%m-%d") if props.created else None


def page_starts(page_texts: list[str], text: str) -> list[int]:
    """Where each page begins in the cleaned ``text``: its first line found after the previous page's start
    (a page whose text the cleaning dropped starts where the next one does).

    >>> page_starts(["第一页\\n内容", "", "第三页"], "第一页\\n内容\\n\\n第三页")
    [0, 8, 8]
    """
    starts: list[int | None] = []
    at = 0
    for page in page_texts:
        first = next((line.strip() for line in page.splitlines() if line.strip()), None)
        found = text.find(first, at) if first else -1
        if found >= 0:
            at = found
        starts.append(found if found >= 0 else None)
    out, following = [], len(text)
    for start in reversed(starts):
        following = start if start is not None else following
        out.append(following)
    out.reverse()
    out[0] = 0
    return out


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
