from rag.retrieve import lexical_coverage


def test_lexical_coverage_ignores_numbers():
    vocab = frozenset({"谅山", "总额", "2023"})
    assert lexical_coverage(["谅山", "总额", "2023"], vocab) == 1.0
    assert lexical_coverage(["smart", "port", "2023"], vocab) == 0.0
    assert lexical_coverage([], vocab) == 0.0


def test_bm25_weight_follows_question_language(assistant):
    zh = assistant.retriever.search("谅山省2023年进出口总额是多少？")
    assert not zh.translated and zh.lexical_weight > 0.8 and "总额" in zh.query_terms
    # English over Chinese: BM25 runs on Chinese terms from the bilingual lexicon
    en = assistant.retriever.search("When does the smart port open?")
    assert en.translated and {"智慧", "口岸", "投入使用"} <= set(en.query_terms)
    # nothing in the question maps to the articles: BM25 gets no say
    off = assistant.retriever.search("How do I bake sourdough bread?")
    assert off.lexical_weight == 0.0 and off.term_coverage == 0.0


def test_langchain_retriever_interface(assistant):
    docs = assistant.retriever.invoke("智慧口岸什么时候投入使用？")
    assert len(docs) == assistant.k
    top = next(d for d in docs[:2] if "2024年12月底" in d.page_content)
    assert top.metadata["doc_id"] == "seeds/000_714598442bb43c6e.txt"
    assert {"title", "date", "section", "start", "end", "score"} <= set(top.metadata)


def test_langchain_invoke_honours_k_and_refuses_what_it_does_not_take(assistant):
    import pytest

    two = assistant.retriever.invoke("智慧口岸什么时候投入使用？", k=2)
    assert len(two) == 2 and any("2024年12月底" in d.page_content for d in two)
    assert len(assistant.retriever.invoke("智慧口岸什么时候投入使用？", k=8)) == 8
    with pytest.raises(ValueError, match="k must be"):
        assistant.retriever.invoke("智慧口岸什么时候投入使用？", k=0)
    with pytest.raises(TypeError):
        assistant.retriever.invoke("智慧口岸什么时候投入使用？", top_n=3)  # not silently ignored
