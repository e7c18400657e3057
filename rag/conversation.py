"""Follow-up questions lean on the conversation: "And exports?" after a question about Lang Son's
trade means Lang Son's exports. Such a question is read together with the previous one — but only a
question that cannot stand alone, and only when reading it so retrieves better: the passages found with
the previous question hold the follow-up's own words at least as well as those found without it
(``context_helps``; ``Assistant`` asks both).

A question cannot stand alone when it opens with a connective ("And…", "What about…", 那…, 还有…),
ends with 呢, or names nothing but a pronoun or question words ("When was it built?", "他是谁？",
"Why?"). Length alone says nothing: "Who won Euro 2024?" and "河内的人口是多少？" are complete.
"""

from __future__ import annotations

import re

from rag.language import has_cjk

def message_text(content, *, strict: bool = False) -> str:
    """A chat message's text, as chat front ends send it: a string, or a list of parts of which the text ones
    count (OpenAI's content parts; Gradio 6 hands its history back so). Anything else is no text, or with
    ``strict`` (a request to ``rag serve``) a ``ValueError``.

    >>> message_text([{"type": "text", "text": "When does"}, {"type": "text", "text": "it open?"}])
    'When does it open?'
    >>> message_text(None), message_text(42)
    ('', '')
    """
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict) and p.get("type", "text") == "text")
    if strict and content is not None:
        raise ValueError("a message's content must be a string or a list of text parts")
    return ""


_CONNECTIVE_START = re.compile(
    r"^\s*(?:and|also|what about|how about|what of|then|so what|same for|but what|or)\b|^\s*(?:那|那么|还有|另外|以及|而|并且|那个)",
    re.I,
)
_ENDS_WITH_NE = re.compile(r"呢\s*[？?]?\s*$")
# words that carry no topic of their own: question words, pronouns, auxiliaries, generic verbs
_EMPTY_EN = set("""
what when where who whom whose which why how much many long far is are was were be been do does did will would
can could should has have had it its it's they them their theirs he him his she her hers this that these those
there here the a an of in on at to for by about from with as so then else more exactly happen happened mean means
tell me please year month day date time one ones
""".split())
_PRONOUN_EN = re.compile(r"\b(it|its|they|them|their|he|him|his|she|her|this|that|these|those|there)\b", re.I)
_EMPTY_ZH = re.compile(r"[它他她其这那此该]|什么|怎么|为什么|为何|多少|几|哪|谁|何时|是|的|吗|呢|了|有|在|时候|样|会|要|呀|啊|吧|个|些|里")


def needs_context(question: str) -> bool:
    """Can the question not be understood without the previous one?

    >>> needs_context("And exports?"), needs_context("那出口呢？"), needs_context("When was it built?")
    (True, True, True)
    >>> needs_context("Who won Euro 2024?"), needs_context("河内的人口是多少？")
    (False, False)
    """
    text = question.strip()
    if _CONNECTIVE_START.match(text) or _ENDS_WITH_NE.search(text):
        return True
    if has_cjk(text):
        rest = _EMPTY_ZH.sub("", re.sub(r"[\W\d_]", "", text))
        return len(rest) == 0 or (len(rest) <= 2 and bool(re.search(r"[它他她其这那此该]", text)))
    words = [w.lower() for w in re.findall(r"[A-Za-z0-9']+", text)]
    content = [w for w in words if w not in _EMPTY_EN]
    return not content or (len(content) <= 1 and bool(_PRONOUN_EN.search(text)))


def merged_question(question: str, history: list[str] | None) -> str | None:
    """The question read together with the previous user question, or None when it stands alone (or
    there is nothing before it).

    >>> merged_question("And exports?", ["What was Lang Son's import-export total in 2023?"])
    "What was Lang Son's import-export total in 2023? And exports?"
    >>> merged_question("Who won Euro 2024?", ["When does the smart port open?"]) is None
    True
    """
    previous = [h for h in (history or []) if h and h.strip()]
    if not previous or not needs_context(question):
        return None
    return f"{previous[-1].strip()} {question.strip()}"


def context_helps(alone, together, index, top: int = 3) -> bool:
    """Do the passages retrieved for the merged question (``together``) hold the follow-up's own index
    terms, idf-weighted, at least as well as those retrieved for it alone (``alone``)?"""
    from rag.lexical import tokenize

    terms = alone.query_terms
    if not terms:
        return True  # the follow-up names nothing of its own: the previous question supplies it

    def found(retrieval) -> float:
        tokens = {t for p in retrieval.passages[:top] for t in tokenize(p.text)}
        return sum(w * index.idf(t) for t, w in terms.items() if t in tokens)

    return found(together) >= found(alone)
