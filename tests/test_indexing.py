"""Index building: incremental updates, atomic writes, refusal of a different embedder, no pickle."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import as_format_2

from rag.index import layout
from rag.errors import CorruptIndexError, EmbedderMismatchError, IndexNotFoundError, NoDocumentsError
from rag.index import ArticleIndex
from rag.index.segments import forget
from rag.index import update_index


class CountingEmbedder:
    """Wraps the real embedder and counts what it is asked to embed."""

    def __init__(self, inner, fail_after=None):
        self.inner, self.spec, self.dim = inner, inner.spec, inner.dim
        self.texts = 0
        self.fail_after = fail_after

    def embed_documents(self, texts):
        if self.fail_after is not None and self.texts >= self.fail_after:
            raise RuntimeError("simulated crash in the middle of embedding")
        self.texts += len(texts)
        return self.inner.embed_documents(texts)

    def embed_query(self, text):
        return self.inner.embed_query(text)


@pytest.fixture
def corpus(tmp_path):
    from conftest import SEEDS

    folder = tmp_path / "articles"
    shutil.copytree(SEEDS, folder)
    (folder / "extra.txt").write_text("新文章标题\n\n河内市2025年接待游客3200万人次。", encoding="utf-8")
    return folder


def test_reindex_embeds_only_changed_files_and_drops_deleted(tmp_path, corpus, embedder):
    index_dir = tmp_path / "index"
    counting = CountingEmbedder(embedder)
    first = update_index([corpus], index_dir, counting)
    assert sorted(first.added) == ["articles/000_714598442bb43c6e.txt", "articles/002_1f3369877b84a1fb.txt",
                                   "articles/extra.txt"]
    full = counting.texts

    again = update_index([corpus], index_dir, counting)
    assert not again.written and counting.texts == full  # nothing re-embedded

    (corpus / "extra.txt").write_text("新文章标题\n\n河内市2025年接待游客4000万人次。", encoding="utf-8")
    (corpus / "000_714598442bb43c6e.txt").unlink()
    changed = update_index([corpus], index_dir, counting)
    assert changed.updated == ["articles/extra.txt"] and changed.removed == ["articles/000_714598442bb43c6e.txt"]
    assert counting.texts - full < 10  # only the one short changed file was embedded

    index = ArticleIndex.load(index_dir)
    assert set(index.documents) == {"articles/002_1f3369877b84a1fb.txt", "articles/extra.txt"}
    assert "4000万人次" in index.documents["articles/extra.txt"]["text"]
    assert len(index.vector_store) == len(index.chunks) == len(index.chunk_vectors)
    # kept vectors are still the right ones for their chunks
    i = next(i for i, c in enumerate(index.chunks) if c["doc_id"] == "articles/002_1f3369877b84a1fb.txt")
    fresh = np.array(embedder.embed_documents([f"{index.chunks[i]['title']}\n{index.chunk_text(i)}"])[0])
    assert float(fresh @ index.chunk_vectors[i]) > 0.99


def test_a_crash_mid_build_leaves_the_previous_index_live(tmp_path, corpus, embedder):
    index_dir = tmp_path / "index"
    update_index([corpus], index_dir, embedder)
    before = (index_dir / layout.POINTER).read_text()
    (corpus / "new.txt").write_text("标题\n\n" + "新的句子。" * 400, encoding="utf-8")
    with pytest.raises(RuntimeError, match="simulated crash"):
        update_index([corpus], index_dir, CountingEmbedder(embedder, fail_after=0))
    assert (index_dir / layout.POINTER).read_text() == before
    assert "new.txt" not in ArticleIndex.load(index_dir).documents
    assert not list(index_dir.glob(".building-*"))


def test_unreadable_files_are_skipped_and_the_rest_indexed(tmp_path, corpus, embedder):
    (corpus / "broken.txt").write_bytes(b"\x00\x01\x02binary\x00")
    report = update_index([corpus], tmp_path / "index", embedder)
    # each skipped file comes with its path and the reason, not a message to search
    assert [(s.path.name, s.reason) for s in report.skipped] == [("broken.txt", "binary data (NUL bytes)")]
    assert "articles/extra.txt" in ArticleIndex.load(tmp_path / "index").documents


def test_nothing_indexable_is_an_error_and_writes_nothing(tmp_path, embedder):
    (tmp_path / "empty").mkdir()
    with pytest.raises(NoDocumentsError):
        update_index([tmp_path / "empty"], tmp_path / "index", embedder)
    assert not layout.exists(tmp_path / "index")


def test_other_embedder_is_refused(seeds_index_dir):
    from rag import Assistant

    with pytest.raises(EmbedderMismatchError, match="e5-small"):
        Assistant(seeds_index_dir, embedder="st:all-MiniLM-L6-v2")


def test_missing_and_corrupt_index_say_how_to_rebuild(tmp_path, corpus, embedder):
    with pytest.raises(IndexNotFoundError, match="rag index"):
        ArticleIndex.load(tmp_path / "nothing")
    index_dir = tmp_path / "index"
    update_index([corpus], index_dir, embedder)
    gen = layout.live_generation(index_dir)
    manifest = (gen / "manifest.json").read_text(encoding="utf-8")
    (gen / "manifest.json").write_text("[{not json", encoding="utf-8")
    with pytest.raises(CorruptIndexError, match="--rebuild"):
        ArticleIndex.load(index_dir)
    (gen / "manifest.json").write_text(manifest, encoding="utf-8")
    segment = next((index_dir / "segments").glob("seg-*"))
    (segment / "chunks.json").write_text("[{not json", encoding="utf-8")
    forget(segment)  # as a new process would: this one read the segment while writing it
    with pytest.raises(CorruptIndexError, match="--rebuild"):
        ArticleIndex.load(index_dir)


def test_index_files_are_json_npy_npz_and_faiss_never_pickle(seeds_index_dir):
    for path in seeds_index_dir.rglob("*"):
        if path.suffix == ".json":
            json.loads(path.read_text(encoding="utf-8"))
        elif path.suffix == ".npy":
            np.load(path, allow_pickle=False)
        elif path.suffix == ".npz":
            np.load(path, allow_pickle=False).files
        elif path.is_file():
            assert path.name in ("faiss.index", "CURRENT", ".lock"), path
        if path.is_file():
            assert not path.read_bytes().startswith(b"\x80"), f"{path} looks like a pickle"


def test_second_writer_is_refused(tmp_path, corpus, embedder):
    from filelock import FileLock

    from rag.errors import IndexLockedError

    index_dir = tmp_path / "index"
    index_dir.mkdir()
    with FileLock(str(index_dir / ".lock")):
        with pytest.raises(IndexLockedError, match="Another process"):
            update_index([corpus], index_dir, embedder)


def test_a_rerun_after_a_crash_reuses_what_was_embedded(tmp_path, corpus, embedder):
    index_dir = tmp_path / "index"
    with pytest.raises(RuntimeError, match="simulated crash"):
        update_index([corpus], index_dir, CountingEmbedder(embedder, fail_after=64))  # two batches of 32 done
    resumed = CountingEmbedder(embedder)
    report = update_index([corpus], index_dir, resumed)
    assert report.resumed == 64 and "resumed 64 texts" in report.summary()
    assert not (index_dir / ".resume").exists()

    fresh = CountingEmbedder(embedder)
    update_index([corpus], tmp_path / "fresh", fresh)
    assert resumed.texts == fresh.texts - 64
    a, b = ArticleIndex.load(index_dir), ArticleIndex.load(tmp_path / "fresh")
    assert np.allclose(a.chunk_vectors, b.chunk_vectors, atol=1e-5)
    assert np.allclose(a.sentence_vectors, b.sentence_vectors, atol=1e-5)


def test_links_pointing_outside_the_folder_and_huge_files_are_skipped(tmp_path, corpus, embedder):
    outside = tmp_path / "private.txt"
    outside.write_text("机密文件\n\n不应被索引的内容。", encoding="utf-8")
    (corpus / "innocent.txt").symlink_to(outside)
    huge = corpus / "huge.txt"
    with open(huge, "wb") as fh:  # 50 MB of text
        line = ("谅山省口岸经济发展迅速。" * 20 + "\n").encode("utf-8")
        for _ in range(50 * 2**20 // len(line) + 1):
            fh.write(line)
    report = update_index([corpus], tmp_path / "index", embedder)
    assert any(s.path.name == "innocent.txt" and "outside" in s.reason for s in report.skipped)
    assert any(s.path.name == "huge.txt" and "50 MB is larger than" in s.reason for s in report.skipped)
    index = ArticleIndex.load(tmp_path / "index")
    assert set(index.documents) == {"articles/000_714598442bb43c6e.txt", "articles/002_1f3369877b84a1fb.txt",
                                    "articles/extra.txt"}
    assert not any("不应被索引" in d["text"] for d in index.documents.values())
    # the index folder holds only what the store writes
    assert {p.name for p in (tmp_path / "index").iterdir()} <= {"CURRENT", ".lock", "segments"} | {
        p.name for p in (tmp_path / "index").glob("gen-*")}


def test_every_odd_file_is_indexed_or_skipped_by_name(tmp_path, corpus, embedder):
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "binary.txt").write_bytes(bytes(range(256)) * 40)
    (corpus / "latin1.txt").write_bytes("Café news\n\nLe café de Hanoï a ouvert en décembre 2024.".encode("latin-1"))
    (corpus / "truncated.html").write_text("<html><head><title>截断</title></head><body><p>谅山省口岸新闻：货物通关", encoding="utf-8")
    (corpus / "blank.md").write_text("\n\n   \n\t\n", encoding="utf-8")
    report = update_index([corpus], tmp_path / "index", embedder)
    indexed = set(ArticleIndex.load(tmp_path / "index").documents)
    for name in ("empty.txt", "binary.txt", "latin1.txt", "truncated.html", "blank.md"):
        skipped = [s for s in report.skipped if name in str(s)]
        assert (f"articles/{name}" in indexed) != bool(skipped), (name, report.skipped)
    assert {"articles/empty.txt", "articles/binary.txt", "articles/blank.md"}.isdisjoint(indexed)
    assert "articles/truncated.html" in indexed and "articles/latin1.txt" in indexed



def test_two_folders_with_the_same_file_name_keep_both_articles(tmp_path, embedder):
    from rag import Assistant

    for name, fact in (("a", "河内市2025年接待游客3200万人次。"), ("b", "海防港2025年货物吞吐量达1.8亿吨。")):
        folder = tmp_path / name / "news"
        folder.mkdir(parents=True)
        (folder / "x.txt").write_text(f"新闻\n\n{fact}", encoding="utf-8")
    index_dir = tmp_path / "index"
    update_index([tmp_path / "a" / "news"], index_dir, embedder)
    report = update_index([tmp_path / "b" / "news"], index_dir, embedder)
    assert report.added == ["news-2/x.txt"] and not report.updated and not report.removed
    assistant = Assistant(index_dir, embedder=embedder)
    assert set(assistant.index.documents) == {"news/x.txt", "news-2/x.txt"}
    assert "3200万人次" in assistant.ask("2025年河内市接待游客多少人次？").text
    assert "1.8亿吨" in assistant.ask("海防港2025年货物吞吐量是多少？").text


def test_an_index_of_an_older_format_is_refused_with_how_to_rebuild(tmp_path, embedder):
    import json

    from rag.index import layout
    from rag.errors import CorruptIndexError

    index_dir = tmp_path / "index"
    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "x.txt").write_text("新闻\n\n河内市2025年接待游客3200万人次。", encoding="utf-8")
    update_index([folder], index_dir, embedder)
    manifest = layout.live_generation(index_dir) / "manifest.json"
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["format_version"] = 1
    manifest.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(CorruptIndexError, match="format 1.*--rebuild"):
        ArticleIndex.load(index_dir)


def test_an_index_of_format_2_is_carried_over_without_embedding_again(tmp_path, seeds_index_dir, embedder):
    import numpy as np

    from rag import Assistant
    from rag.index import layout

    new = ArticleIndex.load(seeds_index_dir)
    old_dir = tmp_path / "index"
    as_format_2(new, old_dir)

    class Refuses:  # the carried-over index must not need the embedder for what it already holds
        spec = embedder.spec

        def embed_documents(self, texts):
            raise AssertionError("embedded again")

        def embed_query(self, text):
            return embedder.embed_query(text)

    assistant = Assistant(old_dir, embedder=Refuses())
    assert layout.read_json(layout.live_generation(old_dir) / "manifest.json")["format_version"] == layout.FORMAT_VERSION
    carried = assistant.index
    assert carried.chunks == new.chunks and carried.sentences == new.sentences
    assert np.array_equal(np.asarray(carried.chunk_vectors), np.asarray(new.chunk_vectors))
    weights = {"智慧": 1.0, "口岸": 0.5}
    assert np.allclose(carried.bm25_scores(weights), new.bm25_scores(weights))
    assert "2024年12月底" in assistant.ask("When does the smart port open?").text


def test_an_index_follows_its_folder_to_a_new_place(tmp_path, embedder):
    old_place = tmp_path / "old" / "news"
    old_place.mkdir(parents=True)
    for name, fact in (("x.txt", "河内市2025年接待游客3200万人次。"), ("y.txt", "海防港2025年货物吞吐量达1.8亿吨。")):
        (old_place / name).write_text(f"新闻\n\n{fact}", encoding="utf-8")
    index_dir = tmp_path / "index"
    update_index([old_place], index_dir, embedder)
    new_place = tmp_path / "new" / "news"
    new_place.parent.mkdir()
    old_place.rename(new_place)  # as on another machine: the recorded folder is gone
    moved = update_index([new_place], index_dir, embedder)
    assert sorted(moved.unchanged) == ["news/x.txt", "news/y.txt"] and not moved.added and not moved.removed
    (new_place / "y.txt").unlink()
    pruned = update_index([new_place], index_dir, embedder)
    assert pruned.removed == ["news/y.txt"]
    assert ArticleIndex.load(index_dir).documents["news/x.txt"]["root"] == str(new_place.resolve())


def _make_unreadable(folder, monkeypatch):
    """chmod 000 stops a normal user; root reads anything, so there the listing itself is made to fail."""
    import os

    folder.chmod(0)
    if os.geteuid() != 0:
        return
    real_scandir = os.scandir

    def scandir(path="."):
        if os.fspath(path) == os.fspath(folder):
            raise PermissionError(13, "Permission denied", os.fspath(folder))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)


def test_a_folder_that_cannot_be_read_is_not_taken_for_deleted(tmp_path, embedder, monkeypatch):
    root = tmp_path / "news"
    (root / "locked").mkdir(parents=True)
    (root / "top.txt").write_text("顶层文章\n\n谅山省2023年接待游客300万人次。", encoding="utf-8")
    (root / "locked" / "inner.txt").write_text("内层文章\n\n高平省2023年种植板栗2000公顷。", encoding="utf-8")
    update_index([root], tmp_path / "index", embedder)
    _make_unreadable(root / "locked", monkeypatch)
    try:
        report = update_index([root], tmp_path / "index", embedder)
    finally:
        (root / "locked").chmod(0o755)
    assert report.removed == []
    assert any(s.path.name == "locked" and "could not read" in s.reason for s in report.skipped)
    assert "news/locked/inner.txt" in ArticleIndex.load(tmp_path / "index").documents


def test_a_file_name_that_is_not_utf8_is_skipped_by_name_and_the_rest_indexed(tmp_path, embedder):
    import os

    root = tmp_path / "news"
    root.mkdir()
    (root / "good.txt").write_text("好文章\n\n谅山省2023年接待游客300万人次。", encoding="utf-8")
    with open(os.path.join(os.fsencode(root), b"caf\xe9.txt"), "wb") as fh:
        fh.write("坏名字\n\n高平省2023年种植板栗2000公顷。".encode("utf-8"))
    report = update_index([root], tmp_path / "index", embedder)
    assert report.added == ["news/good.txt"]
    assert any("caf\\xe9.txt" in str(s) and "not valid UTF-8" in s.reason for s in report.skipped)
    assert list(ArticleIndex.load(tmp_path / "index").documents) == ["news/good.txt"]
