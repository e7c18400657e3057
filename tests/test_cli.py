"""The rag command, run as a user runs it."""

import json
import subprocess
import sys

from conftest import OFF_TOPIC


def rag(*args, env_index=None):
    return subprocess.run([sys.executable, "-m", "rag.cli", *args], capture_output=True, text=True, timeout=300)


def test_ask_json(seeds_index_dir):
    out = rag("ask", "When does the smart port open?", "--index", str(seeds_index_dir), "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert "December 2024" in data["text"] and data["refused"] is False
    assert data["citations"][0]["quote"].startswith("该项目预计于2024年12月底")


def test_ask_plain_prints_sources(seeds_index_dir):
    out = rag("ask", "谅山省2023年进出口总额是多少？", "--index", str(seeds_index_dir), "-k", "3")
    assert out.returncode == 0, out.stderr
    assert "49.25亿美元" in out.stdout and "[1] 建设友好合作关系" in out.stdout


def test_empty_question_exits_2_with_one_line():
    out = rag("ask", "  ")
    assert out.returncode == 2
    assert out.stderr.strip().count("\n") == 0 and "empty" in out.stderr


def test_missing_index_says_how_to_build(tmp_path):
    out = rag("ask", "hello", "--index", str(tmp_path / "none"))
    assert out.returncode == 1 and "rag index" in out.stderr


def test_index_skips_binary_file_and_reports(tmp_path):
    from conftest import SEEDS

    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "a.txt").write_text((SEEDS / "000_714598442bb43c6e.txt").read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "bad.txt").write_bytes(b"\x00\xff\x00binary")
    out = rag("index", str(folder), "--index", str(tmp_path / "idx"), "-q")
    assert out.returncode == 0, out.stderr
    assert "bad.txt" in out.stderr and "1 added" in out.stdout and "1 skipped" in out.stdout


def test_no_command_prints_help():
    out = rag()
    assert out.returncode == 2 and "rag index" in out.stdout


def test_default_ask_path_loads_only_what_a_question_needs(seeds_index_dir):
    """A one-off ``rag ask`` answers without torch, LangChain's retriever machinery (its tracers), tiktoken or
    jieba's whole dictionary in a dict: what made a cold question take two seconds (docs/benchmarks.md)."""
    heavy = ["torch", "sentence_transformers", "langchain_core.retrievers", "langchain_core.tracers", "tiktoken"]
    code = (
        "import sys\nfrom rag.cli import main\n"
        f"code = main(['ask', 'When does the smart port open?', '--index', {str(seeds_index_dir)!r}])\n"
        "import jieba\n"
        f"assert code == 0\nprint([m for m in {heavy!r} if m in sys.modules], len(jieba.dt.FREQ) < 400_000)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "End of December 2024" in out.stdout
    assert out.stdout.strip().splitlines()[-1] == "[] True"


def _one_clear_line(out):
    assert "Traceback" not in out.stderr, out.stderr
    errors = [line for line in out.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, out.stderr
    return errors[0]


def test_an_index_path_that_is_a_file_or_not_writable_is_one_line(tmp_path):
    a_file = tmp_path / "a-file"
    a_file.write_text("x", encoding="utf-8")
    for index, says in ((a_file, "must be a folder"), (a_file / "sub", "must be a folder"),
                        ("/proc/rag-index", "/proc/rag-index"), ("/sys/rag-index", "/sys/rag-index")):
        out = rag("index", "seeds", "--index", str(index), "-q")
        assert out.returncode == 73, out.stderr
        assert says in _one_clear_line(out)


def test_a_full_disk_is_one_line(tmp_path, seeds_index_dir):
    out_dir = tmp_path / "report"
    out_dir.mkdir()
    (out_dir / "report.json").symlink_to("/dev/full")  # every write there fails with ENOSPC
    out = rag("eval", "tests/data/seeds_qa.jsonl", "--index", str(seeds_index_dir), "-q", "--out", str(out_dir))
    assert out.returncode == 74
    assert "no space left" in _one_clear_line(out)


def test_a_malformed_squad_file_is_one_line(tmp_path, seeds_index_dir):
    bad = tmp_path / "squad.json"
    bad.write_text('{"data": [{"paragraphs": [{"qas": []}]}]}', encoding="utf-8")
    out = rag("eval", str(bad), "--index", str(seeds_index_dir), "-q")
    assert out.returncode == 2
    assert "not a SQuAD v1.1 file" in _one_clear_line(out)


def test_a_reader_that_goes_away_gets_no_traceback(seeds_index_dir):
    proc = subprocess.Popen([sys.executable, "-m", "rag.cli", "ask", "When does the smart port open?", "--index",
                             str(seeds_index_dir), "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # like `| head` having exited: whatever rag writes finds no reader
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=300) == 141
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr


def test_python_dash_m_rag_is_the_same_command_and_says_its_version():
    from importlib.metadata import version

    out = subprocess.run([sys.executable, "-m", "rag", "--version"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"rag {version('rag-news-qa')}"
    helped = subprocess.run([sys.executable, "-m", "rag", "--help"], capture_output=True, text=True, timeout=120)
    assert helped.returncode == 0 and "index" in helped.stdout and "eval" in helped.stdout


def test_rag_schema_describes_what_ask_json_prints(seeds_index_dir):
    """The /ask endpoint and `rag ask --json` return an Answer; its JSON Schema is published, never stale."""
    import jsonschema
    from conftest import ROOT

    out = rag("schema")
    assert out.returncode == 0, out.stderr
    schema = json.loads(out.stdout)
    assert schema == json.loads((ROOT / "docs" / "answer.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    answered = json.loads(rag("ask", "When does the smart port open?", "--index", str(seeds_index_dir), "--json").stdout)
    refused = json.loads(rag("ask", OFF_TOPIC, "--index", str(seeds_index_dir), "--json").stdout)
    for answer in (answered, refused):
        jsonschema.validate(answer, schema)
    assert answered["citations"] and "2024年12月底" in answered["citations"][0]["quote"]
    assert refused["refused"] and refused["citations"] == []
    with __import__("pytest").raises(jsonschema.ValidationError):
        jsonschema.validate({**answered, "citations": [{"n": "one"}]}, schema)


def test_eval_says_what_it_is_doing_before_its_progress_bar(tmp_path, seeds_index_dir):
    testset = tmp_path / "two.jsonl"
    testset.write_text('{"qid": "a", "question": "When does the smart port open?", "answers": ["2024年12月底"]}\n'
                       f'{{"qid": "b", "question": "{OFF_TOPIC}", "answers": []}}\n',
                       encoding="utf-8")
    out = rag("eval", str(testset), "--index", str(seeds_index_dir), "--out", str(tmp_path / "report"))
    assert out.returncode == 0, out.stderr
    first_lines = out.stderr.splitlines()[:2]
    assert first_lines[0] == f"reading {testset}"
    assert first_lines[1].startswith(f"loading the index {seeds_index_dir}") and "2 questions" in first_lines[1]
    assert "contains" in out.stdout


def test_remove_by_id_and_an_unknown_id_is_one_line(tmp_path, seeds_index_dir):
    import shutil

    index_dir = tmp_path / "index"
    shutil.copytree(seeds_index_dir, index_dir)
    out = rag("remove", "seeds/002_1f3369877b84a1fb.txt", "--index", str(index_dir))
    assert out.returncode == 0, out.stderr
    assert "seeds/002_1f3369877b84a1fb.txt removed; 1 documents" in out.stdout
    missing = rag("remove", "seeds/002_1f3369877b84a1fb.txt", "--index", str(index_dir))
    assert missing.returncode == 2 and "not in the index: seeds/002_1f3369877b84a1fb.txt" in missing.stderr
    assert "Traceback" not in missing.stderr
