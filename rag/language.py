"""Which language a text is written in, as far as retrieval cares: Chinese or not."""

import re

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")


def detect_language(text: str) -> str:
    """Return ``"zh"`` when CJK characters make up a fair share of the letters, else ``"en"``.

    A Chinese character carries about as much as an English word, so each counts
    as five Latin letters.

    >>> detect_language("When does the smart port open?")
    'en'
    >>> detect_language("谅山省2023年进出口总额是多少？")
    'zh'
    """
    cjk = len(_CJK.findall(text))
    latin = len(_LATIN.findall(text))
    if cjk == 0:
        return "en"
    return "zh" if cjk * 5 >= latin * 0.5 else "en"


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))
