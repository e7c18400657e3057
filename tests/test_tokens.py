from rag.tokens import ENCODING_NAME, count_tokens, get_encoding, truncate_to_tokens


def test_offline_encoding_is_cl100k():
    enc = get_encoding()
    assert enc.name == ENCODING_NAME
    assert enc.encode("hello world") == [15339, 1917]  # cl100k ids


def test_truncate_keeps_whole_characters():
    text = "谅山省进出口总额" * 100
    cut, was_cut = truncate_to_tokens(text, 10)
    assert was_cut and count_tokens(cut) <= 10 and text.startswith(cut) and "\ufffd" not in cut
    assert truncate_to_tokens("short", 10) == ("short", False)
