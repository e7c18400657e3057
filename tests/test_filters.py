"""Date and source filters through the public API, the CLI and `rag serve` (over the seeds: one article dated
2023-12-11, one undated)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import ROOT

QUESTION = "When does the smart port open?"
DATED = "seeds/000_714598442bb43c6e.txt"


def test_a_date_range_that_holds_the_article_answers_from_it_alone(assistant):
    result = assistant.ask(QUESTION, date_from="2023-12", date_to="2023")
    assert not result.refused and "2024年12月底" in result.text
    assert {p.doc_id for p in result.passages} == {DATED}
    assert "Answered from documents dated 2023-12-01 to 2023-12-31 only." in result.notes


def test_a_date_range_no_article_falls_in_is_refused_and_says_why(assistant):
    result = assistant.ask(QUESTION, date_from="2024")
    assert result.refused and result.passages == [] and result.citations == []
    assert any("2024-01-01 or later" in note for note in result.notes)


def test_a_source_filter_keeps_that_folders_documents(assistant):
    assert "2024年12月底" in assistant.ask(QUESTION, source="seeds").text
    assert assistant.ask(QUESTION, source="uploads").refused


def test_streaming_takes_the_same_filters(assistant):
    *pieces, final = list(assistant.stream(QUESTION, date_to="2023-12-11"))
    assert "".join(pieces) == final.text and {c.doc_id for c in final.citations} == {DATED}


@pytest.mark.parametrize("bounds, message", [
    ({"date_from": "last year"}, "date_from must be a date"),
    ({"date_to": "2024-02-30"}, "date_to must be a date"),
    ({"date_from": "2024", "date_to": "2023"}, "is after"),
    ({"source": 5}, "source must be"),
])
def test_a_bad_filter_is_a_clear_value_error(assistant, bounds, message):
    with pytest.raises(ValueError, match=message):
        assistant.ask(QUESTION, **bounds)


def test_the_cli_takes_filters_and_says_what_is_wrong(seeds_index_dir):
    run = [sys.executable, "-m", "rag.cli", "ask", QUESTION, "--index", str(seeds_index_dir)]
    done = subprocess.run([*run, "--from", "2023-12-01", "--to", "2023-12-31", "--json"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "2024年12月底" in done.stdout
    bad = subprocess.run([*run, "--from", "soon"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "date_from must be a date" in bad.stderr and "Traceback" not in bad.stderr


def test_the_api_takes_filters_and_refuses_bad_ones(assistant):
    from fastapi.testclient import TestClient

    from rag.server import create_app

    client = TestClient(create_app(assistant))
    messages = [{"role": "user", "content": QUESTION}]
    ok = client.post("/v1/chat/completions", json={"messages": messages, "date_from": "2023-12-01"}).json()
    assert {c["doc_id"] for c in ok["citations"]} == {DATED}
    refused = client.post("/v1/ask", json={"question": QUESTION, "source": "uploads"}).json()
    assert refused["refused"] is True
    bad = client.post("/v1/chat/completions", json={"messages": messages, "stream": True, "date_to": "12/2023"})
    assert bad.status_code == 400 and "date_to must be a date" in bad.json()["error"]["message"]
