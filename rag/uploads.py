"""Take files a user uploads (through the chat page) into an index's own ``uploads/`` folder, safely.

Names are reduced to a plain file name (no folders, no ``..``, no hidden files), only
article types are accepted, sizes are capped, and a file never lands outside the folder. An upload's
text is capped too (``MAX_UPLOAD_CHARS``): embedding runs at ~1,500 characters a second on 2 cores
while holding the index's writer, so one visitor's 5 MB of text would hold everyone else's upload
for many minutes; longer articles go in with ``rag index``.
Uploads get ids under ``uploads/`` (``rag.ingest``), so they never replace an indexed article,
and a name another upload already holds gets a number (``news-2.txt``) instead of replacing it.
"""

from __future__ import annotations

import filecmp
import os
import re
import shutil
import unicodedata
from pathlib import Path

from rag.ingest import SUPPORTED_SUFFIXES

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_UPLOAD_CHARS = int(os.environ.get("RAG_UPLOAD_MAX_CHARS", "15000"))  # ~10 s of embedding


class UploadError(ValueError):
    """An upload was refused; the message says which file and why."""


def safe_file_name(name: str) -> str:
    """A harmless file name: no path parts, no control characters, no leading dots.

    >>> safe_file_name("../../etc/passwd.txt")
    'passwd.txt'
    >>> safe_file_name("新闻 2024:智慧口岸.md")
    '新闻_2024_智慧口岸.md'
    """
    base = unicodedata.normalize("NFC", re.split(r"[\\/]", name)[-1])
    base = re.sub(r"[^\w.\-]", "_", base).lstrip(".")
    return base[:120] or "upload.txt"


def store_uploads(uploads: list[tuple[str, Path]], folder: Path) -> list[Path]:
    """Copy ``(original name, temporary path)`` pairs into ``folder``; returns the stored paths.

    Raises ``UploadError`` before copying anything if any file is refused.
    """
    folder = Path(folder)
    checked = []
    for name, path in uploads:
        clean = safe_file_name(name)
        suffix = Path(clean).suffix.lower()
        if suffix not in SUPPORTED_SUFFIXES:
            raise UploadError(f"{name}: only .txt, .md, .html, .pdf and .docx articles can be added")
        size = Path(path).stat().st_size
        if size > MAX_UPLOAD_BYTES:
            raise UploadError(f"{name}: {size / 1e6:.1f} MB is over the {MAX_UPLOAD_BYTES // 2**20} MB limit")
        if size == 0:
            raise UploadError(f"{name}: the file is empty")
        checked.append((clean, Path(path)))
    folder.mkdir(parents=True, exist_ok=True)
    stored = []
    for clean, path in checked:
        target = _free_name(folder.resolve(), clean, Path(path))
        if target.parent != folder.resolve():  # belt and braces: never outside the folder
            raise UploadError(f"{clean}: refused, it would be stored outside the uploads folder")
        shutil.copyfile(path, target)
        stored.append(target)
    return stored


def _free_name(folder: Path, name: str, source: Path) -> Path:
    """``folder/name``, or ``folder/name-2``… when another upload already took that name with other content:
    an upload never replaces an article someone else added (the same content again is the same article)."""
    stem, suffix = Path(name).stem, Path(name).suffix
    candidate, n = folder / name, 1
    while candidate.exists() and not filecmp.cmp(candidate, source, shallow=False):
        n += 1
        candidate = folder / f"{stem}-{n}{suffix}"
    return candidate
