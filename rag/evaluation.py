"""Score an assistant against a JSONL test set: retrieval recall, answer match, quotes, refusals.

One question a line: ``qid``, ``question``, ``answers`` (acceptable strings; empty when
unanswerable), optional ``doc_id``, ``evidence`` (a string a correct passage contains)
and ``answerable`` (default: ``answers`` is non-empty). Only the public API is used.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from rag.language import detect_language


@dataclass
class TestQuestion:
    qid: str
    question: str
    answers: list[str]
    doc_id: str | None = None
    evidence: str | None = None
    answerable: bool = True


@dataclass
class QuestionResult:
    qid: str
    question: str
    language: str
    answerable: bool
    refused: bool
    text: str
    hit_at_1: bool
    hit_at_5: bool
    contains_gold: bool
    quotes_verbatim: bool
    latency_ms: float
    cited_doc_ids: list[str] = field(default_factory=list)


def load_testset(path: str | Path) -> tuple[list[TestQuestion], list[str]]:
    """Read a JSONL test set; malformed lines are reported (with their line number) and skipped."""
    questions, problems = [], []
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                answers = list(row.get("answers") or [])
                questions.append(TestQuestion(
                    qid=str(row.get("qid", lineno)), question=row["question"], answers=answers,
                    doc_id=row.get("doc_id"), evidence=row.get("evidence"),
                    answerable=bool(row.get("answerable", bool(answers))),
                ))
            except (ValueError, KeyError, TypeError) as exc:
                problems.append(f"line {lineno}: {type(exc).__name__}: {exc}")
    if not questions:
        raise ValueError(f"{path}: the test set has no questions")
    return questions, problems


def _relevant(q: TestQuestion, doc_id: str, text: str) -> bool:
    if q.evidence:
        return q.evidence in text
    return q.doc_id is not None and doc_id == q.doc_id


def evaluate_question(assistant, q: TestQuestion, k: int = 5) -> QuestionResult:
    result = assistant.ask(q.question, k=k)
    hits = [_relevant(q, p.doc_id, p.text) for p in result.passages]
    documents = assistant.index.documents
    verbatim = all(documents[c.doc_id]["text"][c.start:c.end] == c.quote for c in result.citations)
    contains = any(a in result.text for a in q.answers) if q.answerable and not result.refused else False
    return QuestionResult(
        qid=q.qid, question=q.question, language=detect_language(q.question), answerable=q.answerable,
        refused=result.refused, text=result.text, hit_at_1=any(hits[:1]), hit_at_5=any(hits[:5]),
        contains_gold=contains, quotes_verbatim=verbatim, latency_ms=result.timings["total_ms"],
        cited_doc_ids=[c.doc_id for c in result.citations],
    )


def summarize(results: list[QuestionResult]) -> dict:
    """Metrics overall and per language."""

    def block(rows: list[QuestionResult]) -> dict:
        answerable = [r for r in rows if r.answerable]
        unanswerable = [r for r in rows if not r.answerable]
        share = lambda xs: round(sum(xs) / len(xs), 4) if xs else None  # noqa: E731
        return {
            "questions": len(rows),
            "answerable": len(answerable),
            "recall@1": share([r.hit_at_1 for r in answerable]),
            "recall@5": share([r.hit_at_5 for r in answerable]),
            "answer_contains_gold": share([r.contains_gold for r in answerable]),
            "answerable_refused": sum(r.refused for r in answerable),
            "unanswerable_refused": f"{sum(r.refused for r in unanswerable)}/{len(unanswerable)}",
            "quotes_verbatim": share([r.quotes_verbatim for r in rows]),
        }

    out = {"all": block(results)}
    for lang in sorted({r.language for r in results}):
        out[lang] = block([r for r in results if r.language == lang])
    latencies = [r.latency_ms for r in results]
    out["latency_ms"] = {
        "median": round(statistics.median(latencies), 2),
        "p95": round(sorted(latencies)[max(0, int(round(0.95 * len(latencies))) - 1)], 2),
    }
    return out
