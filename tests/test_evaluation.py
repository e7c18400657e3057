"""rag eval end to end on the real stack, and its test-set readers."""

import json
import subprocess
import sys

import pytest

from conftest import OFF_TOPIC
from rag import Assistant, evaluate
from rag.evaluation import load_testset


def test_jsonl_malformed_lines_are_reported_and_skipped(tmp_path):
    path = tmp_path / "set.jsonl"
    path.write_text('{"qid": "a", "question": "谁？", "answers": ["刘宁"]}\n{not json\n\n'
                    '{"qid": "b", "answers": []}\n{"qid": "c", "question": "天气？", "answers": []}\n', encoding="utf-8")
    testset = load_testset(path)
    assert [q.qid for q in testset.questions] == ["a", "c"]
    assert testset.questions[1].answerable is False
    assert [p.split(":")[0] for p in testset.problems] == ["line 2", "line 4"]


def test_empty_testset_is_a_clear_error(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_text("\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no questions"):
        load_testset(path)


def test_squad_paragraphs_become_documents(tmp_path):
    squad = {"version": "1.1", "data": [{"title": "Lang_Son", "paragraphs": [
        {"context": "谅山省是与中国广西壮族自治区接壤的省份,共同边界线长达231公里以上。",
         "qas": [{"id": "q1", "question": "谅山省与广西的共同边界线有多长？", "answers": [{"text": "231公里", "answer_start": 30}]}]},
        {"context": "2023年,全省出口总额约达1.56亿美元。",
         "qas": [{"id": "q2", "question": "谅山省2023年出口总额是多少？", "answers": [{"text": "1.56亿美元", "answer_start": 13}]},
                 {"id": "q3", "question": " ", "answers": [{"text": "1.56亿美元", "answer_start": 13}]}]},
    ]}]}
    path = tmp_path / "squad.json"
    path.write_text(json.dumps(squad, ensure_ascii=False), encoding="utf-8")
    testset = load_testset(path)
    assert [q.doc_id for q in testset.questions] == ["000-000.txt", "000-001.txt"]
    assert "231公里" in testset.corpus["000-000.txt"]
    assert len(testset.problems) == 1 and "q3" in testset.problems[0]  # CMRC 2018's trial set has one

    out = tmp_path / "report"
    run = subprocess.run([sys.executable, "-m", "rag.cli", "eval", str(path), "--out", str(out), "-q"],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["metrics"]["all"]["recall@1"] == 1.0
    assert report["metrics"]["all"]["answer_contains_gold"] == 1.0
    assert any("q3" in w for w in report["warnings"])


def test_rag_eval_on_the_project_testset_with_compare(seeds_index_dir, tmp_path):
    from conftest import KNOWN_MISSES, TESTSET, load_questions

    out = tmp_path / "report"
    run = subprocess.run([sys.executable, "-m", "rag.cli", "eval", str(TESTSET), "--index", str(seeds_index_dir),
                          "-k", "3,5", "--out", str(out), "-q"], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    assert "recall@5" in run.stdout and "k=3" in run.stdout and "k=5" in run.stdout
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))["compare"]
    assert [r["settings"]["k"] for r in data] == [3, 5]
    k5 = data[1]
    metrics = k5["metrics"]
    assert metrics["en"]["recall@5"] >= 0.95 and metrics["zh"]["recall@5"] >= 0.95
    unanswerable = [q["qid"] for q in load_questions() if not q["answers"]]
    refused = sum(qid not in KNOWN_MISSES for qid in unanswerable) / len(unanswerable)  # all but the known misses
    assert metrics["all"]["quote_validity"] == 1.0
    assert metrics["all"]["unanswerable_refused"] == pytest.approx(refused, abs=1e-3)
    assert metrics["all"]["answerable_refused"] <= 0.05
    assert 0 < metrics["all"]["lead_given"] <= 1 and metrics["all"]["lead_f1"] > 0.3
    smart = next(p for p in k5["predictions"] if p["qid"] == "en-smartport-open")
    assert smart["answer_span"] == "2024年12月底" and smart["citations"][0]["quote"].startswith("该项目预计于")
    assert (out / "report.png").read_bytes()[:4] == b"\x89PNG"


def test_doc_id_missing_from_index_is_a_warning(seeds_index_dir, tmp_path):
    path = tmp_path / "set.jsonl"
    path.write_text('{"qid": "x", "question": "谅山省人民委员会主席是谁？", "answers": ["胡进绍"], "doc_id": "nope.txt"}\n',
                    encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "rag.cli", "eval", str(path), "--index", str(seeds_index_dir),
                          "--out", str(tmp_path / "r"), "-q"], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    assert "nope.txt" in run.stderr
    assert "nope.txt" in json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))["warnings"][0]


def test_evaluate_with_a_language_model_reports_fallbacks(seeds_index_dir, embedder, tmp_path):
    from chat_models import ScriptedChatModel

    testset = tmp_path / "two.jsonl"
    testset.write_text(
        '{"qid": "a", "question": "智慧口岸项目预计什么时候建成投入使用？", "answers": ["2024年12月底"]}\n'
        f'{{"qid": "u", "question": "{OFF_TOPIC}", "answers": []}}\n', encoding="utf-8")
    model = ScriptedChatModel(replies=["The articles do not say."])
    assistant = Assistant(seeds_index_dir, embedder=embedder, llm=model)
    report = evaluate(testset, assistant)
    assert report.settings["answerer"] == "chat model scripted"
    answerable, unanswerable = report.predictions
    # the model declined a question the articles answer: the extractive answer stood in
    assert answerable.fallback == "model_declined" and "2024年12月底" in answerable.answer
    assert unanswerable.refused and unanswerable.fallback is None
    assert report.metrics["all"]["fallback_rate"] == 0.5
    assert report.metrics["all"]["unanswerable_refused"] == 1.0


def test_without_evidence_or_gold_document_recall_is_unknown_not_zero(assistant, tmp_path):
    testset = tmp_path / "rgb-style.jsonl"
    testset.write_text('{"qid": "a", "question": "谅山省2023年进出口总额是多少？", "answers": ["49.25亿美元"]}\n',
                       encoding="utf-8")
    report = evaluate(testset, assistant)
    assert report.metrics["all"]["recall@5"] is None and report.metrics["all"]["mrr@10"] is None
    assert report.metrics["all"]["answer_contains_gold"] == 1.0
