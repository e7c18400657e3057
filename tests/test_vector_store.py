"""The same retrieval and answer tests on both vector stores: FAISS in the index folder and Milvus (Lite)."""

import shutil

import pytest

from conftest import OFF_TOPIC, SEEDS, SEED_FACTS
from rag import Assistant
from rag.index import update_index

STORES = ["faiss", "milvus"]


@pytest.fixture(scope="module", params=STORES)
def store_assistant(request, tmp_path_factory, embedder):
    folder = tmp_path_factory.mktemp(request.param)
    config = {"kind": "faiss"} if request.param == "faiss" else {"kind": "milvus", "uri": str(folder / "vectors.db")}
    update_index([SEEDS], folder / "index", embedder, vector_store=config)
    return Assistant(folder / "index", embedder=embedder)


def test_the_store_is_the_one_asked_for(store_assistant):
    index = store_assistant.index
    assert index.vector_store.kind == index.store_config["kind"]
    assert len(index.vector_store) == len(index.chunks)


@pytest.mark.parametrize("question, gold", [
    ("When does the smart port open?", "2024年12月底"),
    ("谅山省2023年进出口总额是多少？", "49.25亿美元"),
    ("广西壮族自治区党委书记是谁？", "刘宁"),
    ("How long is the border Lang Son shares with Guangxi?", "231公里"),
])
def test_answers_with_citations(store_assistant, question, gold):
    result = store_assistant.ask(question)
    assert gold in result.text and result.citations
    c = result.citations[0]
    assert store_assistant.index.documents[c.doc_id]["text"][c.start:c.end] == c.quote


def test_refuses_what_the_articles_do_not_say(store_assistant):
    assert store_assistant.ask(OFF_TOPIC).refused


def test_dense_search_returns_chunk_positions_with_scores(store_assistant):
    import numpy as np

    index = store_assistant.index
    query = store_assistant.embedder.embed_query("智慧口岸什么时候投入使用？")
    hits = index.vector_store.search(np.asarray(query, dtype=np.float32), 10)
    assert len(hits) == 10 and all(0 <= i < len(index.chunks) for i, _ in hits)
    scores = [s for _, s in hits]
    assert scores == sorted(scores, reverse=True)
    # both stores rank by the same inner product
    assert abs(scores[0] - float(index.chunk_vectors[hits[0][0]] @ np.asarray(query))) < 1e-3


def test_threads_share_each_store(store_assistant):
    from concurrent.futures import ThreadPoolExecutor

    questions = [q for q, gold in SEED_FACTS.items() if gold] * 3
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(store_assistant.ask, questions))
    assert all(SEED_FACTS[q] in r.text for q, r in zip(questions, results))


def test_langchain_retriever_on_each_store(store_assistant):
    docs = store_assistant.retriever.invoke("智慧口岸什么时候投入使用？")
    assert any("2024年12月底" in d.page_content for d in docs[:2])


def test_a_milvus_lite_file_held_by_another_process_is_a_clear_error(tmp_path, embedder):
    import subprocess
    import sys

    from conftest import ROOT

    index_dir, db = tmp_path / "index", tmp_path / "vectors.db"
    holder = subprocess.Popen([sys.executable, "-c", f"from pymilvus import MilvusClient; import time; "
                               f"MilvusClient({str(db)!r}); print('ready', flush=True); time.sleep(60)"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        proc = subprocess.run([sys.executable, "-m", "rag.cli", "index", str(SEEDS), "--index", str(index_dir),
                               "--store", "milvus", "--milvus-uri", str(db), "-q"],
                              cwd=ROOT, capture_output=True, text=True, timeout=300)
    finally:
        holder.kill()  # the one process this test started
        holder.wait()
    assert proc.returncode == 1
    assert "Milvus Lite lets one process use a file at a time" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not list(index_dir.glob("gen-*"))  # nothing half-written


def test_milvus_update_delete_and_switch_from_faiss(tmp_path, embedder):
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    (corpus / "hanoi.txt").write_text("河内旅游业快速恢复\n\n2025年河内市共接待游客3200万人次,同比增长15%。", encoding="utf-8")
    index_dir = tmp_path / "index"
    update_index([corpus], index_dir, embedder)  # FAISS first
    milvus = {"kind": "milvus", "uri": str(tmp_path / "vectors.db")}
    report = update_index([corpus], index_dir, embedder, vector_store=milvus)  # move: nothing re-embedded
    assert report.written and not report.added and not report.updated
    assistant = Assistant(index_dir, embedder=embedder)
    assert assistant.index.vector_store.kind == "milvus"
    assert "3200万人次" in assistant.ask("2025年河内市共接待游客多少人次？").text

    (corpus / "hanoi.txt").unlink()
    update_index([corpus], index_dir, embedder)  # the index keeps its store; the previous generation keeps hanoi
    after = Assistant(index_dir, embedder=embedder)
    assert after.index.vector_store.kind == "milvus" and "corpus/hanoi.txt" not in after.index.documents
    assert after.ask("2025年河内市共接待游客多少人次？").refused
    collection = after.index.store_config["collection"]
    client = after.index.vector_store.client

    def rows(doc_id):
        return client.query(collection, filter=f'doc_id == "{doc_id}"', output_fields=["id"])

    assert rows("corpus/hanoi.txt")  # still there for readers of the previous generation
    (corpus / "more.txt").write_text("海防港口新闻\n\n海防港2025年货物吞吐量达1.8亿吨。", encoding="utf-8")
    update_index([corpus], index_dir, embedder)  # the generation that held hanoi is retired now
    assert rows("corpus/hanoi.txt") == []
    # what is left is exactly what the two kept generations use
    from rag.index.update import generation_chunk_keys

    kept = set()
    for gen in index_dir.glob("gen-*"):
        kept |= generation_chunk_keys(index_dir, gen)
    present = {int(r["id"]) for r in client.query(collection, filter="id >= 0", output_fields=["id"], limit=10000)}
    assert present == kept


def test_a_milvus_index_of_format_2_is_carried_over_without_inserting_its_rows_again(tmp_path, embedder, monkeypatch):
    from conftest import as_format_2
    from pymilvus import MilvusClient

    from rag.index import ArticleIndex

    built = tmp_path / "built"
    update_index([SEEDS], built, embedder, vector_store={"kind": "milvus", "uri": str(tmp_path / "vectors.db")})
    index = ArticleIndex.load(built)
    old = tmp_path / "old"
    as_format_2(index, old, vector_store=index.store_config)  # the same collection, as 0.1 left it
    written = []
    upsert = MilvusClient.upsert
    monkeypatch.setattr(MilvusClient, "upsert", lambda self, name, rows, **kw: written.extend(rows) or upsert(
        self, name, rows, **kw))
    assistant = Assistant(old, embedder=embedder)  # carried over on opening
    assert written == []  # every row was there already
    assert assistant.index.vector_store.kind == "milvus" and len(assistant.index.vector_store) == len(index.chunks)
    assert "2024年12月底" in assistant.ask("When does the smart port open?").text

