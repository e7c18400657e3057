"""What the reader's training script (``scripts/train_reader.py``) makes of a question asked of a small collection:
the collection-level features must read as they do over the seeds, where the collection is two articles."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
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


def test_the_refusal_guards_read_the_question_and_its_passages_without_the_models(assistant, train_reader):
    from rag.reader.guards import guard_values

    asked = [("谅山省2023年进出口总额是多少？", True), ("谅山省2031年的进出口总额是多少？", False),
             ("What was the price of Bitcoin in 2023?", False)]
    examples = [train_reader.collect(train_reader.Example("seeds", f"q{i}", q, ["49.25亿美元"] if ok else [], ok, "g",
                                                          False), assistant) for i, (q, ok) in enumerate(asked)]
    rows = train_reader.guard_rows(examples)
    assert guard_values(rows, "asked_year_missing").tolist() == [0.0, 1.0, 0.0]  # 2031 is in no passage
    coverage = guard_values(rows, "term_coverage")
    assert coverage[2] < 0.2 < coverage[0]  # no word of the Bitcoin question is in the seeds
    chosen = train_reader.choose_refusal_guards(examples, rows)
    assert {g["feature"] for g in chosen} <= {"term_coverage", "en_words_in_passages", "missing_in_passages_share",
                                              "asked_year_missing"}
    # 2031 fires on the one must-refuse question with a year missing and on no answerable one
    year = next(g for g in chosen if g["feature"] == "asked_year_missing")
    assert year["answerable_fired"] == 0.0 and year["kept"]
    probs = train_reader.guarded(examples, np.array([0.9, 0.9, 0.9]), chosen, rows)
    assert probs[0] == 0.9 and probs[1] == 0.0
