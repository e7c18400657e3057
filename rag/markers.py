"""Citation markers in a model's answer: ``[1]``, ``[1][2]``, ``[1,2]``, ``[1-3]``, full-width ``［1］``, ``【1】``.

The answer is split into claims (sentences); markers written after a sentence's full stop
belong to that sentence. Brackets holding anything but passage numbers — a small model
once "cited" ``[2023年12月12日]`` — are kept as invalid markers so the verifier can report them.

>>> claims = split_claims("项目于2024年12月底建成。[1][2] It opens soon [3,4]. See [2023年12月12日].")
>>> [(c.text, c.numbers, c.invalid) for c in claims]
[('项目于2024年12月底建成。', [1, 2], []), ('It opens soon.', [3, 4], []), ('See.', [], ['[2023年12月12日]'])]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rag.sentences import split_sentences

_OPEN, _CLOSE = r"[\[［【]", r"[\]］】]"
_BRACKETED = re.compile(rf"\s*{_OPEN}([^\[\]［］【】\n]{{1,60}}){_CLOSE}")
_NUMBERS = re.compile(r"^\s*(?:passages?\s*|source\s*|ref\.?\s*)?\d+(?:\s*(?:[,，、;；]|-|–|~|and|to)\s*\d+)*\s*$", re.I)
_LEADING_MARKERS = re.compile(rf"^(?:\s*{_OPEN}[^\[\]［］【】\n]{{1,60}}{_CLOSE}[\s。.，,;；]*)+")
MAX_RANGE = 20


@dataclass
class Claim:
    """One sentence of an answer: its text without markers, the passage numbers it cites, bad markers."""

    text: str
    numbers: list[int] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)


def parse_marker(inner: str) -> list[int] | None:
    """Passage numbers in the text between brackets, or None when it is not a citation.

    >>> parse_marker("1, 2"), parse_marker("2-4"), parse_marker("2023年12月12日")
    ([1, 2], [2, 3, 4], None)
    """
    if not _NUMBERS.match(inner):
        return None
    out: list[int] = []
    for low, sep, high in re.findall(r"(\d+)(?:\s*(-|–|~|to)\s*(\d+))?", inner):
        a = int(low)
        if sep and high and 0 < int(high) - a <= MAX_RANGE:
            out.extend(range(a, int(high) + 1))
        else:  # "[1-999]" is not a range anyone means: keep its ends, the verifier drops what is out of range
            out.extend([a, int(high)] if high else [a])
    return list(dict.fromkeys(out))


def split_claims(answer: str) -> list[Claim]:
    """The answer's sentences with their markers taken out and parsed."""
    claims: list[Claim] = []
    for sentence in split_sentences(answer):
        text = sentence.text
        lead = _LEADING_MARKERS.match(text)
        if lead and claims:
            # "…使用。[1] 下一句" — markers right after a full stop cite the sentence before.
            numbers, invalid = _markers(lead.group(0))
            _extend(claims[-1], numbers, invalid)
            text = text[lead.end():]
        numbers, invalid = _markers(text)
        stripped = strip_markers(text)
        if stripped:
            claims.append(Claim(stripped, numbers, invalid))
        elif claims:
            _extend(claims[-1], numbers, invalid)
    return claims


def _extend(claim: Claim, numbers: list[int], invalid: list[str]) -> None:
    claim.numbers.extend(n for n in numbers if n not in claim.numbers)
    claim.invalid.extend(invalid)


def _markers(text: str) -> tuple[list[int], list[str]]:
    numbers: list[int] = []
    invalid: list[str] = []
    for m in _BRACKETED.finditer(text):
        parsed = parse_marker(m.group(1))
        if parsed is None:
            invalid.append(m.group(0).strip())
        else:
            numbers.extend(n for n in parsed if n not in numbers)
    return numbers, invalid


def strip_markers(text: str) -> str:
    """The text without any bracketed markers, with the space before sentence punctuation tidied."""
    text = _BRACKETED.sub("", text)
    return re.sub(r"\s+([.。!?！？,，;；])", r"\1", text).strip()
