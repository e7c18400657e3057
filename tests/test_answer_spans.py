import pytest

from rag.answer_spans import classify_question, find_spans


@pytest.mark.parametrize("question,qtype", [
    ("When does the smart port open?", "date"),
    ("智慧口岸项目预计什么时候建成投入使用？", "date"),
    ("In which month did he travel?", "date"),
    ("What is the expected completion date of the project?", "date"),
    ("How many vehicles crossed each day?", "number"),
    ("谅山省2023年进出口总额是多少？", "number"),
    ("Who is the Party Secretary of Guangxi?", "person"),
    ("广西壮族自治区党委书记是谁？", "person"),
    ("Where is the border marker?", "place"),
    ("Tell me about the smart border gate.", "other"),
])
def test_classify_question(question, qtype):
    assert classify_question(question) == qtype


def test_spans_in_seed_sentences():
    texts = lambda s, t: [x.text for x in find_spans(s, t)]  # noqa: E731
    assert texts("该项目预计于2024年12月底建成投入使用,旨在实现通过两个24小时口岸", "date") == ["2024年12月底"]
    assert texts("经该省的进出口总额约达49.25亿美元,达计划的129%,同比增长60%以上。", "number")[:2] == [
        "49.25亿美元", "129%"]
    assert texts("广西壮族自治区党委书记刘宁同志肯定,越南边境四省", "person")[0] == "刘宁"
    assert "李强" in texts("访问期间,范明正总理与中国国务院总理李强举行会谈", "person")
