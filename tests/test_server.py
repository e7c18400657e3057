"""`rag serve`: the OpenAI-compatible API, through the real `openai` client and LangChain's ChatOpenAI against a
real server process on 127.0.0.1 (the seeds index), plain and streamed; keys and bad requests in process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from conftest import OFF_TOPIC, ROOT, free_port, stop, wait_until_serving

QUESTION = "When does the smart port open?"


@pytest.fixture(scope="module")
def server(seeds_index_dir, tmp_path_factory):
    index_dir = tmp_path_factory.mktemp("serve") / "index"
    shutil.copytree(seeds_index_dir, index_dir)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("RAG_API_KEY", "RAG_LLM", "OPENAI_BASE_URL")}
    proc = subprocess.Popen([sys.executable, "-m", "rag.cli", "serve", "--index", str(index_dir), "--port", str(port)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}/v1"
    try:
        wait_until_serving(proc, f"{base}/models", timeout=120, what="rag serve", output=lambda: proc.stdout.read())
        yield base, index_dir
    finally:
        stop(proc)


def document_text(index_dir, doc_id: str) -> str:
    from rag.index import ArticleIndex

    return ArticleIndex.load(index_dir).documents[doc_id]["text"]


def test_the_openai_client_gets_the_answer_its_markers_and_citations(server):
    from openai import OpenAI

    base, index_dir = server
    client = OpenAI(base_url=base, api_key="unused")
    reply = client.chat.completions.create(model="rag-news-qa", messages=[{"role": "user", "content": QUESTION}])
    content = reply.choices[0].message.content
    assert "2024年12月底" in content.split("Sources:")[0] and "[1]" in content
    assert reply.choices[0].finish_reason == "stop" and reply.usage.total_tokens > 0
    citations = reply.model_extra["citations"]
    first = citations[0]
    assert first["n"] == 1 and "2024年12月底" in first["quote"]
    assert document_text(index_dir, first["doc_id"])[first["start"]:first["end"]] == first["quote"]
    assert set(first) == {"n", "doc_id", "title", "date", "quote", "start", "end", "page", "url"}
    assert reply.model_extra["rag"]["refused"] is False


def test_streamed_through_the_openai_client_the_text_and_citations_are_the_same(server):
    from openai import OpenAI

    base, _ = server
    client = OpenAI(base_url=base, api_key="unused")
    plain = client.chat.completions.create(model="rag-news-qa", messages=[{"role": "user", "content": QUESTION}])
    chunks = list(client.chat.completions.create(model="rag-news-qa", stream=True,
                                                 stream_options={"include_usage": True},
                                                 messages=[{"role": "user", "content": QUESTION}]))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == plain.choices[0].message.content
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 3  # pieces, not one block
    last = next(c for c in chunks if c.choices and c.choices[0].finish_reason == "stop")
    assert last.model_extra["citations"] == plain.model_extra["citations"]
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0


def test_langchain_chat_openai_keeps_the_citations_plain_and_streamed(server):
    from langchain_openai import ChatOpenAI

    base, _ = server
    chat = ChatOpenAI(base_url=base, api_key="unused", model="rag-news-qa")
    content = chat.invoke(QUESTION).content
    answer, sources = content.split("\n\nSources:\n")
    assert "2024年12月底" in answer and "[1]" in answer
    assert sources.startswith("[1] ") and "2024年12月底" in sources.splitlines()[0]
    streamed = "".join(chunk.content for chunk in chat.stream(QUESTION))
    assert streamed == content


def test_a_follow_up_is_read_with_the_earlier_question(server):
    from openai import OpenAI

    base, _ = server
    client = OpenAI(base_url=base, api_key="unused")
    reply = client.chat.completions.create(model="rag-news-qa", messages=[
        {"role": "user", "content": "What was Lang Son's total import-export value in 2023?"},
        {"role": "assistant", "content": "…"},
        {"role": "user", "content": "And exports?"}])
    assert "1.56亿美元" in reply.choices[0].message.content
    assert any(note.startswith("Read as:") for note in reply.model_extra["rag"]["notes"])


def test_models_documents_and_the_answer_json(server):
    import httpx
    import jsonschema
    from openai import OpenAI

    from rag.schema import answer_json_schema

    base, _ = server
    assert [m.id for m in OpenAI(base_url=base, api_key="unused").models.list()] == ["rag-news-qa"]
    documents = httpx.get(f"{base}/documents").json()["data"]
    assert len(documents) == 2 and all(d["doc_id"].startswith("seeds/") for d in documents)
    answer = httpx.post(f"{base}/ask", json={"question": "智慧口岸项目预计什么时候建成投入使用？"}, timeout=60).json()
    jsonschema.validate(answer, answer_json_schema())
    assert "2024年12月底" in answer["text"] and answer["citations"][0]["n"] == 1


@pytest.fixture(scope="module")
def guarded(assistant):
    from fastapi.testclient import TestClient

    from rag.server import create_app

    return TestClient(create_app(assistant, api_key="s3cret"))


def test_with_a_key_every_route_needs_it(guarded):
    for method, path in (("get", "/v1/models"), ("get", "/v1/documents"), ("post", "/v1/chat/completions")):
        response = getattr(guarded, method)(path)
        assert response.status_code == 401 and "API key" in response.json()["error"]["message"]
    assert guarded.get("/v1/models", headers={"Authorization": "Bearer wrong"}).status_code == 401
    ok = guarded.post("/v1/chat/completions", headers={"Authorization": "Bearer s3cret"},
                      json={"model": "rag-news-qa", "messages": [{"role": "user", "content": QUESTION}]})
    assert ok.status_code == 200 and "2024年12月底" in ok.json()["choices"][0]["message"]["content"]


@pytest.mark.parametrize("body, message", [
    ({"model": "rag-news-qa"}, "'messages'"),
    ({"messages": [{"role": "system", "content": "hi"}]}, "last user message"),
    ({"messages": [{"role": "user", "content": "   "}]}, "last user message"),
    ({"messages": [{"role": "user", "content": QUESTION}], "k": 0}, "'k'"),
    ({"messages": [{"role": "user", "content": QUESTION}], "stream": True, "k": "five"}, "'k'"),
])
def test_a_bad_request_gets_an_openai_style_error(guarded, body, message):
    response = guarded.post("/v1/chat/completions", headers={"Authorization": "Bearer s3cret"}, json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert message in error["message"] and error["type"] == "invalid_request_error"


def test_a_body_that_is_not_json_is_refused(guarded):
    response = guarded.post("/v1/ask", headers={"Authorization": "Bearer s3cret", "Content-Type": "application/json"},
                            content=b"{not json")
    assert response.status_code == 400 and "JSON" in response.json()["error"]["message"]


def test_a_refusal_has_no_citations(guarded):
    response = guarded.post("/v1/chat/completions", headers={"Authorization": "Bearer s3cret"},
                            json={"messages": [{"role": "user", "content": OFF_TOPIC}]})
    reply = response.json()
    assert reply["rag"]["refused"] is True and reply["citations"] == []
    assert "Sources:" not in reply["choices"][0]["message"]["content"]


def test_listening_beyond_loopback_needs_an_api_key(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "RAG_API_KEY"}
    done = subprocess.run([sys.executable, "-m", "rag.cli", "serve", "--host", "0.0.0.0", "--index", str(tmp_path)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "RAG_API_KEY" in done.stderr and "Traceback" not in done.stderr
