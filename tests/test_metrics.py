"""Metric functions on hand-computed cases."""

import pytest

from rag.metrics import answer_tokens, contains_gold, exact_match, f1, percentile, recall_at, reciprocal_rank


def test_tokens_are_chinese_characters_and_english_words():
    assert answer_tokens("2024年12月底。") == ["2024", "年", "12", "月", "底"]
    assert answer_tokens("End of December, 2024!") == ["end", "of", "december", "2024"]
    assert answer_tokens("49.25亿美元") == ["4925", "亿", "美", "元"]


def test_chinese_f1_by_characters():
    # pred 2024/年/12/月/底 vs gold 2024/年/12/月: 4 common, P=4/5, R=4/4 -> F1=8/9
    assert f1("2024年12月底", ["2024年12月"]) == pytest.approx(8 / 9)
    # 刘宁 vs 刘宁同志: P=1, R=2/4 -> 2/3
    assert f1("刘宁", ["刘宁同志"]) == pytest.approx(2 / 3)
    assert f1("胡进绍", ["刘宁"]) == 0.0


def test_english_f1_and_best_gold():
    # pred end/of/december/2024 vs gold december/2024: P=2/4, R=1 -> 2/3; second gold is exact
    assert f1("end of December 2024", ["December 2024", "end of December 2024"]) == 1.0
    assert f1("end of December 2024", ["December 2024"]) == pytest.approx(2 / 3)


def test_exact_match_ignores_case_punctuation_and_spaces():
    assert exact_match("49.25 亿美元。", ["49.25亿美元"]) == 1.0
    assert exact_match("December 2024", ["2024年12月"]) == 0.0
    assert exact_match("anything", []) == 0.0


def test_ranking_metrics():
    hits = [False, True, False]
    assert recall_at(hits, 1) == 0.0 and recall_at(hits, 5) == 1.0
    assert reciprocal_rank(hits) == 0.5
    assert reciprocal_rank([False] * 12 + [True], k=10) == 0.0
    assert contains_gold("答案是49.25亿美元。", ["49.25亿美元"]) == 1.0


def test_percentile_nearest_rank():
    assert percentile(list(range(1, 101)), 95) == 95
    assert percentile([], 50) == 0.0
