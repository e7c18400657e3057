"""Follow-ups: merged with the previous question only when they cannot stand alone and merging retrieves better."""

import pytest

from rag.conversation import merged_question, needs_context


@pytest.mark.parametrize("question", ["And exports?", "What about Cao Bang?", "那出口呢？", "高平呢？",
                                      "When was it built?", "它什么时候建成？", "他是谁？", "Why?", "How much?"])
def test_questions_that_cannot_stand_alone(question):
    assert needs_context(question)


@pytest.mark.parametrize("question", ["Who won Euro 2024?", "河内的人口是多少？", "When does the smart port open?",
                                      "谁是书记？", "What is the capital of France?",
                                      "Who is the Party Secretary of the Guangxi Zhuang Autonomous Region?"])
def test_complete_questions_stand_alone_however_short(question):
    assert not needs_context(question)
    assert merged_question(question, ["谅山省2023年进出口总额是多少？"]) is None


def test_merged_question_joins_the_previous_user_question():
    history = ["What was Lang Son's import-export total in 2023?"]
    assert merged_question("And exports?", history) == history[0] + " And exports?"
    assert merged_question("那出口呢？", ["谅山省2023年进出口总额是多少？"]) == "谅山省2023年进出口总额是多少？ 那出口呢？"
    assert merged_question("And exports?", None) is None and merged_question("And exports?", ["  "]) is None


def test_follow_up_retrieves_the_previous_topic(assistant):
    result = assistant.ask("And exports?", history=["What was Lang Son's total import-export value in 2023?"])
    assert all(p.doc_id == "seeds/002_1f3369877b84a1fb.txt" for p in result.passages[:3])
    assert "1.56亿美元" in result.text and any("Read as" in n for n in result.notes)


@pytest.mark.parametrize("previous,question", [
    ("When does the smart port open?", "Who won Euro 2024?"),
    ("How much is the toll at the Huu Nghi border gate?", "河内的人口是多少？"),
])
def test_a_complete_question_is_answered_as_if_asked_first(assistant, previous, question):
    alone = assistant.ask(question)
    after = assistant.ask(question, history=[previous])
    assert not any("Read as" in n for n in after.notes)
    assert after.text == alone.text and [p.chunk_id for p in after.passages] == [p.chunk_id for p in alone.passages]
