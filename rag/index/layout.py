"""The on-disk layout of an index, and atomic publication of a new version.

::

    INDEX_DIR/
      CURRENT                 name of the live generation (replaced atomically)
      .lock                   held by the one process allowed to write
      segments/seg-*/         immutable pieces holding documents, chunks, sentences, vectors, tokens
                              (rag.index.segments), shared by the generations that list them
      gen-<time>-<rand>/      one version of the index: which segments, without which documents
        manifest.json         format, embedder, the segments and the documents each no longer counts,
                              every live document's metadata (id, hash, root, title, date, segment)
        lexicon.json          English phrase -> Chinese index terms (rag.bilingual)
        faiss.index           only for an approximate (HNSW) index; an exact one is built when loading

A writer writes its new segment (if it adds documents), then a new generation beside the live one,
then replaces ``CURRENT``; a crash at any moment leaves the previous generation live, and a segment
no generation lists is deleted by the next write. Nothing is ever loaded with pickle: JSON,
``numpy.load(allow_pickle=False)`` and FAISS's own format.
"""

from __future__ import annotations

import os
import secrets
import shutil
import time
from contextlib import contextmanager
from pathlib import Path

import orjson

from rag.errors import CorruptIndexError, IndexLockedError, IndexNotFoundError

FORMAT_VERSION = 3  # 2: doc ids carry their folder label (seeds/x.txt); 3: segments
POINTER = "CURRENT"


def live_generation(index_dir: Path) -> Path:
    """The folder of the live generation; raises if there is no readable index."""
    index_dir = Path(index_dir)
    pointer = index_dir / POINTER
    if not pointer.exists():
        if index_dir.exists() and any(index_dir.glob("gen-*")):
            raise CorruptIndexError(index_dir, "the CURRENT pointer is missing")
        raise IndexNotFoundError(index_dir)
    name = pointer.read_text(encoding="utf-8").strip()
    gen = index_dir / name
    if not name.startswith("gen-") or not gen.is_dir():
        raise CorruptIndexError(index_dir, f"CURRENT names {name!r}, which is not there")
    return gen


def exists(index_dir: Path) -> bool:
    return (Path(index_dir) / POINTER).exists()


def current_format(index_dir: Path) -> bool:
    """True when the live generation was written in this version's format (False if unreadable)."""
    try:
        return read_json(live_generation(Path(index_dir)) / "manifest.json").get("format_version") == FORMAT_VERSION
    except (OSError, ValueError, CorruptIndexError, IndexNotFoundError):
        return False


def new_generation(index_dir: Path) -> Path:
    index_dir.mkdir(parents=True, exist_ok=True)
    name = f"gen-{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}"
    path = index_dir / (".building-" + name)
    path.mkdir()
    return path


def publish(index_dir: Path, building: Path) -> Path:
    """Make a fully written generation live, then drop all but it and its predecessor, and the segments
    neither of them lists."""
    fsync_tree(building)
    final = index_dir / building.name.removeprefix(".building-")
    os.replace(building, final)
    tmp = index_dir / (POINTER + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(final.name + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    previous = (index_dir / POINTER).read_text().strip() if (index_dir / POINTER).exists() else None
    os.replace(tmp, index_dir / POINTER)
    _fsync_dir(index_dir)
    # Keep the previous generation: a reader that resolved CURRENT a moment ago may still be loading it.
    for old in index_dir.glob("gen-*"):
        if old.name not in (final.name, previous):
            shutil.rmtree(old, ignore_errors=True)
    for stale in index_dir.glob(".building-*"):
        shutil.rmtree(stale, ignore_errors=True)
    _drop_unlisted_segments(index_dir, [final] + ([index_dir / previous] if previous else []))
    return final


def segments_of(generation: Path) -> list[str]:
    """The segment ids a generation's manifest lists."""
    return [s["id"] for s in read_json(generation / "manifest.json").get("segments", [])]


def _drop_unlisted_segments(index_dir: Path, kept: list[Path]) -> None:
    from rag.index.segments import FOLDER, forget

    listed: set[str] = set()
    for generation in kept:
        try:
            listed.update(segments_of(generation))
        except (OSError, ValueError):
            return  # cannot tell what the kept generations need: delete nothing
    root = index_dir / FOLDER
    if not root.is_dir():
        return
    for folder in root.iterdir():
        if folder.name not in listed:  # written by a killed run, or needed only by retired generations
            forget(folder)
            shutil.rmtree(folder, ignore_errors=True)


def discard(building: Path) -> None:
    shutil.rmtree(building, ignore_errors=True)


@contextmanager
def writer_lock(index_dir: Path):
    """Only one process may write an index at a time; a second gets ``IndexLockedError``."""
    from filelock import FileLock, Timeout

    index_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(index_dir / ".lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise IndexLockedError(index_dir) from None
    try:
        yield
    finally:
        lock.release()


def write_json(path: Path, obj) -> None:
    """``obj`` as UTF-8 JSON (orjson, which Gradio brings: records of 100k chunks in a tenth of ``json``'s time)."""
    Path(path).write_bytes(orjson.dumps(obj))


def read_json(path: Path):
    return orjson.loads(Path(path).read_bytes())


def fsync_tree(root: Path) -> None:
    for path in root.rglob("*"):
        if path.is_file():
            with open(path, "rb") as fh:
                os.fsync(fh.fileno())
    _fsync_dir(root)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
