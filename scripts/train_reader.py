"""Train the extractive reader's models on the public dev sets; print figures on a held-out fold.

    python scripts/train_reader.py                      # evalsets from ../shared/evalsets
    python scripts/train_reader.py --evalsets DIR --work /tmp/rag-train --out rag/reader/model
    python scripts/train_reader.py --work DIR --reuse-readings DIR/span-reader-<digest>   # LightGBM only
    python scripts/train_reader.py --work DIR --quoting-only     # re-choose only how many sentences are quoted
    python scripts/train_reader.py --work DIR --guards-only      # re-choose only the refusal guards

Needs LightGBM (``pip install -e '.[train]'``) and the dev sets (``../shared/evalsets``, never copied into
the project). Indexes of the dev sets are built once into ``--work`` and reused.

1. Every question is retrieved as the assistant does (k=5) and each sentence of its passages gets the
   features of ``rag.reader.features``; label: the sentence holds a gold answer.
2. The sentence model's out-of-fold probabilities pick each question's best sentences. The span reader
   (e5 + a start/end head, ``scripts/train_span_reader.py``) is trained on them: where the gold answer
   stands, or "no answer" (every sentence of a must-refuse question). Its readings of the training fold
   come from two half-models, each reading the half it did not learn from; the shipped model learns
   from the whole training fold and reads the held-out fold.
3. The spans it proposes get span features and its scores; label: how right the span is (CMRC F1).
4. Question features (answer or refuse): positives are questions whose passages hold the answer;
   negatives are RGB's must-refuse questions, the same questions retrieved with their answer passages
   removed, and questions whose year was changed to one their evidence does not give.
5. Refusal guards (``rag.reader.guards``: conditions on the evidence that at most 1 in 500 answerable questions
   meet) are chosen on the training fold; then the thresholds (lead, refusal, how many sentences to quote) on its
   out-of-fold predictions, a guarded question counting as refused.
6. The project's own seeds questions (``tests/data/seeds_qa.jsonl``), never trained or tuned on, are read by
   the finished models and reported beside the held-out fold: how the models carry over to a two-article
   news collection.

Held out: XQuAD articles, CMRC articles and RGB questions whose group hash % 5 == 0. Nothing about them
is used for training or for choosing thresholds; the shipped models are the training fold's.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.metrics import answer_tokens, f1  # noqa: E402
from rag.reader.features import (  # noqa: E402
    LEAD_FEATURES,
    QUESTION_MODEL_FEATURES,
    SENTENCE_FEATURES,
    SPAN_MODEL_FEATURES,
    question_terms,
    sentence_candidates,
    lead_features,
    sentence_features,
)
from rag.reader.questions import analyze_question, with_newest_year  # noqa: E402
from rag.reader.reader import (  # noqa: E402
    SPANS_PER_SENTENCE,
    TOP_SENTENCES,
    question_row,
    read_spans,
    score_sentences,
    score_spans,
)
from rag.reader.span_reader import SentenceSpans, SpanGuess  # noqa: E402

K = 5
FOLDS = 5
HELD_OUT = 0  # group hash % FOLDS == HELD_OUT
OFF_TOPIC_SHARE = 0.3
MINI_SHARE = 0.5  # of the XQuAD and CMRC questions, also asked of two-article collections (see mini_collections)
ANSWERABLE_VARIANTS = ("asked", "mini")  # the others must be refused
# The dev sets' must-refuse questions cannot all be refused without refusing many answerable ones (the script
# prints the trade-off); a refused answerable question costs less than an answered unanswerable one.
MAX_ANSWERABLE_REFUSED = 0.05  # issue 10's target: at most 5% of answerable questions refused
MIN_LEAD_PRECISION = 0.75  # a wrong lead is worse than none
NEWS_WEIGHT = 4  # RGB is the one news set (the others are encyclopedia text): its questions count this many times
# Left out of the sentence model: they describe how one corpus lays out its documents (where in an encyclopedia
# paragraph answers sit, how long its sentences are) rather than whether a sentence answers.
SENTENCE_IGNORED = ["position", "length", "question_length", "has_quote"]
QUESTION_IGNORED: tuple[str, ...] = ()  # columns the answer-or-refuse model does without
PARAMS = {"objective": "binary", "learning_rate": 0.05, "num_leaves": 15, "max_depth": 6, "min_data_in_leaf": 20,
          "feature_fraction": 0.8, "bagging_fraction": 0.8, "bagging_freq": 1, "lambda_l2": 1.0, "verbose": -1,
          "num_threads": 2, "seed": 7}
ROUNDS = {"sentence": 300, "span": 500, "lead": 200, "question": 300}


@dataclass
class Example:
    dataset: str
    qid: str
    question: str
    answers: list[str]
    answerable: bool
    group: str
    held_out: bool
    variant: str = "asked"  # or "removed" (answer passages left out), "year" (year changed), "off-topic",
    # "attribute" (asks about something else), "entity" (about someone or somewhere else)
    retrieval: object = None
    info: object = None
    terms: object = None
    sentences: list = field(default_factory=list)
    X_sentence: np.ndarray | None = None
    y_sentence: np.ndarray | None = None
    spans: list = field(default_factory=list)
    X_span: np.ndarray | None = None
    y_span: np.ndarray | None = None
    f1_span: np.ndarray | None = None
    evidence: bool = False  # a retrieved passage holds a gold answer
    lead: float = 0.0  # the lead model's probability that the best span is right
    index: object = None  # the index it was asked of
    readings: list = field(default_factory=list)  # the span reader's, for the best sentences

    @property
    def key(self) -> str:
        return f"{self.dataset}|{self.qid}|{self.variant}|{self.question}"


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def holds_gold(text: str, answers: list[str]) -> bool:
    t = squeeze(text)
    return any(a.strip() and squeeze(a) in t for a in answers)


def fold_of(group: str) -> int:
    return int(hashlib.sha1(group.encode()).hexdigest(), 16) % FOLDS


# ---- data ----------------------------------------------------------------------------------------
def datasets(evalsets: Path, work: Path):
    """(name, questions, index folder, corpus folder, group of a question)."""
    from rag.evaluation import load_testset, write_corpus

    cmrc = load_testset(evalsets / "cmrc2018-trial.json")
    cmrc_corpus = work / "cmrc-corpus"
    if not cmrc_corpus.exists():
        write_corpus(cmrc.corpus, cmrc_corpus)
    # a group: paragraphs of one article (XQuAD: five neighbouring paragraphs), or one RGB question
    xquad_doc = lambda doc_id: "xquad-" + str(int(re.search(r"\d+", doc_id.rsplit("/", 1)[-1]).group()) // 5)  # noqa: E731
    cmrc_doc = lambda doc_id: "cmrc-" + doc_id.rsplit("/", 1)[-1].split("-")[0]  # noqa: E731
    return [
        ("xquad-zh", load_testset(evalsets / "xquad-dev/questions_zh.jsonl").questions, work / "idx-xquad",
         evalsets / "xquad-dev/corpus", lambda q: xquad_doc(q.doc_id), xquad_doc),
        ("xquad-en", load_testset(evalsets / "xquad-dev/questions_en.jsonl").questions, work / "idx-xquad",
         evalsets / "xquad-dev/corpus", lambda q: xquad_doc(q.doc_id), xquad_doc),
        ("cmrc", cmrc.questions, work / "idx-cmrc", cmrc_corpus, lambda q: cmrc_doc(q.doc_id), cmrc_doc),
        ("rgb", load_testset(evalsets / "rgb-news-dev/questions.jsonl").questions, work / "idx-rgb",
         evalsets / "rgb-news-dev/corpus", lambda q: "rgb-" + q.qid, None),
    ]


def assistant_for(index_dir: Path, corpus: Path, cache: dict):
    from rag import Assistant
    from rag.index.layout import exists

    if index_dir not in cache:
        if not exists(index_dir):
            print(f"building {index_dir} from {corpus} (once)", flush=True)
            Assistant.build([corpus], index_dir, progress=True)
        cache[index_dir] = Assistant(index_dir, llm="extractive")
    return cache[index_dir]


class SubCollection:
    """The index as a collection of only some of its documents sees itself, for the questions asked of a
    two-article collection (``mini_collections``). Its vocabulary, idf and lexicon are those of the kept chunks, so
    that what the models learn from how much of a question the collection knows (the retrieval's term coverage,
    the translations it keeps, the idf features, whether the asked attribute is a word it knows, which English
    words have a translation) reads as it does over the seeds, where the collection is two articles. (Read with
    the whole dev set's words, a question asked of two unrelated articles finds most of its words "known".)
    Searching, the vectors and BM25's own idf stay the whole index's, filtered to the kept chunks."""

    def __init__(self, index, doc_ids: set[str]):
        from collections import Counter

        from rag.bilingual import extend_lexicon
        from rag.lexical import tokenize

        self._index = index
        kept = [i for i, c in enumerate(index.chunks) if c["doc_id"] in doc_ids]
        self._df = Counter(t for i in kept for t in set(tokenize(index.chunk_text(i))))
        self._n = len(kept)
        self.vocabulary = frozenset(self._df)
        # the index's translations into the kept chunks' words, as a lexicon built for them would be
        self.lexicon = extend_lexicon(index.lexicon, index.vocabulary, self.vocabulary) if index.lexicon else {}

    def idf(self, token: str) -> float:
        return float(np.log((self._n + 1) / (self._df.get(token, 0) + 0.5)))

    def __len__(self) -> int:
        return len(self._index)

    def __getattr__(self, name):
        return getattr(self._index, name)


_SUB_COLLECTIONS: dict = {}


def sub_collection(assistant, doc_ids: set[str]):
    """A search over ``SubCollection(assistant.index, doc_ids)``, made once per set of documents."""
    from rag.retrieve import HybridSearch

    key = (id(assistant.index), frozenset(doc_ids))
    if key not in _SUB_COLLECTIONS:
        _SUB_COLLECTIONS[key] = HybridSearch(SubCollection(assistant.index, doc_ids), assistant.embedder, K)
    return _SUB_COLLECTIONS[key]


def collect(example: Example, assistant, keep=None, within: set[str] | None = None) -> Example:
    """Retrieve and compute sentence features and labels; ``within``: the question is asked of a collection of
    only these documents (``SubCollection``)."""
    if within is not None:
        search = sub_collection(assistant, within)
        index = search.index
        retrieval = search.search(example.question, K, keep=lambda c: c["doc_id"] in within)
    else:
        index = assistant.index
        retrieval = assistant.search(example.question, k=K, keep=keep)
    example.index = index
    example.retrieval = retrieval
    example.info = with_newest_year(analyze_question(example.question), [p.date for p in retrieval.passages])
    example.terms = question_terms(example.info, retrieval, index)
    example.sentences = sentence_candidates(retrieval, index)
    example.X_sentence = sentence_features(example.info, example.terms, example.sentences, retrieval, index)
    example.y_sentence = np.array([holds_gold(s.text, example.answers) for s in example.sentences], dtype=np.int8)
    example.evidence = any(holds_gold(p.text, example.answers) for p in retrieval.passages)
    return example


def collect_spans(example: Example) -> None:
    """The spans the span reader proposed in the best sentences, their features and labels."""
    top = example.sentences[:TOP_SENTENCES]
    example.spans, example.X_span = read_spans(example.info, example.terms, top, example.readings, example.retrieval)
    golds = [answer_tokens(a) for a in example.answers if a.strip()]
    example.y_span = np.array([answer_tokens(c.span.text) in golds for c in example.spans], dtype=np.int8)
    example.f1_span = np.array([f1(c.span.text, example.answers) for c in example.spans], dtype=np.float32)


# ---- the span reader ------------------------------------------------------------------------------
SPAN_NEGATIVE_VARIANTS_PER_QUESTION = 1  # must-refuse variants of one question the span reader learns from


def occurrences(text: str, answers: list[str]) -> list[list[int]]:
    """Where each gold answer stands in ``text`` (XQuAD's answers carry spaces the text may lack)."""
    found = set()
    for a in answers:
        a = a.strip()
        if not a:
            continue
        found |= {(m.start(), m.end()) for m in re.finditer(re.escape(a), text)}
        if not found and " " in a:
            pattern = r"\s*".join(re.escape(ch) for ch in squeeze(a))
            found |= {(m.start(), m.end()) for m in re.finditer(pattern, text)}
    return [list(x) for x in sorted(found)]


def span_questions(examples: list[Example], for_training: bool) -> list[dict]:
    """The span reader's examples: each question with its best sentences and where the gold stands in them
    (nowhere for a must-refuse question). For training, a gold sentence the sentence model ranked lower
    is added when none of the best holds the answer, and a must-refuse question gives only its best
    sentence (the likeliest to mislead)."""
    out = []
    for e in examples:
        answerable = e.variant in ANSWERABLE_VARIANTS and e.answerable
        shown = TOP_SENTENCES if answerable or not for_training else 1
        sentences = [{"text": s.text, "spans": occurrences(s.text, e.answers) if answerable else []}
                     for s in e.sentences[:shown]]
        if for_training and answerable and not any(s["spans"] for s in sentences):
            gold = next((s for s in e.sentences[TOP_SENTENCES:] if occurrences(s.text, e.answers)), None)
            if gold is not None:
                sentences.append({"text": gold.text, "spans": occurrences(gold.text, e.answers)})
        out.append({"question": e.question, "group": e.group, "sentences": sentences})
    return out


def _for_span_training(examples: list[Example]) -> list[Example]:
    """Every answerable question and a few of each one's must-refuse variants (they would outnumber the rest)."""
    kept, per_question = [], {}
    for e in examples:
        if e.variant in ANSWERABLE_VARIANTS and e.answerable:
            kept.append(e)
        elif per_question.get((e.dataset, e.qid), 0) < SPAN_NEGATIVE_VARIANTS_PER_QUESTION or e.variant == "asked":
            per_question[(e.dataset, e.qid)] = per_question.get((e.dataset, e.qid), 0) + 1
            kept.append(e)
    return kept


def _half_of(group: str) -> int:
    return int(hashlib.sha1(f"half:{group}".encode()).hexdigest(), 16) % 2


def reuse_readings(train_set: list[Example], held_out: list[Example], cache: Path):
    """The span reader and its readings from an earlier run's cache (``--reuse-readings``), for a run that changes
    only the later models: the hours of the span reader's training are not spent again. An example whose best
    sentences are no longer those the cached readings are of (the sentence features moved a little) is left
    out of training if it is in the training fold; in the held-out fold it is read again by the cached
    full-fold model. Returns the training fold kept, and the span reader (arrays, settings)."""
    import tempfile

    from rag.reader.span_reader import SpanReader
    from train_span_reader import save as save_span_reader

    readings = json.loads((cache / "readings.json").read_text(encoding="utf-8"))
    with np.load(cache / "arrays.npz", allow_pickle=False) as arrays:
        span_arrays = {k: arrays[k] for k in arrays.files}
    settings = json.loads((ROOT / "rag" / "reader" / "model" / "span_reader.json").read_text(encoding="utf-8"))["settings"]

    def matches(e, found) -> bool:
        top = e.sentences[:TOP_SENTENCES]
        return len(found) == len(top) and all(
            top[g[0]].text[g[1]:g[2]] == g[3] for _, best in found for g in best if g[0] < len(top))

    kept, stale = [], []
    for e in train_set + held_out:
        found = readings.get(e.key)
        if found is not None and matches(e, found):
            e.readings = [SentenceSpans(answers, [SpanGuess(*g) for g in best]) for answers, best in found]
            if not e.held_out:
                kept.append(e)
        elif e.held_out:
            stale.append(e)
    if stale:
        with tempfile.TemporaryDirectory() as folder:
            save_span_reader(Path(folder), span_arrays, settings)
            reader = SpanReader(Path(folder))
            for e in stale:
                e.readings = reader.read(e.question, [s.text for s in e.sentences[:TOP_SENTENCES]],
                                         keep=SPANS_PER_SENTENCE)
    print(f"readings reused from {cache}: training fold {len(kept)} of {len(train_set)} kept, "
          f"{len(stale)} held-out questions read again", flush=True)
    return kept, (span_arrays, settings)


def read_with_span_reader(train_set: list[Example], held_out: list[Example], work: Path, epochs: int):
    """Train the span reader and attach its readings to every example: the training fold's from two half-models
    (each reads the half it did not learn from), the held-out fold's from the model trained on the whole
    training fold, which is the one shipped. Readings and models are cached in ``work`` by what they were
    trained on, so a re-run that changes only the later models does not train again."""
    from train_span_reader import SETTINGS, export, fit, predict

    settings = {**SETTINGS, "epochs": epochs}
    halves = [[e for e in train_set if _half_of(e.group) == h] for h in (0, 1)]
    jobs = [(f"half-{h}", _for_span_training(halves[h]), halves[1 - h]) for h in (0, 1)]
    jobs.append(("full", _for_span_training(train_set), held_out))
    digest = hashlib.sha256(json.dumps([settings, [(name, span_questions(learn, True), [e.key for e in read])
                                                   for name, learn, read in jobs]], ensure_ascii=False,
                                       sort_keys=True).encode()).hexdigest()[:16]
    cache = work / f"span-reader-{digest}"
    if not (cache / "readings.json").exists():
        # Each model's readings are kept as soon as it is done, so an interrupted run resumes where it stopped.
        cache.mkdir(parents=True, exist_ok=True)
        readings = {}
        for name, learn, read in jobs:
            part = cache / f"{name}.json"
            if part.exists() and (name != "full" or (cache / "arrays.npz").exists()):
                readings.update(json.loads(part.read_text(encoding="utf-8")))
                continue
            print(f"span reader ({name}): learning from {len(learn)} questions, reading {len(read)}", flush=True)
            model = fit(span_questions(learn, True), settings, log=lambda m: print(m, flush=True))
            found_by_key = {e.key: [[r.answers, [[g.sentence, g.start, g.end, g.text, g.score] for g in r.best]]
                                    for r in found]
                            for e, found in zip(read, predict(model, span_questions(read, False), settings,
                                                              keep=SPANS_PER_SENTENCE))}
            if name == "full":
                np.savez(cache / "arrays.npz", **export(model))
            part.write_text(json.dumps(found_by_key, ensure_ascii=False), encoding="utf-8")
            readings.update(found_by_key)
        (cache / "readings.json").write_text(json.dumps(readings, ensure_ascii=False), encoding="utf-8")
    readings = json.loads((cache / "readings.json").read_text(encoding="utf-8"))
    for e in train_set + held_out:
        e.readings = [SentenceSpans(answers, [SpanGuess(*g) for g in best]) for answers, best in readings[e.key]]
    with np.load(cache / "arrays.npz", allow_pickle=False) as arrays:
        return {k: arrays[k] for k in arrays.files}, settings


def span_reader_figures(held_out: list[Example]) -> dict:
    """The span reader alone on the held-out fold: its best span's F1 when a best sentence holds the gold."""
    out = {}
    for name in sorted({e.dataset for e in held_out}):
        rows = [e for e in held_out if e.dataset == name and e.variant == "asked" and e.answerable and e.readings
                and any(holds_gold(s.text, e.answers) for s in e.sentences[:TOP_SENTENCES])]
        best = [max((r for r in e.readings if r.best), key=lambda r: r.margin, default=None) for e in rows]
        scores = [f1(r.best[0].text, e.answers) if r else 0.0 for e, r in zip(rows, best)]
        out[name] = {"questions": len(rows), "best_span_f1": round(float(np.mean(scores or [0])), 3)}
    return out


# Things a question may ask about that an article does not give: swapped in for the one it asks about.
ATTRIBUTES = "人口 面积 失业率 首都 平均气温 海拔 预算 票房 利润 工资 身高 年龄 出生地 妻子 总部 市值 股价 产量 死亡人数 校长".split()
ATTRIBUTES_EN = ("population", "unemployment rate", "area", "capital", "average temperature", "altitude", "budget",
                 "box office", "profit", "salary", "height", "age", "birthplace", "wife", "headquarters",
                 "market value", "share price", "output", "death toll", "principal", "price", "weight")


def mini_collections(base: dict, doc_id: str, assistant, group_of_doc, doc_groups, rng) -> list[Example]:
    """The question asked of a two-article collection, as over the seeds: its own article and another
    (answerable); two other articles (must refuse); its own and another, the question asking about an
    attribute they do not give (must refuse)."""
    own = group_of_doc(doc_id)
    others = [g for g in doc_groups if g != own]
    if len(others) < 2:
        return []

    def within(groups):
        return {d for d in assistant.index.documents if group_of_doc(d) in groups}

    pair = {own, rng.choice(others)}
    out = []
    mini = collect(Example(**base, variant="mini"), assistant, within=within(pair))
    if mini.evidence:
        out.append(mini)
    elsewhere = collect(Example(**base, variant="mini-off"), assistant, within=within(set(rng.sample(others, 2))))
    if not elsewhere.evidence:
        out.append(elsewhere)
    for variant, changed_question in perturbations(base["question"], assistant, rng):
        if variant != "attribute":
            continue
        changed = collect(Example(**{**base, "question": changed_question}, variant="mini-attribute"), assistant,
                          within=within(pair))
        if not mentions_new_words(base["question"], changed, assistant.index):
            out.append(changed)
    return out


def perturbations(question: str, assistant, rng):
    """Must-refuse variants of a Chinese question: the thing it asks about swapped for another attribute;
    a person or place it names swapped for another the collection mentions."""
    from rag.lexical import tag_words
    from rag.reader.questions import analyze_question

    info = analyze_question(question)
    out = []
    asked = info.asked
    if info.language == "en":
        if asked and re.search(rf"\b{re.escape(asked)}\b", question, re.I) and rng.random() < 0.5:
            other = rng.choice([a for a in ATTRIBUTES_EN if a != asked])
            out.append(("attribute", re.sub(rf"\b{re.escape(asked)}\b", other, question, count=1, flags=re.I)))
        return out
    if asked and len(asked) >= 2 and asked in question and rng.random() < 0.5:
        out.append(("attribute", question.replace(asked, rng.choice([a for a in ATTRIBUTES if a != asked]), 1)))
    names = [w for w in tag_words(question) if w.tag in ("nr", "ns", "nt") and len(w.text) >= 2]
    if names and rng.random() < 0.5:
        name = rng.choice(names)
        pool = _name_pool(assistant.index, name.tag)
        others = [n for n in pool if n != name.text and name.text not in n and n not in name.text]
        if others:
            out.append(("entity", question.replace(name.text, rng.choice(others), 1)))
    return out


_POOLS: dict = {}


def _name_pool(index, tag: str) -> list[str]:
    """Names of one kind (people, places, organisations) found in a sample of the collection's sentences."""
    from rag.lexical import tag_words

    key = (id(index), tag)
    if key not in _POOLS:
        sample = random.Random(3).sample(range(len(index.sentences)), min(400, len(index.sentences)))
        _POOLS[key] = sorted({w.text for j in sample for w in tag_words(index.sentence_text(j))
                              if w.tag == tag and len(w.text) >= 2})
    return _POOLS[key]


def _tokens_of(text: str) -> set[str]:
    from rag.lexical import tokenize

    return set(tokenize(text))


def _new_words(before: str, after: str) -> set[str]:
    return _tokens_of(after) - _tokens_of(before)


def mentions_new_words(question: str, changed: Example, index) -> bool:
    """Does a retrieved passage of ``changed`` (``question`` with an attribute or a name swapped) hold the words
    swapped in, or, for an English question, a translation of them? If none does, the passages do not give what
    it asks, whether or not they hold the first question's answer (they often do: that is the case to learn)."""
    new = _new_words(question, changed.question)
    if changed.info.language == "en" and index.lexicon:
        from rag.bilingual import translate_terms

        swapped = " ".join(w for w in re.findall(r"[A-Za-z]+", changed.question)
                           if w.lower() not in question.lower().split())
        new |= set(translate_terms(swapped, index.lexicon, index.vocabulary).weights)
    return any(new & _tokens_of(p.text) or any(w in p.text for w in new if len(w) > 1)
               for p in changed.retrieval.passages)


# ---- models --------------------------------------------------------------------------------------
def train(X, y, rounds, query=None, params=None, repeat=None):
    """A LightGBM model; ``repeat`` (whole numbers per row) counts some rows (a question's, for ranking) more."""
    import lightgbm as lgb

    params = {**PARAMS, **(params or {})}
    if repeat is not None and (repeat > 1).any():
        rows = np.repeat(np.arange(len(y)), repeat)
        if query is not None:  # each copy of a question is a question of its own
            copy = np.concatenate([np.arange(r) for r in repeat])
            query = query[rows] * int(repeat.max()) + copy
        X, y = X[rows], y[rows]
    if query is not None:  # rows of one question together, for a ranking objective
        order = np.argsort(query, kind="stable")
        _, sizes = np.unique(query[order], return_counts=True)
        return lgb.train(params, lgb.Dataset(X[order], y[order], group=sizes), rounds)
    return lgb.train(params, lgb.Dataset(X, y), rounds)


def out_of_fold(X, y, groups, rounds, query=None, params=None, repeat=None):
    """Predictions for every row from a model that did not see its group."""
    oof = np.zeros(len(y))
    unique = sorted(set(groups))
    fold = {g: i % FOLDS for i, g in enumerate(random.Random(11).sample(unique, len(unique)))}
    fold_of_row = np.array([fold[g] for g in groups])
    for f in range(FOLDS):
        test = fold_of_row == f
        model = train(X[~test], y[~test], rounds, None if query is None else query[~test], params,
                      None if repeat is None else repeat[~test])
        oof[test] = model.predict(X[test])
    return oof


RANK_PARAMS = {"objective": "lambdarank", "lambdarank_truncation_level": 10, "eval_at": [1]}


def fit_ranker(examples, candidates: str, X, y, rounds):
    """A ranking model over each question's ``candidates`` ("sentences" or "spans"): its out-of-fold scores
    for every row, and the model trained on all of them."""
    query = np.array([i for i, e in enumerate(examples) for _ in range(len(getattr(e, candidates)))])
    repeat = weights_of(examples, candidates)
    groups = rows_group(examples, candidates)
    oof = out_of_fold(X, y, groups, rounds, query, RANK_PARAMS, repeat)
    return oof, train(X, y, rounds, query, RANK_PARAMS, repeat)


def per_question(examples, candidates: str, scores):
    """Each example with its slice of ``scores`` (rows stacked question by question)."""
    i = 0
    for e in examples:
        n = len(getattr(e, candidates))
        yield e, scores[i: i + n]
        i += n


def stack(examples, attr):
    parts = [getattr(e, attr) for e in examples if getattr(e, attr) is not None and len(getattr(e, attr))]
    return np.vstack(parts) if parts and parts[0].ndim == 2 else np.concatenate(parts)


def weights_of(examples, attr):
    return np.array([NEWS_WEIGHT if e.dataset == "rgb" else 1 for e in examples for _ in range(len(getattr(e, attr)))])


def rows_group(examples, attr):
    return [e.group for e in examples for _ in range(len(getattr(e, attr)))]


# ---- main ----------------------------------------------------------------------------------------
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--evalsets", type=Path, default=ROOT.parent / "shared" / "evalsets")
    parser.add_argument("--work", type=Path, default=Path("/tmp/rag-train"), help="indexes of the dev sets")
    parser.add_argument("--out", type=Path, default=ROOT / "rag" / "reader" / "model")
    parser.add_argument("--limit", type=int, default=0, help="questions per dataset (a quick trial)")
    parser.add_argument("--only", default="", help="comma-separated datasets (xquad-zh,xquad-en,cmrc,rgb)")
    parser.add_argument("--span-epochs", type=int, default=3, help="epochs of the span reader's training")
    parser.add_argument("--reuse-readings", type=Path, metavar="DIR",
                        help="an earlier run's span-reader cache (WORK/span-reader-*): keep its span reader and "
                             "readings, retrain only the LightGBM models")
    parser.add_argument("--quoting-only", action="store_true",
                        help="keep the models in --out; choose only how many sentences the answer quotes "
                             "(quote_mass, max_quotes) on the training fold, and write them into its reader.json")
    parser.add_argument("--guards-only", action="store_true",
                        help="keep the models and bars in --out; choose only the refusal guards (rag.reader.guards) "
                             "on the training fold, and write them into its reader.json")
    parser.add_argument("--question-ignored", default=",".join(QUESTION_IGNORED), metavar="NAMES",
                        help="comma-separated QUESTION_FEATURES the answer-or-refuse model does without "
                             f"(default: {','.join(QUESTION_IGNORED) or 'none'})")
    args = parser.parse_args(argv)
    question_ignored = tuple(x for x in args.question_ignored.split(",") if x)
    unknown = [x for x in question_ignored if x not in QUESTION_MODEL_FEATURES]
    if unknown:
        parser.error(f"--question-ignored: not question features: {', '.join(unknown)}")
    try:
        import lightgbm  # noqa: F401
    except ImportError:
        print("LightGBM is needed for training: pip install -e '.[train]'", file=sys.stderr)
        return 2
    if not (args.evalsets / "README.md").exists():
        print(f"no dev sets at {args.evalsets}", file=sys.stderr)
        return 2
    args.work.mkdir(parents=True, exist_ok=True)
    started = time.time()
    examples = collect_examples(args.evalsets, args.work, limit=args.limit, only=args.only)
    if args.quoting_only:
        return choose_quoting_only(examples, args.out)
    if args.guards_only:
        return choose_guards_only(examples, args.out)
    train_set = [e for e in examples if not e.held_out]
    held_out = [e for e in examples if e.held_out]
    asked_train = [e for e in train_set if e.variant == "asked" and e.answerable]
    print(f"examples: {len(train_set)} training ({len(asked_train)} answerable asked), {len(held_out)} held out")
    models = fit_reader(train_set, held_out, args.work, args.span_epochs, question_ignored,
                        reuse=args.reuse_readings)
    train_set = models.pop("train_set")
    thresholds = models.pop("thresholds")
    oof_q = models.pop("oof_question")
    span_arrays, span_settings = models.pop("span_reader")
    print_curves([e for e in train_set if e.variant == "asked" and e.answerable])
    args.out.mkdir(parents=True, exist_ok=True)
    for name, model in models.items():
        model.save_model(str(args.out / f"{name}.txt"))
    from train_span_reader import save as save_span_reader

    save_span_reader(args.out, span_arrays, span_settings, span_reader_figures(held_out))
    held_q = question_probs(held_out, models["question"], thresholds["guards"])
    figures = {"training_fold": report(train_set, oof_q, thresholds), "held_out_fold": report(held_out, held_q,
                                                                                                 thresholds)}
    own = own_examples(args.work)
    if own:
        from rag.reader.span_reader import SpanReader

        read_examples(own, models, SpanReader(args.out))
        figures["own_seeds_never_trained_on"] = report(own, question_probs(own, models["question"], thresholds["guards"]),
                                                       thresholds)
    info = {
        "features": {"sentence": SENTENCE_FEATURES, "span": SPAN_MODEL_FEATURES, "lead": LEAD_FEATURES,
                     "question": QUESTION_MODEL_FEATURES},
        "thresholds": thresholds,
        "training": {"params": PARAMS, "rounds": ROUNDS, "examples": len(train_set), "held_out": len(held_out),
                     "folds": f"group hash % {FOLDS} == {HELD_OUT} held out", "seconds": round(time.time() - started),
                     "question_ignored": list(question_ignored),
                     **({"span_reader": f"its readings and model reused from {args.reuse_readings.name} "
                                        "(--reuse-readings)"} if args.reuse_readings else {})},
        "figures": figures,
    }
    (args.out / "reader.json").write_text(json.dumps(info, ensure_ascii=False, indent=1), encoding="utf-8")
    print(json.dumps(figures, indent=1))
    print(f"wrote {args.out} ({time.time() - started:.0f} s)")
    return 0


def oof_sentence_scores(asked_train: list[Example]):
    """The sentence model fitted on ``asked_train``, which it also scores out of fold; returns the model."""
    Xs = stack(asked_train, "X_sentence").copy()
    for name in SENTENCE_IGNORED:  # a constant column is never split on: the model does without it
        Xs[:, SENTENCE_FEATURES.index(name)] = 0.0
    oof, sentence_model = fit_ranker(asked_train, "sentences", Xs, stack(asked_train, "y_sentence"), ROUNDS["sentence"])
    for e, scores in per_question(asked_train, "sentences", oof):
        score_sentences(e.sentences, scores)
    return sentence_model


def choose_guards_only(examples: list[Example], out: Path) -> int:
    """``--guards-only``: the refusal guards chosen on the training fold, written into ``out/reader.json`` beside the
    models and bars there (which were chosen without them; a guard refuses at most
    ``rag.reader.guards.MAX_ANSWERABLE_FIRED`` of the answerable questions). How often each fires on the held-out
    fold is printed and stored, not used."""
    from rag.reader.guards import guard_values, guards_of

    train_set = [e for e in examples if not e.held_out]
    held_out = [e for e in examples if e.held_out]
    guards = choose_refusal_guards(train_set)
    rows = guard_rows(held_out)
    answerable, must_refuse = guard_masks(held_out)
    held = {}
    for g in guards_of(guards):
        fired = g.fires(guard_values(rows, g.feature))
        held[g.feature] = {"answerable_fired": round(float(fired[answerable].mean()), 4),
                           "must_refuse_fired": round(float(fired[must_refuse].mean()), 4)}
        print(f"  held out, {g.feature}: answerable fired {fired[answerable].sum()} of {answerable.sum()}, must-refuse "
              f"fired {fired[must_refuse].sum()} of {must_refuse.sum()}")
    path = out / "reader.json"
    info = json.loads(path.read_text(encoding="utf-8"))
    info["thresholds"]["guards"] = guards
    info.setdefault("figures", {})["guards_held_out_fold"] = held
    path.write_text(json.dumps(info, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"wrote the refusal guards into {path}")
    return 0


def choose_quoting_only(examples: list[Example], out: Path) -> int:
    """``--quoting-only``: the quoting rule chosen on the training fold's answerable questions, their sentences
    scored out of fold, written into ``out/reader.json`` beside the models there; the held-out fold's figure
    (gold among the quotes, the shipped sentence model scoring) is printed, not used."""
    from rag.reader.extractive import quoted_sentences
    from rag.reader.model import ReaderModel

    asked = [e for e in examples if e.variant == "asked" and e.answerable and e.answers]
    oof_sentence_scores([e for e in asked if not e.held_out])
    mass, most = best_quoting([e for e in asked if not e.held_out])
    shipped = ReaderModel.load(out)
    held = [e for e in asked if e.held_out and e.sentences]
    for e in held:
        score_sentences(e.sentences, shipped.sentence.predict(e.X_sentence))
    for name, rule in (("before", (shipped.quote_mass, shipped.max_quotes)), ("chosen", (mass, most))):
        found = np.mean([any(holds_gold(x.text, e.answers) for x in quoted_sentences(e.sentences, None, *rule))
                         for e in held])
        quoted = np.mean([len(quoted_sentences(e.sentences, None, *rule)) for e in held])
        print(f"held-out fold, {name} (mass {rule[0]}, up to {rule[1]}): gold in the quotes {found:.3f}, {quoted:.2f} quoted")
    info = json.loads((out / "reader.json").read_text(encoding="utf-8"))
    info["thresholds"].pop("second_quote_ratio", None)
    info["thresholds"].update(quote_mass=mass, max_quotes=most)
    (out / "reader.json").write_text(json.dumps(info, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"wrote quote_mass={mass}, max_quotes={most} into {out / 'reader.json'}")
    return 0


def collect_examples(evalsets: Path, work: Path, *, limit: int = 0, only: str = "") -> list[Example]:
    """Every dev-set question retrieved as the assistant does, with its must-refuse variants, sentence features
    and labels."""
    assistants: dict = {}
    examples: list[Example] = []
    rng = random.Random(5)
    wanted = {x for x in only.split(",") if x}
    sets = [d for d in datasets(evalsets, work) if not wanted or d[0] in wanted]
    started = time.time()
    for d in sets:
        assistant_for(d[2], d[3], assistants)
    for name, questions, index_dir, corpus, group_of, group_of_doc in sets:
        assistant = assistant_for(index_dir, corpus, assistants)
        doc_groups = sorted({group_of_doc(d) for d in assistant.index.documents}) if group_of_doc else []
        # another collection's index: the question is about something it does not cover at all
        elsewhere = [assistant_for(d[2], d[3], assistants) for d in sets if d[2] != index_dir]
        chosen = questions[:limit] if limit else questions
        for q in chosen:
            group = group_of(q)
            base = dict(dataset=name, qid=q.qid, question=q.question, answers=q.answers, answerable=q.answerable,
                        group=group, held_out=fold_of(group) == HELD_OUT)
            example = collect(Example(**base), assistant)
            examples.append(example)
            if not q.answerable or not q.answers:
                continue
            # the same question with its answer's passages left out: nothing there answers it
            gold_doc = q.doc_id
            texts = assistant.index.documents

            def keep(c, d=gold_doc, a=q.answers, texts=texts):
                return not (d and c["doc_id"].endswith("/" + d)) and not holds_gold(
                    texts[c["doc_id"]]["text"][c["start"]:c["end"]], a)

            if doc_groups and rng.random() < MINI_SHARE:
                examples.extend(mini_collections(base, q.doc_id, assistant, group_of_doc, doc_groups, rng))
            removed = collect(Example(**base, variant="removed"), assistant, keep=keep)
            if not removed.evidence:
                examples.append(removed)
            if elsewhere and rng.random() < OFF_TOPIC_SHARE:
                off = collect(Example(**base, variant="off-topic"), rng.choice(elsewhere))
                if not off.evidence:
                    examples.append(off)
            for variant, changed_question in perturbations(q.question, assistant, rng):
                changed = collect(Example(**{**base, "question": changed_question}, variant=variant), assistant)
                if not mentions_new_words(q.question, changed, assistant.index):
                    examples.append(changed)
            years = re.findall(r"(?<!\d)(19\d\d|20\d\d)(?!\d)", q.question)
            if years:
                shifted = str(int(years[0]) + rng.choice([-3, -2, -1, 1, 2, 3]))
                changed = collect(Example(**{**base, "question": q.question.replace(years[0], shifted)},
                                          variant="year"), assistant)
                if not any(shifted in p.text or shifted in (p.date or "") for p in changed.retrieval.passages):
                    examples.append(changed)
        print(f"{name}: {len(chosen)} questions collected ({time.time() - started:.0f} s)", flush=True)
    return examples


def fit_reader(train_set: list[Example], held_out: list[Example], work: Path, span_epochs: int,
               question_ignored: tuple[str, ...] = QUESTION_IGNORED, reuse: Path | None = None) -> dict:
    """Train the four LightGBM models and the span reader; give every example its probabilities (the training
    fold's out of fold) and choose the thresholds. Returns the models by name, ``thresholds``,
    ``oof_question`` (the training fold's out-of-fold answerability) and ``span_reader`` (arrays, settings)."""
    asked_train = [e for e in train_set if e.variant == "asked" and e.answerable]
    rest = [e for e in train_set + held_out if id(e) not in {id(x) for x in asked_train}]
    # 1. sentences: ranked within each question
    sentence_model = oof_sentence_scores(asked_train)
    for e in rest:
        if e.sentences:
            score_sentences(e.sentences, sentence_model.predict(e.X_sentence))
    for e in train_set + held_out:
        e.sentences.sort(key=lambda s: -s.prob)
    # 2. the span reader: trained on the best sentences, its readings of the training fold out of fold
    if reuse is not None:
        train_set, span_reader = reuse_readings(train_set, held_out, reuse)
        asked_train = [e for e in train_set if e.variant == "asked" and e.answerable]
        rest = [e for e in train_set + held_out if id(e) not in {id(x) for x in asked_train}]
    else:
        span_reader = read_with_span_reader(train_set, held_out, work, span_epochs)
    # 3. spans: ranked within each question, graded by how right they are
    for e in train_set + held_out:
        collect_spans(e)
    f = stack(asked_train, "f1_span")
    yp = np.where(stack(asked_train, "y_span") > 0, 3, np.where(f >= 0.8, 2, np.where(f >= 0.5, 1, 0)))
    oof_span, span_model = fit_ranker(asked_train, "spans", stack(asked_train, "X_span"), yp, ROUNDS["span"])
    for e, scores in per_question(asked_train, "spans", oof_span):
        score_spans(e.spans, scores)
    for e in rest:
        if e.spans:
            score_spans(e.spans, span_model.predict(e.X_span))
    # 4. the lead: is the best span right?
    Xl = np.vstack([lead_features(e.spans, e.X_span) for e in asked_train])
    yl = np.array([bool(e.spans) and f1(e.spans[0].span.text, e.answers) >= 0.5 for e in asked_train], dtype=np.int8)
    rl = np.array([NEWS_WEIGHT if e.dataset == "rgb" else 1 for e in asked_train])
    oof_lead = out_of_fold(Xl, yl, [e.group for e in asked_train], ROUNDS["lead"], repeat=rl)
    lead_model = train(Xl, yl, ROUNDS["lead"], repeat=rl)
    for e, p in zip(asked_train, oof_lead):
        e.lead = float(p)
    for e in rest:
        e.lead = float(lead_model.predict(lead_features(e.spans, e.X_span))[0]) if e.spans else 0.0
    # 5. answer or refuse
    question_model, oof_q = fit_question_model(train_set, question_ignored)
    guards = choose_refusal_guards(train_set)
    oof_q = guarded(train_set, oof_q, guards)
    thresholds = {**choose_thresholds(train_set, oof_q), "guards": guards}
    answerable_p = np.sort([p for e, p in zip(train_set, oof_q) if e.variant == "asked" and e.answerable])
    for share in (0.02, 0.04, 0.06, 0.1, 0.15, 0.2):
        t = answerable_p[int(share * len(answerable_p))]
        by = {v: round(float(np.mean([p < t for e, p in zip(train_set, oof_q) if e.variant == v])), 3)
              for v in sorted({e.variant for e in train_set}) if v != "asked"}
        genuine = [p < t for e, p in zip(train_set, oof_q) if e.variant == "asked" and not e.answerable]
        print(f"  refuse below {t:.3f}: answerable refused {share:.0%}; must-refuse refused {by}, "
              f"RGB's own {np.mean(genuine) if genuine else float('nan'):.3f}")
    return {"sentence": sentence_model, "span": span_model, "lead": lead_model, "question": question_model,
            "thresholds": thresholds, "oof_question": oof_q, "span_reader": span_reader, "train_set": train_set}


def question_row_of(e: Example) -> np.ndarray:
    return question_row(e.info, e.terms, e.sentences, e.spans, e.readings, e.retrieval, e.index, e.lead, e.X_span)[0]


def fit_question_model(train_set: list[Example], ignored: tuple[str, ...] = QUESTION_IGNORED):
    """The answer-or-refuse model and its out-of-fold probabilities for the training fold; ``ignored`` columns
    are held constant, so that the model does without them."""
    Xq = np.vstack([question_row_of(e) for e in train_set])
    for name in ignored:
        Xq[:, QUESTION_MODEL_FEATURES.index(name)] = 0.0
    yq = np.array([e.variant in ANSWERABLE_VARIANTS and e.answerable and e.evidence for e in train_set], dtype=np.int8)
    rq = np.array([NEWS_WEIGHT if e.dataset == "rgb" else 1 for e in train_set])
    oof_q = out_of_fold(Xq, yq, [e.group for e in train_set], ROUNDS["question"], repeat=rq)
    return train(Xq, yq, ROUNDS["question"], repeat=rq), oof_q


def question_probs(examples: list[Example], question_model, guards: list[dict] | None = None) -> np.ndarray:
    """The question model's answerability for ``examples``, 0 where a refusal guard fires."""
    if not examples:
        return np.zeros(0)
    rows = np.vstack([question_row_of(e) for e in examples])
    return guarded(examples, question_model.predict(rows), guards or [], rows)


def guard_rows(examples: list[Example]) -> np.ndarray:
    """Question-model rows holding what the refusal guards read (``rag.reader.guards.CANDIDATES``: the question and
    its retrieved passages, none of the models' outputs), without reading anything with the models."""
    from rag.reader.features import question_features
    from rag.reader.reader_features import READER_QUESTION_FEATURES

    return np.vstack([np.hstack([question_features(e.info, e.terms, e.sentences, [], e.retrieval, e.index)[0],
                                 np.zeros(len(READER_QUESTION_FEATURES), dtype=np.float32)]) for e in examples])


def guard_masks(examples: list[Example]) -> tuple[np.ndarray, np.ndarray]:
    """Which ``examples`` a refusal guard must leave alone (asked and answerable: those the refusal bar is chosen on)
    and which it should stop (every variant that must be refused)."""
    answerable = np.array([e.variant == "asked" and e.answerable for e in examples], dtype=bool)
    must_refuse = np.array([not (e.variant in ANSWERABLE_VARIANTS and e.answerable) for e in examples], dtype=bool)
    return answerable, must_refuse


def choose_refusal_guards(train_set: list[Example], rows: np.ndarray | None = None) -> list[dict]:
    """``rag.reader.guards.choose_guards`` on the training fold (its answerable and must-refuse questions: ``guard_masks``)."""
    from rag.reader.guards import choose_guards

    rows = guard_rows(train_set) if rows is None else rows
    chosen = choose_guards(rows, *guard_masks(train_set))
    for g in chosen:
        print(f"  refusal guard {g['feature']} {g['direction']} {g['threshold']}: answerable fired "
              f"{g['answerable_fired']:.2%}, must-refuse fired {g['must_refuse_fired']:.2%}"
              f"{'' if g['kept'] else ' (not kept)'}", flush=True)
    return chosen


def guarded(examples: list[Example], probs: np.ndarray, guards: list[dict], rows: np.ndarray | None = None) -> np.ndarray:
    """``probs`` with 0 where a kept refusal guard fires (what the answerer does: it refuses)."""
    from rag.reader.guards import fired_rows, guards_of

    kept = guards_of(guards)
    if not kept or not len(examples):
        return np.asarray(probs)
    rows = guard_rows(examples) if rows is None else rows
    return np.where(fired_rows(kept, rows), 0.0, probs)


OWN_SET = ROOT / "tests" / "data" / "seeds_qa.jsonl"


def own_examples(work: Path) -> list[Example]:
    """The project's own questions over the seeds (``tests/data/seeds_qa.jsonl``), never trained or tuned on:
    reported beside the held-out fold to show how the models carry over to a two-article news collection."""
    from rag.evaluation import load_testset

    if not OWN_SET.exists() or not (ROOT / "seeds").is_dir():
        return []
    assistant = assistant_for(work / "idx-seeds", ROOT / "seeds", {})
    out = []
    for q in load_testset(OWN_SET).questions:
        answerable = bool(q.answerable and q.answers)
        out.append(collect(Example(dataset="seeds", qid=q.qid, question=q.question, answers=q.answers,
                                   answerable=answerable, group="seeds", held_out=True), assistant))
    return out


def read_examples(examples: list[Example], models: dict, span_reader) -> None:
    """Score ``examples`` (collected, not read) with trained models as the answerer does: sentences, the span
    reader's readings of the best ones, spans, the lead."""
    for e in examples:
        if not e.sentences:
            continue
        score_sentences(e.sentences, models["sentence"].predict(e.X_sentence))
        top = e.sentences[:TOP_SENTENCES]
        e.readings = span_reader.read(e.question, [s.text for s in top], keep=SPANS_PER_SENTENCE)
        collect_spans(e)
        if e.spans:
            score_spans(e.spans, models["span"].predict(e.X_span))
            e.lead = float(models["lead"].predict(lead_features(e.spans, e.X_span))[0])


LANGUAGES = ("en", "zh")
# MAX_ANSWERABLE_REFUSED holds in each question language: a language whose answerable questions the pooled bar
# refuses more often than that gets a refusal and lead pair of its own (English, whose questions over Chinese text
# the models are less sure of: the pooled bar refuses more than 8% of them on the training fold). Measured on the held-out
# fold (2026-12-02, docs/benchmarks.md): XQuAD en answerable refused 0.070 -> 0.043, contains 0.800 -> 0.817, lead
# F1 unchanged (0.466), its must-refuse refused 0.700 -> 0.552. Thresholds of its own for every language would also
# raise the Chinese bar (CMRC answerable refused 0.021 -> 0.052, contains 0.832 -> 0.806): not done.
MIN_PER_LANGUAGE = 100  # answerable questions a language needs for a pair of its own


def language_of(e: Example) -> str:
    return e.info.language if e.info.language in LANGUAGES else "zh"


def answer_threshold(thresholds: dict, e: Example) -> float:
    return thresholds["answer"][language_of(e)]


def lead_threshold(thresholds: dict, e: Example) -> float:
    return thresholds["lead"][language_of(e)]


def choose_thresholds(examples, answer_probs) -> dict:
    """Refuse below the answerability probability that keeps answerable questions refused at or under
    ``MAX_ANSWERABLE_REFUSED``, chosen on every language's questions together, and lower for a language whose
    answerable questions that bar refuses more often (its own bar); lead from the lead model's probability whose
    leads are right (F1 >= 0.5) at least ``MIN_LEAD_PRECISION`` of the time on the training fold, the loosest
    such, chosen with the same questions as the bar. Then, for both languages: how many sentences to quote
    (``best_quoting``); without a lead, quote the best span's sentence first if that finds the gold
    more often than the best sentence does."""
    asked = [(e, p) for e, p in zip(examples, answer_probs) if e.variant == "asked" and e.answerable]
    pooled = _answer_and_lead(asked)
    answer, lead = {}, {}
    for language in LANGUAGES:
        own = [(e, p) for e, p in asked if language_of(e) == language]
        refused = float(np.mean([p < pooled[0] for _, p in own])) if own else 0.0
        mine = len(own) >= MIN_PER_LANGUAGE and refused > MAX_ANSWERABLE_REFUSED
        answer[language], lead[language] = _answer_and_lead(own) if mine else pooled
        print(f"  {language}: {len(own)} answerable questions, {refused:.1%} refused by the pooled bar; refuse below "
              f"{answer[language]:.4f}{' (its own)' if mine else ''}, lead from {lead[language]:.4f}")
    answered = [e for e, p in asked if p >= answer[language_of(e)]]
    mass, most = best_quoting(answered)
    by_choice = {choice: np.mean([any(holds_gold(x.text, e.answers) for x in quotes_of(e, {
        "lead": lead, "quote_mass": mass, "max_quotes": most, "quote_span_sentence": choice})) for e in answered] or [0])
        for choice in (False, True)}
    print(f"  without a lead, quoting the best span's sentence first: contains {by_choice[True]:.3f} "
          f"(the best sentence first: {by_choice[False]:.3f})")
    return {"answer": {k: round(v, 4) for k, v in answer.items()}, "lead": {k: round(v, 4) for k, v in lead.items()},
            "quote_mass": mass, "max_quotes": most, "quote_span_sentence": bool(by_choice[True] > by_choice[False])}


def _answer_and_lead(asked: list) -> tuple[float, float]:
    """The refusal and lead thresholds for these (answerable example, answerability probability) pairs."""
    from rag.metrics import f1

    answerable_probs = np.sort([p for _, p in asked])
    answer = float(answerable_probs[int(MAX_ANSWERABLE_REFUSED * len(answerable_probs))]) if len(answerable_probs) else 0.5
    leads = sorted(((e.lead, f1(e.spans[0].span.text, e.answers) >= 0.5) for e, p in asked
                    if e.spans and p >= answer), reverse=True)
    lead = 1.0
    right = 0
    for n, (prob, ok) in enumerate(leads, start=1):
        right += ok
        if right / n >= MIN_LEAD_PRECISION:
            lead = prob
    return answer, lead


def quotes_of(e: Example, thresholds: dict) -> list:
    """The sentences the answerer would quote for ``e`` (``rag.reader.extractive``'s rule)."""
    from rag.reader.extractive import first_quote, sentences_to_quote

    if not e.sentences:
        return []
    lead = e.spans[0] if e.spans and e.lead >= lead_threshold(thresholds, e) else None
    first = first_quote(lead, e.spans, thresholds["quote_span_sentence"])
    return sentences_to_quote(e.sentences, e.readings, first, thresholds["quote_mass"], thresholds["max_quotes"])


QUOTE_COST = 0.02  # what quoting one more sentence costs, against finding the gold in the quotes (1.0)
QUOTE_MASSES = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
MAX_QUOTES = (2, 3)


def best_quoting(examples) -> tuple[float, int]:
    """How much of the two models' quoting shares (``rag.reader.reader.quoting_shares``: the sentence model's
    probability times the span reader's "it answers") the quoted sentences hold together (``quote_mass``) and how
    many at most (``max_quotes``): the pair that best trades finding the gold in the quotes against their number
    (``QUOTE_COST`` a sentence), over ``examples`` whose sentences and readings are out of fold (without readings:
    the sentence model's shares alone)."""
    from rag.reader.extractive import sentences_to_quote

    best, best_score = (QUOTE_MASSES[0], MAX_QUOTES[0]), -1.0
    usable = [e for e in examples if e.sentences]
    for most in MAX_QUOTES:
        for mass in QUOTE_MASSES:
            contains = quoted = 0
            for e in usable:
                chosen = sentences_to_quote(e.sentences, e.readings, None, mass, most)
                contains += any(holds_gold(x.text, e.answers) for x in chosen)
                quoted += len(chosen)
            score = (contains - QUOTE_COST * quoted) / max(1, len(usable))
            print(f"  quoting up to {most} sentences holding {mass:.0%}: gold in the quotes {contains / max(1, len(usable)):.3f}, "
                  f"{quoted / max(1, len(usable)):.2f} quoted", flush=True)
            if score > best_score:
                best, best_score = (mass, most), score
    return best


def print_curves(asked) -> None:
    """How good the top span and top sentence are before any threshold, and the lead's precision/coverage."""
    from rag.metrics import f1

    with_spans = [e for e in asked if e.spans]
    top_f1 = [f1(e.spans[0].span.text, e.answers) for e in with_spans]
    for name in sorted({e.dataset for e in with_spans}):
        rows = [x for e, x in zip(with_spans, top_f1) if e.dataset == name]
        print(f"  {name}: top span F1 {np.mean(rows):.3f}, right {np.mean([x >= 0.5 for x in rows]):.3f}")
    top_sentence = [holds_gold(e.sentences[0].text, e.answers) for e in asked if e.sentences]
    oracle = [bool(e.y_span.any()) for e in with_spans]
    for kind in ("date", "number", "person", "place", "which", "what", "why", "how", "other"):
        rows = [(x, e.lead) for e, x in zip(with_spans, top_f1) if e.info.kind == kind]
        if rows:
            print(f"  kind {kind}: {len(rows)} questions, right {np.mean([x >= 0.5 for x, _ in rows]):.3f}, "
                  f"mean lead prob {np.mean([p for _, p in rows]):.3f}")
    span_sentence = [holds_gold(e.spans[0].sentence.text, e.answers) for e in with_spans]
    either = [holds_gold(e.spans[0].sentence.text, e.answers) or holds_gold(e.sentences[0].text, e.answers)
              for e in with_spans]
    top2 = [any(holds_gold(x.text, e.answers) for x in e.sentences[:2]) for e in with_spans]
    d, lc = SENTENCE_FEATURES.index("dense"), SENTENCE_FEATURES.index("lexical_with_context")
    hand = [holds_gold(e.sentences[int(np.argmax(e.X_sentence[:, d] + 0.15 * e.X_sentence[:, lc]))].text, e.answers)
            for e in asked if len(e.sentences)]
    dense_only = [holds_gold(e.sentences[int(np.argmax(e.X_sentence[:, d]))].text, e.answers)
                  for e in asked if len(e.sentences)]
    print(f"for comparison, top sentence by dense + 0.15 lexical (the old hand-set score) {np.mean(hand):.3f}, "
          f"by dense alone {np.mean(dense_only):.3f}")
    print(f"best span's sentence holds gold {np.mean(span_sentence):.3f}; it or the top sentence {np.mean(either):.3f}; "
          f"top two sentences {np.mean(top2):.3f}")
    print(f"top sentence holds gold {np.mean(top_sentence):.3f}; top span F1 {np.mean(top_f1):.3f}, "
          f"right {np.mean([x >= 0.5 for x in top_f1]):.3f}; a gold span among candidates {np.mean(oracle):.3f}")
    pairs = sorted(((e.lead, x) for e, x in zip(with_spans, top_f1)), reverse=True)
    for share in (0.2, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0):
        head = pairs[: max(1, int(share * len(pairs)))]
        print(f"  leads on {share:.0%}: from p={head[-1][0]:.3f}, right {np.mean([x >= 0.5 for _, x in head]):.3f}, "
              f"F1 over all {sum(x for _, x in head) / len(pairs):.3f}")


def report(examples, answer_probs, thresholds) -> dict:
    """Figures per dataset as the answerer would behave: contains, lead F1/EM/given/right, refusals."""
    from rag.metrics import exact_match, f1

    out = {}
    for name in sorted({e.dataset for e in examples}):
        rows = [(e, p) for e, p in zip(examples, answer_probs) if e.dataset == name]
        asked = [(e, p) for e, p in rows if e.variant == "asked" and e.answerable]
        negatives = [(e, p) for e, p in rows if not (e.variant in ANSWERABLE_VARIANTS and e.answerable)]
        mini = [p < answer_threshold(thresholds, e) for e, p in rows if e.variant == "mini"]
        lead_f1, lead_em, given, right, contains, refused = [], [], 0, 0, 0, 0
        for e, p in asked:
            if p < answer_threshold(thresholds, e):
                refused += 1
                lead_f1.append(0.0)
                lead_em.append(0.0)
                continue
            chosen = quotes_of(e, thresholds)
            lead = e.spans[0] if e.spans and e.lead >= lead_threshold(thresholds, e) else None
            if lead is not None:
                given += 1
                score = f1(lead.span.text, e.answers)
                right += score >= 0.5
                lead_f1.append(score)
                lead_em.append(exact_match(lead.span.text, e.answers))
            else:
                lead_f1.append(0.0)
                lead_em.append(0.0)
            contains += any(holds_gold(x.text, e.answers) for x in chosen)
        n = max(1, len(asked))
        out[name] = {
            "answerable": len(asked), "contains": round(contains / n, 3), "lead_f1": round(float(np.mean(lead_f1 or [0])), 3),
            "lead_em": round(float(np.mean(lead_em or [0])), 3), "lead_given": round(given / n, 3),
            "lead_right": round(right / max(1, given), 3), "answerable_refused": round(refused / n, 3),
            "two_article_answerable_refused": round(sum(mini) / max(1, len(mini)), 3),
            "must_refuse": len(negatives),
            "refused_by_variant": {v: round(sum(p < answer_threshold(thresholds, e) for e, p in negatives if e.variant == v)
                                            / max(1, sum(e.variant == v for e, _ in negatives)), 3)
                                   for v in sorted({e.variant for e, _ in negatives})},
            "must_refuse_refused": round(sum(p < answer_threshold(thresholds, e) for e, p in negatives)
                                         / max(1, len(negatives)), 3),
        }
    return out


if __name__ == "__main__":
    sys.exit(main())
