"""The learned offline answerer (the default; ``Assistant(reader="learned")``): lead with the short answer when the
reader is sure of it, quote the sentence(s) that hold it, or refuse.

Every decision is the reader's learned models' (``rag.reader``): whether the passages answer the question
at all, which span answers it and whether that span is right often enough to lead with, which sentences to
quote. The thresholds come with the models (``rag/reader/model/reader.json``). A lead for an English
question keeps dates and amounts in English: "End of December 2024 (2024年12月底)".

>>> answerer = LearnedAnswerer(index)                                  # doctest: +SKIP
>>> answerer.answer("谅山省2023年进出口总额是多少？", retrieval).text      # doctest: +SKIP
'49.25亿美元。经该省的进出口总额约达49.25亿美元,达计划的129%,同比增长60%以上。 [1]'
"""

from __future__ import annotations

from rag.quantities import find_quantities, render_english, render_english_amount
from rag.reader.features import SentenceCandidate, SpanChoice
from rag.reader.model import ReaderModel, default_model
from rag.reader.questions import years_in
from rag.reader.reader import Reader, Reading, quoting_shares
from rag.schema import Answer, Citation

REFUSAL_TEXT = {
    "en": "The articles do not say. None of the indexed passages answers this question.",
    "zh": "文章中没有提到这一点：检索到的段落都无法回答这个问题。",
}
# a question naming a year that no retrieved passage mentions (the refusal guard "asked_year_missing") is told so:
# the passages may hold the same figure for another year, which is not its answer
YEAR_REFUSAL_TEXT = {
    "en": "The articles say nothing about {years}. None of the indexed passages answers this question.",
    "zh": "文章中没有关于{years}的内容：检索到的段落都无法回答这个问题。",
}
# a question naming a year the quotes do not name, while they name others, is told which years they give: the
# figure quoted may be another year's (the same condition on the two best sentences holds for 5 of the dev sets'
# 1,888 answerable training-fold questions and ~3% of those whose answer passage was taken out: too many of the
# first to refuse on, docs/benchmarks.md)
YEAR_NOTE_TEXT = {
    "en": "The quoted passages speak of {given}, not of {asked}.",
    "zh": "引用的段落说的是{given}，不是{asked}。",
}
WHOLE_SENTENCE = 0.9  # a lead this share of its sentence is the quote itself: it is not repeated above it


class LearnedAnswerer:
    """Answer from the retrieved passages with verbatim quotes, or refuse."""

    def __init__(self, index, model: ReaderModel | None = None, *, max_sentences: int | None = None):
        if max_sentences is not None and max_sentences < 1:
            raise ValueError(f"max_sentences must be at least 1, got {max_sentences}")
        self.index = index
        self._model = model  # the shipped one is read on first use: building an index never needs it
        self.max_sentences = max_sentences  # None: as many as the model's quoting rule allows (max_quotes)

    @property
    def model(self) -> ReaderModel:
        if self._model is None:
            self._model = default_model()
        return self._model

    def answer(self, question: str, retrieval) -> Answer:
        reading = Reader(self.index, self.model).read(question, retrieval)
        language = retrieval.language
        if (not reading.sentences or reading.guard is not None
                or reading.answerable < self.model.answer_threshold(language)):
            return Answer(question=question, text=refusal_text(reading, language), refused=True,
                          passages=retrieval.passages, language=language, confidence=_confidence(reading))
        lead = reading.spans[0] if reading.spans and reading.lead >= self.model.lead_threshold(language) else None
        first = first_quote(lead, reading.spans, self.model.quote_span_sentence)
        quoted = sentences_to_quote(reading.sentences, reading.readings, first, self.model.quote_mass,
                                    self.max_sentences or self.model.max_quotes)
        runs = adjacent_runs(quoted, lambda s: self.index.documents[retrieval.passages[s.passage_rank].doc_id]["text"])
        citations = [self._citation(n, run, retrieval) for n, run in enumerate(runs, start=1)]
        body = " ".join(f"{c.quote} [{c.n}]" for c in citations)
        text = body
        if lead is not None and len(lead.span.text) < WHOLE_SENTENCE * len(lead.sentence.text):
            text = f"{self._render_lead(lead.span.text, language)} {body}"
        note = year_note(question, [c.quote for c in citations], language)
        return Answer(question=question, text=text, citations=citations, refused=False,
                      passages=retrieval.passages, language=language, notes=[note] if note else [],
                      answer_span=lead.span.text if lead else None, confidence=_confidence(reading))

    @staticmethod
    def _render_lead(span: str, language: str) -> str:
        separator = "." if language == "en" else "。"
        if language == "en":
            # a span that holds one date, or is one amount with the words qualifying it, said in English
            # ("预计于2024年12月底" -> "End of December 2024 (…)", "约达49.25亿美元" -> "About USD 4.925 billion (…)");
            # a number inside a name (1116号界碑) is not an amount
            dates = find_quantities(span, "date")
            english = render_english(dates[0].text, "date") if len(dates) == 1 else None
            english = english or render_english_amount(span)
            if english:
                return f"{english[0].upper()}{english[1:]} ({span}){separator}"
        return f"{span}{separator}"

    def _citation(self, n: int, run: list[SentenceCandidate], retrieval) -> Citation:
        """The citation of a run of quoted sentences that stand next to each other in one passage."""
        passage = retrieval.passages[run[0].passage_rank]
        start, end = min(s.start for s in run), max(s.end for s in run)
        quote = self.index.documents[passage.doc_id]["text"][start:end]  # one sentence's text, or the run's
        return Citation(
            n=n, doc_id=passage.doc_id, title=passage.title, date=passage.date, section=passage.section,
            quote=quote, text=passage.text, score=round(max(s.prob for s in run), 4), start=start, end=end,
            chunk_id=passage.chunk_id,
        )


def _years_named(years, language: str) -> str:
    years = sorted(years)
    return " or ".join(str(y) for y in years) if language == "en" else "或".join(f"{y}年" for y in years)


def year_note(question: str, quotes: list[str], language: str) -> str | None:
    """What to tell the asker when ``question`` names a year that none of the ``quotes`` names while they name
    others: the figure quoted may be another year's. None otherwise.

    >>> year_note("2022年台湾人口多少？", ["台湾人口于2023年6月底的官方统计数字为23,373,283人。"], "zh")
    '引用的段落说的是2023年，不是2022年。'
    >>> year_note("What was the total in 2023?", ["In 2023 the total was 4.9 billion."], "en") is None
    True
    """
    asked = years_in(question)
    given = set().union(*(years_in(q) for q in quotes)) if quotes else set()
    if not asked or not given or asked & given:
        return None
    return YEAR_NOTE_TEXT[language].format(given=_years_named(given, language), asked=_years_named(asked, language))


def refusal_text(reading: Reading, language: str) -> str:
    """What a refusal says: that the articles do not say, or, refused for a year they never mention, which year."""
    if reading.guard == "asked_year_missing" and reading.question.years:
        return YEAR_REFUSAL_TEXT[language].format(years=_years_named(set(reading.question.years), language))
    return REFUSAL_TEXT[language]


def first_quote(lead: SpanChoice | None, spans: list[SpanChoice], span_sentence_first: bool) -> SentenceCandidate | None:
    """The sentence quoted first: the lead's, or without a lead the best span's when ``span_sentence_first``."""
    if lead is not None:
        return lead.sentence
    return spans[0].sentence if spans and span_sentence_first else None


def sentences_to_quote(sentences: list[SentenceCandidate], readings, first: SentenceCandidate | None, mass: float,
                       max_sentences: int) -> list[SentenceCandidate]:
    """What the answer quotes: ``first``, then the sentences the span reader read (``readings``) in the order
    of both models' ``quoting_shares``, until they hold ``mass`` or ``max_sentences`` are quoted."""
    shares = quoting_shares(sentences, readings)
    if first is not None:
        first = next((s for s in shares if s.sentence_id == first.sentence_id), first)
    return quoted_sentences(shares, first, mass, max_sentences)


def quoted_sentences(sentences: list[SentenceCandidate], first: SentenceCandidate | None, mass: float,
                     max_sentences: int = 3) -> list[SentenceCandidate]:
    """The sentences to quote: ``first`` (the lead's, or the best span's) if given, then the best sentences
    (``sentences`` sorted best first, each with its share of the sentence model's probability) until the
    quoted ones hold ``mass`` of it together, or ``max_sentences`` are quoted. A sure model quotes one
    sentence; an unsure one quotes the few the answer is likely among.

    >>> a, b, c = (SentenceCandidate(i, 0, t, 0, 1, prob=p) for i, (t, p) in enumerate([("A", .6), ("B", .3), ("C", .1)]))
    >>> [s.text for s in quoted_sentences([a, b, c], None, 0.5)], [s.text for s in quoted_sentences([a, b, c], None, 0.8)]
    (['A'], ['A', 'B'])
    >>> [s.text for s in quoted_sentences([a, b, c], c, 0.95)], [s.text for s in quoted_sentences([a, b, c], c, 0.95, 2)]
    (['C', 'A', 'B'], ['C', 'A'])
    """
    chosen = [first] if first is not None else []
    held = first.prob if first is not None else 0.0
    for s in sentences:
        if len(chosen) >= max_sentences or (chosen and held >= mass):
            break
        if s is not first:
            chosen.append(s)
            held += s.prob
    return chosen


def adjacent_runs(quoted: list[SentenceCandidate], document_text) -> list[list[SentenceCandidate]]:
    """``quoted`` (in the order they are quoted) gathered into runs of sentences that follow each other in one
    passage with only white space between (``document_text(s)``: the text of ``s``'s document), each run in
    document order, the runs in the order of their first quoted sentence: an answer that spans two sentences is
    quoted as the passage says it, under one citation.

    >>> text = "甲说了一句。乙接着说。丙无关。"
    >>> a, b, c = (SentenceCandidate(i, 0, t, text.index(t), text.index(t) + len(t)) for i, t in
    ...            enumerate(["甲说了一句。", "乙接着说。", "丙无关。"]))
    >>> [[s.text for s in run] for run in adjacent_runs([b, a], lambda s: text)]
    [['甲说了一句。', '乙接着说。']]
    >>> [[s.text for s in run] for run in adjacent_runs([c, a], lambda s: text)]
    [['丙无关。'], ['甲说了一句。']]
    """
    first_quoted = {id(s): i for i, s in enumerate(quoted)}
    runs: list[list[SentenceCandidate]] = []
    for s in sorted(quoted, key=lambda s: (s.passage_rank, s.start)):
        last = runs[-1][-1] if runs else None
        if (last is not None and last.passage_rank == s.passage_rank and s.start >= last.end
                and not document_text(s)[last.end:s.start].strip()):
            runs[-1].append(s)
        else:
            runs.append([s])
    runs.sort(key=lambda run: min(first_quoted[id(s)] for s in run))
    return runs


def _confidence(reading: Reading) -> dict:
    out = {"answerable": round(reading.answerable, 4), "lead": round(reading.lead, 4)}
    if reading.guard is not None:
        out["refused_by"] = reading.guard  # a refusal guard, whatever the answerability
    return out
