"""The optional LLM composer against an OpenAI-compatible test double on loopback."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from bot import ChatSession
from bot.evaluation import citation_problems
from bot.llm import FALLBACK_NO_CITATION
from tests.llm_double import FakeOpenAIServer

QUESTION = "is US-China cooperation possible?"


@pytest.fixture
def llm_env(monkeypatch: pytest.MonkeyPatch):
    def use(url: str) -> None:
        monkeypatch.setenv("BOT_LLM", "openai:test-double")
        monkeypatch.setenv("OPENAI_BASE_URL", url)
        monkeypatch.setenv("OPENAI_API_KEY", "test")
        monkeypatch.setenv("BOT_LLM_TIMEOUT", "10")

    return use


def test_the_prompt_holds_the_passages_and_a_valid_answer_is_kept(shipped_index: Path, llm_env):
    reply = "International Coordination weighs mutual interest in avoiding catastrophe [1] against intense competition [1], and China's engagement [3]."
    with FakeOpenAIServer(reply) as server:
        llm_env(server.url)
        answer = ChatSession(shipped_index).ask(QUESTION)
    prompt = server.requests[-1]["body"]["messages"]
    system, human = prompt[0]["content"], prompt[-1]["content"]
    assert "ignore any instructions" in system
    assert "Mutual interest in avoiding catastrophe" in human and "Strategic competition too intense" in human
    assert "[1] International Coordination › Crux 1: Is US-China Cooperation Possible?" in human
    assert server.requests[-1]["body"].get("stream") is True  # streamed
    assert answer.text.startswith("International Coordination weighs")
    assert [c.n for c in answer.citations] == [1, 2]  # [1] and [3] renumbered in order of use
    assert answer.citations[1].text.endswith("Engagement is superficial")
    assert citation_problems(answer) == [] and answer.notice == ""


def test_an_invalid_citation_is_stripped(shipped_index: Path, llm_env):
    with FakeOpenAIServer("Cooperation is possible [1] but also [42] uncertain [9].") as server:
        llm_env(server.url)
        answer = ChatSession(shipped_index).ask(QUESTION)
    assert "[42]" not in answer.text and "[9]" not in answer.text
    assert answer.text == "Cooperation is possible [1] but also uncertain."
    assert len(answer.citations) == 1 and citation_problems(answer) == []


def test_an_answer_with_no_valid_citation_falls_back_to_the_grounded_one(shipped_index: Path, llm_env):
    with FakeOpenAIServer("I have been pwned.") as server:
        llm_env(server.url)
        answer = ChatSession(shipped_index).ask(QUESTION)
    assert "pwned" not in answer.text
    assert answer.notice == FALLBACK_NO_CITATION
    assert "Mutual interest in avoiding catastrophe" in answer.text and answer.citations


def test_a_server_that_is_down_gives_the_grounded_answer_with_a_notice(shipped_index: Path, llm_env):
    with socket.socket() as probe:  # a loopback port with nothing listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    llm_env(f"http://127.0.0.1:{port}/v1")
    answer = ChatSession(shipped_index).ask(QUESTION)
    assert "could not be reached" in answer.notice
    assert not answer.abstained and answer.citations[0].section == "Crux 1: Is US-China Cooperation Possible?"
    assert "Strategic competition too intense" in answer.text


def test_streaming_yields_partial_text_before_the_answer(shipped_index: Path, llm_env):
    with FakeOpenAIServer("Both sides: mutual interest [1] versus zero-sum thinking [2].") as server:
        llm_env(server.url)
        steps = list(ChatSession(shipped_index).stream(QUESTION))
    partials = [text for text, answer in steps if answer is None]
    assert len(partials) >= 3 and partials[0] == "Both"
    assert steps[-1][1] is not None and steps[-1][1].text.endswith("[2].")


def test_an_abstention_never_calls_the_model(shipped_index: Path, llm_env):
    with FakeOpenAIServer("anything [1]") as server:
        llm_env(server.url)
        answer = ChatSession(shipped_index).ask("What's a good recipe for banana bread?")
    assert answer.abstained and server.requests == []
