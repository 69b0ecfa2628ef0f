"""The chat UI in a real browser: Debian's Chromium driven by Playwright against the real server."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CORPUS, serving

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Chromium is absent: apt-get install -y chromium (make test installs it)"
    ),
]


@pytest.fixture(scope="module")
def ui_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped corpus plus a page whose cells hold HTML."""
    from bot import build_index

    root = tmp_path_factory.mktemp("ui")
    corpus = root / "corpus"
    shutil.copytree(CORPUS, corpus)
    shutil.copy(Path(__file__).parent / "data" / "hostile-html.md", corpus)
    build_index(corpus, root / "index")
    return root / "index"


@pytest.fixture(scope="module")
def server(ui_index: Path) -> Iterator[str]:
    yield from serving(ui_index)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, server: str) -> Iterator[Any]:
    context = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.outside = []  # requests to anything but the server
    page.on("request", lambda r: page.outside.append(r.url) if not r.url.startswith(server) else None)
    page.goto(server, wait_until="load")
    page.wait_for_selector("#question textarea")
    yield page
    context.close()


def bot_messages(page: Any) -> list[str]:
    return page.eval_on_selector_all('#chat [data-testid="bot"]', "els => els.map(e => e.innerText)")


def ask(page: Any, question: str, watch: bool = False) -> tuple[str, list[int]]:
    """Type a question, click Ask, wait for the answer; with ``watch``, the lengths seen while it streamed."""
    before = len(bot_messages(page))
    if watch:  # every change the page renders, not only those a poll happens to see on a loaded machine
        page.evaluate(
            """n => { window.__lengths = []; const chat = document.querySelector('#chat');
            new MutationObserver(() => { const els = chat.querySelectorAll('[data-testid="bot"]');
              if (els.length > n) window.__lengths.push(els[els.length - 1].innerText.length); })
            .observe(chat, {subtree: true, childList: true, characterData: true}); }""",
            before,
        )
    page.fill("#question textarea", question)
    page.click("#ask")
    lengths: list[int] = []
    for _ in range(400):
        messages = bot_messages(page)
        if len(messages) > before:
            lengths.append(len(messages[-1]))
            if len(lengths) > 5 and lengths[-1] > 2 and lengths[-5:].count(lengths[-1]) == 5:
                break
        page.wait_for_timeout(25 if watch else 100)
    if watch:
        lengths = page.evaluate("window.__lengths") + lengths
    return bot_messages(page)[-1], lengths


def test_an_answer_streams_with_markers_and_its_source_card_shows_the_whole_crux_table(page: Any):
    text, lengths = ask(page, "is US-China cooperation possible?", watch=True)
    growing = sorted(set(n for n in lengths if n > 2))
    assert len(growing) >= 3, f"the answer did not stream: {lengths}"
    assert "[1]" in text and "Mutual interest in avoiding catastrophe" in text
    link = page.locator('#chat a[href="#source-1"]').first
    assert link.inner_text() == "[1]"
    card = page.locator("#source-2")
    card.locator("summary").click()
    assert card.get_attribute("open") is not None
    headers = card.locator("th").all_inner_texts()
    assert headers == ["Possible", "Not possible"]
    cited = card.locator("tr.cited td").all_inner_texts()
    assert cited == ["Technical cooperation precedent", "AI is zero-sum in their view"]
    assert "International Coordination › Crux 1: Is US-China Cooperation Possible?" in card.inner_text()
    assert page.outside == []


def test_a_follow_up_keeps_the_topic_and_the_query_shows_on_demand(page: Any):
    ask(page, "is US-China cooperation possible?")
    text, _ = ask(page, "and who should work on it?")
    assert "International Coordination › Who Should Work on This?" in text
    details = page.locator("#sources .search-details summary")
    details.click()
    assert "International Coordination" in page.locator("#sources .search-details").inner_text()


def test_the_approach_map_shows_every_approach(page: Any, ui_index: Path):
    from bot.retrieval import Index

    page.get_by_role("tab", name="Approach map").click()
    grid = page.locator("#approach-map")
    grid.wait_for()
    shown = grid.inner_text()
    titles = [t for _, t in Index.open(ui_index).matrix.approaches]
    assert len(titles) == 8
    for title in titles:
        assert title in shown
    assert "Geopolitical headwinds" not in shown  # notes show on selection, not in the grid
    row = titles.index("International Coordination")
    page.locator(f'#approach-map [data-testid="cell-{row}-1"]').click()  # its Tractability
    page.wait_for_function("() => document.querySelector('#cell-details').innerText.includes('Source:')")
    details = page.locator("#cell-details").inner_text()
    assert "International Coordination" in details and "Low" in details and "Geopolitical headwinds" in details
    assert "Evaluation Summary" in details
    page.click("#ask-cell")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#chat [data-testid=\"bot\"]')].some(m => m.innerText.includes('Geopolitical'))"
    )
    assert "How does International Coordination rate on Tractability?" in page.locator("#chat").inner_text()


def test_export_downloads_the_conversation_with_its_citations(page: Any, tmp_path: Path):
    ask(page, "is US-China cooperation possible?")
    page.wait_for_timeout(500)
    with page.expect_download() as md:
        page.click("#export-md")
    text = Path(md.value.path()).read_text("utf-8")
    assert "## Q: is US-China cooperation possible?" in text
    assert "[1] International Coordination › Crux 1: Is US-China Cooperation Possible?" in text
    with page.expect_download() as js:
        page.click("#export-json")
    data = json.loads(Path(js.value.path()).read_text("utf-8"))
    citations = data["conversation"][0]["answer"]["citations"]
    assert citations[0]["section"] == "Crux 1: Is US-China Cooperation Possible?"


def test_html_in_a_document_is_shown_as_text_and_runs_nothing(page: Any):
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    text, _ = ask(page, "Does markup stay inert in the hostile markup test?")
    assert "bold trap" in text and "frame trap" in text
    page.eval_on_selector_all("#sources details", "els => els.forEach(e => { e.open = true })")
    page.locator("#sources").get_by_text("bold trap").first.hover()
    inert = page.locator("#sources").inner_text()
    assert '<b onmouseover="window.__pwned = 3">bold trap</b>' in inert
    assert '<iframe src="javascript:window.__pwned=4"></iframe>' in inert
    ask(page, "How tractable is the hostile markup test?")
    page.eval_on_selector_all("#sources details", "els => els.forEach(e => { e.open = true })")
    sources = page.locator("#sources").inner_text()
    assert "<script>window.__pwned = 1</script>" in sources
    assert '<img src=x onerror="window.__pwned = 2">' in sources
    assert page.evaluate("() => window.__pwned") is None
    assert dialogs == []
    assert page.locator("#sources script, #sources img, #sources iframe, #chat iframe").count() == 0


def test_two_browser_sessions_keep_separate_histories(browser: Any, server: str):
    contexts = [browser.new_context() for _ in range(2)]
    pages = []
    for context in contexts:
        p = context.new_page()
        p.goto(server, wait_until="load")
        p.wait_for_selector("#question textarea")
        pages.append(p)
    a, b = pages
    ask(a, "is US-China cooperation possible?")
    ask(b, "are watermarks robust against attackers?")
    follow_a, _ = ask(a, "who should work on it?")
    follow_b, _ = ask(b, "who should work on it?")
    assert "International Coordination" in follow_a and "Content Provenance" not in follow_a
    assert "Content Provenance" in follow_b and "International Coordination" not in follow_b
    assert "watermarks" not in a.locator("#chat").inner_text()
    assert "US-China" not in b.locator("#chat").inner_text().split("who should work")[0]
    for context in contexts:
        context.close()


def test_new_chat_forgets_the_conversation(page: Any):
    ask(page, "is US-China cooperation possible?")
    page.click("#new-chat")
    page.wait_for_function("() => document.querySelectorAll('#chat [data-testid=\"bot\"]').length === 0")
    text, _ = ask(page, "who should work on it?")
    assert "Which approach do you mean?" in text and "[1]" not in text


def test_the_chat_is_callable_with_gradio_client(server: str):
    from gradio_client import Client

    client = Client(server, verbose=False)
    reply = client.predict("is US-China cooperation possible?", api_name="/chat")
    assert "[1]" in reply and "Sources:" in reply
    assert "[1] International Coordination › Crux 1: Is US-China Cooperation Possible?" in reply
    follow = client.predict("who should work on it?", api_name="/chat")
    assert "International Coordination › Who Should Work on This?" in follow
    data = client.predict("is US-China cooperation possible?", api_name="/ask")
    assert data["citations"][0]["section"] == "Crux 1: Is US-China Cooperation Possible?"


def test_the_filter_limits_the_search_to_chosen_approaches(page: Any):
    box = page.locator("#scope input")
    box.click()
    box.fill("AI Control")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    text, _ = ask(page, "what are the key techniques and their limitations?")
    cards = page.locator("#sources summary").all_inner_texts()
    assert cards and all("AI Control ›" in card for card in cards if card.startswith("["))
    text, _ = ask(page, "is US-China cooperation possible?")
    assert "International Coordination" not in page.locator("#sources").inner_text()
