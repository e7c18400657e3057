"""Verification of model answers against passages, on the real seeds index and embedder.

The claims in tests/data/grounding_claims.jsonl set the thresholds in rag/grounding.py:
each faithful claim, citing the passage that holds its evidence, must be accepted; each
invented claim must be rejected whichever retrieved passage it cites.
"""

import json
from pathlib import Path

import pytest

from rag.grounding import GroundingChecker

CLAIMS = [json.loads(line) for line in
          (Path(__file__).parent / "data" / "grounding_claims.jsonl").read_text(encoding="utf-8").splitlines()
          if line.strip()]


@pytest.fixture(scope="module")
def checker(assistant):
    return GroundingChecker(assistant.index, assistant.embedder)


@pytest.mark.parametrize("item", [c for c in CLAIMS if c["supported"]], ids=lambda c: c["claim"][:40])
def test_faithful_claim_citing_its_passage_is_grounded(assistant, checker, item):
    passages = assistant.retriever.search(item["question"], k=5).passages
    n = next(i for i, p in enumerate(passages, start=1) if item["evidence"] in p.text)
    verdict = checker.check(f"{item['claim']} [{n}]", passages)
    assert verdict.grounded, verdict.reasons
    assert len(verdict.citations) == 1
    citation = verdict.citations[0]
    assert citation.n == 1 and "[1]" in verdict.text
    assert citation.chunk_id == passages[n - 1].chunk_id
    # the quote is verbatim from the document, a sentence of the cited passage
    assert assistant.index.documents[citation.doc_id]["text"][citation.start:citation.end] == citation.quote
    assert citation.quote in citation.text


@pytest.mark.parametrize("item", [c for c in CLAIMS if not c["supported"]], ids=lambda c: c["claim"][:40])
def test_invented_claim_is_not_grounded_whichever_passage_it_cites(assistant, checker, item):
    passages = assistant.retriever.search(item["question"], k=5).passages
    for n in range(1, len(passages) + 1):
        for question in ("", item["question"]):  # the question lends its words to claims with numbers
            verdict = checker.check(f"{item['claim']} [{n}]", passages, question)
            assert not verdict.grounded, (n, verdict.to_dict())
            assert verdict.citations == []


@pytest.mark.parametrize("count,grounded", [("three", False), ("two", True)])
def test_a_count_in_words_is_checked_against_the_passage(assistant, checker, count, grounded):
    """The passage says 两个24小时口岸: "three … gates" is an invented number (rag.quantities reads both)."""
    question = "How many 24-hour border gates does the smart border gate project connect?"
    passages = assistant.retriever.search(question, k=5).passages
    n = next(i for i, p in enumerate(passages, start=1) if "两个24小时" in p.text)
    verdict = checker.check(f"The smart border gate project connects {count} 24-hour border gates [{n}].",
                            passages, question)
    assert verdict.grounded == grounded, verdict.to_dict()


def test_small_model_hallucination_is_caught(assistant, checker):
    """What SmolLM2-135M answered over the right passage: an invented date and a date as 'citation'."""
    passages = assistant.retriever.search("When does the smart port open?", k=5).passages
    verdict = checker.check("The smart port will open on 2023年12月12日 [2023年12月12日].", passages)
    assert not verdict.grounded
    assert any("2023年12月12日" in r for r in verdict.reasons)


def test_refusal_is_recognised(assistant, checker):
    passages = assistant.retriever.search("Who won the 2022 FIFA World Cup?", k=5).passages
    verdict = checker.check("The articles do not say.", passages)
    assert verdict.grounded and verdict.refusal and verdict.citations == []
