"""jieba over its dictionary in a memory-mapped trie cuts every text exactly as jieba over its dict does."""

from __future__ import annotations

import json
from pathlib import Path

import jieba
import jieba.posseg
import pytest

from rag.word_dictionary import WordTokenizer, build_trie, pos_tokenizer, word_tokenizer

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def stock():
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


def _texts() -> list[str]:
    texts = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "seeds").glob("*.txt"))]
    texts += [json.loads(line)["question"] for line in (ROOT / "tests/data/seeds_qa.jsonl").read_text(
        encoding="utf-8").splitlines()]
    texts += ["", "   ", "ASEAN 2024年12月底, 49.25亿美元!", "越南总理范明政出席第20届中国—东盟博览会"]
    return texts


def test_cuts_equal_jiebas_own_in_every_mode(stock):
    ours = word_tokenizer()
    assert isinstance(ours, WordTokenizer)
    for text in _texts():
        assert ours.lcut(text) == stock.lcut(text)
        assert ours.lcut_for_search(text) == stock.lcut_for_search(text)
        assert ours.lcut(text, HMM=False) == stock.lcut(text, HMM=False)


def test_part_of_speech_tags_equal_jiebas_own(stock):
    reference = jieba.posseg.POSTokenizer(stock)
    for text in _texts():
        assert [(w.word, w.flag) for w in pos_tokenizer().lcut(text)] == \
            [(w.word, w.flag) for w in reference.lcut(text)]


def test_a_small_dictionary_builds_the_trie_jieba_would(tmp_path):
    dictionary = tmp_path / "dict.txt"
    # a repeated word: jieba keeps the later frequency and counts both in the total; a zero one is no word
    dictionary.write_text("口岸 10 n\n智慧 7 n\n智慧口岸 3 nz\n口岸 12 ns\n零 0 m\n", encoding="utf-8")
    folder = tmp_path / "trie"
    build_trie(dictionary, folder)
    info = json.loads((folder / "info.json").read_text(encoding="utf-8"))
    assert info == {"total": 32, "longest": 4}
    reference = jieba.Tokenizer(str(dictionary))
    reference.initialize()
    assert reference.total == info["total"]
    import marisa_trie
    import numpy as np

    trie = marisa_trie.Trie().mmap(str(folder / "words.marisa"))
    ours = WordTokenizer(trie, np.load(folder / "frequencies.npy"), np.load(folder / "tags.npy"), info["total"],
                         info["longest"])
    assert sorted(trie.keys()) == ["口岸", "智慧", "智慧口岸"]
    assert ours.FREQ.get("口岸") == 12 and ours.FREQ.get("零") is None and ours.tags.get("口岸") == "ns"
    for text in ("智慧口岸的智慧", "口岸零口岸", "零"):
        assert ours.lcut(text) == reference.lcut(text)
