"""Train the span reader (``rag.reader.span_reader``): a low-rank adapter on multilingual-e5-small and a start/end
head, with torch on the CPU.

    python scripts/train_span_reader.py --data span_data.jsonl --out /tmp/span-model   # alone, on a dump
    python scripts/train_reader.py                                                      # as part of the whole reader

``--data`` is JSON lines, one question each: ``{"question", "group", "sentences": [{"text", "spans": [[a, b], ...]}]}``
(``spans``: where a gold answer stands in the sentence; none: the sentence does not answer). Every
(question, sentence) pair is one example. Two losses: where the answer is, the negative log-likelihood
of the gold start and end tokens (any occurrence) among the sentence's tokens; for every pair, whether
the sentence answers at all, a logistic loss on the first token's third output, positives weighted up
to balance the many sentences that do not answer. Keeping the two apart matters: with "no answer" as
one more position in the start/end softmax, the many answerless sentences pulled every span's score down
(the best span beat "no answer" in under 2% of the sentences that held the answer, and its F1 fell).

The torch model here and ``embeddings.e5_encoder`` compute the same function (``tests/test_span_reader.py``);
what is saved is plain arrays: the adapter's A and B matrices, the retrained LayerNorms and the head.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from embeddings.e5_file import E5File, read_e5_file  # noqa: E402
from embeddings.e5_tokenizer import e5_tokenizer  # noqa: E402
from embeddings.e5_encoder import LAYER_NORMS, PROJECTIONS  # noqa: E402
from rag.reader.span_reader import PairEncoding, encode_pair  # noqa: E402

SETTINGS = {"rank": 8, "lora_alpha": 16, "max_question_tokens": 48, "max_sentence_tokens": 128,
            "max_span_tokens": 40, "epochs": 3, "learning_rate": 5e-4, "batch_size": 16, "weight_decay": 0.01,
            "warmup_share": 0.1, "seed": 0}


def build_model(model_file: E5File, settings: dict):
    """The torch twin of ``embeddings.e5_encoder.E5Encoder`` plus the head, e5's weights frozen."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    cfg = model_file.config
    rank, scale = settings["rank"], settings["lora_alpha"] / settings["rank"]

    class Projection(nn.Module):
        def __init__(self, w: np.ndarray, b: np.ndarray):
            super().__init__()
            self.register_buffer("w", torch.from_numpy(np.ascontiguousarray(w)))
            self.register_buffer("b", torch.from_numpy(np.ascontiguousarray(b)))
            self.lora_a = nn.Parameter(torch.randn(rank, w.shape[1]) / math.sqrt(w.shape[1]))
            self.lora_b = nn.Parameter(torch.zeros(w.shape[0], rank))

        def forward(self, x):
            return F.linear(x, self.w, self.b) + (x @ self.lora_a.T) @ self.lora_b.T * scale

    def layer_norm(w: np.ndarray, b: np.ndarray, trainable: bool):
        ln = nn.LayerNorm(cfg.hidden, eps=cfg.eps)
        ln.weight.data, ln.bias.data = torch.from_numpy(w.copy()), torch.from_numpy(b.copy())
        ln.requires_grad_(trainable)
        return ln

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("position", torch.from_numpy(model_file.vector("emb.pos").reshape(-1, cfg.hidden)))
            self.register_buffer("token_type", torch.from_numpy(model_file.vector("emb.type")[: cfg.hidden].copy()))
            self.embedding_norm = layer_norm(model_file.vector("emb.ln.w"), model_file.vector("emb.ln.b"), False)
            self.layers = nn.ModuleList()
            for i in range(cfg.layers):
                layer = nn.Module()
                for name in PROJECTIONS:
                    setattr(layer, name, Projection(model_file.matrix(f"l{i}.{name}.w"),
                                                    model_file.vector(f"l{i}.{name}.b")))
                for name in LAYER_NORMS:
                    setattr(layer, name, layer_norm(model_file.vector(f"l{i}.{name}.w"),
                                                    model_file.vector(f"l{i}.{name}.b"), True))
                self.layers.append(layer)
            self.head = nn.Linear(cfg.hidden, 3)  # start, end; and, on the first token, "answers here"
            nn.init.normal_(self.head.weight, std=0.02)
            nn.init.zeros_(self.head.bias)
            self._rows: dict[int, torch.Tensor] = {}

        def embed(self, ids):
            flat = ids.flatten().tolist()
            missing = sorted({t for t in flat if t not in self._rows})
            if missing:
                for t, row in zip(missing, model_file.word_rows(missing)):
                    self._rows[t] = torch.from_numpy(row)
            return torch.stack([self._rows[t] for t in flat]).view(*ids.shape, cfg.hidden)

        def forward(self, ids, mask):
            batch, length = ids.shape
            x = self.embedding_norm(self.embed(ids) + self.position[:length] + self.token_type)
            heads, size = cfg.heads, cfg.hidden // cfg.heads
            bias = torch.zeros(batch, 1, 1, length).masked_fill(~mask[:, None, None, :], float("-inf"))
            for layer in self.layers:
                q, k, v = (getattr(layer, n)(x).view(batch, length, heads, size).transpose(1, 2) for n in "qkv")
                context = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
                x = layer.aln(x + layer.ao(context.transpose(1, 2).reshape(batch, length, cfg.hidden)))
                x = layer.oln(x + layer.fo(F.gelu(layer.fi(x), approximate="tanh")))
            logits = self.head(x)
            return logits[..., 0], logits[..., 1], logits[:, 0, 2]

    return Model()


def export(model) -> dict[str, np.ndarray]:
    """The trained parameters as plain arrays, named as ``embeddings.e5_encoder`` reads them."""
    out = {}
    for i, layer in enumerate(model.layers):
        for name in PROJECTIONS:
            p = getattr(layer, name)
            out[f"l{i}.{name}.lora_a"] = p.lora_a.detach().numpy().astype(np.float32)
            out[f"l{i}.{name}.lora_b"] = p.lora_b.detach().numpy().astype(np.float32)
        for name in LAYER_NORMS:
            ln = getattr(layer, name)
            out[f"l{i}.{name}.w"] = ln.weight.detach().numpy().astype(np.float32)
            out[f"l{i}.{name}.b"] = ln.bias.detach().numpy().astype(np.float32)
    out["head.w"] = model.head.weight.detach().numpy().astype(np.float32)
    out["head.b"] = model.head.bias.detach().numpy().astype(np.float32)
    return out


# ---- examples -------------------------------------------------------------------------------------
def pair_rows(questions: list[dict], settings: dict) -> list[dict]:
    """One row per (question, sentence): its encoding and the gold start/end token positions in the sequence."""
    tokenizer = e5_tokenizer()
    rows = []
    for qi, q in enumerate(questions):
        for si, s in enumerate(q["sentences"]):
            enc = encode_pair(tokenizer, q["question"], s["text"], settings["max_question_tokens"],
                              settings["max_sentence_tokens"])
            starts, ends = gold_positions(enc, s.get("spans", []))
            if s.get("spans") and not starts:
                continue  # the answer lies beyond the sentence's token limit
            rows.append({"question": qi, "sentence": si, "enc": enc, "starts": starts, "ends": ends})
    return rows


def gold_positions(enc: PairEncoding, spans) -> tuple[list[int], list[int]]:
    starts, ends = set(), set()
    for a, b in spans:
        first = [i for i, (x, y) in enumerate(enc.offsets) if x <= a < y and enc.boundary[i]]
        last = [i for i, (x, y) in enumerate(enc.offsets) if x < b <= y and enc.boundary[i]]
        if first and last and last[0] >= first[0]:
            starts.add(enc.first + first[0])
            ends.add(enc.first + last[0])
    return sorted(starts), sorted(ends)


def _batches(rows, size: int, rng: random.Random | None):
    ordered = sorted(rows, key=lambda r: len(r["enc"].ids))
    batches = [ordered[i: i + size] for i in range(0, len(ordered), size)]
    if rng is not None:
        rng.shuffle(batches)
    return batches


def _tensors(batch):
    import torch

    length = max(len(r["enc"].ids) for r in batch)
    ids = torch.full((len(batch), length), 1, dtype=torch.long)  # 1: <pad>
    mask = torch.zeros(len(batch), length, dtype=torch.bool)
    allowed = torch.zeros(len(batch), length, dtype=torch.bool)
    for i, r in enumerate(batch):
        enc = r["enc"]
        ids[i, : len(enc.ids)] = torch.tensor(enc.ids)
        mask[i, : len(enc.ids)] = True
        for j, ok in enumerate(enc.boundary):
            allowed[i, enc.first + j] = ok
    return ids, mask, allowed


def fit(questions: list[dict], settings: dict | None = None, log=print):
    """Train on ``questions`` (the format above); returns the torch model."""
    import torch

    settings = {**SETTINGS, **(settings or {})}
    torch.manual_seed(settings["seed"])
    torch.set_num_threads(2)
    rows = pair_rows(questions, settings)
    model = build_model(read_e5_file(), settings)
    params = [p for p in model.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(params, lr=settings["learning_rate"], weight_decay=settings["weight_decay"])
    steps = settings["epochs"] * math.ceil(len(rows) / settings["batch_size"])
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=settings["learning_rate"], total_steps=steps,
                                                   pct_start=settings["warmup_share"])
    rng = random.Random(settings["seed"])
    started, step, running = time.time(), 0, 0.0
    positives = sum(bool(r["starts"]) for r in rows)
    pos_weight = torch.tensor((len(rows) - positives) / max(1, positives))
    log(f"span reader: {len(rows)} (question, sentence) pairs from {len(questions)} questions, {positives} holding "
        f"the answer; {steps} steps")
    for epoch in range(settings["epochs"]):
        for batch in _batches(rows, settings["batch_size"], rng):
            ids, mask, allowed = _tensors(batch)
            start, end, answers = model(ids, mask)
            start = torch.log_softmax(start.masked_fill(~allowed, -1e4), -1)
            end = torch.log_softmax(end.masked_fill(~allowed, -1e4), -1)
            held = [(i, r) for i, r in enumerate(batch) if r["starts"]]
            span_loss = -sum(torch.logsumexp(start[i, r["starts"]], 0) + torch.logsumexp(end[i, r["ends"]], 0)
                             for i, r in held) / max(1, len(held))
            labels = torch.tensor([float(bool(r["starts"])) for r in batch])
            answer_loss = torch.nn.functional.binary_cross_entropy_with_logits(answers, labels, pos_weight=pos_weight)
            loss = span_loss + answer_loss
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            step += 1
            running += loss.item()
            if step % 100 == 0:
                log(f"  epoch {epoch + 1} step {step}/{steps} loss {running / 100:.3f} ({time.time() - started:.0f} s)")
                running = 0.0
    model.eval()
    return model


def predict(model, questions: list[dict], settings: dict | None = None, keep: int = 3):
    """For each question, each sentence's ``SentenceSpans`` (as ``SpanReader.read`` gives them)."""
    import torch

    from rag.reader.span_reader import best_spans

    settings = {**SETTINGS, **(settings or {})}
    rows = pair_rows([{**q, "sentences": [{"text": s["text"]} for s in q["sentences"]]} for q in questions], settings)
    out = [[None] * len(q["sentences"]) for q in questions]
    with torch.no_grad():
        for batch in _batches(rows, 32, None):
            ids, mask, _ = _tensors(batch)
            start, end, answers = model(ids, mask)
            for i, r in enumerate(batch):
                n = len(r["enc"].ids)
                text = questions[r["question"]]["sentences"][r["sentence"]]["text"]
                out[r["question"]][r["sentence"]] = best_spans(start[i, :n].numpy(), end[i, :n].numpy(),
                                                               float(answers[i]), r["enc"], text, r["sentence"],
                                                               settings["max_span_tokens"], keep)
    return out


def save(folder: Path, arrays: dict[str, np.ndarray], settings: dict, figures: dict | None = None) -> None:
    model_file = read_e5_file()
    folder.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(folder / "span_reader.npz", **{k: v.astype(np.float16) if ".lora_" in k else v
                                                        for k, v in arrays.items()})
    info = {"settings": {**settings, "lora_scale": settings["lora_alpha"] / settings["rank"]},
            "e5_file": {"name": model_file.path.name, "size": model_file.path.stat().st_size,
                        "sha256": model_file.sha256},
            "figures": figures or {}}
    (folder / "span_reader.json").write_text(json.dumps(info, ensure_ascii=False, indent=1), encoding="utf-8")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="JSON lines of questions with their sentences")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--epochs", type=int, default=SETTINGS["epochs"])
    args = parser.parse_args(argv)
    questions = [json.loads(line) for line in args.data.read_text(encoding="utf-8").splitlines() if line.strip()]
    settings = {**SETTINGS, "epochs": args.epochs}
    model = fit(questions, settings)
    save(args.out, export(model), settings)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
