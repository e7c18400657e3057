"""What `pip install rag-news-qa` gives: the wheel, installed into a fresh venv, answers from its bundled seeds.

The rest of the suite runs against the editable install, which reads everything from the checkout and so
hides a file the wheel forgets (the models, the lexicon supplement, the seeds). Here the project is copied
out of the checkout, built into a wheel, and installed without its dependencies into a new venv that reads
those dependencies from the test environment (so nothing is downloaded), then run from an empty folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest
from conftest import ROOT

NOT_SHIPPED = shutil.ignore_patterns(".git", ".venv", "__pycache__", "*.egg-info", "build", "dist", ".pytest_cache",
                                     ".hypothesis", ".cache", ".rag-index", "*.rag-index", "bench", "docs", "tests")


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A venv holding only the wheel (its dependencies come from the test environment's site-packages)."""
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "source"
    shutil.copytree(ROOT, source, ignore=NOT_SHIPPED)
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation",
                            "-q", "-w", str(tmp / "dist")], capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp / "dist").glob("rag_news_qa-*.whl")
    env_dir = tmp / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    # the dependencies, already installed for the tests; a plain path line, so the checkout's editable
    # install (a .pth hook in that folder) is not loaded
    (Path(site) / "zz-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    done = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q",
                           str(wheel)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    home = tmp / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_") and k != "PYTHONPATH"}
    env.update(RAG_HOME=str(home), HOME=str(home))
    workdir = tmp / "elsewhere"
    workdir.mkdir()
    return env_dir, env, workdir, wheel


def test_the_wheel_holds_the_models_the_lexicon_and_the_seeds(installed):
    import zipfile

    names = set(zipfile.ZipFile(installed[3]).namelist())
    for needed in ("rag/data/en_zh_supplement.tsv", "rag/reader/model/reader.json", "rag/reader/model/span.txt",
                   "rag/seeds/000_714598442bb43c6e.txt", "rag/seeds/002_1f3369877b84a1fb.txt", "rag/py.typed",
                   "ui/app.py", "embeddings/__init__.py"):
        assert needed in names, needed
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)  # pyproject says MIT: the text ships


def test_the_installed_wheel_answers_from_its_bundled_seeds(installed):
    env_dir, env, workdir, _ = installed
    where = subprocess.run([str(env_dir / "bin" / "python"), "-c",
                            "import rag, rag.paths; print(rag.__file__); print(rag.paths.default_seeds_dir())"],
                           cwd=workdir, env=env, capture_output=True, text=True, timeout=120)
    module, seeds = where.stdout.split()
    assert module.startswith(str(env_dir)) and seeds.startswith(str(env_dir))  # not the checkout's
    out = subprocess.run([str(env_dir / "bin" / "rag"), "ask", "When does the smart port open?"],
                         cwd=workdir, env=env, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr
    assert "2024年12月底" in out.stdout and "[1]" in out.stdout
    version = subprocess.run([str(env_dir / "bin" / "python"), "-m", "rag", "--version"], cwd=workdir, env=env,
                             capture_output=True, text=True, timeout=120)
    assert version.stdout.startswith("rag 0.")
