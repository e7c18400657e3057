"""Check a language model's answer against the passages it was given.

Each claim (sentence) of the answer must be supported by a passage it cites:

1. **Numbers and dates**: every number in the claim occurs in the passage (its text, title or
   date), read with its scale and from number words (``rag.quantities``) — "USD 4.925 billion"
   matches 49.25亿美元, "December 2024" matches 2024年12月, "three gates" does not match 两个. Invented dates and amounts, the commonest failure of small models,
   fail here whatever the wording.
2. **Content**: the claim shares enough of its words with the passage, weighted by idf.
   A Chinese claim needs ``MIN_CLAIM_OVERLAP`` of its words in the passage. An English claim
   over Chinese passages is first turned into Chinese terms through the index's bilingual
   lexicon (``rag.bilingual``); its overlap is the matched share of those terms times the
   share of its content words that found a translation (so "built by a French company" is not
   supported by a passage about the gate just because "built" and "gate" match) and must
   reach ``MIN_TRANSLATED_CLAIM_OVERLAP``.

Thresholds were set on hand-written claims about the seeds (``tests/data/grounding_claims.jsonl``,
checked by ``tests/test_grounding.py``): faithful Chinese claims scored overlap 0.69–1.0 against
their passage, invented ones at most 0.43 against any retrieved passage; English claims 0.39–0.79
against 0.34 at most. Embedding similarity does not separate them (e5 gave invented Chinese claims
0.86–0.91 and faithful ones 0.91–0.97), so it only picks which sentence of a passage to quote.

Markers pointing at no passage, and brackets holding anything but passage numbers, are dropped.
The answer must cite at least one passage that supports what it says; then a claim that cites
nothing but is supported by one of the passages gets that passage's marker. An unsupported claim,
or no valid citation at all, makes the answer ungrounded, and the assistant shows the extractive
answer instead.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

import numpy as np

from rag.bilingual import translate_terms
from rag.index import ArticleIndex
from rag.injection import looks_like_instructions
from rag.language import has_cjk
from rag.lexical import is_number, tokenize
from rag.markers import Claim, split_claims
from rag.quantities import number_readings, numbers_supported
from rag.schema import Citation, Passage
from rag.sentences import split_sentences

MIN_CLAIM_OVERLAP = 0.5
MIN_TRANSLATED_CLAIM_OVERLAP = 0.37
MIN_CONTENT_WORDS = 1
NUMBER_WINDOW = 3  # sentences
MAX_CLAIMS = 40  # an answer making more claims than this is not checked (nor shown): a short answer is asked for
ECHO_SHARE = 0.75  # a claim with this share of its words from the prompt's instructions repeats them  # shorter sentences ("Yes.", "根据文章：") state nothing to check

_REFUSAL = re.compile(
    r"do(es)? not (say|mention|contain|state|provide)|not (mentioned|stated|given|provided|included)|no information|"
    r"cannot (answer|find|be found)|can't (answer|find)|没有提到|未提及|没有提及|无法回答|没有相关|未涉及|没有说明|并未提到|找不到",
    re.I,
)


@dataclass
class ClaimCheck:
    text: str
    cited: list[int]  # passage numbers as the model wrote them (1-based over the prompt's passages)
    supported_by: list[int]  # those of them (or, for an uncited claim, the one) that support it
    overlap: float
    similarity: float  # best cosine between the claim and a sentence of a supporting passage (information only)
    numbers_ok: bool
    invalid_markers: list[str] = field(default_factory=list)
    echo: bool = False  # the claim repeats the prompt's instructions or an instruction-like text

    @property
    def supported(self) -> bool:
        return bool(self.supported_by)


@dataclass
class Verdict:
    """The outcome: ``grounded`` answers keep their text (markers renumbered 1..m) and get citations."""

    grounded: bool
    refusal: bool
    text: str
    citations: list[Citation]
    claims: list[ClaimCheck]
    reasons: list[str]

    def to_dict(self) -> dict:
        return {
            "grounded": self.grounded, "refusal": self.refusal, "reasons": self.reasons,
            "claims": [
                {"text": c.text, "cited": c.cited, "supported_by": c.supported_by, "overlap": round(c.overlap, 3),
                 "similarity": round(c.similarity, 3), "numbers_ok": c.numbers_ok, "invalid_markers": c.invalid_markers}
                for c in self.claims
            ],
        }


class GroundingChecker:
    """Verify answers against passages of one index. One check at a time: the assistant makes a
    checker per question, so threads never share one.

    >>> checker = GroundingChecker(assistant.index, assistant.embedder)          # doctest: +SKIP
    >>> verdict = checker.check("该项目预计于2024年12月底建成 [1]。", passages)   # doctest: +SKIP
    >>> verdict.grounded, verdict.citations[0].quote[:12]                       # doctest: +SKIP
    (True, '该项目预计于2024年12月底')
    """

    def __init__(self, index: ArticleIndex, embedder, *, min_overlap: float = MIN_CLAIM_OVERLAP,
                 min_translated_overlap: float = MIN_TRANSLATED_CLAIM_OVERLAP):
        self.index = index
        self.embedder = embedder
        self.min_overlap = min_overlap
        self.min_translated_overlap = min_translated_overlap
        self._token_cache: dict[str, set[str]] = {}  # passage text -> tokens, for one check at a time
        self._question = ""

    def check(self, answer: str, passages: list[Passage], question: str = "") -> Verdict:
        """Verify ``answer`` (markers numbered over ``passages``); ``question`` lends its words to
        short answers that state a checked number or date ("It opens at the end of December 2024 [1].")."""
        self._token_cache = {}
        self._question = question
        claims = [c for c in split_claims(answer) if self._states_something(c.text)]
        invalid = [m for c in split_claims(answer) for m in c.invalid]
        refusal = bool(_REFUSAL.search(answer))
        if refusal and not any(c.numbers for c in claims):
            return Verdict(grounded=True, refusal=True, text=_clean_refusal(answer), citations=[], claims=[],
                           reasons=["the model said the passages do not hold the answer"])
        if not claims:
            return Verdict(False, False, answer, [], [], ["the answer states nothing that can be checked"])
        if len(claims) > MAX_CLAIMS:
            return Verdict(False, False, answer, [], [],
                           [f"the answer makes {len(claims)} claims; at most {MAX_CLAIMS} are checked"])

        vectors = self._embed([c.text for c in claims])
        checks = [self._check_claim(claim, vec, passages) for claim, vec in zip(claims, vectors)]
        reasons = []
        for claim, check in zip(claims, checks):
            out_of_range = [n for n in claim.numbers if not 1 <= n <= len(passages)]
            if out_of_range:
                reasons.append(f"markers {out_of_range} point to no passage (there were {len(passages)})")
            if check.echo:
                reasons.append(f"claim {claim.text!r} repeats instructions rather than stating a fact")
            elif not check.supported:
                why = "its numbers or dates are not in" if not check.numbers_ok else "it is not supported by"
                cited = f"passage(s) {check.cited}" if check.cited else "any passage"
                reasons.append(f"claim {claim.text!r}: {why} {cited}")
        if invalid:
            reasons.append(f"not passage numbers: {', '.join(invalid)}")
        # The model must cite at least once itself; claims it left uncited may then be attributed.
        cited_itself = any(set(c.supported_by) & set(claim.numbers) for claim, c in zip(claims, checks))
        grounded = cited_itself and all(c.supported for c in checks)
        if not grounded:
            if not cited_itself:
                reasons.append("no valid citation")
            return Verdict(False, False, answer, [], checks, reasons)
        text, citations = self._renumber(checks, vectors, passages)
        return Verdict(True, False, text, citations, checks, reasons)

    # ---- one claim ---------------------------------------------------------------------------------
    @staticmethod
    def _states_something(text: str) -> bool:
        words = [t for t in tokenize(text)]
        return len(words) >= MIN_CONTENT_WORDS

    @staticmethod
    def _echoes_instructions(text: str) -> bool:
        """A sentence made of the prompt's own words ("Reply only with the number of the passage…")."""
        words = [t for t in tokenize(text) if not is_number(t)]
        return len(words) >= 3 and sum(t in _instruction_words() for t in words) >= ECHO_SHARE * len(words)

    def _embed(self, texts: list[str]) -> np.ndarray:
        """All claims in one call when the embedder can (``embed_queries``), else one by one."""
        batch = getattr(self.embedder, "embed_queries", None)
        vectors = np.asarray(batch(texts) if batch else [self.embedder.embed_query(t) for t in texts],
                             dtype=np.float32).reshape(len(texts), -1)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)

    def _check_claim(self, claim: Claim, vector: np.ndarray, passages: list[Passage]) -> ClaimCheck:
        valid = [n for n in claim.numbers if 1 <= n <= len(passages)]
        if self._echoes_instructions(claim.text) or looks_like_instructions(claim.text):
            return ClaimCheck(claim.text, claim.numbers, [], 0.0, 0.0, True, claim.invalid, echo=True)
        candidates = valid or list(range(1, len(passages) + 1))  # an uncited claim may be backed by any
        threshold = self.min_overlap if has_cjk(claim.text) else self.min_translated_overlap
        best = (0.0, 0.0, False)
        supporters = []
        for n in candidates:
            overlap, similarity, numbers_ok = self._support(claim.text, vector, passages[n - 1])
            if numbers_ok and overlap >= threshold:
                supporters.append((overlap + similarity, n))
            best = max(best, (overlap, similarity, numbers_ok), key=lambda t: (t[2], t[0] + t[1]))
        supporters.sort(reverse=True)
        supported_by = sorted(n for _, n in supporters) if valid else [n for _, n in supporters[:1]]
        return ClaimCheck(claim.text, claim.numbers, supported_by, best[0], best[1], best[2], claim.invalid)

    def _support(self, claim: str, vector: np.ndarray, passage: Passage) -> tuple[float, float, bool]:
        """(overlap, similarity, numbers found) of the claim against one passage.

        The numbers and dates of a claim must all stand within ``NUMBER_WINDOW`` consecutive
        sentences of the passage (or its title and date), not scattered over it.
        """
        header = f"{passage.title} {passage.date or ''}"
        # Sentences that read like instructions to a model are never support (rag.injection).
        sentences = [s.text for s in split_sentences(passage.text) if not looks_like_instructions(s.text)]
        source = f"{header} {' '.join(sentences)}"
        sentence_ids = self._quotable(passage)
        similarity = float(np.max(self.index.sentence_vectors[sentence_ids] @ vector)) if sentence_ids else 0.0
        if not number_readings(claim):
            return self._overlap(claim, source), similarity, True
        sentences = sentences or [header]
        windows = [f"{header} " + " ".join(sentences[max(0, i - NUMBER_WINDOW + 1): i + 1])
                   for i in range(len(sentences))]
        if not any(numbers_supported(claim, w) for w in windows):
            return 0.0, similarity, False
        overlap = self._overlap(claim, source)
        if self._question:  # a claim stating a number may leave its subject to the question
            overlap = max(overlap, self._overlap(f"{self._question} {claim}", source))
        return overlap, similarity, True

    def _overlap(self, claim: str, source: str) -> float:
        """Idf-weighted share of the claim's words found in ``source`` (see the module docstring)."""
        source_tokens = self._tokens(source)
        coverage = 1.0
        if has_cjk(claim) or not self.index.lexicon:
            terms = {t: 1.0 for t in tokenize(claim) if not is_number(t)}
        else:
            translation = translate_terms(claim, self.index.lexicon, self.index.vocabulary)
            terms = dict(translation.weights)
            coverage = translation.coverage
        if not terms:
            return 0.0
        idf = {t: max(self.index.idf(t), 0.1) for t in terms}
        total = sum(w * idf[t] for t, w in terms.items())
        matched = sum(w * idf[t] for t, w in terms.items() if t in source_tokens)
        return coverage * matched / total if total else 0.0

    def _tokens(self, text: str) -> set[str]:
        if text not in self._token_cache:
            self._token_cache[text] = set(tokenize(text))
        return self._token_cache[text]

    # ---- output ------------------------------------------------------------------------------------
    def _renumber(self, checks: list[ClaimCheck], vectors: np.ndarray,
                  passages: list[Passage]) -> tuple[str, list[Citation]]:
        """Rewrite the answer with markers 1..m in order of first use; one citation per cited passage."""
        order: dict[int, int] = {}
        best_quote: dict[int, tuple[float, int]] = {}
        sentences = []
        for check, vector in zip(checks, vectors):
            marks = []
            for n in check.supported_by:
                order.setdefault(n, len(order) + 1)
                marks.append(order[n])
                score, sid = self._best_sentence(vector, passages[n - 1])
                if n not in best_quote or score > best_quote[n][0]:
                    best_quote[n] = (score, sid)
            sentences.append(_attach(check.text, marks))
        joiner = "" if any(has_cjk(c.text) for c in checks) else " "
        citations = []
        for n, m in sorted(order.items(), key=lambda item: item[1]):
            passage = passages[n - 1]
            score, sid = best_quote[n]
            record = self.index.sentences[sid]
            citations.append(Citation(
                n=m, doc_id=passage.doc_id, title=passage.title, date=passage.date, section=passage.section,
                quote=self.index.sentence_text(sid), text=passage.text, score=round(score, 4),
                start=record["start"], end=record["end"], chunk_id=passage.chunk_id,
            ))
        return joiner.join(sentences), citations

    def _quotable(self, passage: Passage) -> list[int]:
        return [sid for sid in self.index.chunks[passage.chunk_id]["sentence_ids"]
                if not looks_like_instructions(self.index.sentence_text(sid))]

    def _best_sentence(self, vector: np.ndarray, passage: Passage) -> tuple[float, int]:
        sentence_ids = self._quotable(passage)
        scores = self.index.sentence_vectors[sentence_ids] @ vector
        best = int(np.argmax(scores))
        return float(scores[best]), sentence_ids[best]


@functools.lru_cache(maxsize=1)
def _instruction_words() -> frozenset:
    from rag.prompting import SYSTEM_TEMPLATE

    return frozenset(tokenize(SYSTEM_TEMPLATE))


def _attach(sentence: str, marks: list[int]) -> str:
    """Put ``[m]`` markers before the sentence's closing punctuation."""
    if not marks:
        return sentence
    tags = "".join(f"[{m}]" for m in marks)
    m = re.search(r"[.。!?！？]+$", sentence)
    if m:
        return f"{sentence[:m.start()]} {tags}{sentence[m.start():]}"
    return f"{sentence} {tags}"


def _clean_refusal(answer: str) -> str:
    return re.sub(r"\s*[\[［【][^\]］】]*[\]］】]", "", answer).strip()
