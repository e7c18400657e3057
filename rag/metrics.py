"""Answer and retrieval metrics, CMRC 2018's own for Chinese.

Answers are compared the way CMRC 2018's official script does: lower case, punctuation and spaces
removed, Chinese split into characters and other text into words and numbers
(``49.25亿美元`` → ``['49.25', '亿', '美', '元']``). **F1 is CMRC's**: the longest common
*substring* of the two token lists gives precision and recall (a bag-of-characters F1 would credit
the right characters in the wrong order). Scores are the best over the acceptable gold answers.

>>> round(f1("2024年12月底", ["2024年12月"]), 4)
0.8889
>>> round(f1("中国广西", ["广西中国"]), 4)   # bag-of-characters F1 would say 1.0
0.5
>>> exact_match("December 2024.", ["december 2024"])
1.0
"""

from __future__ import annotations

import re
import string

# CMRC 2018's punctuation list plus ASCII punctuation and a few more full-width marks.
_PUNCT = set(string.punctuation) | set("，。！？；：、“”‘’（）《》【】…—·「」『』〈〉％－～")
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(rf"[{_CJK}]|\d+(?:[.,]\d+)*|[^\W\d_{_CJK}]+|\S", re.UNICODE)
RIGHT_F1 = 0.5  # a lead "is right" from this F1 on: it holds most of the answer and little else


def answer_tokens(text: str) -> list[str]:
    """Characters for Chinese, words and numbers for everything else; punctuation and spaces dropped.

    >>> answer_tokens("约达49.25亿美元, end of 2024!")
    ['约', '达', '49.25', '亿', '美', '元', 'end', 'of', '2024']
    """
    return [t for t in _TOKEN.findall(text.lower()) if t not in _PUNCT]


def exact_match(prediction: str, golds: list[str]) -> float:
    pred = answer_tokens(prediction)
    return float(any(pred == answer_tokens(g) for g in golds)) if golds else 0.0


def longest_common_substring(a: list[str], b: list[str]) -> int:
    """Length of the longest run of tokens ``a`` and ``b`` share.

    >>> longest_common_substring(list("谅山省口岸"), list("广西口岸经济"))
    2
    """
    best = 0
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0] * (len(b) + 1)
        for j, y in enumerate(b, start=1):
            if x == y:
                current[j] = previous[j - 1] + 1
                best = max(best, current[j])
        previous = current
    return best


def f1(prediction: str, golds: list[str]) -> float:
    """CMRC 2018's F1: precision and recall of the longest common token substring, best over the golds."""
    pred = answer_tokens(prediction)
    best = 0.0
    for gold in golds:
        ref = answer_tokens(gold)
        common = longest_common_substring(pred, ref) if pred and ref else 0
        if common:
            precision, recall = common / len(pred), common / len(ref)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


def contains_gold(text: str, golds: list[str]) -> float:
    """1.0 when ``text`` holds a gold answer (spaces ignored: XQuAD's Chinese answers carry some)."""
    squeezed = re.sub(r"\s+", "", text)
    return float(any(g.strip() and re.sub(r"\s+", "", g) in squeezed for g in golds))


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
