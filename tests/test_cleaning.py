from rag.cleaning import clean_article, drop_repeated_lines, parse_date


def test_parse_date_day_month_year_stamp():
    assert parse_date("12:17 | 11/12/2023") == "2023-12-11"
    assert parse_date("2024年5月6日") == "2024-05-06"
    assert parse_date("2024-05-06T10:00") == "2024-05-06"
    assert parse_date("no date here") is None
    assert parse_date("13/13/2023") is None  # no 13th month


def test_drop_repeated_lines_ignores_blank_lines_between_copies():
    lines = ["标题", "", "标题", "正文。", "图片说明", "图片说明", "结尾"]
    assert drop_repeated_lines(lines) == ["标题", "", "正文。", "图片说明", "结尾"]


def test_clean_article_takes_title_date_and_splits_related():
    raw = "越中关系发展\n\n12:17 | 11/12/2023\n\n正文第一句。\n正文第一句。\n\n相关新闻\n\n别的新闻标题\n别的新闻。"
    article = clean_article(raw)
    assert article.title == "越中关系发展"
    assert article.date == "2023-12-11"
    assert "12:17" not in article.text
    assert article.text.count("正文第一句。") == 1
    main, related = article.sections
    assert (main.name, related.name) == ("main", "related")
    assert "相关新闻" not in main.text and "别的新闻" in related.text
    for s in article.sections:
        assert article.text[s.start:s.start + len(s.text)] == s.text


def test_english_related_marker():
    article = clean_article("Title\n\nBody text.\n\nRelated news\n\nOther story.")
    assert [s.name for s in article.sections] == ["main", "related"]
