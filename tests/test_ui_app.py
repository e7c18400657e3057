"""The page's choices, checked on the server side (a forged request gets no further than the page allows)."""

from __future__ import annotations

import pytest

from rag import Assistant, LLMConfig
from rag.errors import LLMConfigError
from ui.app import CUSTOM, EXTRACTIVE, answer_choices, as_text, choose_llm, model_label, remove_article_for

OPERATOR = LLMConfig("openai", model="operator-model", base_url="http://127.0.0.1:9/v1", api_key="operator-secret")


@pytest.fixture(scope="module")
def operated(seeds_index_dir, embedder):
    return Assistant(seeds_index_dir, embedder=embedder, llm=OPERATOR)


def test_visitors_choose_among_the_operators_answerers(operated):
    assert answer_choices(operated, allow_custom_llm=False) == [EXTRACTIVE, model_label(operated)]
    assert choose_llm(operated, EXTRACTIVE, "", "", "") == "extractive"
    assert choose_llm(operated, model_label(operated), "", "", "") is None  # the operator's model


def test_a_forged_url_is_refused_unless_the_operator_allows_it(operated):
    with pytest.raises(LLMConfigError, match="not one of this page's answerers"):
        choose_llm(operated, CUSTOM, "http://198.51.100.7/v1", "m", "")
    with pytest.raises(LLMConfigError):
        choose_llm(operated, "Language model: openai model evil at http://198.51.100.7/v1", "", "", "")


def test_a_visitors_server_never_gets_the_operators_key(operated):
    config = choose_llm(operated, CUSTOM, "http://127.0.0.1:9999/v1", "theirs", "", allow_custom_llm=True)
    assert config.base_url == "http://127.0.0.1:9999/v1" and config.model == "theirs"
    assert config.api_key is None
    with_key = choose_llm(operated, CUSTOM, "http://127.0.0.1:9999/v1", "theirs", "visitor-key", allow_custom_llm=True)
    assert with_key.api_key == "visitor-key"
    with pytest.raises(LLMConfigError, match="URL"):
        choose_llm(operated, CUSTOM, "file:///etc/passwd", "theirs", "", allow_custom_llm=True)


def test_chat_text_is_escaped_piece_by_piece_as_a_whole():
    text = '<a href="http://x">hi</a> & <img src=x>'
    assert "".join(as_text(text[i: i + 3]) for i in range(0, len(text), 3)) == as_text(text)
    assert "<" not in as_text(text)


def test_listening_beyond_loopback_needs_a_page_key(tmp_path):
    import subprocess
    import sys

    from conftest import ROOT

    env = {k: v for k, v in __import__("os").environ.items() if k != "RAG_PAGE_KEY"}
    done = subprocess.run([sys.executable, "-m", "rag.cli", "chat", "--host", "0.0.0.0", "--index", str(tmp_path)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "RAG_PAGE_KEY" in done.stderr and "Traceback" not in done.stderr


def test_a_page_key_is_asked_of_every_client(seeds_index_dir, tmp_path):
    import os
    import shutil
    import subprocess
    import sys

    from gradio_client import Client

    from conftest import ROOT, free_port, stop, wait_until_serving

    index_dir = tmp_path / "index"
    shutil.copytree(seeds_index_dir, index_dir)
    port = free_port()
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "RAG_PAGE_KEY": "page-secret"}
    proc = subprocess.Popen([sys.executable, "-m", "rag.cli", "chat", "--index", str(index_dir), "--port", str(port)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_serving(proc, url, timeout=60, what="rag chat", output=lambda: proc.stdout.read())
        with pytest.raises(Exception):
            Client(url, verbose=False).predict("When does the smart port open?", 5, api_name="/ask")
        with pytest.raises(Exception):
            Client(url, auth=("rag", "wrong"), verbose=False)
        result = Client(url, auth=("rag", "page-secret"), verbose=False).predict(
            "When does the smart port open?", 5, api_name="/ask")
        assert "2024年12月底" in result["text"] and result["citations"][0]["n"] == 1
    finally:
        stop(proc)


def test_a_visitor_removes_only_what_their_session_added(tmp_path, seeds_index_dir, embedder):
    import shutil

    index_dir = tmp_path / "index"
    shutil.copytree(seeds_index_dir, index_dir)
    assistant = Assistant(index_dir, embedder=embedder)
    message, mine = remove_article_for(assistant, "seeds/000_714598442bb43c6e.txt", [])  # a forged request
    assert "Only articles added in this browser session" in message and mine == []
    assert len(assistant.documents()) == 2
    article = tmp_path / "mine.txt"
    article.write_text("短讯\n\n海防港2025年货物吞吐量达1.8亿吨。", encoding="utf-8")
    added = assistant.add_uploads([("mine.txt", article)]).added
    message, mine = remove_article_for(assistant, "uploads/mine.txt", added)
    assert message == "Removed uploads/mine.txt." and mine == []
    assert [d["doc_id"] for d in assistant.documents()] == ["seeds/000_714598442bb43c6e.txt",
                                                             "seeds/002_1f3369877b84a1fb.txt"]


def test_with_allow_remove_a_visitor_removes_any_article(tmp_path, seeds_index_dir, embedder):
    import shutil

    index_dir = tmp_path / "index"
    shutil.copytree(seeds_index_dir, index_dir)
    assistant = Assistant(index_dir, embedder=embedder)
    message, mine = remove_article_for(assistant, "seeds/000_714598442bb43c6e.txt", [], any_article=True)
    assert message == "Removed seeds/000_714598442bb43c6e.txt." and mine == []
    assert [d["doc_id"] for d in assistant.documents()] == ["seeds/002_1f3369877b84a1fb.txt"]
    assert "seeds/000_714598442bb43c6e.txt" not in Assistant(index_dir, embedder=embedder).index.documents
