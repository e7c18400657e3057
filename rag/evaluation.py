"""Evaluate an assistant on a test set: retrieval, answers, citations, refusals, speed.

Test sets:

- JSONL, one question a line: ``qid``, ``question``, ``answers`` (acceptable strings; empty when
  unanswerable), optional ``doc_id`` (gold document id: its path relative to the indexed folder),
  ``evidence`` (a string a correct passage contains), ``answerable`` (default: answers non-empty).
- SQuAD v1.1 JSON: every paragraph becomes a document (``NNN-NNN.txt``), indexed into a
  temporary index unless one is given.

>>> report = evaluate("tests/data/seeds_qa.jsonl", Assistant())          # doctest: +SKIP
>>> report.metrics["all"]["recall@5"]                                     # doctest: +SKIP
"""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rag.language import detect_language
from rag.markers import strip_markers
from rag.metrics import RIGHT_F1, contains_gold, exact_match, f1, percentile, recall_at, reciprocal_rank


@dataclass
class TestQuestion:
    qid: str
    question: str
    answers: list[str]
    doc_id: str | None = None
    evidence: str | None = None
    answerable: bool = True


@dataclass
class TestSet:
    questions: list[TestQuestion]
    problems: list[str] = field(default_factory=list)  # malformed lines, with line numbers
    corpus: dict[str, str] | None = None  # doc_id -> text, for SQuAD sets


def load_testset(path: str | Path) -> TestSet:
    """Read a JSONL or SQuAD v1.1 test set. Malformed JSONL lines are reported and skipped."""
    path = Path(path)
    text = path.read_text(encoding="utf-8-sig")
    try:
        whole = json.loads(text)
    except ValueError:
        whole = None  # not one JSON document: JSONL
    if isinstance(whole, dict) and "data" in whole:
        try:
            testset = _load_squad(whole)
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"{path}: not a SQuAD v1.1 file ({type(exc).__name__}: {exc}); each of data[]."
                             "paragraphs[] needs a context and qas with a question and answers") from exc
    else:
        testset = _load_jsonl(text)
    if not testset.questions:
        raise ValueError(f"{path}: the test set has no questions" +
                         (f" ({'; '.join(testset.problems[:3])})" if testset.problems else ""))
    return testset


def _load_jsonl(text: str) -> TestSet:
    questions, problems = [], []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            question = row["question"]
            if not isinstance(question, str) or not question.strip():
                raise ValueError("empty question")
            # XQuAD's English questions carry English answers too; either language counts as right.
            answers = list(dict.fromkeys(str(a) for a in (row.get("answers") or []) + (row.get("answers_en") or [])))
            questions.append(TestQuestion(
                qid=str(row.get("qid", lineno)), question=question, answers=answers,
                doc_id=row.get("doc_id"), evidence=row.get("evidence"),
                answerable=bool(row.get("answerable", bool(answers))),
            ))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            problems.append(f"line {lineno}: {type(exc).__name__}: {exc}")
    return TestSet(questions, problems)


def _load_squad(data: dict) -> TestSet:
    questions, corpus, problems = [], {}, []
    for a, article in enumerate(data["data"]):
        for p, paragraph in enumerate(article.get("paragraphs", [])):
            doc_id = f"{a:03d}-{p:03d}.txt"
            title = str(article.get("title", doc_id)).replace("_", " ")
            corpus[doc_id] = f"{title}\n\n{paragraph['context']}"
            for qa in paragraph.get("qas", []):
                if not str(qa["question"]).strip():
                    problems.append(f"question {qa.get('id', '?')} (paragraph {doc_id}) is empty: skipped")
                    continue
                answers = list(dict.fromkeys(x["text"] for x in qa.get("answers", [])))
                questions.append(TestQuestion(qid=str(qa.get("id", len(questions))), question=qa["question"],
                                              answers=answers, doc_id=doc_id,
                                              answerable=not qa.get("is_impossible", False) and bool(answers)))
    return TestSet(questions, problems, corpus)


def write_corpus(corpus: dict[str, str], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for doc_id, text in corpus.items():
        (folder / doc_id).write_text(text, encoding="utf-8")
    return folder


@dataclass
class Prediction:
    qid: str
    question: str
    language: str
    answerable: bool
    refused: bool
    answer: str
    answer_span: str | None
    citations: list[dict]
    retrieved: list[dict]
    timings: dict
    scores: dict
    fallback: str | None = None  # with a language model: why the extractive answer was used instead
    generation: dict | None = None
    gold: list[str] = field(default_factory=list)


@dataclass
class Report:
    settings: dict
    metrics: dict
    predictions: list[Prediction]
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def same_document(index_doc_id: str, gold_doc_id: str) -> bool:
    """A test set names a document by its path in the indexed folder (``xqd-000.txt``); the index adds the
    folder's label (``corpus/xqd-000.txt``). Either form matches.

    >>> same_document("seeds/000_714598442bb43c6e.txt", "000_714598442bb43c6e.txt")
    True
    """
    return index_doc_id == gold_doc_id or index_doc_id.endswith("/" + gold_doc_id)


def _relevant(q: TestQuestion, doc_id: str, text: str) -> bool:
    if q.evidence:
        return q.evidence in text
    return q.doc_id is not None and same_document(doc_id, q.doc_id)


def score_question(assistant, q: TestQuestion, k: int = 5) -> Prediction:
    """Ask one question and score the answer against the gold.

    The *lead* is the short answer the reply opens with (``Answer.answer_span``); a model's answer
    (not a fallback) is its own words. A missing lead scores 0 for exact match and F1.
    """
    result = assistant.ask(q.question, k=k)
    # Ranking metrics look ten deep whatever k the answer used.
    ranked = assistant.search(q.question, k=10).passages
    hits = [_relevant(q, p.doc_id, p.text) for p in ranked]
    documents = assistant.index.documents
    quotes_valid = all(documents[c.doc_id]["text"][c.start:c.end] == c.quote for c in result.citations)
    if result.generation is not None and result.fallback is None:
        lead = strip_markers(result.text)  # the model's own words are the answer
    else:
        lead = result.answer_span
    scored = not result.refused and q.answerable
    supported = [
        bool((q.evidence and q.evidence in c.text) or any(a and a in c.text for a in q.answers))
        for c in result.citations
    ]
    lead_f1 = f1(lead, q.answers) if scored and lead else 0.0
    scores = {
        # without evidence or a gold document (RGB) relevance is unknown: no ranking figures
        **({"hit@1": recall_at(hits, 1), "hit@5": recall_at(hits, 5), "rr@10": reciprocal_rank(hits, 10)}
           if q.evidence or q.doc_id else {"hit@1": None, "hit@5": None, "rr@10": None}),
        "lead_given": bool(scored and lead),
        "lead_em": exact_match(lead, q.answers) if scored and lead else 0.0,
        "lead_f1": lead_f1,
        "lead_right": bool(scored and lead and lead_f1 >= RIGHT_F1),
        "contains": contains_gold(result.text, q.answers) if scored else 0.0,
        "citation_precision": sum(supported) / len(supported) if supported else None,
        "quotes_valid": quotes_valid,
    }
    return Prediction(
        qid=q.qid, question=q.question, language=detect_language(q.question), answerable=q.answerable,
        refused=result.refused, answer=result.text, answer_span=result.answer_span,
        citations=[{"n": c.n, "doc_id": c.doc_id, "quote": c.quote, "start": c.start, "end": c.end}
                   for c in result.citations],
        retrieved=[{"doc_id": p.doc_id, "score": p.score} for p in result.passages],
        timings=result.timings, scores=scores, fallback=result.fallback, generation=result.generation,
        gold=q.answers,
    )


def summarize(predictions: list[Prediction]) -> dict:
    """Metrics overall and per question language.

    Lead: ``lead_em`` and ``lead_f1`` (CMRC's F1) over answerable questions, a missing lead counting 0;
    ``lead_given``, the share of answerable questions answered with a lead; ``lead_right``, the share of
    given leads with F1 ≥ 0.5. Whole answer: ``answer_contains_gold``. Refusals both ways:
    ``answerable_refused`` and ``unanswerable_refused``.
    """

    def block(rows: list[Prediction]) -> dict:
        answerable = [r for r in rows if r.answerable]
        mean = lambda xs: round(statistics.fmean(xs), 4) if xs else None  # noqa: E731
        unanswerable = [r for r in rows if not r.answerable]
        given = [r for r in answerable if r.scores["lead_given"]]
        cited = [r.scores["citation_precision"] for r in rows if r.scores["citation_precision"] is not None]
        return {
            "questions": len(rows), "answerable": len(answerable), "unanswerable": len(unanswerable),
            "recall@1": mean([r.scores["hit@1"] for r in answerable if r.scores["hit@1"] is not None]),
            "recall@5": mean([r.scores["hit@5"] for r in answerable if r.scores["hit@5"] is not None]),
            "mrr@10": mean([r.scores["rr@10"] for r in answerable if r.scores["rr@10"] is not None]),
            "lead_em": mean([r.scores["lead_em"] for r in answerable]),
            "lead_f1": mean([r.scores["lead_f1"] for r in answerable]),
            "lead_given": mean([float(r.scores["lead_given"]) for r in answerable]),
            "lead_right": mean([float(r.scores["lead_right"]) for r in given]),
            "answer_contains_gold": mean([r.scores["contains"] for r in answerable]),
            "answerable_refused": mean([float(r.refused) for r in answerable]),
            "unanswerable_refused": mean([float(r.refused) for r in unanswerable]),
            "citation_precision": mean(cited),
            "quote_validity": mean([float(r.scores["quotes_valid"]) for r in rows]),
            # with a language model: the share of answers where the extractive answer had to stand in
            "fallback_rate": mean([float(r.fallback is not None) for r in rows]) if any(
                r.generation is not None for r in rows) else None,
        }

    out = {"all": block(predictions)}
    for lang in sorted({p.language for p in predictions}):
        out[lang] = block([p for p in predictions if p.language == lang])
    latencies = [p.timings.get("total_ms", 0.0) for p in predictions]
    out["latency_ms"] = {"median": round(statistics.median(latencies), 2),
                         "p95": round(percentile(latencies, 95), 2)}
    return out


def worst(predictions: list[Prediction], n: int) -> list[Prediction]:
    """The ``n`` answers that failed worst: unanswerable ones answered, answerable ones refused or
    missing the gold, then wrong leads."""
    def badness(p: Prediction) -> tuple:
        if not p.answerable:
            return (0 if p.refused else 3, 0.0)
        if p.refused:
            return (3, 0.0)
        return (2 if not p.scores["contains"] else (1 if p.scores["lead_given"] and not p.scores["lead_right"] else 0),
                -p.scores["lead_f1"])
    return sorted((p for p in predictions if badness(p)[0] > 0), key=badness, reverse=True)[:n]


def evaluate(testset, assistant, *, k: int = 5, progress: bool = False) -> Report:
    """Run every question of ``testset`` (a path or a ``TestSet``) through ``assistant``."""
    from tqdm import tqdm

    if not isinstance(testset, TestSet):
        testset = load_testset(testset)
    warnings = list(testset.problems)
    known = {d.split("/", i)[-1] for d in assistant.index.documents for i in range(d.count("/") + 1)}
    missing = sorted({q.doc_id for q in testset.questions if q.doc_id and q.doc_id not in known})
    warnings += [f"doc_id {d!r} is not in the index" for d in missing]
    assistant.warm_up()  # latency figures should not include one-off dictionary loads
    predictions = [score_question(assistant, q, k=k)
                   for q in tqdm(testset.questions, desc="Evaluating", unit="q", disable=not progress, leave=False)]
    settings = {"k": k, "index": str(assistant.index_dir), "embedder": assistant.index.embedder,
                "answerer": assistant.answers_with, "reader": getattr(assistant, "reader", None),
                "questions": len(predictions)}
    return Report(settings, summarize(predictions), predictions, warnings)
