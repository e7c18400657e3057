"""Words for BM25: jieba for Chinese (it has no spaces), lower-cased words for everything else."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

_PUNCT_OR_SPACE = re.compile(r"^[\W_]+$", re.UNICODE)
_DIGITS = re.compile(r"^[\d.,%]+$")

# Function words that carry no topic; kept short on purpose (BM25's idf handles the rest).
STOPWORDS = frozenset(
    """的 了 和 与 及 或 是 在 于 为 对 将 把 被 也 都 而 并 等 其 该 这 那 之 以 从 由 向 到 上 中 下 个 有 就 还 又
    吗 呢 吧 啊 么 什么 怎么 如何 哪 哪些 哪个 哪里 谁 多少 几 是否 什么样 为什么 何时 什么时候 请问 一 年 月 日
    职务 职位 身份 时间 日期 名字 名称 多久 多长
    a an the of to in on at for by with from and or but is are was were be been being do does did
    what when where who whom whose which why how much many that this these those it its as into about
    will would can could should has have had not no yes i you he she we they me my our your their there like""".split()
)


def _jieba():
    """jieba's tokenizer over its dictionary in a memory-mapped trie (``rag.word_dictionary``): the same cuts
    as ``jieba.lcut``, without reading the whole dictionary into each process first."""
    from rag.word_dictionary import word_tokenizer

    return word_tokenizer()


def tokenize(text: str) -> list[str]:
    """Search-mode jieba tokens, lower-cased, without punctuation or stopwords.

    >>> tokenize("谅山省2023年进出口总额是多少？")
    ['谅山', '谅山省', '2023', '进出', '出口', '进出口', '总额']
    """
    out = []
    for token in _jieba().lcut_for_search(text.lower()):
        token = token.strip()
        if not token or _PUNCT_OR_SPACE.match(token) or token in STOPWORDS:
            continue
        out.append(token)
    return out


def is_number(token: str) -> bool:
    return bool(_DIGITS.match(token))


@dataclass(frozen=True)
class Word:
    text: str
    tag: str
    start: int
    end: int


@functools.lru_cache(maxsize=4096)
def tag_words(sentence: str) -> tuple[Word, ...]:
    """jieba's words with their part-of-speech tags (ICTCLAS set: nr person, ns place, …) and offsets
    (cached: answers reuse sentences)."""
    from rag.word_dictionary import pos_tokenizer

    out, pos = [], 0
    for word, tag in pos_tokenizer().lcut(sentence):
        start = sentence.find(word, pos)
        if start < 0:
            continue
        pos = start + len(word)
        out.append(Word(word, tag, start, pos))
    return tuple(out)
