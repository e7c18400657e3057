"""docs/benchmarks.md is shared by several benchmark scripts: each owns one ``## `` section of it."""

from __future__ import annotations

from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
HEADER = "# Benchmarks\n\nEach section is written by the script it names; tests never assert on time.\n"


def replace_section(title: str, body: str) -> None:
    """Put ``## title`` + ``body`` in docs/benchmarks.md, replacing that section if it is there."""
    heading = f"## {title}"
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else HEADER
    section = f"{heading}\n\n{body.strip()}\n"
    if heading in text:
        head, _, rest = text.partition(heading)
        tail = rest.split("\n## ", 1)
        text = head + section + ("\n## " + tail[1] if len(tail) > 1 else "")
    else:
        text = text.rstrip() + "\n\n" + section
    DOC.parent.mkdir(exist_ok=True)
    DOC.write_text(text, encoding="utf-8")
