"""The reader's trained models and the thresholds chosen with them, read from ``rag/reader/model/``.

``sentence.txt``, ``span.txt``, ``lead.txt`` and ``question.txt`` are LightGBM models in LightGBM's text format;
``reader.json`` holds the feature names each expects (looked up by name among the columns ``rag.reader.features``
computes, so that a feature added since the models were trained is left out of their input), the
thresholds for giving a lead and for refusing, the refusal guards (``rag.reader.guards``), and the figures the
training script measured. All of it
is written by ``scripts/train_reader.py``; nothing here is set by hand.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path

from rag.reader.features import LEAD_FEATURES, QUESTION_MODEL_FEATURES, SENTENCE_FEATURES, SPAN_MODEL_FEATURES
from rag.reader.guards import Guard, guards_of
from rag.reader.trees import TreeEnsemble

MODEL_DIR = Path(__file__).with_name("model")


class ModelColumns:
    """A trained model fed the columns it was trained on, by name, out of the rows this code computes: a model
    trained before a feature was added keeps working (it never sees the new column) until it is retrained.

    >>> import numpy as np
    >>> class Sum:
    ...     def predict(self, X): return X.sum(axis=1)
    >>> model = ModelColumns.of(Sum(), ["b", "c"], ["a", "b", "c"], "toy")
    >>> model.predict(np.array([[100.0, 2.0, 3.0]]))
    array([5.])
    >>> ModelColumns.of(Sum(), ["b", "z"], ["a", "b", "c"], "toy")
    Traceback (most recent call last):
    RuntimeError: The reader's toy model uses features this code does not compute (z); retrain it with: python scripts/train_reader.py
    """

    def __init__(self, model: TreeEnsemble, columns: list[int] | None):
        self.model = model
        self.columns = columns  # None: every column, in order

    @classmethod
    def of(cls, model: TreeEnsemble, trained_on: list[str], computed: list[str], name: str) -> "ModelColumns":
        missing = [f for f in trained_on if f not in computed]
        if missing:
            raise RuntimeError(f"The reader's {name} model uses features this code does not compute "
                               f"({', '.join(missing)}); retrain it with: python scripts/train_reader.py")
        return cls(model, None if list(trained_on) == list(computed) else [computed.index(f) for f in trained_on])

    def predict(self, X):
        return self.model.predict(X if self.columns is None else X[:, self.columns])


@dataclass
class ReaderModel:
    sentence: ModelColumns
    span: ModelColumns
    lead: ModelColumns
    question: ModelColumns
    lead_thresholds: dict[str, float]  # by question language: lead with the best span from this lead probability on
    answer_thresholds: dict[str, float]  # by question language: answer (rather than refuse) from this probability on
    quote_mass: float  # quote the best sentences until they hold this much of the sentence model's probability
    max_quotes: int  # and at most this many
    quote_span_sentence: bool  # without a lead, quote the best span's sentence first (else the best sentence)
    info: dict
    guards: list[Guard] = field(default_factory=list)  # refuse whatever the question model says (rag.reader.guards)

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
        computed = {"sentence": SENTENCE_FEATURES, "span": SPAN_MODEL_FEATURES, "lead": LEAD_FEATURES,
                    "question": QUESTION_MODEL_FEATURES}
        for name, names in computed.items():
            models[name] = ModelColumns.of(models[name], info["features"][name], names, name)
        thresholds = info["thresholds"]
        return cls(models["sentence"], models["span"], models["lead"], models["question"],
                   _by_language(thresholds["lead"]), _by_language(thresholds["answer"]),
                   float(thresholds.get("quote_mass", 0.0)), int(thresholds.get("max_quotes", 2)),
                   bool(thresholds["quote_span_sentence"]), info, guards_of(thresholds.get("guards", [])))

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
