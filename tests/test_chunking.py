import pytest

from rag.chunking import chunk_sections
from rag.ingest import find_source_files, read_article
from rag.tokens import count_tokens


@pytest.fixture(scope="module")
def articles():
    from conftest import SEEDS

    return [read_article(f) for f in find_source_files([SEEDS])[0]]


def test_chunks_slice_their_source_and_keep_metadata(articles):
    for article in articles:
        chunks = chunk_sections(article.sections, chunk_tokens=120, overlap_tokens=30)
        assert len(chunks) > 5
        for c in chunks:
            m = c.metadata
            assert article.text[m["start"]:m["end"]] == c.page_content
            assert m["doc_id"] == article.doc_id and m["title"] == article.title and m["date"] == article.date
            assert m["section"] in ("main", "related")
            assert count_tokens(c.page_content) <= 120


def test_chunks_end_at_sentence_boundaries_and_overlap(articles):
    chunks = chunk_sections(articles[1].sections, chunk_tokens=120, overlap_tokens=30)
    text = articles[1].text

    def at_boundary(c):
        end = c.metadata["end"]
        return c.page_content[-1] in "。！？!?;；”" or end == len(text) or text[end:end + 1] == "\n"

    # nearly every chunk ends a sentence or a line; commas only when one sentence is over budget
    assert sum(map(at_boundary, chunks)) >= 0.9 * len(chunks)
    overlapping = sum(a.metadata["end"] > b.metadata["start"] for a, b in zip(chunks, chunks[1:])
                      if a.metadata["section"] == b.metadata["section"])
    assert overlapping > 0


def test_overlap_must_be_smaller_than_chunk():
    with pytest.raises(ValueError, match="overlap_tokens"):
        chunk_sections([], chunk_tokens=50, overlap_tokens=50)
