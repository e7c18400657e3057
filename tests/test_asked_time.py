"""Questions about a time prefer passages from that time; questions about the newest state, the newest
document (over four dated year-end reports, tests/data/dated)."""

from __future__ import annotations

import pytest

from conftest import ROOT


@pytest.fixture(scope="module")
def dated(tmp_path_factory, embedder):
    from rag import Assistant
    from rag.index import update_index

    index_dir = tmp_path_factory.mktemp("dated") / "index"
    update_index([ROOT / "tests" / "data" / "dated"], index_dir, embedder)
    return Assistant(index_dir, embedder=embedder)


@pytest.mark.parametrize("question, year", [
    ("谅山省2022年进出口总额是多少？", "2022"),
    ("What import-export total did Lang Son report in December 2021?", "2021"),
    ("谅山省最新的进出口总额是多少？", "2024"),
    ("What is the latest import-export total through Lang Son's border gates?", "2024"),
])
def test_the_first_passage_is_from_the_asked_time(dated, question, year):
    passages = dated.retriever.search(question, k=5).passages
    assert passages[0].doc_id == f"dated/lang-son-trade-{year}.txt"


def test_the_newest_figure_answers_a_question_about_the_latest(dated):
    from rag import Assistant

    learned = Assistant(dated.index_dir, embedder=dated.embedder, reader="learned")
    answer = learned.ask("谅山省最新的进出口总额是多少？")
    assert "57.8亿美元" in answer.text and answer.citations[0].date == "2024-12-30"


def test_a_question_naming_no_time_ranks_as_before(dated, monkeypatch):
    import rag.retrieve

    question = "友谊国际口岸的货物通关量怎么样？"
    with_list = [p.chunk_id for p in dated.retriever.search(question, k=5).passages]
    monkeypatch.setattr(rag.retrieve, "TIME_WEIGHT", 0.0)
    assert [p.chunk_id for p in dated.retriever.search(question, k=5).passages] == with_list
