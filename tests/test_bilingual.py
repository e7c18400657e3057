from rag.bilingual import build_lexicon, translate_terms


def test_lexicon_keeps_only_terms_in_the_index():
    vocabulary = frozenset({"边境", "边界线", "谅山", "口岸", "智慧", "投入使用", "书记"})
    lexicon = build_lexicon(vocabulary)
    assert "边境" in lexicon["border"] and set(lexicon["border"]) <= vocabulary
    assert lexicon["lang son"] == {"谅山": 1.0}
    assert all(set(terms) <= vocabulary for terms in lexicon.values())


def test_translate_prefers_longer_phrases_and_reports_coverage():
    lexicon = {"lang son": {"谅山": 1.0}, "son": {"儿子": 1.0}, "border": {"边境": 1.0, "边界线": 1.0}}
    t = translate_terms("How long is Lang Son's border?", lexicon, frozenset({"谅山", "边境", "边界线"}))
    assert "儿子" not in t.weights and t.weights["谅山"] == 1.0
    assert 0.6 < t.weights["边境"] < 1.0  # two candidates share the word's weight
    assert t.coverage == 0.75  # "long" found nothing; lang, son, border did


def test_words_shared_by_both_languages_match_directly():
    t = translate_terms("What was the GRDP growth rate in 2023?", {}, frozenset({"grdp", "2023"}))
    assert t.weights == {"grdp": 1.0, "2023": 1.0}
