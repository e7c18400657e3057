"""The extractive reader: learned models pick the answer sentence, the short answer and whether to answer.

``LearnedAnswerer`` turns a retrieval into an ``Answer``; ``Reader`` gives the scored candidates;
``scripts/train_reader.py`` trains the models in ``rag/reader/model/`` on public dev sets.
"""

from rag.reader.extractive import LearnedAnswerer
from rag.reader.reader import Reader, Reading

__all__ = ["LearnedAnswerer", "Reader", "Reading"]
