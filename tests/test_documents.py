"""PDF and Word files: their text indexed, a PDF's page kept in each citation."""

from __future__ import annotations

import pytest


def make_pdf(pages: list[list[str]], title: str | None = None) -> bytes:
    """A small real PDF: each page's lines in Helvetica (PDF 1.4, one content stream per page)."""
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", None,
               "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"]
    kids = []
    for lines in pages:
        ops = ["BT", "/F1 12 Tf", "14 TL", "72 720 Td"]
        for line in lines:
            ops.append("(" + line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ") Tj T*")
        ops.append("ET")
        stream = "\n".join(ops)
        objects.append(f"<< /Length {len(stream.encode('latin-1'))} >>\nstream\n{stream}\nendstream")
        content = len(objects)
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {content} 0 R "
                       f"/Resources << /Font << /F1 3 0 R >> >> >>")
        kids.append(f"{len(objects)} 0 R")
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(kids)} >>"
    info = None
    if title:
        objects.append(f"<< /Title ({title}) /CreationDate (D:20240408091500) >>")
        info = len(objects)
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets).encode()
    trailer = f"<< /Size {len(objects) + 1} /Root 1 0 R{f' /Info {info} 0 R' if info else ''} >>"
    out += f"trailer\n{trailer}\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


REPORT = [
    ["Lang Son trade report", "Import-export value through Lang Son reached 1.2 billion USD in the first quarter."],
    ["Border gates", "The smart border gate at Huu Nghi is expected to open at the end of December 2024."],
    ["Outlook", "The province aims to raise border trade turnover to 6 billion USD this year."],
]


def test_a_pdf_is_read_page_by_page(tmp_path):
    from rag.ingest import SourceFile, read_article

    path = tmp_path / "report.pdf"
    path.write_bytes(make_pdf(REPORT, title="Lang Son trade report"))
    article = read_article(SourceFile(path, "docs/report.pdf", tmp_path))
    assert article.title == "Lang Son trade report" and article.date == "2024-04-08"
    assert len(article.pages) == 3 and article.pages[0] == 0
    assert article.text[article.pages[1]:].startswith("Border gates")
    assert article.text[article.pages[2]:].startswith("Outlook")


def test_a_citation_from_a_pdf_names_its_page(tmp_path, embedder):
    from rag import Assistant

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "report.pdf").write_bytes(make_pdf(REPORT, title="Lang Son trade report"))
    assistant = Assistant.build([folder], tmp_path / "index", embedder=embedder)
    answer = assistant.ask("When is the smart border gate at Huu Nghi expected to open?")
    assert not answer.refused and "December 2024" in answer.text
    c = answer.citations[0]
    assert c.page == 2 and "December 2024" in c.quote
    assert assistant.index.documents[c.doc_id]["text"][c.start:c.end] == c.quote
    assert Assistant(tmp_path / "index", embedder=embedder).ask(answer.question).citations[0].page == 2  # stored


def test_a_word_document_is_read(tmp_path):
    import docx

    from rag.ingest import SourceFile, read_article

    document = docx.Document()
    document.core_properties.title = "谅山省边贸简报"
    document.add_paragraph("谅山省边贸简报")
    document.add_paragraph("该项目预计于2024年12月底建成投入使用。")
    path = tmp_path / "brief.docx"
    document.save(path)
    article = read_article(SourceFile(path, "docs/brief.docx", tmp_path))
    assert article.title == "谅山省边贸简报" and "该项目预计于2024年12月底建成投入使用。" in article.text
    assert article.pages is None


@pytest.mark.parametrize("name, data, reason", [
    ("broken.pdf", b"%PDF-1.4\nnot really", "not a readable PDF"),
    ("empty-text.pdf", make_pdf([[]]), "no text layer"),
    ("broken.docx", b"PK\x03\x04 not a zip", "not a readable .docx"),
])
def test_an_unreadable_pdf_or_docx_is_skipped_with_the_reason(tmp_path, name, data, reason):
    from rag.ingest import SourceFile, UnreadableFileError, read_article

    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(UnreadableFileError, match=reason):
        read_article(SourceFile(path, f"docs/{name}", tmp_path))
