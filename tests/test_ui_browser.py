"""The chat page in a real browser (Debian's chromium driven by Playwright) and through gradio_client."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import ROOT, SEED_FACTS, free_port, stop, wait_until_serving
from page_driver import ask as _ask
from page_driver import needs_chromium, open_page, open_settings
from page_driver import upload as _upload

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def server(tmp_path_factory, seeds_index_dir):
    index_dir = tmp_path_factory.mktemp("ui") / "index"
    shutil.copytree(seeds_index_dir, index_dir)  # uploads must not touch the shared index
    port = free_port()
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"}
    proc = subprocess.Popen([sys.executable, "-m", "rag.cli", "chat", "--index", str(index_dir), "--port", str(port)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    wait_until_serving(proc, url, timeout=60, what="rag chat", output=lambda: proc.stdout.read())
    yield url
    stop(proc)


@pytest.fixture(scope="module")
def page(server):
    with open_page(server) as page:
        yield page


def test_smart_port_answer_with_citation_and_highlighted_source(page, tmp_path):
    answer = _ask(page, "When does the smart port open?")
    assert "December 2024" in answer and "[1]" in answer
    page.wait_for_function("document.querySelector('#sources mark') !== null", timeout=15000)
    assert page.locator("#sources mark").first.inner_text().startswith("该项目预计于2024年12月底建成投入使用")
    assert "seeds/000_714598442bb43c6e.txt" in page.locator("#sources").inner_text()
    page.screenshot(path=str(tmp_path / "screenshot.png"), full_page=True)  # docs' own: bench/screenshot.py


def test_follow_up_leans_on_the_previous_question(page):
    first = _ask(page, "谅山省2023年进出口总额是多少？")
    assert "49.25亿美元" in first
    follow_up = _ask(page, "那出口呢？")
    assert "1.56亿美元" in follow_up
    assert "Read as" in page.locator("#sources").inner_text()


def test_a_complete_short_question_is_not_glued_to_the_previous_one(page):
    _ask(page, "When does the smart port open?")
    second = _ask(page, "Who won Euro 2024?")
    assert "2024年12月底" not in second and "December 2024" not in second
    assert "Read as" not in page.locator("#sources").inner_text()


def test_page_fetches_nothing_from_outside(page):
    assert page.outside_requests == []


def test_empty_message_is_ignored(page):
    count = page.locator("#chat .message").count()
    page.locator("#question textarea").fill("   ")
    page.locator("#question textarea").press("Enter")
    time.sleep(1.5)
    assert page.locator("#chat .message").count() == count


def test_pasted_50k_message_is_cut_not_crashed(page):
    answer = _ask(page, "谅山省2023年进出口总额是多少？" + "啊" * 50000)
    assert answer.strip()
    assert "cut" in page.locator("#sources").inner_text()


def test_uploaded_article_is_searchable(page, server, tmp_path):
    article = tmp_path / "hanoi-tourism.txt"
    article.write_text("河内旅游业快速恢复\n\n2025年河内市共接待游客3200万人次,同比增长15%。", encoding="utf-8")
    assert "Added 1" in _upload(page, article)
    assert "hanoi-tourism.txt" in page.locator("#documents").inner_text()
    answer = _ask(page, "2025年河内市共接待游客多少人次？")
    assert "3200万人次" in answer
    visitor = page.context.browser.new_page()  # another visitor (or a reload) sees the index as it is now
    try:
        visitor.goto(server, wait_until="load")
        visitor.get_by_text("Articles", exact=True).click()
        visitor.wait_for_function("document.querySelector('#documents') &&"
                                  " document.querySelector('#documents').innerText.includes('hanoi-tourism.txt')",
                                  timeout=30000)
    finally:
        visitor.close()


def test_script_in_an_article_is_shown_as_text_never_run(page, tmp_path):
    article = tmp_path / "payload.txt"
    article.write_text(
        "海防港口新闻\n\n海防港2025年货物吞吐量达1.8亿吨。\n"
        "<script>window.__pwned=1</script><img src=x onerror=\"window.__pwned=2\">\n",
        encoding="utf-8",
    )
    _upload(page, article)
    answer = _ask(page, "海防港2025年货物吞吐量是多少？")
    assert "1.8亿吨" in answer
    time.sleep(1)
    assert page.evaluate("window.__pwned") is None
    assert "<script>" in page.locator("#sources").inner_text()  # visible as text


def test_concurrent_api_clients_get_their_own_answers(server):
    from gradio_client import Client

    cases = SEED_FACTS

    def ask(question):
        return question, Client(server, verbose=False).predict(question, 5, api_name="/ask")

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = dict(pool.map(ask, cases))
    for question, gold in cases.items():
        result = results[question]
        assert result["question"] == question
        if gold is None:
            assert result["refused"] is True
        else:
            assert gold in result["text"] and result["citations"], (question, result["text"])


def test_the_date_filter_in_the_settings_limits_the_articles(page):
    open_settings(page)
    try:
        page.locator("#filter-from input, #filter-from textarea").first.fill("2024")
        answer = _ask(page, "When does the smart port open?")
        assert "The articles do not say" in answer
        assert "2024-01-01 or later" in page.locator("#sources").inner_text()
        page.locator("#filter-from input, #filter-from textarea").first.fill("soon")
        assert "date_from must be a date" in _ask(page, "When does the smart port open?")
    finally:
        page.locator("#filter-from input, #filter-from textarea").first.fill("")
    assert "December 2024" in _ask(page, "When does the smart port open?")


def test_adding_by_url_refuses_the_servers_own_network(page, server):
    if not page.locator("#add-url").is_visible():
        page.get_by_text("Articles", exact=True).click()
        page.locator("#add-url").wait_for(timeout=10000)
    page.locator("#url-box input, #url-box textarea").first.fill(server + "config")
    page.locator("#add-url").click()
    page.wait_for_function("() => document.querySelector('#upload-status').innerText.includes('Not fetched')",
                           timeout=60000)
    assert "private or local address" in page.locator("#upload-status").inner_text()


def test_visitors_cannot_point_the_server_at_a_url(page):
    open_settings(page)
    assert page.locator("#answer-with").inner_text().split() == ["Answer", "with", "Extractive", "(offline,",
                                                                 "quotes", "the", "articles)"]
    assert not page.locator("#llm-url input, #llm-url textarea").first.is_visible()


def test_a_refused_upload_does_not_block_the_next_and_no_server_path_is_shown(page, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    if not page.locator("#add").is_visible():
        page.get_by_text("Articles", exact=True).click()
        page.locator("#add").wait_for(timeout=10000)
    page.locator("#upload input[type=file]").set_input_files(str(empty))
    page.locator("#add").click()
    page.wait_for_function("() => document.querySelector('#upload-status').innerText.includes('Not added')",
                           timeout=60000)
    assert "empty.txt: the file is empty" in page.locator("#upload-status").inner_text()
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\x89PNG\x00\x00\x00 not text")
    good = tmp_path / "haiphong-port.txt"
    good.write_text("海防港新闻\n\n海防港2025年集装箱吞吐量达700万标箱。", encoding="utf-8")
    page.locator("#upload input[type=file]").set_input_files([str(good), str(binary)])
    page.locator("#add").click()
    page.wait_for_function("() => document.querySelector('#upload-status').innerText.includes('haiphong-port.txt')",
                           timeout=60000)
    status = page.locator("#upload-status").inner_text()
    assert "Added 1" in status and "empty.txt" not in status  # the refused file was not sent again
    assert "skipped binary.txt: binary data" in status
    assert "/tmp" not in status and "index/uploads" not in status  # ids like uploads/x.txt, never server paths


def test_the_api_says_what_was_wrong(server):
    from gradio_client import Client

    client = Client(server, verbose=False)
    for question, k, says in (("  ", 5, "empty"), ("When does the smart port open?", 0, "k must be"),
                              ("When does the smart port open?", 500, "k must be")):
        with pytest.raises(Exception, match=says):
            client.predict(question, k, api_name="/ask")


def test_a_marker_opens_the_whole_article_at_the_quote_and_so_does_the_list(page):
    _ask(page, "When does the smart port open?")
    page.locator("#chat a.rag-cite", has_text="[1]").last.click()  # the answer's first quote: the one it rests on
    page.wait_for_function("document.querySelector('#article-viewer #rag-quote') !== null", timeout=30000)
    assert "该项目预计于2024年12月底建成投入使用" in page.locator("#article-viewer #rag-quote").inner_text()
    shown = page.locator("#article-viewer").inner_text()
    assert "是两国高层领导人所达成的共识" in shown  # the whole article, not the cited chunk: its first paragraph
    page.wait_for_function("""() => {
        const m = document.querySelector('#article-viewer #rag-quote').getBoundingClientRect();
        const v = document.querySelector('#article-viewer .rag-article').getBoundingClientRect();
        return m.top >= v.top && m.bottom <= v.bottom && v.top >= 0 && v.top < window.innerHeight; }""",
                           timeout=10000)  # scrolled into view, inside the article's own box and the window
    page.locator("#sources a.rag-cite").first.click()  # the sources panel's [1] opens it the same way
    page.wait_for_function("document.querySelector('#article-viewer #rag-quote') !== null", timeout=30000)
    if not page.locator("#add").is_visible():
        page.get_by_text("Articles", exact=True).click()
    page.locator("#documents").get_by_text("seeds/002_1f3369877b84a1fb.txt", exact=True).click()
    page.wait_for_function("document.querySelector('#article-viewer').innerText.includes('231公里')", timeout=30000)
    assert page.locator("#article-viewer #rag-quote").count() == 0  # a whole article, nothing marked


def test_a_visitor_removes_an_article_they_added_and_is_offered_nothing_else(page, tmp_path):
    article = tmp_path / "danang-bridge.txt"
    article.write_text("岘港新桥\n\n岘港市新桥全长1.2公里,2025年通车。", encoding="utf-8")
    assert "Added 1" in _upload(page, article)
    assert "danang-bridge.txt" in page.locator("#documents").inner_text()
    page.locator("#remove-choice input").click()
    options = page.get_by_role("option")
    options.first.wait_for(timeout=10000)
    offered = options.all_inner_texts()
    assert "uploads/danang-bridge.txt" in offered
    assert not any(o.startswith("seeds/") for o in offered)  # the operator's articles are not this visitor's
    page.get_by_role("option", name="uploads/danang-bridge.txt").click()
    page.locator("#remove").click()
    page.wait_for_function("document.querySelector('#upload-status').innerText.includes("
                           "'Removed uploads/danang-bridge.txt')", timeout=60000)
    page.wait_for_function("!document.querySelector('#documents').innerText.includes('danang-bridge.txt')",
                           timeout=30000)
    assert "seeds/000_714598442bb43c6e.txt" in page.locator("#documents").inner_text()
    assert "1.2公里" not in _ask(page, "岘港市新桥全长多少公里？")
