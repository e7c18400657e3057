"""Follow-up questions lean on the conversation: "And exports?" after a question about Lang Son's
trade means Lang Son's exports. Before retrieval such a follow-up is joined to the previous question.
"""

from __future__ import annotations

import re

from rag.language import has_cjk

_FOLLOW_UP_START = re.compile(
    r"^\s*(and|also|what about|how about|and what about|what of|then|so|same for|那|那么|还有|另外|以及|而|它|其|他|她)\b",
    re.I,
)
SHORT_WORDS = 4
SHORT_CJK_CHARS = 8


def is_follow_up(question: str) -> bool:
    """Short or connective-led questions ("And exports?", "那出口呢？") depend on the previous turn."""
    text = question.strip()
    if _FOLLOW_UP_START.match(text) or text.startswith(("那", "还有", "另外")) or text.endswith("呢？") or text.endswith("呢?"):
        return True
    if has_cjk(text):
        return len(re.sub(r"\W", "", text)) <= SHORT_CJK_CHARS
    return len(re.findall(r"\w+", text)) <= SHORT_WORDS


def condense_question(question: str, history: list[str] | None) -> str:
    """The question to retrieve with: a follow-up joined to the previous user question.

    >>> condense_question("And exports?", ["What was Lang Son's import-export total in 2023?"])
    "What was Lang Son's import-export total in 2023? And exports?"
    >>> condense_question("Who is the Party Secretary of Guangxi?", ["When does the smart port open?"])
    'Who is the Party Secretary of Guangxi?'
    """
    previous = [h for h in (history or []) if h and h.strip()]
    if not previous or not is_follow_up(question):
        return question
    return f"{previous[-1].strip()} {question.strip()}"
