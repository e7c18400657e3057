"""jieba's word dictionary in a memory-mapped trie, so that a fresh process segments its first sentence without
reading 350,000 words into a Python dict first.

jieba keeps its dictionary as a dict of every word and every word's prefixes, rebuilt from a cache file by
``marshal`` in each process: about half a second before the first word of a one-off ``rag ask``. Here the same
words, frequencies and part-of-speech tags are put once into a MARISA trie (``marisa-trie``) kept in the cache
folder, and opened memory-mapped: only the pages a question touches are read. ``WordTokenizer`` is jieba's own
tokenizer with that trie in place of the dict; it finds a position's candidate words with one trie walk (its
prefixes) instead of a dict lookup per prefix, and otherwise leaves jieba's segmentation (the same route
through the same word graph, the same HMM for unknown words) untouched, so it cuts every text exactly as jieba
does.

>>> tokenizer = word_tokenizer()
>>> tokenizer.lcut("智慧口岸项目预计2024年底建成")
['智慧', '口岸', '项目', '预计', '2024', '年底', '建成']
>>> [(w.word, w.flag) for w in pos_tokenizer().lcut("谅山省")]
[('谅山省', 'ns')]
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import logging
import os
import shutil
import threading
from pathlib import Path

import jieba
import marisa_trie
import numpy as np

FORMAT = 2  # of the cached trie; a change rebuilds it
_lock = threading.Lock()


class TrieFrequencies:
    """What jieba asks of its ``FREQ`` dict (``get``, ``[]``, ``in``), answered from the trie and the frequencies
    beside it; words only, the prefixes jieba also stores are found by ``WordTokenizer.get_DAG`` without it.
    Words once looked up are kept in a dict: text repeats its words."""

    def __init__(self, trie: marisa_trie.Trie, frequencies: np.ndarray):
        self._trie, self._frequencies, self._known = trie, frequencies, {}

    def get(self, word: str, default=None):
        freq = self._known.get(word)
        if freq is None:
            i = self._trie.get(word)
            freq = self._known[word] = int(self._frequencies[i]) if i is not None else 0
        return freq or default

    def __getitem__(self, word: str) -> int:
        return self.get(word, 0)

    def __contains__(self, word: str) -> bool:
        return word in self._trie

    def __len__(self) -> int:
        return len(self._trie)


class TrieTags:
    """posseg's ``word_tag_tab`` (``get(word, default)``), answered from the same trie."""

    def __init__(self, trie: marisa_trie.Trie, tags: np.ndarray):
        self._trie, self._tags = trie, tags

    def get(self, word: str, default=None):
        i = self._trie.get(word)
        return self._tags[i].decode("ascii") if i is not None and self._tags[i] else default

    def update(self, tags: dict) -> None:
        raise NotImplementedError("user dictionaries are not supported by the trie-backed tokenizer")


class WordTokenizer(jieba.Tokenizer):
    """jieba's tokenizer over the trie: ``lcut``, ``lcut_for_search`` and the rest, as jieba cuts."""

    def __init__(self, trie: marisa_trie.Trie, frequencies: np.ndarray, tags: np.ndarray, total: int, longest: int):
        super().__init__()
        self.trie, self.tags, self.longest = trie, TrieTags(trie, tags), longest
        self.FREQ, self.total = TrieFrequencies(trie, frequencies), total
        self.initialized = True  # jieba's own dictionary is never loaded

    def get_DAG(self, sentence: str) -> dict[int, list[int]]:
        """For each position, where the dictionary's words starting there end (jieba's word graph)."""
        prefixes, longest = self.trie.prefixes, self.longest
        return {k: [k + len(w) - 1 for w in prefixes(sentence[k:k + longest])] or [k] for k in range(len(sentence))}

    def get_dict_file(self):
        # posseg reads the tags from here when it is set up: they are in the trie already
        return io.BytesIO(b"")

    def add_word(self, word, freq=None, tag=None):
        raise NotImplementedError("user dictionaries are not supported by the trie-backed tokenizer")


def _dictionary_file() -> Path:
    return Path(jieba.get_module_res(jieba.DEFAULT_DICT_NAME).name)


def _cache_folder() -> Path:
    from rag.paths import cache_home

    source = _dictionary_file()
    stat = source.stat()
    key = hashlib.sha1(f"{FORMAT}|{source}|{stat.st_size}|{stat.st_mtime_ns}|{jieba.__version__}".encode()).hexdigest()[:12]
    return cache_home() / f"jieba-words-{key}"


def build_trie(dictionary: Path, folder: Path) -> None:
    """The words of a jieba dictionary file (``word freq [tag]`` per line) with a frequency above zero, as
    jieba reads them, into ``folder``: the trie, each word's frequency and tag by its id in it, and the
    frequencies' total and the longest word's length. Written aside and renamed into place whole."""
    words: dict[str, tuple[int, str]] = {}
    total = 0
    with open(dictionary, "rb") as f:
        for line in f:
            parts = line.strip().decode("utf-8").split(" ")
            if len(parts) < 2:
                continue
            total += int(parts[1])  # jieba counts every line, a repeated word too; a later line's entry wins
            words[parts[0]] = (int(parts[1]), parts[2] if len(parts) > 2 else "")
    kept = {w: v for w, v in words.items() if v[0] > 0}
    trie = marisa_trie.Trie(kept)
    frequencies = np.zeros(len(trie), dtype=np.uint32)
    tags = np.zeros(len(trie), dtype="S8")
    for word, (freq, tag) in kept.items():
        frequencies[trie[word]], tags[trie[word]] = freq, tag.encode("ascii")
    partial = folder.with_name(f"{folder.name}.{os.getpid()}.tmp")
    partial.mkdir(parents=True, exist_ok=True)
    trie.save(str(partial / "words.marisa"))
    np.save(partial / "frequencies.npy", frequencies)
    np.save(partial / "tags.npy", tags)
    (partial / "info.json").write_text(json.dumps({"total": total, "longest": max(map(len, kept))}), encoding="utf-8")
    try:
        os.replace(partial, folder)
    except OSError:  # another process got there first
        shutil.rmtree(partial, ignore_errors=True)


@functools.lru_cache(maxsize=1)
def word_tokenizer() -> WordTokenizer:
    """The process's tokenizer (the trie is built into the cache folder the first time, ~3 s)."""
    jieba.setLogLevel(logging.WARNING)
    folder = _cache_folder()
    with _lock:
        if not (folder / "info.json").exists():
            build_trie(_dictionary_file(), folder)
    info = json.loads((folder / "info.json").read_text(encoding="utf-8"))
    trie = marisa_trie.Trie().mmap(str(folder / "words.marisa"))
    frequencies = np.load(folder / "frequencies.npy", mmap_mode="r")
    tags = np.load(folder / "tags.npy", mmap_mode="r")
    return WordTokenizer(trie, frequencies, tags, info["total"], info["longest"])


@functools.lru_cache(maxsize=1)
def pos_tokenizer():
    """jieba's part-of-speech tokenizer (``jieba.posseg``) over the same trie."""
    tokenizer = word_tokenizer()
    jieba.dt = tokenizer  # posseg sets its default tokenizer up from this one when first imported
    import jieba.posseg as posseg

    tagger = posseg.POSTokenizer(tokenizer)
    tagger.word_tag_tab = tokenizer.tags
    return tagger


__all__ = ["WordTokenizer", "word_tokenizer", "pos_tokenizer", "build_trie"]
