import pytest

from rag.ingest import UnreadableFileError, decode_bytes, find_source_files, read_article

SEED_A = "000_714598442bb43c6e.txt"


def test_decodes_utf8_bom_and_gb18030():
    assert decode_bytes("\ufeff谅山省".encode("utf-8")) == "谅山省"
    assert decode_bytes("谅山省进出口总额".encode("gb18030")) == "谅山省进出口总额"
    assert decode_bytes("谅山省".encode("gbk")) == "谅山省"


def test_refuses_binary():
    with pytest.raises(UnreadableFileError):
        decode_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")


def test_seed_article_is_cleaned(tmp_path):
    from conftest import SEEDS

    files, warnings, _ = find_source_files([SEEDS])
    assert [f.doc_id for f in files] == [f"seeds/{SEED_A}", "seeds/002_1f3369877b84a1fb.txt"] and not warnings
    article = read_article(files[0])
    assert article.title == "越中关系在积极有利的基础上发展"
    assert article.date == "2023-12-11"
    assert article.text.count("越南高平、谅山、河江、广宁四个边境省份与中国广西壮族自治区之间的合作在多个领域日益发展。(附图)") == 1
    sections = {d.metadata["section"]: d for d in article.sections}
    assert "该项目预计于2024年12月底建成投入使用" in sections["main"].page_content
    assert "中国友好人士代表团" in sections["related"].page_content
    assert "中国友好人士代表团" not in sections["main"].page_content


def test_doc_ids_are_relative_to_the_indexed_folder(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.md").write_text("# 标题\n\n正文。", encoding="utf-8")
    (tmp_path / "b.html").write_text("<html><body><p>x</p></body></html>", encoding="utf-8")
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    files, *_ = find_source_files([tmp_path])
    assert sorted(f.doc_id for f in files) == [f"{tmp_path.name}/b.html", f"{tmp_path.name}/sub/a.md"]


def test_html_drops_scripts_and_takes_title(tmp_path):
    page = tmp_path / "p.html"
    page.write_text(
        "<html><head><title>T</title><script>alert(1)</script></head><body><h1>智慧口岸</h1>"
        "<p>该项目预计于2024年12月底建成。</p><script>window.pwned=1</script><style>p{}</style></body></html>",
        encoding="utf-8",
    )
    files, *_ = find_source_files([page])
    article = read_article(files[0])
    assert article.title == "智慧口岸"
    assert "2024年12月底" in article.text
    assert "pwned" not in article.text and "alert" not in article.text


def test_markdown_syntax_is_removed(tmp_path):
    page = tmp_path / "n.md"
    page.write_text("# 标题\n\n**重点**见[链接](http://x)。", encoding="utf-8")
    article = read_article(find_source_files([page])[0][0])
    assert article.title == "标题"
    assert "重点见链接。" in article.text


def test_unsupported_and_missing_paths_are_reported(tmp_path):
    (tmp_path / "x.odt").write_bytes(b"PK")
    files, warnings, _ = find_source_files([tmp_path / "x.odt", tmp_path / "missing.txt"])
    assert files == []
    assert [(w.path.name, w.reason) for w in warnings] == [
        ("x.odt", "unsupported file type (use .txt, .md, .html, .pdf or .docx)"), ("missing.txt", "no such file or folder")]


def test_same_file_name_in_two_folders_gets_two_ids(tmp_path):
    from rag.ingest import RootLabels

    for parent in ("a", "b"):
        (tmp_path / parent / "news").mkdir(parents=True)
        (tmp_path / parent / "news" / "x.txt").write_text("标题\n\n正文。", encoding="utf-8")
    labels = RootLabels()
    first, *_ = find_source_files([tmp_path / "a" / "news"], labels)
    second, *_ = find_source_files([tmp_path / "b" / "news"], labels)
    again, *_ = find_source_files([tmp_path / "a" / "news" / "x.txt"], labels)
    assert [f.doc_id for f in first] == ["news/x.txt"]
    assert [f.doc_id for f in second] == ["news-2/x.txt"]
    assert [f.doc_id for f in again] == ["news/x.txt"]  # a file on its own belongs to its folder


def test_deeply_nested_html_is_read_in_one_pass():
    """40,000 nested tags (430 KiB) took 67 s when every block tag got a break inserted; now one pass."""
    from rag.ingest import html_to_text

    depth = 40_000
    html = "<html><body>" + "<div>" * depth + "谅山省口岸<p>第二段</p>尾" + "</div>" * depth + "</body></html>"
    text, _, _ = html_to_text(html)
    lines = [line for line in text.split("\n") if line.strip()]
    assert lines == ["谅山省口岸", "第二段", "尾"]


def test_hostile_markup_is_read_without_losing_the_text():
    """Python's own HTML parser rescans an unclosed comment for every ``<!--`` (5 MB of them ran past five
    minutes); libxml2 does not. A page deeper than libxml2's nesting limit goes to the streaming reader."""
    from rag.ingest import html_to_text

    text, _, _ = html_to_text("<p>谅山省口岸</p>" + "<!--" * 200_000)
    assert text.strip() == "谅山省口岸"
    text, _, _ = html_to_text("<b>" * 5000 + "谅山<!--" + "<!--" * 1000 + "-->省" + "</b>" * 5000)
    assert text.strip() == "谅山省"
    text, _, _ = html_to_text("<p>一" * 50_000)  # unclosed paragraphs close each other
    assert text.count("一") == 50_000
    # libxml2 compares each attribute with the tag's others: 100,000 attributes would take ~10 s there
    text, _, _ = html_to_text('<div ' + " ".join(f'a{i}="v"' for i in range(100_000)) + '>谅山</div><p>省</p>')
    assert text.split() == ["谅山", "省"]


def test_a_page_of_symbols_is_not_indexed_as_an_article(tmp_path):
    """Half a million '<' are text to a parser; embedding them would hold the writer for an hour."""
    page = tmp_path / "lt.html"
    page.write_text("<p>谅山</p>" + "<" * 500_000, encoding="utf-8")
    with pytest.raises(UnreadableFileError, match="not article text"):
        read_article(find_source_files([page])[0][0])
    seed = tmp_path / "seed.txt"
    seed.write_text("标题\n\n该项目预计于2024年12月底建成投入使用。“不关门”、“不等待”!", encoding="utf-8")
    assert "2024年12月底" in read_article(find_source_files([seed])[0][0]).text


def test_utf16_text_is_read_not_called_binary():
    # "utf-16" and "utf-32" write a byte-order mark; big-endian UTF-16 gets one by hand
    for data in ("谅山省口岸".encode("utf-16"), "谅山省口岸".encode("utf-32"), "\ufeff谅山省口岸".encode("utf-16-be")):
        assert decode_bytes(data) == "谅山省口岸"
    with pytest.raises(UnreadableFileError, match="NUL"):
        decode_bytes(b"\x89PNG\x00\x00\x00")


def test_hidden_files_are_skipped_and_counted(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "notes.txt").write_text("内部", encoding="utf-8")
    (tmp_path / ".draft.txt").write_text("草稿", encoding="utf-8")
    (tmp_path / "news.txt").write_text("新闻", encoding="utf-8")
    files, warnings, _ = find_source_files([tmp_path])
    assert [f.path.name for f in files] == ["news.txt"]
    assert [(w.path, w.reason.split(" (")[0]) for w in warnings] == [(tmp_path.resolve(), "2 hidden file(s) or folder(s) in it")]


def test_utf8_with_a_few_broken_bytes_stays_utf8_with_a_warning(caplog):
    text = "谅山省口岸经济发展迅速。" * 20
    data = text.encode("utf-8")
    broken = data[:51] + b"\xff" + data[51:]  # one stray byte between two characters
    with caplog.at_level("WARNING"):
        decoded = decode_bytes(broken)
    assert decoded.replace("\ufffd", "") == text  # not read as GB18030 nonsense
    assert "not valid UTF-8" in caplog.text
    assert decode_bytes(("谅山省口岸" * 30).encode("gbk")) == "谅山省口岸" * 30  # real GBK still is GBK


def test_big5_is_told_from_gb18030():
    """Big5 bytes "decode" as GB18030 without error, into nonsense (諒山省 -> 教籔い)."""
    traditional = "智慧口岸項目預計於2024年12月底建成投入使用。諒山省與中國廣西壯族自治區的邊境貿易持續增長。"
    simplified = "智慧口岸项目预计于2024年12月底建成投入使用。谅山省与中国广西壮族自治区的边境贸易持续增长。"
    assert decode_bytes(traditional.encode("big5")) == traditional
    assert decode_bytes(simplified.encode("gb18030")) == simplified
    assert decode_bytes("标题\n\n正文。".encode("gb18030")) == "标题\n\n正文。"  # short, and valid Big5 too
    assert decode_bytes("標題\n\n正文。".encode("big5")) == "標題\n\n正文。"
