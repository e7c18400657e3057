"""The sources panel as HTML. Article text is always escaped: it is shown as text, never run as HTML."""

from __future__ import annotations

from html import escape

from rag import Answer, Passage

STYLE = """
<style>
.rag-sources {font-family: "Noto Sans CJK SC", "Noto Sans", sans-serif; line-height: 1.6}
.rag-source {border: 1px solid #ddd; border-radius: 8px; padding: 8px 12px; margin: 8px 0}
.rag-source .meta {color: #666; font-size: 0.85em}
.rag-source mark {background: #ffe58a; padding: 0 2px}
.rag-sources details {margin-top: 8px}
</style>
"""


SCORE_HELP = ("rank: the passage's place among the retrieved passages (dense and BM25 fused); similarity: "
              "cosine similarity of the question's and the passage's embeddings, on the same scale for every passage")


def _meta(doc_id: str, title: str, date: str | None, rank: int | None, passage: Passage | None) -> str:
    parts = [escape(title or doc_id), escape(date or "no date"), escape(doc_id)]
    if passage is not None:
        parts.append(f'<span class="score" title="{escape(SCORE_HELP)}">rank {rank} · '
                     f"similarity {passage.dense_score:.2f}</span>")
    return " · ".join(parts)


def _highlight(passage: str, quote: str) -> str:
    at = passage.find(quote) if quote else -1
    if at < 0:
        return escape(passage)
    return escape(passage[:at]) + "<mark>" + escape(quote) + "</mark>" + escape(passage[at + len(quote):])


def render_sources(answer: Answer | None) -> str:
    """Cited passages with the quote highlighted; the other retrieved passages folded away."""
    if answer is None:
        return STYLE + '<div class="rag-sources"><p>Sources appear here after you ask.</p></div>'
    blocks = []
    ranked = {p.chunk_id: (rank, p) for rank, p in enumerate(answer.passages, 1)}
    for c in answer.citations:
        rank, passage = ranked.get(c.chunk_id, (None, None))
        blocks.append(
            f'<div class="rag-source cited" data-n="{c.n}"><div class="meta">[{c.n}] '
            f'{_meta(c.doc_id, c.title, c.date, rank, passage)}'
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
    return STYLE + f'<div class="rag-sources">{notes}{"".join(blocks)}</div>'
