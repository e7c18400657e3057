"""Answer and retrieval metrics, CMRC 2018 style for Chinese.

Answers are compared after normalisation: lower case, punctuation and spaces removed;
Chinese is split into characters, other text into words, so a mixed answer such as
``49.25亿美元`` gives ``['4925', '亿', '美', '元']``. Scores are the maximum over
the acceptable gold answers. (Punctuation goes first, so ``49.25`` compares as ``4925``.)

>>> round(f1("2024年12月底", ["2024年12月"]), 4)
0.8889
>>> exact_match("December 2024.", ["december 2024"])
1.0
"""

from __future__ import annotations

import re
import string
from collections import Counter

_PUNCT = set(string.punctuation) | set("，。！？；：、“”‘’（）《》【】…—·「」『』〈〉％")
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(rf"[{_CJK}]|[^\W_{_CJK}]+", re.UNICODE)


def answer_tokens(text: str) -> list[str]:
    """Characters for Chinese, words for everything else; punctuation and spaces dropped."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCT)
    return _TOKEN.findall(text)


def exact_match(prediction: str, golds: list[str]) -> float:
    pred = answer_tokens(prediction)
    return float(any(pred == answer_tokens(g) for g in golds)) if golds else 0.0


def f1(prediction: str, golds: list[str]) -> float:
    """Token-level F1 (characters for Chinese), best over the gold answers."""
    pred = answer_tokens(prediction)
    best = 0.0
    for gold in golds:
        ref = answer_tokens(gold)
        common = sum((Counter(pred) & Counter(ref)).values())
        if not pred or not ref or common == 0:
            continue
        precision, recall = common / len(pred), common / len(ref)
        best = max(best, 2 * precision * recall / (precision + recall))
    return best


def contains_gold(text: str, golds: list[str]) -> float:
    return float(any(g and g in text for g in golds))


def recall_at(hits: list[bool], k: int) -> float:
    """1.0 when a relevant item is among the first ``k``."""
    return float(any(hits[:k]))


def reciprocal_rank(hits: list[bool], k: int = 10) -> float:
    """1/rank of the first relevant item within ``k`` (0 when none).

    >>> reciprocal_rank([False, False, True])
    0.3333333333333333
    """
    for rank, hit in enumerate(hits[:k], start=1):
        if hit:
            return 1.0 / rank
    return 0.0


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, int(round(q / 100 * len(ordered))) - 1))
    return ordered[index]
