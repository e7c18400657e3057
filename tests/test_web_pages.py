"""Web pages: the article's main text (trafilatura), its related links as a `related` section, its title and
date; navigation, cookie banners, share bars, sidebars and footers never reach the index."""

from __future__ import annotations

import shutil

from conftest import ROOT

PAGE = ROOT / "tests" / "data" / "pages" / "xinhua-style-border.html"
BOILERPLATE = ["Cookie", "首页", "财经", "请输入关键词", "分享到", "微博", "上一篇", "热门排行", "广西高考成绩今日公布",
               "边境旅游特惠线路", "版权所有", "桂ICP备", "网站地图"]


def read(path):
    from rag.ingest import SourceFile, read_article

    return read_article(SourceFile(path, f"pages/{path.name}", path.parent))


def test_a_news_page_keeps_its_article_and_drops_the_rest():
    article = read(PAGE)
    main = next(s for s in article.sections if s.metadata["section"] == "main").page_content
    assert main.startswith("本报凭祥5月15日电")
    for kept in ("平均缩短至30分钟以内", "已有超过1200家外贸企业使用该模式", "计划于2025年底前实现主要口岸货运通道全流程无纸化通关"):
        assert kept in main
    for dropped in BOILERPLATE:
        assert dropped not in article.text, dropped
    assert article.title == "中越边境口岸货运通关效率提升" and article.date == "2024-05-16"
    assert article.about["site"] == "边疆日报网"


def test_an_english_page_gives_its_author_from_json_ld():
    article = read(PAGE.with_name("vn-style-trade-en.html"))
    assert article.about["author"] == "Nguyen Thu Ha" and article.date == "2024-04-08"


def test_related_news_stays_searchable_as_its_own_section():
    article = read(PAGE)
    related = [s for s in article.sections if s.metadata["section"] == "related"]
    assert len(related) == 1 and "东兴口岸出入境人员突破百万人次" in related[0].page_content
    main = next(s for s in article.sections if s.metadata["section"] == "main").page_content
    assert "东兴口岸" not in main
    for s in article.sections:  # offsets point into the stored text
        assert article.text[s.metadata["start"]:s.metadata["end"]] == s.page_content


def test_a_page_with_no_main_text_found_is_read_whole(tmp_path):
    page = tmp_path / "bare.html"
    page.write_text("<html><body><span>谅山省口岸</span><span>第二段文字</span></body></html>", encoding="utf-8")
    article = read(page)
    assert "谅山省口岸" in article.text and "第二段文字" in article.text


def test_answers_quote_the_extracted_text_exactly(tmp_path, embedder):
    from rag import Assistant

    folder = tmp_path / "pages"
    folder.mkdir()
    shutil.copy(PAGE, folder / PAGE.name)
    assistant = Assistant.build([folder], tmp_path / "index", embedder=embedder)
    answer = assistant.ask("友谊关口岸货运车辆通关时间平均缩短至多少？")
    assert not answer.refused and "30分钟" in answer.text
    c = answer.citations[0]
    assert c.doc_id == f"pages/{PAGE.name}" and c.date == "2024-05-16"
    assert assistant.index.documents[c.doc_id]["text"][c.start:c.end] == c.quote
    assert assistant.documents()[0]["site"] == "边疆日报网"
