"""Many threads asking one Assistant, and an index update while they ask."""

import shutil
import threading
from concurrent.futures import ThreadPoolExecutor

from conftest import SEED_FACTS
from rag import Assistant


def _check(result, gold):
    if gold is None:
        assert result.refused, result.text
    else:
        assert gold in result.text and result.citations, result.text


def test_twenty_threads_share_one_assistant(assistant):
    questions = list(SEED_FACTS) * 5  # 50 questions over 20 threads
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(assistant.ask, questions))
    for question, result in zip(questions, results):
        assert result.question == question
        _check(result, SEED_FACTS[question])


def test_questions_answered_while_the_index_is_updated(tmp_path, seeds_index_dir, embedder):
    index_dir = tmp_path / "index"
    shutil.copytree(seeds_index_dir, index_dir)
    assistant = Assistant(index_dir, embedder=embedder)
    article = tmp_path / "new" / "hanoi-tourism.txt"
    article.parent.mkdir()
    article.write_text("河内旅游业快速恢复\n\n2025年河内市共接待游客3200万人次,同比增长15%。", encoding="utf-8")

    errors: list[BaseException] = []
    answered: list[int] = []
    done = threading.Event()

    def asker(question):
        while not done.is_set() or len(answered) < 20:
            try:
                _check(assistant.ask(question), SEED_FACTS[question])
                answered.append(1)
            except BaseException as exc:  # noqa: BLE001 - collected and re-raised below
                errors.append(exc)
                return
            if len(answered) > 400:
                return

    threads = [threading.Thread(target=asker, args=(q,)) for q in list(SEED_FACTS) * 2]
    for t in threads:
        t.start()
    report = assistant.add([article])
    done.set()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors[:3]
    assert report.added == ["new/hanoi-tourism.txt"] and len(answered) >= 20
    # the update is visible to the next question, and nothing that was there is lost
    assert "3200万人次" in assistant.ask("2025年河内市共接待游客多少人次？").text
    assert "2024年12月底" in assistant.ask("When does the smart port open?").text
    reloaded = Assistant(index_dir, embedder=embedder)  # and a fresh load sees the new generation whole
    assert {d["doc_id"] for d in reloaded.documents()} == {d["doc_id"] for d in assistant.documents()}
    assert len(reloaded.documents()) == 3
