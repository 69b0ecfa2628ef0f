"""The chat UI in a real browser: Debian's Chromium driven by Playwright against the real server."""

from __future__ import annotations

import json
import re
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


def test_a_grounded_answer_shows_at_once_with_markers_and_its_card_shows_the_whole_crux_table(page: Any):
    """Issue 13, defect 14: no artificial pauses — the page goes from "…" to the whole answer."""
    text, lengths = ask(page, "is US-China cooperation possible?", watch=True)
    assert set(n for n in lengths if n > 2) == {len(text)}, f"the answer was revealed piece by piece: {lengths}"
    assert "[1]" in text and "Mutual interest in avoiding catastrophe" in text
    link = page.locator('#chat a[href="#source-1-1"]').first
    assert link.inner_text() == "[1]"
    card = page.locator("#source-1-2")
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
    assert md.value.suggested_filename.startswith("approach-bot-")
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
    assert "do you mean?" in text and "[1]" not in text


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


# --- issue 13: the chat as people use it ---------------------------------------------------


def ask_and_wait(page: Any, question: str) -> str:
    """Ask with Enter and wait for a finished answer (not the "…" placeholder)."""
    before = len(bot_messages(page))
    page.fill("#question textarea", question)
    page.press("#question textarea", "Enter")
    page.wait_for_function(
        """n => { const m = document.querySelectorAll('#chat [data-testid="bot"]');
                  return m.length > n && m[m.length - 1].innerText.trim() !== '…'; }""",
        arg=before,
    )
    page.wait_for_timeout(150)
    return bot_messages(page)[-1]


def in_view(page: Any, selector: str) -> bool:
    return page.evaluate(
        """s => { const r = document.querySelector(s).getBoundingClientRect();
                  return r.top >= 0 && r.bottom <= window.innerHeight && r.height > 0; }""",
        selector,
    )


def test_markers_of_an_older_answer_lead_to_its_own_sources(page: Any):
    """Defect 1: [1] in the first answer opens the first answer's source 1, not the newest answer's."""
    ask_and_wait(page, "is US-China cooperation possible?")
    ask_and_wait(page, "who should work on AI control?")
    first = page.locator('#chat [data-testid="bot"]').nth(0).locator("a", has_text="[1]").first
    first.click()
    page.wait_for_timeout(300)
    card = page.locator("#source-1-1")
    assert "International Coordination › Crux 1" in card.locator("summary").inner_text()
    assert card.get_attribute("open") is not None and in_view(page, "#source-1-1")
    second = page.locator('#chat [data-testid="bot"]').nth(1).locator("a", has_text="[1]").first
    second.click()
    page.wait_for_timeout(300)
    assert "AI Control ›" in page.locator("#source-2-1 summary").inner_text()
    assert in_view(page, "#source-2-1")


def test_clicking_a_marker_opens_its_card_and_flashes_the_cited_row(page: Any):
    """Defect 2: the card opens (it starts closed), scrolls into view, and its cited row flashes."""
    ask_and_wait(page, "is US-China cooperation possible?")
    card = page.locator("#source-1-3")
    assert card.get_attribute("open") is None
    page.locator('#chat a[href="#source-1-3"]').first.click()
    page.wait_for_timeout(200)
    assert card.get_attribute("open") is not None
    assert in_view(page, "#source-1-3 tr.cited")
    assert "flash" in (card.locator("tr.cited").get_attribute("class") or "")
    assert page.url.endswith("/")  # handled in the page, not a jump to a stale #fragment


def test_how_this_was_searched_shows_the_query_of_a_topic_switch(page: Any, tmp_path: Path):
    """Defect 3 (library): after a topic switch the standalone query is the new question."""
    ask_and_wait(page, "is US-China cooperation possible?")
    text = ask_and_wait(page, "who should work on AI control?")
    assert "AI Control" in text and "US-China" not in text
    details = page.locator("#turn-2 .search-details")
    if details.count():  # shown only when the search differs from the question as typed
        details.locator("summary").click()
        assert "US-China" not in details.inner_text()
    exported = page.locator("#turn-2").inner_text()
    assert "US-China" not in exported


def choose_filter(page: Any, title: str) -> None:
    box = page.locator("#scope input")
    box.click()
    box.fill(title)
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")


def test_an_answer_the_filter_excludes_says_so(page: Any):
    """Defect 4 (UI side): an abstention under a filter names the filter."""
    choose_filter(page, "AI Control")
    text = ask_and_wait(page, "is US-China cooperation possible?")
    assert "Searched only in AI Control (the filter)" in text
    assert "Filter: AI Control" in page.locator("#sources").inner_text()


def test_the_filter_is_the_topic_of_a_question_without_one(page: Any):
    """Defect 4 (library): with the filter on AI Control, "who should work on it?" is about AI Control."""
    choose_filter(page, "AI Control")
    text = ask_and_wait(page, "who should work on it?")
    assert "do you mean?" not in text and "AI Control" in text


def toasts(page: Any) -> list[str]:
    return page.eval_on_selector_all(".toast-body", "els => els.map(e => e.innerText)")


def test_empty_submissions_post_nothing_and_warn_nothing(page: Any):
    """Defect 5: Enter in an empty box, the map button with no cell, a fresh page: no bubble, no toast."""
    page.wait_for_timeout(800)
    assert toasts(page) == []
    page.press("#question textarea", "Enter")
    page.click("#ask")
    page.wait_for_timeout(800)
    assert page.locator('#chat [data-testid="user"], #chat [data-testid="bot"]').count() == 0
    page.get_by_role("tab", name="Approach map").click()
    assert page.locator("#ask-cell").is_disabled()
    page.get_by_role("tab", name="Chat").click()
    assert page.locator("#export-md").is_disabled() and page.locator("#export-json").is_disabled()
    assert toasts(page) == []


@pytest.fixture
def slow_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Answers take a second, as a language model's would (the server runs in this process)."""
    from bot.chat import ChatSession

    stream = ChatSession.stream

    def slow(self: Any, *args: Any, **kwargs: Any) -> Any:
        import time

        time.sleep(1.0)
        yield from stream(self, *args, **kwargs)

    monkeypatch.setattr(ChatSession, "stream", slow)


def test_typing_during_an_answer_is_kept_and_a_second_question_waits_its_turn(page: Any, slow_answers: None):
    """Defect 6: text typed while an answer is written stays; Enter during an answer queues it."""
    page.fill("#question textarea", "is US-China cooperation possible?")
    page.press("#question textarea", "Enter")
    page.wait_for_selector('#chat [data-testid="user"]')
    page.type("#question textarea", "who should work on it?")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#chat [data-testid=\"bot\"]')].some(m => m.innerText.includes('[1]'))"
    )
    page.wait_for_timeout(500)
    assert page.input_value("#question textarea") == "who should work on it?"
    page.press("#question textarea", "Enter")
    page.wait_for_function("() => document.querySelectorAll('#chat [data-testid=\"user\"]').length === 2")
    page.type("#question textarea", "and is it neglected?")
    page.press("#question textarea", "Enter")  # while the second answer is still being written
    page.wait_for_function(
        "() => document.querySelectorAll('#chat [data-testid=\"user\"]').length === 3", timeout=15000
    )
    page.wait_for_function(
        """() => { const m = [...document.querySelectorAll('#chat [data-testid="bot"]')];
                   return m.length === 3 && m.every(e => e.innerText.trim() !== '…'); }""",
        timeout=15000,
    )
    users = page.eval_on_selector_all('#chat [data-testid="user"]', "els => els.map(e => e.innerText.trim())")
    assert users == ["is US-China cooperation possible?", "who should work on it?", "and is it neglected?"]


def test_the_chats_trash_icon_is_a_new_chat(page: Any):
    """Defect 7: the Chatbot's own clear button forgets the conversation, its sources and exports."""
    ask_and_wait(page, "is US-China cooperation possible?")
    page.wait_for_function("() => !document.querySelector('#export-md').disabled")
    page.locator("#chat").get_by_role("button", name="Clear").click()
    page.wait_for_function("() => document.querySelectorAll('#chat [data-testid=\"bot\"]').length === 0")
    page.wait_for_timeout(300)
    assert page.locator("#sources").inner_text().strip() == ""
    assert page.locator("#export-md").is_disabled()
    text = ask_and_wait(page, "who should work on it?")
    assert "do you mean?" in text


def test_a_question_is_shown_as_typed_and_its_html_does_nothing(page: Any, server: str):
    """Defect 8: HTML typed into a question shows as text; no image, no request to /x."""
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    question = "<img src=x> <script>window.__typed = 1</script> *is* US-China cooperation possible?"
    ask_and_wait(page, question)
    shown = page.locator('#chat [data-testid="user"]').first.inner_text().strip()
    assert shown == question
    assert page.locator("#chat img, #chat script").count() == 0
    assert not any(url.rstrip("/").endswith("/x") for url in requests)
    assert page.evaluate("() => window.__typed") is None


def test_every_statement_of_an_answer_is_cited(page: Any):
    """Defect 9 (fixed in bot/answer.py): every list item holds a marker, or its list follows a cited lead-in."""
    ask_and_wait(page, "why is international coordination hard?")
    uncited = page.evaluate(
        """() => { const m = [...document.querySelectorAll('#chat [data-testid="bot"]')].pop();
          const cited = el => !!(el && el.querySelector('a[href^="#source-"]'));
          return [...m.querySelectorAll('li')].filter(li => !cited(li) &&
            !(li.parentElement.previousElementSibling && cited(li.parentElement.previousElementSibling) &&
              li.parentElement.previousElementSibling.innerText.trim().endsWith(']'))).map(li => li.innerText); }"""
    )
    assert uncited == []


def test_examples_come_from_the_corpus_and_one_click_asks(page: Any, ui_index: Path):
    """Defect 10: every example is answered from the index; clicking one asks it at once."""
    from bot import ChatSession

    examples = page.eval_on_selector_all("#chat button.example", "els => els.map(e => e.innerText.trim())")
    assert len(examples) >= 3
    for question in examples:
        answer = ChatSession(ui_index).ask(question)
        assert not answer.abstained and answer.citations, question
    page.locator("#chat button.example").first.click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('#chat [data-testid=\"bot\"]')].some(m => m.innerText.includes('[1]'))"
    )
    assert page.locator('#chat [data-testid="user"]').first.inner_text().strip() == examples[0]


def test_the_markdown_export_is_tidy(page: Any):
    """Defect 11: one heading per citation, passages quoted whole, the filter recorded, a dated name."""
    choose_filter(page, "Guaranteed Safe AI")
    ask_and_wait(page, "who should work on guaranteed safe AI?")
    page.wait_for_function("() => !document.querySelector('#export-md').disabled")
    with page.expect_download() as md:
        page.click("#export-md")
    assert re.fullmatch(r"approach-bot-\d{4}-\d\d-\d\d-\d{4}\.md", md.value.suggested_filename)
    text = Path(md.value.path()).read_text("utf-8")
    assert "*Filter: Guaranteed Safe AI*" in text
    lines = text.splitlines()
    citations = [line for line in lines if line.startswith("- **[")]
    assert citations and all(line.count("Guaranteed Safe AI ›") == 1 for line in citations)
    first = lines.index(citations[0])
    after = lines[first + 1 : first + 4]
    assert after and all(line.startswith("  > ") for line in after), after


def test_the_api_sources_name_each_heading_once(server: str):
    """Defect 11: `/chat`'s Sources lines do not repeat "Title › Section"."""
    from gradio_client import Client

    reply = Client(server, verbose=False).predict("is US-China cooperation possible?", api_name="/chat")
    sources = reply.split("Sources:", 1)[1].strip().splitlines()
    assert sources and all(line.count("International Coordination ›") == 1 for line in sources)


@pytest.fixture
def phone(browser: Any, server: str) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(server, wait_until="load")
    page.wait_for_selector("#question textarea")
    yield page
    context.close()


def first_line_is_uncovered(page: Any) -> bool:
    return page.evaluate(
        """() => { const m = document.querySelector('#chat [data-testid="user"]');
          const r = m.getBoundingClientRect(); const el = document.elementFromPoint(r.left + r.width / 2, r.top + 8);
          return !!el && m.contains(el); }"""
    )


def test_the_phone_layout_shows_the_whole_map_sources_near_the_answer_and_an_uncovered_chat(phone: Any):
    """Defect 12 at 390×844 (and the covered first line on desktop too, in the next test)."""
    ask_and_wait(phone, "is US-China cooperation possible?")
    phone.evaluate("() => { document.querySelector('#chat [role=\"log\"]').scrollTop = 0; }")
    assert first_line_is_uncovered(phone)
    top = phone.evaluate("() => document.querySelector('#sources').getBoundingClientRect().top + window.scrollY")
    assert top < 1000, f"the sources start {top:.0f} px down"
    phone.get_by_role("tab", name="Approach map").click()
    phone.locator("#approach-map").wait_for()
    phone.wait_for_timeout(300)
    right = phone.evaluate(
        "() => Math.max(...[...document.querySelectorAll('#approach-map th')].map(th => th.getBoundingClientRect().right))"
    )
    assert right <= 390, f"the map's columns reach {right:.0f} px on a 390 px screen"


def test_no_label_floats_over_the_chat_log_on_desktop(page: Any):
    """Defect 12: the "Conversation" label floated over the log, covering the lines scrolled under it."""
    ask_and_wait(page, "is US-China cooperation possible?")
    over = page.evaluate(
        """() => { const log = document.querySelector('#chat [role="log"]').getBoundingClientRect();
          const hit = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
          return [...document.querySelectorAll('#chat [data-testid="block-label"]')]
            .filter(l => l.offsetParent !== null && hit(l.getBoundingClientRect(), log)).map(l => l.innerText); }"""
    )
    assert over == []


def test_the_screenshot_script_answers_help_without_running():
    """Defect 13: `scripts/screenshot.py --help` prints its usage and exits."""
    import subprocess
    import sys

    script = Path(__file__).resolve().parent.parent / "scripts" / "screenshot.py"
    done = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-500:]
    assert "usage" in done.stdout.lower() and "Traceback" not in done.stderr


# --- issue 15: beacons, LaTeX, bidi overrides, big tables, raw HTML in exports --------------

BEACON = "http://beacon.invalid"


def _hostile_pages(corpus: Path, rows: int) -> None:
    (corpus / "beacon.md").write_text(
        f"""---
title: "![t]({BEACON}/title.png) Beacon Watch"
description: A page whose title and notes hold markdown images.
---

**The approach**: Watch for beacons.

## Evaluation Summary

| Dimension | Assessment | Notes |
|-----------|------------|-------|
| Tractability | Medium | ![n]({BEACON}/note.png) noted ![j](javascript:window.__pwned=5) |
| If alignment hard | Low | plain |
| If alignment easy | Low | plain |
| Neglectedness | High | plain |

## Crux 1: Do Beacons Fire?

| Fire | Stay quiet |
|------|------------|
| ![c]({BEACON}/crux.png) image cell | plain cell |
""",
        "utf-8",
    )
    (corpus / "mirror.md").write_text(
        """---
title: "Mirror \u202eTset\u202c Approach"
description: A page with a bidirectional override and LaTeX.
---

**The approach**: Mirror writing $$\\frac{a}{b}$$ in formula form.

## Why Mirror Matters

Mirrors reflect the formula $$x^2 + y^2$$ and the evil\u202etxet\u202c word.
""",
        "utf-8",
    )
    lines = "\n".join(f"| Incident {i} in the ledger | Lesson number {i} of the ledger |" for i in range(rows))
    (corpus / "ledger.md").write_text(
        f"""---
title: Incident Ledger
description: A page with one very long table.
---

**The approach**: Keep a ledger of incidents.

## Incident Log

| Incident | Lesson |
|----------|--------|
{lines}
""",
        "utf-8",
    )


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Pages built to attack the reader: beacons, overrides, LaTeX, a 1,500-row table."""
    from bot import build_index

    root = tmp_path_factory.mktemp("hostile")
    corpus = root / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS / "international-coordination.md", corpus)
    (corpus / "bot.yaml").write_text("site: https://docs.example.org/\n", "utf-8")
    _hostile_pages(corpus, rows=1500)
    build_index(corpus, root / "index")
    yield from serving(root / "index")


@pytest.fixture
def hostile(browser: Any, hostile_server: str) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.outside = []
    page.on("request", lambda r: page.outside.append(r.url) if not r.url.startswith(hostile_server) else None)
    page.goto(hostile_server, wait_until="load")
    page.wait_for_selector("#question textarea")
    yield page
    context.close()


def test_markdown_images_in_documents_fetch_nothing(hostile: Any):
    """Issue 15 point 3: titles and notes with images reach neither the chat nor the map as images."""
    ask_and_wait(hostile, "who should work on it?")  # a clarifying question may list titles
    ask_and_wait(hostile, "what approaches do you cover?")  # a catalog answer does
    ask_and_wait(hostile, "do beacons fire?")
    assert "Beacon Watch" in hostile.locator("#chat").inner_text()
    hostile.get_by_role("tab", name="Approach map").click()
    hostile.locator("#approach-map").wait_for()
    name = hostile.locator('#approach-map [data-testid^="cell-"]', has_text="Beacon Watch").first
    row = (name.get_attribute("data-testid") or "").split("-")[1]
    hostile.locator(f'#approach-map [data-testid="cell-{row}-1"]').click()
    hostile.wait_for_function("() => document.querySelector('#cell-details').innerText.includes('Source:')")
    hostile.wait_for_timeout(500)
    assert "noted" in hostile.locator("#cell-details").inner_text()
    assert hostile.locator("#chat img, #sources img, #cell-details img").count() == 0
    assert hostile.evaluate("() => window.__pwned") is None
    assert [url for url in hostile.outside if "beacon" in url] == []


def test_latex_and_bidi_overrides_in_documents_are_inert(hostile: Any):
    """Issue 15, smaller: $$…$$ is not rendered by KaTeX; U+202E never reaches the page."""
    ask_and_wait(hostile, "why does mirror writing matter?")
    hostile.eval_on_selector_all("#sources details", "els => els.forEach(e => { e.open = true })")
    assert "Mirror" in hostile.locator("#chat").inner_text()
    assert hostile.locator(".katex").count() == 0
    assert "x^2" in hostile.locator("#chat").inner_text() + hostile.locator("#sources").inner_text()
    shown = hostile.evaluate("() => document.body.innerText")
    assert "\u202e" not in shown and "\u202c" not in shown


def test_a_huge_table_sends_a_window_of_rows(hostile: Any):
    """Issue 15, smaller: citing a 1,500-row table sends tens of kB of sources, not megabytes."""
    ask_and_wait(hostile, "what lessons does the incident ledger log?")
    size = hostile.evaluate("() => document.querySelector('#sources').innerHTML.length")
    assert "Incident Ledger" in hostile.locator("#sources").inner_text()
    assert size < 50_000, f"{size:,} characters of sources"
    assert "rows above" in hostile.locator("#sources").inner_text() or "rows below" in hostile.locator("#sources").inner_text()


def test_the_markdown_export_holds_no_raw_html(page: Any):
    """Issue 15, smaller: document HTML is escaped in the exported Markdown."""
    ask_and_wait(page, "Does markup stay inert in the hostile markup test?")
    page.wait_for_function("() => !document.querySelector('#export-md').disabled")
    with page.expect_download() as md:
        page.click("#export-md")
    text = Path(md.value.path()).read_text("utf-8")
    assert "bold trap" in text
    assert not re.search(r"(?<!\\)<(script|img|iframe|b\b)", text), text


# --- issue 13: the habits of the chat UIs people like ---------------------------------------


def test_the_conversation_survives_a_reload(page: Any):
    ask_and_wait(page, "is US-China cooperation possible?")
    ask_and_wait(page, "who should work on AI control?")
    page.wait_for_timeout(500)
    page.reload(wait_until="load")
    page.wait_for_function("() => document.querySelectorAll('#chat [data-testid=\"bot\"]').length === 2")
    assert "Q2: who should work on AI control?" in page.locator("#sources").inner_text()
    assert not page.locator("#export-md").is_disabled()
    text = ask_and_wait(page, "and is it neglected?")  # the follow-up still knows the topic
    assert "AI Control" in text


def test_past_conversations_can_be_reopened_and_deleted(page: Any):
    ask_and_wait(page, "is US-China cooperation possible?")
    page.click("#new-chat")
    page.wait_for_function("() => document.querySelectorAll('#chat [data-testid=\"bot\"]').length === 0")
    ask_and_wait(page, "who should work on AI control?")
    page.wait_for_timeout(500)
    page.locator("#past").get_by_text("Past conversations").click()
    page.click("#past-list input")
    page.get_by_role("option", name=re.compile("is US-China cooperation possible")).click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('#chat [data-testid=\"user\"]')].some(m => m.innerText.includes('US-China'))"
    )
    assert "Q1: is US-China cooperation possible?" in page.locator("#sources").inner_text()
    text = ask_and_wait(page, "who should work on it?")  # the reopened conversation keeps its topic
    assert "International Coordination" in text
    page.click("#delete-chat")
    page.wait_for_function("() => document.querySelectorAll('#chat [data-testid=\"bot\"]').length === 0")
    page.wait_for_timeout(500)
    page.click("#past-list input")
    options = page.get_by_role("option").all_inner_texts()
    assert len(options) == 1 and "who should work on AI control?" in options[0]
    page.keyboard.press("Escape")
    page.reload(wait_until="load")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#chat [data-testid=\"user\"]')].some(m => m.innerText.includes('AI control'))"
    )


def test_regenerate_and_edit_the_last_question(page: Any):
    ask_and_wait(page, "is US-China cooperation possible?")
    page.locator("#chat").get_by_role("button", name="Retry").click()
    page.wait_for_timeout(1000)
    assert page.locator('#chat [data-testid="user"]').count() == 1
    assert len(bot_messages(page)) == 1 and "[1]" in bot_messages(page)[0]
    assert "Q2" not in page.locator("#sources").inner_text()
    page.locator("#chat").get_by_role("button", name="Edit").first.click()
    page.fill("#chat textarea.edit-textarea", "who should work on AI control?")
    page.locator("#chat").get_by_role("button", name="Submit").click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('#chat [data-testid=\"bot\"]')].some(m => m.innerText.includes('AI Control'))"
    )
    assert page.eval_on_selector_all('#chat [data-testid="user"]', "els => els.map(e => e.innerText.trim())") == [
        "who should work on AI control?"
    ]
    sources = page.locator("#sources").inner_text()
    assert "Q1: who should work on AI control?" in sources and "Q2" not in sources


def test_stop_drops_the_answer_being_written(page: Any, slow_answers: None):
    page.fill("#question textarea", "is US-China cooperation possible?")
    page.press("#question textarea", "Enter")
    page.wait_for_selector('#chat [data-testid="user"]')
    page.click("#stop")
    page.wait_for_timeout(2000)
    assert bot_messages(page)[-1].strip() == "Stopped."
    text = ask_and_wait(page, "who should work on it?")  # the stopped question left no topic behind
    assert "do you mean?" in text


def test_a_long_answer_is_shown_from_its_start(phone: Any):
    """On a phone an answer is taller than the chat: the chat shows its question and first lines, not its end."""
    page = phone
    ask_and_wait(page, "is US-China cooperation possible?")
    ask_and_wait(page, "who should work on AI control?")
    page.wait_for_timeout(300)
    state = page.evaluate(
        """() => { const log = document.querySelector('#chat [role="log"]').getBoundingClientRect();
          const users = document.querySelectorAll('#chat [data-testid="user"]');
          const bots = document.querySelectorAll('#chat [data-testid="bot"]');
          const q = users[users.length - 1].getBoundingClientRect(), a = bots[bots.length - 1].getBoundingClientRect();
          return {answer: a.height, log: log.height, question: q.top - log.top}; }"""
    )
    assert state["answer"] > state["log"] * 0.8, state  # a long answer, the case that matters
    assert 0 <= state["question"] < 60, state


def test_a_marker_previews_its_passage_and_cards_say_how_relevant_they_are(page: Any):
    ask_and_wait(page, "is US-China cooperation possible?")
    page.locator('#chat a[href="#source-1-2"]').first.hover()
    preview = page.locator("#source-preview")
    preview.wait_for()
    assert "Technical cooperation precedent" in preview.inner_text()
    cards = page.locator("#sources .source-card summary").all_inner_texts()
    assert cards and all(re.search(r"best match|good match|related", card) for card in cards)
    assert "score 0." not in page.locator("#sources").inner_text()
    assert len(set(cards)) == len(cards)  # each card's title tells it apart


def test_the_api_takes_a_scope_and_starts_new_conversations(server: str):
    from gradio_client import Client

    client = Client(server, verbose=False)
    info = client.view_api(print_info=False, return_format="dict")
    assert sorted(info["named_endpoints"]) == ["/ask", "/chat", "/new_chat"] and not info["unnamed_endpoints"]
    scoped = client.predict("is US-China cooperation possible?", ["AI Control"], api_name="/chat")
    assert "International Coordination ›" not in scoped.split("Sources:")[-1]
    data = client.predict("what are the key techniques?", ["ai-control"], api_name="/ask")
    assert data["citations"] and all(c["doc_id"] == "ai-control" for c in data["citations"])
    client.predict("is US-China cooperation possible?", api_name="/chat")
    client.predict(api_name="/new_chat")
    assert "do you mean?" in client.predict("who should work on it?", api_name="/chat")


def test_a_source_card_links_to_its_page_on_the_corpus_site(hostile: Any):
    """Habit: the card opens the source page (its site URL from the corpus profile), in a new tab."""
    ask_and_wait(hostile, "is US-China cooperation possible?")
    link = hostile.locator("#source-1-1 a.source-link")
    assert link.get_attribute("href") == "https://docs.example.org/international-coordination/"
    assert link.get_attribute("target") == "_blank" and "noopener" in (link.get_attribute("rel") or "")
    assert hostile.outside == []


def test_an_over_long_question_is_cut_before_it_is_stored_or_echoed(server: str):
    from gradio_client import Client

    from bot.ui import MAX_MESSAGE_CHARS

    client = Client(server, verbose=False)
    data = client.predict("is US-China cooperation possible? " + "very " * 200_000, api_name="/ask")
    assert len(data["question"]) <= MAX_MESSAGE_CHARS
    assert data["notice"]  # the library still says it searched only the beginning


def test_a_language_models_answer_streams_as_it_is_written(page: Any, monkeypatch: pytest.MonkeyPatch):
    """Defect 14's other half: what a language model is still writing is shown as it comes."""
    import time

    from bot.llm import LLMComposer
    from tests.llm_double import FakeOpenAIServer

    stream = LLMComposer.stream

    def paced(self: Any, grounded: Any) -> Any:
        for partial, answer in stream(self, grounded):
            if answer is None:
                time.sleep(0.08)  # a model writes at its own pace
            yield partial, answer

    monkeypatch.setattr(LLMComposer, "stream", paced)
    reply = "Cooperation is possible because both sides fear catastrophe [1] though many doubt it [2] today."
    with FakeOpenAIServer(reply) as double:
        monkeypatch.setenv("BOT_LLM", "openai:test-double")
        monkeypatch.setenv("OPENAI_BASE_URL", double.url)
        monkeypatch.setenv("OPENAI_API_KEY", "test")
        text, lengths = ask(page, "is US-China cooperation possible?", watch=True)
    growing = sorted(set(n for n in lengths if n > 2))
    assert len(growing) >= 3, f"the model's answer did not stream: {lengths}"
    assert "fear catastrophe [1]" in text
    assert page.locator('#chat a[href="#source-1-1"]').count() >= 1
