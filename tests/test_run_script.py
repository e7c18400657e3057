"""The README's run command, in its terminal form: one index, the one plain `rag ask` and `answer()` use."""

import os
import subprocess

from conftest import ROOT


def test_run_script_answers_from_the_default_index(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env["RAG_HOME"] = str(tmp_path / "home")
    done = subprocess.run(["bash", "scripts/run.sh", "When does the smart port open?"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "2024年12月底" in done.stdout and "[1]" in done.stdout
    index = tmp_path / "home" / "seeds-index"
    assert index.is_dir()  # not a second index of its own (it was ./.rag-index)
    built = {p: p.stat().st_mtime_ns for p in index.rglob("*") if p.is_file()}
    asked = subprocess.run([str(ROOT / ".venv" / "bin" / "rag"), "ask", "谅山省2023年进出口总额是多少？"], cwd=tmp_path,
                           env=env, capture_output=True, text=True, timeout=600)
    assert asked.returncode == 0 and "49.25亿美元" in asked.stdout
    assert {p: p.stat().st_mtime_ns for p in index.rglob("*") if p.is_file()} == built  # used, not rebuilt
    assert all(index in m.parents for m in (tmp_path / "home").rglob("manifest.json"))  # the only index
