"""Where the default collection and its cached index live."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parent


def default_seeds_dir() -> Path:
    """The bundled seed articles (``RAG_SEEDS`` overrides): ``rag/seeds/`` in an installed wheel, the
    project's ``seeds/`` folder in a checkout."""
    if "RAG_SEEDS" in os.environ:
        return Path(os.environ["RAG_SEEDS"])
    installed = PACKAGE_DIR / "seeds"
    return installed if installed.is_dir() else PROJECT_ROOT / "seeds"


def cache_home() -> Path:
    """Per-user cache folder for built indexes (``RAG_HOME`` overrides)."""
    if "RAG_HOME" in os.environ:
        return Path(os.environ["RAG_HOME"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "rag-news-qa"


def default_index_dir() -> Path:
    """The index built from the seeds on first use (``RAG_INDEX`` overrides)."""
    if "RAG_INDEX" in os.environ:
        return Path(os.environ["RAG_INDEX"])
    return cache_home() / "seeds-index"
