from rag import Answer, Citation, Passage
from ui.sources import render_sources


def _answer(text: str, quote: str) -> Answer:
    passage = Passage(chunk_id=1, doc_id="evil.html", title="<b>t</b>", date=None, section="main",
                      text=text, start=0, end=len(text), score=0.5)
    other = Passage(chunk_id=2, doc_id="x.txt", title="x", date="2024-01-01", section="main",
                    text="<img src=x onerror=alert(1)>", start=0, end=10, score=0.1)
    cite = Citation(n=1, doc_id="evil.html", title="<b>t</b>", date=None, section="main", quote=quote,
                    text=text, score=0.9, start=3, end=3 + len(quote), chunk_id=1)
    return Answer(question="q", text=f"{quote} [1]", citations=[cite], passages=[passage, other])


def test_quote_is_highlighted_and_article_text_escaped():
    html = render_sources(_answer("前文<script>window.pwned=1</script>该项目预计于2024年12月底建成。后文", "该项目预计于2024年12月底建成。"))
    assert "<mark>该项目预计于2024年12月底建成。</mark>" in html
    assert "<script>window" not in html and "&lt;script&gt;" in html
    assert "<img" not in html and "&lt;img" in html
    assert "<b>t</b>" not in html
    assert "<details>" in html  # uncited passages are folded away


def test_empty_state():
    assert "Sources appear here" in render_sources(None)
