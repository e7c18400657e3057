"""Refusal guards: single conditions on the evidence that answerable questions almost never meet, learned on the
dev sets' training fold and applied before the answer-or-refuse model.

The answer-or-refuse model (LightGBM) weighs every question feature together and, trained mostly on big
encyclopedia collections, does not always trust the plain ones: a question most of whose words are nowhere in
the index (``term_coverage``), an English question none of whose content words has a translation in the
retrieved passages (``en_words_in_passages``), a question naming a year no retrieved passage mentions
(``asked_year_missing``). Each candidate here is such a condition, with the direction in which it speaks
against answering; ``scripts/train_reader.py`` gives each the loosest threshold at which it refuses at most
``MAX_ANSWERABLE_FIRED`` of the training fold's answerable questions, keeps those that refuse at least
``MIN_MUST_REFUSE_FIRED`` of its must-refuse ones, and writes them into ``reader.json`` (``thresholds.guards``).
A question that meets a kept guard is refused whatever the model says.

>>> import numpy as np
>>> from rag.reader.features import QUESTION_MODEL_FEATURES as names
>>> row = np.zeros(len(names), dtype=np.float32)
>>> row[names.index("term_coverage")] = 0.1
>>> fired_guard([Guard("term_coverage", "below", 0.2)], row)
'term_coverage'
>>> row[names.index("term_coverage")] = 0.5
>>> fired_guard([Guard("term_coverage", "below", 0.2)], row) is None
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rag.reader.features import QUESTION_MODEL_FEATURES

# (value, the direction in which it speaks against answering): "below" fires for 0 <= value < threshold (a value
# under 0 means "does not apply", e.g. en_words_in_passages of a Chinese question); "above" for value > threshold
CANDIDATES = {
    "term_coverage": "below",  # share of the question's words (or their translations) the index has
    "en_words_in_passages": "below",  # English question: share of its content words found in the passages
    "missing_in_passages_share": "above",  # idf share of the question's words missing from every passage
    "asked_year_missing": "above",  # 1: the question names a year, no retrieved passage (text or date) does
}
MAX_ANSWERABLE_FIRED = 0.002  # a guard refuses at most 1 in 500 of the training fold's answerable questions
MIN_MUST_REFUSE_FIRED = 0.01  # and is kept only if it refuses at least 1 in 100 of its must-refuse ones


@dataclass(frozen=True)
class Guard:
    feature: str
    direction: str  # "below" or "above"
    threshold: float

    def fires(self, values: np.ndarray) -> np.ndarray:
        """Where the guard refuses, for an array of this feature's values."""
        if self.direction == "below":
            return (values >= 0) & (values < self.threshold)
        return values > self.threshold


def guard_values(rows: np.ndarray, name: str) -> np.ndarray:
    """The guard feature ``name`` for question-model rows (``QUESTION_MODEL_FEATURES`` columns, one row each)."""
    rows = np.atleast_2d(rows)
    if name == "asked_year_missing":
        has_year = rows[:, QUESTION_MODEL_FEATURES.index("q_has_year")] == 1
        found = rows[:, QUESTION_MODEL_FEATURES.index("year_in_passages")] == 1
        return (has_year & ~found).astype(np.float32)
    return rows[:, QUESTION_MODEL_FEATURES.index(name)]


def fired_rows(guards: list[Guard], rows: np.ndarray) -> np.ndarray:
    """Where any of ``guards`` refuses, for question-model rows (one each).

    >>> names = QUESTION_MODEL_FEATURES
    >>> rows = np.zeros((2, len(names)), dtype=np.float32)
    >>> rows[:, names.index("term_coverage")] = [0.1, 0.5]
    >>> fired_rows([Guard("term_coverage", "below", 0.2)], rows).tolist()
    [True, False]
    """
    rows = np.atleast_2d(rows)
    fired = np.zeros(len(rows), dtype=bool)
    for guard in guards:
        fired |= guard.fires(guard_values(rows, guard.feature))
    return fired


def fired_guard(guards: list[Guard], row: np.ndarray) -> str | None:
    """The first guard that refuses the question of this row, or None."""
    for guard in guards:
        if guard.fires(guard_values(row, guard.feature))[0]:
            return guard.feature
    return None


def choose_guards(rows: np.ndarray, answerable: np.ndarray, must_refuse: np.ndarray) -> list[dict]:
    """Each candidate's loosest threshold that fires on at most ``MAX_ANSWERABLE_FIRED`` of the ``answerable`` rows,
    with its share of them and of the ``must_refuse`` rows; ``kept`` if that share reaches ``MIN_MUST_REFUSE_FIRED``.

    >>> names = QUESTION_MODEL_FEATURES
    >>> rows = np.zeros((102, len(names)), dtype=np.float32)
    >>> rows[:, names.index("term_coverage")] = np.r_[np.linspace(0.3, 1, 100), 0.1, 0.05]
    >>> rows[:, names.index("en_words_in_passages")] = -1.0
    >>> answerable = np.r_[np.ones(100, bool), False, False]
    >>> [(g["feature"], round(g["threshold"], 4), g["kept"]) for g in choose_guards(rows, answerable, ~answerable)][:1]
    [('term_coverage', 0.3, True)]
    """
    out = []
    for name, direction in CANDIDATES.items():
        values = guard_values(rows, name)
        applicable = np.unique(values[values >= 0])
        best = None
        for t in (applicable if direction == "below" else applicable[::-1]):
            fired = Guard(name, direction, float(t)).fires(values)
            if fired[answerable].mean() > MAX_ANSWERABLE_FIRED:
                break
            best = (float(t), fired)
        if best is None:
            continue
        t, fired = best
        share = float(fired[must_refuse].mean()) if must_refuse.any() else 0.0
        out.append({"feature": name, "direction": direction, "threshold": t,
                    "answerable_fired": round(float(fired[answerable].mean()), 4), "must_refuse_fired": round(share, 4),
                    "kept": share >= MIN_MUST_REFUSE_FIRED})
    return out


def guards_of(chosen: list[dict]) -> list[Guard]:
    """The kept guards of ``choose_guards``' list (as stored in ``reader.json``)."""
    return [Guard(g["feature"], g["direction"], float(g["threshold"])) for g in chosen if g.get("kept", True)]
