"""Property tests: reading, cleaning and chunking never crash on hostile text, and offsets always hold.

Strategies mix scripts (CJK, Latin, Vietnamese, Arabic), emoji, zero-width and control characters,
lone surrogates (what broken files leave behind) and very long lines.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rag.chunking import chunk_sections
from rag.cleaning import clean_article
from rag.ingest import SourceFile, UnreadableFileError, read_article
from rag.sentences import split_sentences

PIECES = st.sampled_from([
    "谅山省", "智慧口岸", "。", "！", "？", "；", "，", "\n", "\n\n", " ", "\t", "\r\n", "Lang Sơn", "cửa khẩu",
    "٢٠٢٤", "😀", "👨‍👩‍👧", "\u200b", "\u200d", "\ufeff", "\u2060", "\x00", "\x07", "\x1b[31m", "\ud800", "\udfff",
    "12:17 | 11/12/2023", "相关新闻", "<script>x</script>", "2024年12月底", "49.25亿美元", ". ", "?", "\u3000",
])
HOSTILE_TEXT = st.lists(st.one_of(PIECES, st.text(max_size=30)), max_size=60).map("".join)
LONG_LINE = st.integers(min_value=1, max_value=3).map(lambda n: "越中合作" * (250_000 * n // 4))  # up to ~1 MB


def _chunks_slice_the_text(text: str) -> None:
    article = clean_article(text)
    from langchain_core.documents import Document

    sections = [Document(page_content=s.text, metadata={"doc_id": "x", "title": article.title, "date": article.date,
                                                         "section": s.name, "start": s.start,
                                                         "end": s.start + len(s.text)})
                for s in article.sections]
    for s in sections:
        assert article.text[s.metadata["start"]:s.metadata["end"]] == s.page_content
    for chunk in chunk_sections(sections):
        m = chunk.metadata
        assert 0 <= m["start"] <= m["end"] <= len(article.text)
        assert article.text[m["start"]:m["end"]] == chunk.page_content


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(HOSTILE_TEXT)
def test_cleaning_and_chunking_never_crash_and_offsets_hold(text):
    _chunks_slice_the_text(text)


@settings(max_examples=3, deadline=None)
@given(LONG_LINE)
def test_a_one_megabyte_line_is_chunked(text):
    _chunks_slice_the_text(text)


@settings(max_examples=150, deadline=None)
@given(HOSTILE_TEXT)
def test_sentence_offsets_hold(text):
    for s in split_sentences(text):
        assert text[s.start:s.end] == s.text


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.binary(max_size=2000), HOSTILE_TEXT.map(lambda t: t.encode("utf-8", "surrogatepass")),
                 HOSTILE_TEXT.map(lambda t: t.encode("gb18030", "replace"))))
def test_any_file_is_read_or_refused_with_a_reason(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("f") / "article.txt"
    path.write_bytes(data)
    try:
        article = read_article(SourceFile(path, "article.txt", path.parent))
    except UnreadableFileError as exc:
        assert str(exc)
        return
    # whatever was read can be stored: valid UTF-8, no lone surrogates, offsets that slice
    article.text.encode("utf-8")
    for section in article.sections:
        m = section.metadata
        assert article.text[m["start"]:m["end"]] == section.page_content


@pytest.mark.parametrize("html", [
    "<html><head><title>t</title></head><body><p>谅山省",  # truncated
    "<p>智慧口岸<script>alert(1)</script></p><style>p{}</style>",
    "<<<>>>&&&;<p",
])
def test_truncated_or_odd_html_is_read_or_refused(tmp_path, html):
    path = tmp_path / "page.html"
    path.write_text(html, encoding="utf-8")
    try:
        article = read_article(SourceFile(path, "page.html", tmp_path))
    except UnreadableFileError:
        return
    assert "alert(1)" not in article.text and "p{}" not in article.text
