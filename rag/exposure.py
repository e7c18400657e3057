"""Who may reach what we serve: loopback only, unless a key guards it (the chat page and ``rag serve``).

>>> check_exposure("127.0.0.1", None, key_variable="RAG_API_KEY")
>>> check_exposure("0.0.0.0", None, key_variable="RAG_API_KEY")
Traceback (most recent call last):
...
ValueError: Serving on 0.0.0.0 lets anyone on the network use it: set a key first (RAG_API_KEY=...).
"""

from __future__ import annotations

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def check_exposure(host: str, key: str | None, *, key_variable: str, how: str = "") -> None:
    """Refuse to listen beyond loopback without a key (``ValueError`` says how to set one)."""
    if host not in LOOPBACK and not key:
        raise ValueError(f"Serving on {host} lets anyone on the network use it: set a key first "
                         f"({key_variable}=...{'; ' + how if how else ''}).")
