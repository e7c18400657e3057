import pytest

from rag.uploads import MAX_UPLOAD_BYTES, UploadError, safe_file_name, store_uploads


@pytest.mark.parametrize("name,expected", [
    ("../../etc/passwd.txt", "passwd.txt"),
    ("..\\..\\windows\\evil.md", "evil.md"),
    (".hidden.txt", "hidden.txt"),
    ("新闻 2024:智慧口岸.md", "新闻_2024_智慧口岸.md"),
    ("", "upload.txt"),
])
def test_safe_file_name(name, expected):
    assert safe_file_name(name) == expected


def test_store_uploads_stays_inside_the_folder(tmp_path):
    src = tmp_path / "tmp-upload"
    src.write_text("标题\n\n正文。", encoding="utf-8")
    folder = tmp_path / "index" / "uploads"
    stored = store_uploads([("../../../outside.txt", src)], folder)
    assert stored == [(folder / "outside.txt").resolve()]
    assert not (tmp_path / "outside.txt").exists()


def test_refused_uploads_write_nothing(tmp_path):
    good, big, exe = tmp_path / "g", tmp_path / "b", tmp_path / "e"
    good.write_text("ok", encoding="utf-8")
    big.write_bytes(b"x" * (MAX_UPLOAD_BYTES + 1))
    exe.write_bytes(b"MZ")
    folder = tmp_path / "uploads"
    with pytest.raises(UploadError, match="limit"):
        store_uploads([("a.txt", good), ("big.txt", big)], folder)
    with pytest.raises(UploadError, match="only .txt"):
        store_uploads([("tool.exe", exe)], folder)
    assert not folder.exists()


def test_failed_upload_leaves_the_index_as_it_was(tmp_path, embedder):
    from conftest import SEEDS
    from rag import Assistant

    assistant = Assistant.build([SEEDS], tmp_path / "index", embedder=embedder)
    before = assistant.documents()
    bad = tmp_path / "bad"
    bad.write_bytes(b"\x00\x01binary\x00")
    report = assistant.add_uploads([("bad.txt", bad)])
    assert report.skipped and assistant.documents() == before
    assert not (tmp_path / "index" / "uploads" / "bad.txt").exists()


def test_an_upload_never_replaces_an_indexed_article_or_another_upload(tmp_path, seeds_index_dir, embedder):
    import shutil

    from conftest import SEEDS
    from rag import Assistant

    index_dir = tmp_path / "index"
    shutil.copytree(seeds_index_dir, index_dir)
    assistant = Assistant(index_dir, embedder=embedder)
    poison = tmp_path / "poison.txt"
    poison.write_text("假新闻\n\n智慧口岸项目已于2020年1月取消。", encoding="utf-8")
    report = assistant.add_uploads([("000_714598442bb43c6e.txt", poison)])
    assert report.added == ["uploads/000_714598442bb43c6e.txt"] and not report.updated
    assert assistant.index.documents["seeds/000_714598442bb43c6e.txt"]["text"] == \
        Assistant(seeds_index_dir, embedder=embedder).index.documents["seeds/000_714598442bb43c6e.txt"]["text"]
    assert "2024年12月底" in assistant.ask("智慧口岸项目预计什么时候建成投入使用？").text
    other = tmp_path / "other.txt"
    other.write_text("另一篇\n\n海防港2025年货物吞吐量达1.8亿吨。", encoding="utf-8")
    second = assistant.add_uploads([("000_714598442bb43c6e.txt", other)])  # a second visitor, same name
    assert second.added == ["uploads/000_714598442bb43c6e-2.txt"]
    assert "取消" in assistant.index.documents["uploads/000_714598442bb43c6e.txt"]["text"]
    assert (SEEDS / "000_714598442bb43c6e.txt").read_text(encoding="utf-8").count("取消") == 0


def test_an_upload_with_more_text_than_the_page_takes_is_skipped_and_not_kept(tmp_path, seeds_index_dir, embedder,
                                                                               monkeypatch):
    """Embedding holds the writer at ~1,500 characters a second: 5 MB of text from one visitor would make
    every other visitor's upload wait many minutes."""
    import shutil

    import rag.uploads
    from rag import Assistant

    monkeypatch.setattr(rag.uploads, "MAX_UPLOAD_CHARS", 2_000)
    index_dir = tmp_path / "index"
    shutil.copytree(seeds_index_dir, index_dir)
    assistant = Assistant(index_dir, embedder=embedder)
    long, short = tmp_path / "long.html", tmp_path / "short.txt"
    long.write_text("<p>" + "谅山省口岸货物通关。" * 300 + "</p>", encoding="utf-8")
    short.write_text("短讯\n\n海防港2025年货物吞吐量达1.8亿吨。", encoding="utf-8")
    report = assistant.add_uploads([("long.html", long), ("short.txt", short)])
    assert report.added == ["uploads/short.txt"]
    assert len(report.skipped) == 1 and "3,000 characters" in report.skipped[0].reason and "rag index" in str(report.skipped[0])
    assert not (index_dir / "uploads" / "long.html").exists()
    assert {"seeds/000_714598442bb43c6e.txt", "uploads/short.txt"} <= set(assistant.index.documents)


def test_a_refused_upload_never_takes_another_whose_name_it_contains(tmp_path, seeds_index_dir, embedder):
    """The skipped file was matched by its path appearing inside the skip message: a binary `news.md.txt`
    took `news.md` out of uploads/ while it stayed in the index."""
    import shutil

    from rag import Assistant

    index_dir = tmp_path / "index"
    shutil.copytree(seeds_index_dir, index_dir)
    assistant = Assistant(index_dir, embedder=embedder)
    good, bad = tmp_path / "news.md", tmp_path / "news.md.txt"
    good.write_text("# 海防港\n\n海防港2025年货物吞吐量达1.8亿吨。", encoding="utf-8")
    bad.write_bytes(b"\x89PNG\x00\x00\x00binary")
    report = assistant.add_uploads([("news.md.txt", bad), ("news.md", good)])
    assert report.added == ["uploads/news.md"] and len(report.skipped) == 1
    assert (index_dir / "uploads" / "news.md").is_file()
    assert not (index_dir / "uploads" / "news.md.txt").exists()
    assert "1.8亿吨" in assistant.ask("海防港2025年货物吞吐量是多少？").text
