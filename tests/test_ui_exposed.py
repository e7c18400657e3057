"""The page as a stranger meets it: model choice limited to what the operator configured, the operator's
key never sent to a visitor's server, and nothing an article or a model writes rendered as HTML.

Two OpenAI-compatible servers stand in for language models: llama.cpp with SmolLM2 (the operator's
model) and a fake one on 127.0.0.1 that records what it receives (a visitor's server).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from conftest import LLAMA_API_KEY, ROOT, free_port, stop, wait_until_serving
from fake_openai import FakeOpenAIServer
from page_driver import ask, needs_chromium, open_page, open_settings, upload

pytestmark = needs_chromium

# What an article or a model might carry into the chat: a phishing link, a password form, a tracking pixel.
PAYLOAD = ('<a href="http://198.51.100.7/login" id="phish">verify your account</a>'
           '<form action="http://198.51.100.7/steal" id="steal"><input type="password" name="pw"></form>'
           '<img src="http://198.51.100.7/pixel.png" id="pixel">')
FORBIDDEN = "#chat a[href*='198.51.100.7'], #chat form, #chat input[type=password], #chat img[src*='198.51.100.7']"


@pytest.fixture(scope="module")
def visitor_server():
    server = FakeOpenAIServer(reply=f"The smart port opens at the end of December 2024 [1]. {PAYLOAD}").start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def exposed_page(tmp_path_factory, seeds_index_dir, llama_server):
    """`rag chat` with the operator's model (llama.cpp, with a key) and --allow-custom-llm."""
    index_dir = tmp_path_factory.mktemp("exposed") / "index"
    shutil.copytree(seeds_index_dir, index_dir)
    port = free_port()
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "RAG_LLM": "openai", "OPENAI_BASE_URL": llama_server,
           "RAG_LLM_MODEL": "smollm2", "OPENAI_API_KEY": LLAMA_API_KEY}
    proc = subprocess.Popen([sys.executable, "-m", "rag.cli", "chat", "--index", str(index_dir), "--port", str(port),
                             "--allow-custom-llm"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    wait_until_serving(proc, url, timeout=60, what="rag chat", output=lambda: proc.stdout.read())
    try:
        with open_page(url) as page:
            yield page
    finally:
        stop(proc)


def _choose(page, label: str) -> None:
    open_settings(page)
    page.locator("#answer-with").get_by_text(label, exact=False).click()


def test_operators_model_is_offered_and_its_answer_verified(exposed_page):
    _choose(exposed_page, "Language model: openai model smollm2")
    answer = ask(exposed_page, "When does the smart port open?")
    # SmolLM2 invents a date; the page says so and shows the extractive answer with its citation
    assert "could not be verified" in answer
    assert "2024年12月底" in answer and "[1]" in answer
    exposed_page.wait_for_function("document.querySelector('#sources mark') !== null", timeout=15000)
    assert exposed_page.locator("#sources mark").first.inner_text().startswith("该项目预计于2024年12月底建成投入使用")


def test_visitors_server_never_gets_the_operators_key_and_its_html_is_text(exposed_page, visitor_server):
    _choose(exposed_page, "Your own OpenAI-compatible server")
    exposed_page.locator("#llm-url input, #llm-url textarea").first.fill(visitor_server.url)
    exposed_page.locator("#llm-model input, #llm-model textarea").first.fill("visitor-model")
    exposed_page.locator("#llm-key input").first.fill("")
    try:
        answer = ask(exposed_page, "When does the smart port open?")
    finally:
        _choose(exposed_page, "Extractive")
    calls = visitor_server.chat_requests()
    assert calls, "the visitor's server was never asked"
    for call in calls:
        assert LLAMA_API_KEY not in " ".join(call.headers.values())
        assert call.body["model"] == "visitor-model"
    # the model's HTML streamed in and the answer shown: text, never elements, never fetched
    assert exposed_page.locator(FORBIDDEN).count() == 0
    assert exposed_page.outside_requests == []
    assert answer.strip()


def test_article_html_is_shown_as_text_in_the_chat(exposed_page, tmp_path):
    _choose(exposed_page, "Extractive")
    article = tmp_path / "payload-news.txt"
    article.write_text(f"海防港口新闻\n\n海防港2025年货物吞吐量达1.8亿吨{PAYLOAD}。\n", encoding="utf-8")
    upload(exposed_page, article)
    answer = ask(exposed_page, "海防港2025年货物吞吐量是多少？")
    assert "1.8亿吨" in answer
    assert "<img src=" in answer and "<form" in answer  # visible as text
    assert exposed_page.locator(FORBIDDEN).count() == 0
    assert exposed_page.outside_requests == []
