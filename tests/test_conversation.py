from rag.conversation import condense_question, is_follow_up


def test_follow_ups_are_joined_to_the_previous_question():
    history = ["What was Lang Son's import-export total in 2023?"]
    assert condense_question("And exports?", history) == history[0] + " And exports?"
    assert condense_question("那出口呢？", ["谅山省2023年进出口总额是多少？"]) == "谅山省2023年进出口总额是多少？ 那出口呢？"


def test_standalone_questions_stay_as_they_are():
    assert not is_follow_up("Who is the Party Secretary of the Guangxi Zhuang Autonomous Region?")
    assert condense_question("When does the smart port open?", []) == "When does the smart port open?"
    assert condense_question("And exports?", None) == "And exports?"


def test_follow_up_retrieves_the_previous_topic(assistant):
    result = assistant.ask("And exports?", history=["What was Lang Son's total import-export value in 2023?"])
    assert all(p.doc_id == "seeds/002_1f3369877b84a1fb.txt" for p in result.passages[:3])
    assert "1.56亿美元" in result.text and any("Read as" in n for n in result.notes)
