"""Sentence boundaries for Chinese and English text, with character offsets.

Chinese sentences end at 。！？ (and their ASCII forms); the seeds also use ``;`` and
``；`` between clauses, which we treat as boundaries, and newlines always end a
sentence. ASCII commas inside Chinese text do not. An English full stop ends a
sentence only when whitespace follows, so ``49.25亿`` stays whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SENTENCE = re.compile(
    r"""
    [^\n]*?                              # shortest run of text on one line ...
    (?:
        [。！？!?；;]+[”’"』」）)]*         # ... up to CJK/ASCII terminal punctuation (+ closing quotes)
      | \.(?=\s)                          # ... or an English full stop followed by space
      | \.$                               # ... or a full stop at the end of the line
      | (?=\n) | $                        # ... or the end of the line
    )
    """,
    re.VERBOSE | re.MULTILINE,
)


@dataclass(frozen=True)
class Sentence:
    text: str
    start: int
    end: int


def split_sentences(text: str, offset: int = 0) -> list[Sentence]:
    """Split ``text`` into sentences; ``start``/``end`` are offsets into ``text`` plus ``offset``.

    >>> [s.text for s in split_sentences("该项目预计于2024年12月底建成。旨在实现目标; 第二句\\nA new line. Next!")]
    ['该项目预计于2024年12月底建成。', '旨在实现目标;', '第二句', 'A new line.', 'Next!']
    """
    out: list[Sentence] = []
    for m in _SENTENCE.finditer(text):
        raw = m.group(0)
        stripped = raw.strip()
        if not stripped:
            continue
        lead = len(raw) - len(raw.lstrip())
        start = m.start() + lead
        out.append(Sentence(stripped, offset + start, offset + start + len(stripped)))
    return out
