from rag.sentences import split_sentences


def test_chinese_and_english_boundaries_with_offsets():
    text = "该项目预计于2024年12月底建成。旨在实现目标; 第二句\nA new line. Next! 49.25亿美元,达计划的129%。"
    sentences = split_sentences(text, offset=10)
    assert [s.text for s in sentences] == [
        "该项目预计于2024年12月底建成。", "旨在实现目标;", "第二句", "A new line.", "Next!", "49.25亿美元,达计划的129%。",
    ]
    for s in sentences:
        assert text[s.start - 10:s.end - 10] == s.text


def test_ascii_commas_do_not_split_and_quotes_stay_with_sentence():
    sentences = split_sentences("他说:“双方要把合作重点放在民生领域。”随后离开,返回。")
    assert [s.text for s in sentences] == ["他说:“双方要把合作重点放在民生领域。”", "随后离开,返回。"]
