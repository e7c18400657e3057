"""Evaluate a LightGBM model from its text format, with numpy alone.

The reader's models are trained with LightGBM (``scripts/train_reader.py``) and stored in LightGBM's own
text format (``booster.save_model``), which ``lightgbm.Booster(model_file=...)`` reads back too. At
question time we only need their predictions, and importing LightGBM costs about 2 s (it pulls in
scikit-learn and pandas) against a few milliseconds here: all trees step down together, one level per
numpy operation. Only what the trainer produces is supported: numerical splits (``x <= threshold``
goes left) and features that are never missing; anything else is refused when the file is read.

>>> text = '''tree
... num_class=1
... num_tree_per_iteration=1
... max_feature_idx=1
... objective=binary sigmoid:1
...
... Tree=0
... num_leaves=2
... split_feature=1
... threshold=0.5
... decision_type=2
... left_child=-1
... right_child=-2
... leaf_value=-1 1
...
... end of trees
... '''
>>> model = TreeEnsemble.from_lightgbm_text(text)
>>> model.predict(np.array([[0.0, 0.2], [0.0, 0.9]])).round(3).tolist()
[0.269, 0.731]
"""

from __future__ import annotations

import numpy as np


class TreeEnsemble:
    """A sum of regression trees, evaluated all at once; ``predict`` applies a binary model's sigmoid."""

    def __init__(self, trees: list[dict], n_features: int, sigmoid: float | None = 1.0):
        if not trees:
            raise ValueError("a model needs at least one tree")
        self.n_features = n_features
        self.sigmoid = sigmoid
        # One node table for all trees: internal nodes first, then leaves (feature -1, threshold inf).
        features, thresholds, lefts, rights, values = [], [], [], [], []
        roots = []
        for tree in trees:
            base = len(features)
            n_internal = len(tree["split_feature"])
            n_leaves = len(tree["leaf_value"])
            leaf_base = base + n_internal

            def node(child: int) -> int:
                return base + child if child >= 0 else leaf_base + (-child - 1)

            for i in range(n_internal):
                features.append(tree["split_feature"][i])
                thresholds.append(tree["threshold"][i])
                lefts.append(node(tree["left_child"][i]))
                rights.append(node(tree["right_child"][i]))
                values.append(0.0)
            for j in range(n_leaves):
                leaf = leaf_base + j
                features.append(0)
                thresholds.append(np.inf)
                lefts.append(leaf)  # a leaf steps to itself
                rights.append(leaf)
                values.append(tree["leaf_value"][j])
            roots.append(base if n_internal else leaf_base)
        self._feature = np.asarray(features, dtype=np.int64)
        self._threshold = np.asarray(thresholds, dtype=np.float64)
        self._left = np.asarray(lefts, dtype=np.int64)
        self._right = np.asarray(rights, dtype=np.int64)
        self._value = np.asarray(values, dtype=np.float64)
        self._roots = np.asarray(roots, dtype=np.int64)
        self._depth = max(_depth(t) for t in trees)
        if int(self._feature.max()) >= n_features:
            raise ValueError(f"the model splits on feature {int(self._feature.max())}, but has {n_features}")

    @classmethod
    def from_lightgbm_text(cls, text: str) -> "TreeEnsemble":
        header, _, body = text.partition("\nTree=")
        meta = dict(line.split("=", 1) for line in header.splitlines() if "=" in line)
        if meta.get("num_class", "1") != "1":
            raise ValueError("only single-output models are supported")
        sigmoid = None  # a ranking model's scores are not probabilities
        objective = meta.get("objective", "")
        if not objective.startswith(("binary", "lambdarank")):
            raise ValueError(f"only binary and lambdarank models are supported, got objective {objective!r}")
        if objective.startswith("binary"):
            sigmoid = 1.0
            for part in objective.split():
                if part.startswith("sigmoid:"):
                    sigmoid = float(part.split(":", 1)[1])
        trees = []
        for block in ("Tree=" + body).split("\nTree=")[0:]:
            block = block.split("end of trees")[0]
            fields = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
            if "num_leaves" not in fields:
                continue
            tree = {"leaf_value": [float(x) for x in fields["leaf_value"].split()]}
            if int(fields["num_leaves"]) > 1:
                decision = [int(x) for x in fields["decision_type"].split()]
                if any(d & 1 for d in decision):
                    raise ValueError("categorical splits are not supported")
                if any((d >> 2) & 3 == 2 for d in decision):
                    raise ValueError("splits with NaN as missing are not supported: features are never missing")
                tree["split_feature"] = [int(x) for x in fields["split_feature"].split()]
                tree["threshold"] = [float(x) for x in fields["threshold"].split()]
                tree["left_child"] = [int(x) for x in fields["left_child"].split()]
                tree["right_child"] = [int(x) for x in fields["right_child"].split()]
            else:
                tree.update(split_feature=[], threshold=[], left_child=[], right_child=[])
            trees.append(tree)
        return cls(trees, int(meta["max_feature_idx"]) + 1, sigmoid)

    def raw(self, X: np.ndarray) -> np.ndarray:
        """The sum of the trees' leaf values for each row of ``X``."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ValueError(f"expected rows of {self.n_features} features, got shape {X.shape}")
        if len(X) == 0:
            return np.zeros(0)
        rows = np.arange(len(X))[:, None]
        node = np.broadcast_to(self._roots, (len(X), len(self._roots))).copy()
        for _ in range(self._depth):
            x = X[rows, self._feature[node]]
            node = np.where(x <= self._threshold[node], self._left[node], self._right[node])
        return self._value[node].sum(axis=1)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """As LightGBM's ``predict``: probabilities for a binary model, scores for a ranking one."""
        raw = self.raw(X)
        return raw if self.sigmoid is None else 1.0 / (1.0 + np.exp(-self.sigmoid * raw))


def _depth(tree: dict) -> int:
    if not tree["split_feature"]:
        return 0

    def down(child: int) -> int:
        return 0 if child < 0 else 1 + max(down(tree["left_child"][child]), down(tree["right_child"][child]))

    return 1 + max(down(tree["left_child"][0]), down(tree["right_child"][0]))
