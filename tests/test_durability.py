"""A `rag index` killed with SIGKILL at random moments never breaks the index, and a re-run resumes and finishes."""

import os
import random
import signal
import subprocess
import sys
import time

from conftest import ROOT, SEEDS
from rag import Assistant
from rag.index.checkpoint import FOLDER

KILLS = 6


def _corpus(folder, n_articles=24):
    """The seeds plus article-like documents built from their sentences (enough for a ~20 s build)."""
    from rag.cleaning import clean_article
    from rag.sentences import split_sentences

    folder.mkdir()
    sentences = []
    for f in sorted(SEEDS.iterdir()):
        (folder / f.name).write_bytes(f.read_bytes())
        sentences += [s.text for s in split_sentences(clean_article(f.read_text(encoding="utf-8")).text)
                      if len(s.text) > 12]
    rng = random.Random(7)
    for i in range(n_articles):
        body = "".join(rng.choice(sentences) for _ in range(12))
        (folder / f"extra-{i:02d}.txt").write_text(f"综合消息{i}\n\n{body}\n", encoding="utf-8")


def _index(corpus, index_dir):
    return subprocess.Popen([sys.executable, "-m", "rag.cli", "index", str(corpus), "--index", str(index_dir), "-q"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_sigkill_at_random_moments_then_resume(tmp_path, embedder):
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    _corpus(corpus)
    Assistant.build([SEEDS], index_dir, embedder=embedder)  # a live index to protect
    rng = random.Random(2024)
    resumed_batches = 0
    for _ in range(KILLS):
        writer = _index(corpus, index_dir)
        time.sleep(rng.uniform(0.5, 12.0))
        os.kill(writer.pid, signal.SIGKILL)  # only the process this test started
        writer.wait()
        # whatever moment it died at, the index loads and answers (the old one, or a finished new one)
        assistant = Assistant(index_dir, embedder=embedder)
        result = assistant.ask("When does the smart port open?")
        assert "2024年12月底" in result.text and result.citations
        assert {"seeds/000_714598442bb43c6e.txt", "seeds/002_1f3369877b84a1fb.txt"} <= {
            d["doc_id"] for d in assistant.documents()}
        resumed_batches = max(resumed_batches, len(list((index_dir / FOLDER).glob("*/batch-*.json"))))

    assert resumed_batches > 0  # some kill came after batches were embedded and saved
    writer = _index(corpus, index_dir)
    out, _ = writer.communicate(timeout=600)
    assert writer.returncode == 0, out
    assistant = Assistant(index_dir, embedder=embedder)
    assert len(assistant.documents()) == 2 + 26  # the seeds, and the corpus (its own copies of them included)
    assert not (index_dir / FOLDER).exists()  # the checkpoint is gone once the index is published
    assert not list(index_dir.glob(".building-*"))
    assert "2024年12月底" in assistant.ask("When does the smart port open?").text


def test_second_writer_gets_a_clear_message_while_the_first_runs(tmp_path, embedder):
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    _corpus(corpus, n_articles=10)
    first = _index(corpus, index_dir)
    try:
        deadline = time.time() + 60
        while not (index_dir / ".lock").exists() and time.time() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)
        second = subprocess.run([sys.executable, "-m", "rag.cli", "index", str(corpus), "--index", str(index_dir), "-q"],
                                cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert second.returncode == 1
        assert "Another process is updating the index" in second.stderr
    finally:
        first.kill()
        first.wait()
