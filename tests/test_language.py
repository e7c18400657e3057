from rag.language import detect_language


def test_detects_question_language():
    assert detect_language("When does the smart port open?") == "en"
    assert detect_language("谅山省2023年进出口总额是多少？") == "zh"
    assert detect_language("What is 智慧口岸?") == "zh"
    assert detect_language("2023") == "en"
