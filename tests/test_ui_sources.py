from rag import Answer, Citation, Passage
from ui.sources import render_sources


def _answer(text: str, quote: str) -> Answer:
    passage = Passage(chunk_id=1, doc_id="evil.html", title="<b>t</b>", date=None, section="main",
                      text=text, start=0, end=len(text), score=0.016, dense_score=0.87)
    other = Passage(chunk_id=2, doc_id="x.txt", title="x", date="2024-01-01", section="main",
                    text="<img src=x onerror=alert(1)>", start=0, end=10, score=0.015, dense_score=0.61)
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


def test_cited_and_other_passages_show_scores_on_one_scale():
    """The cited passage showed the reader's 0.9 and the others the fused 0.016, under the same label."""
    import re

    html = render_sources(_answer("该项目预计于2024年12月底建成。", "该项目预计于2024年12月底建成。"))
    shown = re.findall(r"rank (\d+) · similarity ([0-9.]+)", html)
    assert shown == [("1", "0.87"), ("2", "0.61")]
    assert "0.9" not in re.sub(r"similarity [0-9.]+", "", html) and "0.016" not in html
