"""Citation markers in model answers."""

import pytest

from rag.markers import parse_marker, split_claims, strip_markers


@pytest.mark.parametrize("inner, numbers", [
    ("1", [1]), ("1,2", [1, 2]), ("1, 2", [1, 2]), ("1，2", [1, 2]), ("1、3", [1, 3]), ("2-4", [2, 3, 4]),
    ("passage 2", [2]), ("2023年12月12日", None), ("see above", None), ("1-999", [1, 999]),
])
def test_parse_marker(inner, numbers):
    assert parse_marker(inner) == numbers


def test_adjacent_and_full_width_markers():
    claims = split_claims("口岸于2024年12月底投入使用［1］【2】。It opens then [3][4].")
    assert [(c.text, c.numbers) for c in claims] == [("口岸于2024年12月底投入使用。", [1, 2]), ("It opens then.", [3, 4])]


def test_markers_after_the_full_stop_belong_to_the_sentence_before():
    claims = split_claims("第一句。[1] 第二句。[2]")
    assert [(c.text, c.numbers) for c in claims] == [("第一句。", [1]), ("第二句。", [2])]


def test_non_numeric_brackets_are_invalid_markers():
    claims = split_claims("The smart port opens on 2023年12月12日 [2023年12月12日].")
    assert claims[0].numbers == [] and claims[0].invalid == ["[2023年12月12日]"]
    assert "[" not in claims[0].text


def test_no_markers():
    claims = split_claims("It opens in December 2024.")
    assert claims[0].numbers == [] and claims[0].invalid == []


def test_strip_markers_tidies_spaces():
    assert strip_markers("It opens [1] .") == "It opens."
