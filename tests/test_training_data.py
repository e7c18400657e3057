"""What the reader's training script (``scripts/train_reader.py``) makes of a question asked of a small collection:
the collection-level features must read as they do over the seeds, where the collection is two articles."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def train_reader():
    sys.path.insert(0, str(ROOT / "scripts"))
    import train_reader

    return train_reader


def smart_port_article(index) -> str:
    return next(d for d, doc in index.documents.items() if "该项目预计于2024年12月底建成投入使用" in doc["text"])


def test_a_collection_of_some_documents_knows_only_their_words(assistant, train_reader):
    from rag.reader.features import ABSENT

    index = assistant.index
    others = set(index.documents) - {smart_port_article(index)}
    view = train_reader.SubCollection(index, others)
    assert view.vocabulary < index.vocabulary
    only_there = sorted(index.vocabulary - view.vocabulary)[0]
    assert view.idf(only_there) == view.idf(ABSENT) > index.idf(only_there)
    assert all(t in view.vocabulary for terms in view.lexicon.values() for t in terms)
    assert len(view) == len(index) and view.chunks is index.chunks  # chunk ids stay the index's


def test_a_question_asked_of_other_articles_is_read_with_their_words(assistant, train_reader):
    index = assistant.index
    others = set(index.documents) - {smart_port_article(index)}
    question = "When does the smart port open?"
    whole = train_reader.collect(train_reader.Example("seeds", "q", question, ["2024年12月"], True, "g", False),
                                 assistant)
    elsewhere = train_reader.collect(train_reader.Example("seeds", "q", question, ["2024年12月"], True, "g", False,
                                                          variant="mini-off"), assistant, within=others)
    assert whole.evidence and not elsewhere.evidence
    assert {p.doc_id for p in elsewhere.retrieval.passages} <= others
    # the English words are translated into the words of those articles only
    view = elsewhere.index
    assert set(whole.retrieval.query_terms) - view.vocabulary
    assert set(elsewhere.retrieval.query_terms) <= view.vocabulary
