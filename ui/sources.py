"""The sources panel as HTML. Article text is always escaped: it is shown as text, never run as HTML."""

from __future__ import annotations

import re
from html import escape
from urllib.parse import quote as url_quote
from urllib.parse import unquote

from rag import Answer, Citation, Passage

STYLE = """
<style>
.rag-sources {font-family: "Noto Sans CJK SC", "Noto Sans", sans-serif; line-height: 1.6}
.rag-source {border: 1px solid #ddd; border-radius: 8px; padding: 8px 12px; margin: 8px 0}
.rag-source .meta {color: #666; font-size: 0.85em}
.rag-source mark {background: #ffe58a; padding: 0 2px}
.rag-sources details {margin-top: 8px}
a.rag-cite {text-decoration: none; font-weight: 600}
.rag-article {max-height: 480px; overflow-y: auto; white-space: pre-wrap; line-height: 1.7;
  font-family: "Noto Sans CJK SC", "Noto Sans", sans-serif; border: 1px solid #ddd; border-radius: 8px; padding: 8px 12px}
.rag-article mark {background: #ffe58a}
</style>
"""


SCORE_HELP = ("rank: the passage's place among the retrieved passages (dense and BM25 fused); similarity: "
              "cosine similarity of the question's and the passage's embeddings, on the same scale for every passage")


def _meta(doc_id: str, title: str, date: str | None, rank: int | None, passage: Passage | None,
          page: int | None = None) -> str:
    parts = [escape(title or doc_id), escape(date or "no date"), escape(doc_id)] + ([f"p. {int(page)}"] if page else [])
    if passage is not None:
        parts.append(f'<span class="score" title="{escape(SCORE_HELP)}">rank {rank} · '
                     f"similarity {passage.dense_score:.2f}</span>")
    return " · ".join(parts)


def _highlight(passage: str, quote: str) -> str:
    at = passage.find(quote) if quote else -1
    if at < 0:
        return escape(passage)
    return escape(passage[:at]) + "<mark>" + escape(quote) + "</mark>" + escape(passage[at + len(quote):])


def render_sources(answer: Answer | None, turn: int | None = None) -> str:
    """Cited passages with the quote highlighted; the other retrieved passages folded away. ``turn`` (the
    chat's length) marks which turn the panel belongs to (``data-turn``), so that a script can tell a new
    answer's panel from the last one's."""
    mark = f' data-turn="{int(turn)}"' if turn is not None else ""
    if answer is None:
        return STYLE + f'<div class="rag-sources"{mark}><p>Sources appear here after you ask.</p></div>'
    blocks = []
    ranked = {p.chunk_id: (rank, p) for rank, p in enumerate(answer.passages, 1)}
    for c in answer.citations:
        rank, passage = ranked.get(c.chunk_id, (None, None))
        blocks.append(
            f'<div class="rag-source cited" data-n="{c.n}"><div class="meta">{cite_link(c)} '
            f'{_meta(c.doc_id, c.title, c.date, rank, passage, c.page)}'
            f'</div><div class="text">{_highlight(c.text, c.quote)}</div></div>'
        )
    if answer.refused:
        blocks.append("<p>No passage answers this question.</p>")
    cited_chunks = {c.chunk_id for c in answer.citations}
    others = [p for p in answer.passages if p.chunk_id not in cited_chunks]
    if others:
        rows = "".join(
            f'<div class="rag-source"><div class="meta">{_meta(p.doc_id, p.title, p.date, *ranked[p.chunk_id])}'
            f'</div><div class="text">{escape(p.text)}</div></div>'
            for p in others
        )
        blocks.append(f"<details><summary>Other retrieved passages ({len(others)})</summary>{rows}</details>")
    notes = "".join(f"<p class='note'>{escape(n)}</p>" for n in answer.notes)
    return STYLE + f'<div class="rag-sources"{mark}>{notes}{"".join(blocks)}</div>'


CITE_PREFIX = "#cite:"  # a marker's link: #cite:<doc id, URL-quoted>:<start>:<end>; the page opens the article


def cite_link(c: Citation) -> str:
    """``[n]`` as a link that opens the cited article at the quote (the page's script reads the href).

    >>> cite_link(Citation(n=1, doc_id="seeds/a b.txt", title="", date=None, section="main", quote="q",
    ...                    text="q", score=1.0, start=3, end=4, chunk_id=0))
    '<a class="rag-cite" href="#cite:seeds/a%20b.txt:3:4" title="Open the article at this quote">[1]</a>'
    """
    return (f'<a class="rag-cite" href="{CITE_PREFIX}{url_quote(c.doc_id)}:{int(c.start)}:{int(c.end)}" '
            f'title="Open the article at this quote">[{c.n}]</a>')


def link_markers(escaped_text: str, citations: list[Citation]) -> str:
    """Each ``[n]`` of an answer already HTML-escaped, as a link to its citation; other brackets stay text.

    >>> c = Citation(n=1, doc_id="d.txt", title="", date=None, section="main", quote="q", text="q", score=1.0,
    ...              start=0, end=1, chunk_id=0)
    >>> link_markers("Yes. [1] [2]", [c])
    'Yes. <a class="rag-cite" href="#cite:d.txt:0:1" title="Open the article at this quote">[1]</a> [2]'
    """
    by_n = {c.n: c for c in citations}
    return re.sub(r"\[(\d+)\]", lambda m: cite_link(by_n[int(m[1])]) if int(m[1]) in by_n else m[0], escaped_text)


def parse_cite(request: str) -> tuple[str, int | None, int | None]:
    """A marker link's target (after ``#cite:``), ``doc id:start:end``, as ``(doc_id, start, end)``; without
    offsets, the whole article.

    >>> parse_cite("seeds/a%20b.txt:3:4"), parse_cite("uploads/x.txt")
    (('seeds/a b.txt', 3, 4), ('uploads/x.txt', None, None))
    """
    m = re.fullmatch(r"(.+):(\d+):(\d+)", request)
    if m:
        return unquote(m[1]), int(m[2]), int(m[3])
    return unquote(request), None, None


def render_article(document: dict | None, start: int | None = None, end: int | None = None) -> str:
    """The whole article, escaped, with ``text[start:end]`` marked (``id="rag-quote"``, scrolled to by the page).

    >>> html = render_article({"doc_id": "d.txt", "title": "<T>", "date": None, "text": "前文。该项目建成。后文"}, 3, 9)
    >>> html.endswith('前文。<mark id="rag-quote">该项目建成。</mark>后文</div></div>'), "&lt;T&gt;" in html
    (True, True)
    """
    if document is None:
        return STYLE + '<div class="rag-sources"><p>That article is not in the index (any more).</p></div>'
    text = document["text"]
    if start is not None and end is not None and 0 <= start < end <= len(text):
        body = escape(text[:start]) + '<mark id="rag-quote">' + escape(text[start:end]) + "</mark>" + escape(text[end:])
    else:
        body = escape(text)
    head = " · ".join([escape(document.get("title") or document["doc_id"]), escape(document.get("date") or "no date"),
                       escape(document["doc_id"])])
    return STYLE + f'<div class="rag-sources"><div class="meta">{head}</div><div class="rag-article">{body}</div></div>'
