"""Dates, numbers and units (rag.quantities): the one parser behind the extractive answer and the model-answer check."""

import pytest

from rag.quantities import find_dates, find_quantities, numbers_supported, numeric_values, render_english
from rag.reader.questions import analyze_question


@pytest.mark.parametrize("question,kind", [
    ("When does the smart port open?", "date"),
    ("智慧口岸项目预计什么时候建成投入使用？", "date"),
    ("In which month did he travel?", "date"),
    ("How many vehicles crossed each day?", "number"),
    ("谅山省2023年进出口总额是多少？", "number"),
    ("Who is the Party Secretary of Guangxi?", "person"),
    ("广西壮族自治区党委书记是谁？", "person"),
    ("Where is the border marker?", "place"),
    ("为什么命名为黑豹队？", "why"),
])
def test_question_kind(question, kind):
    assert analyze_question(question).kind == kind


def test_spans_in_seed_sentences():
    texts = lambda s, t: [x.text for x in find_quantities(s, t)]  # noqa: E731
    assert texts("该项目预计于2024年12月底建成投入使用,旨在实现通过两个24小时口岸", "date") == ["2024年12月底"]
    assert texts("经该省的进出口总额约达49.25亿美元,达计划的129%,同比增长60%以上。", "number")[:2] == [
        "49.25亿美元", "129%"]
    assert texts("通过两个24小时口岸", "number") == ["两个", "24"]
    with pytest.raises(ValueError):
        find_quantities("x", "person")


@pytest.mark.parametrize("span,kind,english", [
    ("2024年12月底", "date", "end of December 2024"),
    ("2023年6月份", "date", "June 2023"),
    ("2018年11月", "date", "November 2018"),
    ("5月6日", "date", "6 May"),
    ("49.25亿美元", "number", "USD 4.925 billion"),
    ("1.56亿美元", "number", "USD 156 million"),
    ("7.792万亿越盾", "number", "VND 7.792 trillion"),
    ("231公里", "number", "231 km"),
    ("1100至1350辆次", "number", "1,100 to 1,350 vehicle trips"),
    ("六大", "number", "six"),
    ("二十个", "number", "20"),
    ("129%", "number", None),
])
def test_render_english(span, kind, english):
    assert render_english(span, kind) == english


def test_numbers_are_read_with_their_scale_and_from_number_words():
    assert 4.925e9 in numeric_values("约达49.25亿美元")
    assert 4.925e9 in numeric_values("USD 4.925 billion")
    assert {2.0, 3500.0} <= numeric_values("两个口岸，三千五百人")
    assert {3.0, 2000.0} <= numeric_values("three gates and two thousand people")
    # not numbers: a first, an ordinal, set phrases, the verb "may"
    assert numeric_values("一带一路，十分重要，第二届") == set()
    assert 2.0 not in numeric_values("the second phase")
    assert 5.0 not in numeric_values("it may open soon")


def test_a_claim_of_three_gates_fails_against_two():
    passage = "旨在实现通过两个24小时口岸的货物通关时间缩短。"
    assert not numbers_supported("It serves three gates open 24 hours.", passage)
    assert not numbers_supported("通过三个口岸", passage)
    assert numbers_supported("It serves two gates open 24 hours.", passage)
    assert numbers_supported("两个口岸24小时通关", passage)


def test_dates_are_checked_whole():
    assert find_dates("预计于2024年12月底建成")[0] == [(2024, 12, None)]
    assert numbers_supported("It opens in December 2024.", "该项目预计于2024年12月底建成投入使用")
    assert not numbers_supported("It opens in November 2024.", "该项目预计于2024年12月底建成投入使用")
    assert not numbers_supported("It opened on 12 December 2023.", "2023年，共12个项目，12月")
