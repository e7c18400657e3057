"""The reader's trained models and the thresholds chosen with them, read from ``rag/reader/model/``.

``sentence.txt``, ``span.txt``, ``lead.txt`` and ``question.txt`` are LightGBM models in LightGBM's text format;
``reader.json`` holds the feature names each expects (checked against ``rag.reader.features``), the
thresholds for giving a lead and for refusing, and the figures the training script measured. All of it
is written by ``scripts/train_reader.py``; nothing here is set by hand.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

from rag.reader.features import LEAD_FEATURES, QUESTION_MODEL_FEATURES, SENTENCE_FEATURES, SPAN_MODEL_FEATURES
from rag.reader.trees import TreeEnsemble

MODEL_DIR = Path(__file__).with_name("model")


@dataclass
class ReaderModel:
    sentence: TreeEnsemble
    span: TreeEnsemble
    lead: TreeEnsemble
    question: TreeEnsemble
    lead_thresholds: dict[str, float]  # by question language: lead with the best span from this lead probability on
    answer_thresholds: dict[str, float]  # by question language: answer (rather than refuse) from this probability on
    quote_mass: float  # quote the best sentences until they hold this much of the sentence model's probability
    max_quotes: int  # and at most this many
    quote_span_sentence: bool  # without a lead, quote the best span's sentence first (else the best sentence)
    info: dict

    @classmethod
    def load(cls, folder: Path = MODEL_DIR) -> "ReaderModel":
        folder = Path(folder)
        try:
            info = json.loads((folder / "reader.json").read_text(encoding="utf-8"))
            models = {name: TreeEnsemble.from_lightgbm_text((folder / f"{name}.txt").read_text(encoding="utf-8"))
                      for name in ("sentence", "span", "lead", "question")}
        except (OSError, ValueError, KeyError) as exc:
            raise RuntimeError(f"The reader's model in {folder} cannot be read ({exc}); "
                               f"retrain it with: python scripts/train_reader.py") from exc
        expected = {"sentence": SENTENCE_FEATURES, "span": SPAN_MODEL_FEATURES, "lead": LEAD_FEATURES,
                    "question": QUESTION_MODEL_FEATURES}
        for name, names in expected.items():
            if info["features"][name] != names:
                raise RuntimeError(f"The reader's {name} model was trained on other features than this code "
                                   f"computes; retrain it with: python scripts/train_reader.py")
        thresholds = info["thresholds"]
        return cls(models["sentence"], models["span"], models["lead"], models["question"],
                   _by_language(thresholds["lead"]), _by_language(thresholds["answer"]),
                   float(thresholds.get("quote_mass", 0.0)), int(thresholds.get("max_quotes", 2)),
                   bool(thresholds["quote_span_sentence"]), info)

    def answer_threshold(self, language: str) -> float:
        """Answer a question in ``language`` ("en", "zh") from this answerability probability on."""
        return self.answer_thresholds.get(language, self.answer_thresholds["zh"])

    def lead_threshold(self, language: str) -> float:
        """Lead with the best span for a question in ``language`` from this lead probability on."""
        return self.lead_thresholds.get(language, self.lead_thresholds["zh"])


def _by_language(threshold) -> dict[str, float]:
    """A threshold per question language (a model trained before they were chosen per language has one for both)."""
    if isinstance(threshold, dict):
        return {language: float(value) for language, value in threshold.items()}
    return {"en": float(threshold), "zh": float(threshold)}


@functools.lru_cache(maxsize=1)
def default_model() -> ReaderModel:
    """The model shipped with the package, read once per process."""
    return ReaderModel.load()
