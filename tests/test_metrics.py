"""Metric functions on hand-computed cases."""

import pytest

from rag.metrics import (
    answer_tokens,
    contains_gold,
    exact_match,
    f1,
    longest_common_substring,
    percentile,
    recall_at,
    reciprocal_rank,
)


def test_tokens_are_chinese_characters_english_words_and_whole_numbers():
    assert answer_tokens("2024年12月底。") == ["2024", "年", "12", "月", "底"]
    assert answer_tokens("End of December, 2024!") == ["end", "of", "december", "2024"]
    assert answer_tokens("49.25亿美元") == ["49.25", "亿", "美", "元"]
    assert answer_tokens("1,200 km") == ["1,200", "km"]


def test_chinese_f1_by_characters():
    # pred 2024/年/12/月/底 vs gold 2024/年/12/月: 4 common, P=4/5, R=4/4 -> F1=8/9
    assert f1("2024年12月底", ["2024年12月"]) == pytest.approx(8 / 9)
    # 刘宁 vs 刘宁同志: P=1, R=2/4 -> 2/3
    assert f1("刘宁", ["刘宁同志"]) == pytest.approx(2 / 3)
    assert f1("胡进绍", ["刘宁"]) == 0.0


def test_f1_is_cmrc_longest_common_substring_not_a_bag_of_characters():
    # same characters, other order: the longest common run is 2 of 4 -> P=R=1/2
    assert f1("中国广西", ["广西中国"]) == pytest.approx(0.5)
    # 49.25 is one token: 49.26 shares nothing with it but the unit
    assert f1("49.26亿美元", ["49.25亿美元"]) == pytest.approx(0.75)
    assert longest_common_substring(list("abcde"), list("xbcdy")) == 3
    assert longest_common_substring([], list("abc")) == 0


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
    assert contains_gold("丹佛野马队 赢得", ["丹佛 野马队"]) == 1.0  # spaces ignored
    assert contains_gold("anything", ["", "  "]) == 0.0


def test_percentile_nearest_rank():
    assert percentile(list(range(1, 101)), 95) == 95
    assert percentile([], 50) == 0.0
