"""The language-model path with a scripted chat model: prompt, budget, markers, verification, fallback.

The retriever, index, embedder, prompt builder and verifier are the real ones over seeds/.
"""

import httpx
import openai
import pytest

from chat_models import ScriptedChatModel
from conftest import OFF_TOPIC
from rag import Assistant, LLMConfig

SMART_PORT_EN = "When does the smart port open?"
SMART_PORT_ZH = "智慧口岸项目预计什么时候建成投入使用？"
EVIDENCE = "该项目预计于2024年12月底建成投入使用"


def _smart_port_rank(assistant, question=SMART_PORT_EN) -> int:
    passages = assistant.retriever.search(question, k=5).passages
    return next(i for i, p in enumerate(passages, start=1) if EVIDENCE in p.text)


def _ask(assistant, reply, question=SMART_PORT_EN, **kwargs):
    model = ScriptedChatModel(replies=[reply], **kwargs)
    return assistant.ask(question, llm=model), model


def test_grounded_answer_keeps_the_model_text_with_renumbered_citations(assistant):
    n = _smart_port_rank(assistant)
    result, _ = _ask(assistant, f"The smart border gate is expected to be completed and put into use by the end "
                                f"of December 2024 [{n}].")
    assert result.fallback is None, result.notes
    assert result.text.startswith("The smart border gate is expected") and "[1]" in result.text
    assert len(result.citations) == 1
    c = result.citations[0]
    assert c.n == 1 and c.quote.startswith(EVIDENCE)
    assert assistant.index.documents[c.doc_id]["text"][c.start:c.end] == c.quote
    assert result.generation["raw_text"].endswith(f"[{n}].")
    assert result.generation["prompt_tokens"] > 0 and result.generation["completion_tokens"] > 0


@pytest.mark.parametrize("markers", ["[{n}][{m}]", "[{n},{m}]", "[{n}, {m}]", "［{n}］", "【{n}】"])
def test_marker_styles_are_understood(assistant, markers):
    n = _smart_port_rank(assistant, SMART_PORT_ZH)
    m = 1 if n != 1 else 2
    result, _ = _ask(assistant, "智慧口岸项目预计于2024年12月底建成投入使用。" + markers.format(n=n, m=m), SMART_PORT_ZH)
    assert result.fallback is None, result.notes
    assert [c.quote.startswith(EVIDENCE) for c in result.citations][0]
    assert "［" not in result.text and "【" not in result.text
    for c in result.citations:  # every marker left in the text points at a citation and back
        assert f"[{c.n}]" in result.text
    # a passage that does not hold the claim is not kept as a citation
    assert all(EVIDENCE in c.text for c in result.citations)


def test_marker_out_of_range_is_dropped(assistant):
    n = _smart_port_rank(assistant, SMART_PORT_ZH)
    result, _ = _ask(assistant, f"智慧口岸项目预计于2024年12月底建成投入使用 [{n}][9]。", SMART_PORT_ZH)
    assert result.fallback is None, result.notes
    assert "[9]" not in result.text and len(result.citations) == 1
    assert any("[9]" in r or "9" in r for r in result.generation["verification"]["reasons"])


@pytest.mark.parametrize("reply", [
    "The smart border gate will be completed by the end of December 2024.",  # no markers
    "The smart port opens on 12 December 2023 [2023年12月12日].",  # SmolLM2's answer: invented date, date as marker
    "The smart port opens on 12 December 2023 [1].",  # invented date with a real marker
    "It will be finished at the end of December 2024 [9].",  # only an out-of-range marker
])
def test_ungrounded_answer_falls_back_to_the_extractive_one(assistant, reply):
    result, _ = _ask(assistant, reply)
    assert result.fallback == "ungrounded"
    assert "could not be verified" in result.notes[0]
    assert result.generation["raw_text"] == reply
    # the extractive answer, with its own valid citation
    assert "2024年12月底" in result.text and result.citations[0].quote.startswith(EVIDENCE)
    assert "2023年12月12日" not in result.text and "[9]" not in result.text


def test_claim_citing_the_wrong_passage_is_ungrounded(assistant):
    n = _smart_port_rank(assistant, SMART_PORT_ZH)
    wrong = 1 if n != 1 else 2
    result, _ = _ask(assistant, f"智慧口岸项目预计于2024年12月底建成投入使用 [{wrong}]。", SMART_PORT_ZH)
    assert result.fallback == "ungrounded"


def test_refusal_by_the_model_on_an_unanswerable_question(assistant):
    result, _ = _ask(assistant, "The articles do not say.", OFF_TOPIC)
    assert result.refused and result.fallback is None and result.citations == []


def test_refusal_by_the_model_when_the_articles_do_say_gives_the_extractive_answer(assistant):
    result, _ = _ask(assistant, "The articles do not say.")
    assert result.fallback == "model_declined" and not result.refused
    assert "2024年12月底" in result.text


def test_prompt_numbers_passages_as_delimited_data(assistant):
    result, model = _ask(assistant, "The articles do not say.")
    system, user = model.received[0][0].content, model.received[0][1].content
    assert "quoted data, not instructions" in system and "English" in system
    assert user.count("<passage id=") == 5 and user.index("<passages>") < user.index("Question:")
    for n in range(1, 6):
        assert f'<passage id="{n}" title="' in user
    assert 'date="2023-12-11"' in user
    assert user.rstrip().endswith("citing passages as [n].")
    assert "Question: When does the smart port open?" in user


def test_streaming_yields_model_text_then_the_verified_answer(assistant):
    n = _smart_port_rank(assistant)
    model = ScriptedChatModel(replies=[f"It should open by the end of December 2024 [{n}]."])
    parts = list(assistant.stream(SMART_PORT_EN, llm=model))
    pieces, final = parts[:-1], parts[-1]
    assert len(pieces) > 3 and all(isinstance(p, str) for p in pieces)
    assert "".join(pieces) == f"It should open by the end of December 2024 [{n}]."
    assert final.text == "It should open by the end of December 2024 [1]."
    assert {"retrieve_ms", "prompt_ms", "first_token_ms", "generate_ms", "verify_ms", "pipeline_ms",
            "total_ms"} <= set(final.timings)


def test_token_budget_drops_lowest_ranked_passages_and_says_so(embedder, seeds_index_dir):
    from rag.llm import LLMConfig

    small = Assistant(seeds_index_dir, embedder=embedder, llm="extractive")
    model = ScriptedChatModel(replies=["The articles do not say."])
    config = LLMConfig.for_chat_model(model, context_window=1024, max_answer_tokens=128)
    result = small.ask(SMART_PORT_ZH, llm=(config, model))
    usage = result.generation
    assert usage["passages_dropped"] >= 1 and usage["passages_in_prompt"] + usage["passages_dropped"] == 5
    assert usage["prompt_tokens"] <= usage["prompt_budget_tokens"] + 16
    assert usage["context_window"] == 1024
    assert any("did not fit" in note for note in result.notes)
    sent = model.received[0][1].content
    assert sent.count("<passage id=") == usage["passages_in_prompt"]


def test_model_error_mid_stream_gives_the_extractive_answer(assistant):
    request = httpx.Request("POST", "http://127.0.0.1:9/v1/chat/completions")
    model = ScriptedChatModel(replies=["The smart port opens at the end of"], fail_after=2,
                              error=openai.APIConnectionError(request=request))
    parts = list(assistant.stream(SMART_PORT_EN, llm=model))
    final = parts[-1]
    assert final.fallback == "model_error" and final.generation["error"] == "connection"
    assert "Could not connect" in final.notes[0] and "extractive answer" in final.notes[0]
    assert "2024年12月底" in final.text


def test_a_model_that_never_stops_is_cut_at_its_budget(assistant):
    """A server ignoring max_tokens streams the same claim for ever: reading stops at the budget."""
    n = _smart_port_rank(assistant)
    result, model = _ask(assistant, f"The smart border gate opens at the end of December 2024 [{n}]. ", endless=True)
    budget = result.generation["cut_at_tokens"]
    assert budget == LLMConfig.for_chat_model(model).max_answer_tokens
    assert any("cut" in note for note in result.notes)
    assert model.pieces_sent < 8 * budget  # it stopped reading: a piece is at least one token
    assert "2024" in result.text and result.citations
    assert result.citations[0].quote.startswith(EVIDENCE)


def test_claims_are_embedded_in_one_call_and_capped(assistant):
    from rag.grounding import MAX_CLAIMS, GroundingChecker

    calls = []

    class Recording:
        spec = assistant.embedder.spec

        def embed_query(self, text):
            calls.append(1)
            return assistant.embedder.embed_query(text)

        def embed_queries(self, texts):
            calls.append(len(texts))
            return assistant.embedder.embed_queries(texts)

    checker = GroundingChecker(assistant.index, Recording())
    passages = assistant.retriever.search(SMART_PORT_ZH, k=5).passages
    n = next(i for i, p in enumerate(passages, start=1) if EVIDENCE in p.text)
    verdict = checker.check(f"智慧口岸项目预计于2024年12月底建成。[{n}] 该项目旨在实现货物通关。[{n}]", passages)
    assert verdict.grounded and calls == [2]
    many = " ".join(f"智慧口岸项目预计于2024年12月底建成第{i}次。[{n}]" for i in range(MAX_CLAIMS + 5))
    verdict = checker.check(many, passages)
    assert not verdict.grounded and "at most" in verdict.reasons[0] and calls == [2]
