"""The chat UI's renderers — answers, source cards, the Markdown and JSON exports, the
approach map — on made-up answers (fast tier: no model, no store, no browser)."""

from __future__ import annotations

import json

from bot.answer import Answer, Citation
from bot.chat import Turn
from bot.markdown import Table, parse_document
from bot.matrix import build_matrix
from bot.profile import Profile
from bot.ui import (
    CARD_ROWS,
    _cell_details,
    api_text,
    chat_message,
    export_json,
    export_markdown,
    link_markers,
    map_rows,
    md_text,
    render_answer_sources,
    safe_markdown,
)

CRUX = Table(
    "widgets-crux-1",
    "Crux 1: Is it <feasible>?",
    ("Feasible", "Not feasible"),
    tuple((f"yes {i}", f"no {i}") for i in range(40)),
    "crux",
)


def row_citation(n: int = 1, row: int = 20, score: float = 0.9, url: str = "") -> Citation:
    cells = CRUX.rows[row]
    return Citation(
        n, "widgets", "Widget <Safety>", CRUX.section,
        f"Widget <Safety> › {CRUX.section} — Feasible: {cells[0]} | Not feasible: {cells[1]}",
        score, f"widgets-{row}", "row", CRUX, row, url=url,
    )  # fmt: skip


def passage_citation(n: int = 2, score: float = 0.3, url: str = "") -> Citation:
    text = "Gadget Oversight › Overview — - Watching gadgets\n<img src=x onerror=alert(1)>\n1. deploy"
    return Citation(n, "gadgets", "Gadget Oversight", "Overview", text, score, "gadgets-0", url=url)


def answered(**changes: object) -> Answer:
    fields: dict[str, object] = {
        "question": "is it <b>feasible</b>?",
        "text": "**Yes** [1], see ![beacon](http://evil.example/x.png), [click](javascript:alert(1)), <script>x</script> [2]",
        "citations": [row_citation(), passage_citation()],
        "query": "is widget safety feasible?",
    }
    fields.update(changes)
    return Answer(**fields)  # type: ignore[arg-type]


ABSTAINED = Answer("what about cheese?", "The approach documents do not cover it.", [], abstained=True)


def test_markers_link_to_this_answers_own_cards():
    message = chat_message(answered(), turn=3)
    assert "[[1]](#source-3-1)" in message and "[[2]](#source-3-2)" in message
    assert link_markers(r"escaped \[1] stays, [12] links", 2) == r"escaped \[1] stays, [[12]](#source-2-12) links"


def test_an_answer_shows_no_html_image_or_script_link():
    message = chat_message(answered(notice="Fell back <b>now</b>"))
    assert "<script>" not in message and "&lt;script>" in message
    assert "\\![beacon]" in message  # an image becomes text: no request leaves the page
    assert "[click\\](javascript:" in message  # a link to anything but a web page is not a link
    assert message.endswith("*Fell back \\<b\\>now\\</b\\>*")
    assert safe_markdown("[page](https://example.org/) \u202eevil") == "[page](https://example.org/) evil"


def test_an_abstention_in_a_filter_says_how_to_search_everything():
    message = chat_message(ABSTAINED, 1, ("Widget <Safety>",))
    assert message.splitlines()[0] == "The approach documents do not cover it."
    assert "*Searched only in Widget \\<Safety\\> (the filter): clear it to search every approach.*" in message
    assert "No source: the approach documents do not answer this." in render_answer_sources(ABSTAINED, 1)


def test_source_cards_carry_ids_the_first_opened_and_the_cited_row_marked():
    html = render_answer_sources(answered(), turn=2, scope_titles=("Widget <Safety>",))
    assert html.count('class="source-card"') == 2
    assert '<details class="source-card" id="source-2-1" open>' in html and 'id="source-2-2">' in html
    assert "Standalone query: is widget safety feasible?" in html
    assert "Filter: Widget &lt;Safety&gt;" in html
    assert "<b>[1]</b> Widget &lt;Safety&gt; › Crux 1: Is it &lt;feasible&gt;? — yes 20" in html
    assert html.count("<tr class=cited>") == 1 and "<tr class=cited><td>yes 20</td><td>no 20</td></tr>" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "<img" not in html


def test_a_long_table_shows_the_rows_around_the_cited_one():
    html = render_answer_sources(answered(citations=[row_citation(row=20)]), 1)
    assert html.count("<tr><td>") + html.count("<tr class=cited>") == CARD_ROWS
    assert "Not shown: 13 rows above and 12 rows below." in html
    first = render_answer_sources(answered(citations=[row_citation(row=0)]), 1)
    assert "<tr class=cited><td>yes 0</td>" in first and "Not shown: 25 rows below." in first


def test_a_card_links_to_a_web_page_only():
    web = render_answer_sources(answered(citations=[passage_citation(n=1, url="https://docs.example.org/gadgets/")]), 1)
    assert 'href="https://docs.example.org/gadgets/"' in web and 'rel="noopener noreferrer nofollow"' in web
    script = render_answer_sources(answered(citations=[row_citation(url="javascript:alert(1)")]), 1)
    assert "javascript:" not in script and '<div class="source-file">widgets.md</div>' in script
    site = render_answer_sources(answered(citations=[row_citation()]), 1, url_of=lambda d: f"https://x.example/{d}/")
    assert 'href="https://x.example/widgets/"' in site


def test_relevance_is_said_in_words():
    cards = render_answer_sources(answered(citations=[row_citation(1, score=1.0), row_citation(2, 5, 0.6), passage_citation(3, 0.2)]), 1)
    labels = [part.split("</span>")[0] for part in cards.split('<span class="source-score">')[1:]]
    assert labels == ["best match", "good match", "related"]


def test_the_api_text_is_the_answer_then_its_sources():
    lines = api_text(answered(notice="A notice")).splitlines()
    assert lines[0].startswith("**Yes** [1], see") and lines[1] == "(A notice)"
    assert lines[2:5] == [
        "",
        "Sources:",
        "[1] Widget <Safety> › Crux 1: Is it <feasible>?: Feasible: yes 20 | Not feasible: no 20",
    ]
    assert lines[5] == "[2] Gadget Oversight › Overview: - Watching gadgets <img src=x onerror=alert(1)> 1. deploy"


def test_the_markdown_export_gives_each_answer_its_citations_and_keeps_text_inert():
    history = [Turn("# is it <b>feasible</b>?", answered()), Turn("what about cheese?", ABSTAINED)]
    out = export_markdown(history, [("Widget Safety",)]).splitlines()
    assert out[:5] == ["# approach-bot conversation", "", "## Q: \\# is it \\<b\\>feasible\\</b\\>?", "", "*Filter: Widget Safety*"]
    answer = out.index("*Searched as: is widget safety feasible?*")
    assert "&lt;script>" in out[answer - 2] and "\\![beacon]" in out[answer - 2]
    cited = out[answer + 2 : answer + 8]
    assert cited == [
        "- **[1] Widget \\<Safety\\> › Crux 1: Is it \\<feasible\\>?** (best match)",
        "  > Feasible: yes 20 \\| Not feasible: no 20",
        "- **[2] Gadget Oversight › Overview** (related)",
        "  > \\- Watching gadgets",  # a passage's list or HTML is shown as text, inside the quote
        "  > \\<img src=x onerror=alert(1)\\>",
        "  > 1\\. deploy",
    ]
    second = out.index("## Q: what about cheese?")
    assert out[second + 2] == "The approach documents do not cover it." and "Filter" not in "".join(out[second:])


def test_the_json_export_holds_each_question_its_filter_and_the_whole_answer():
    data = json.loads(export_json([Turn("q1", answered()), Turn("q2", ABSTAINED)], [("Widget Safety",)]))
    first, second = data["conversation"]
    assert (first["question"], first["filter"], second["filter"]) == ("q1", ["Widget Safety"], [])
    assert first["answer"]["citations"][0]["table"]["rows"][20] == ["yes 20", "no 20"]
    assert second["answer"]["abstained"] is True and second["answer"]["citations"] == []


SUMMARY = """---
title: Widget <Safety>
---

## Evaluation Summary

| Dimension | Assessment | Notes |
|-----------|------------|-------|
| Cost | Low | Costs < 1% of revenue |
| Speed | High | |
"""


def test_the_map_has_the_profiles_dimensions_as_columns_and_a_cell_its_note_and_source():
    profile = Profile.from_json({"rating_dimensions": [{"name": "Cost", "asked": ["cost"]}, {"name": "Speed"}]})
    doc = parse_document(SUMMARY.encode(), "widgets")
    matrix = build_matrix(doc.chunks, {"widgets": doc.title}, profile)
    headers, rows = map_rows(matrix)
    assert headers == ["Approach", "Cost", "Speed"] and rows == [["Widget <Safety>", "Low", "High"]]
    text, target = _cell_details(matrix, 0, 1)
    assert target == ("Widget <Safety>", "Cost")
    assert text.startswith("**Widget \\<Safety\\>** — *Cost*: **Low** — Costs \\< 1% of revenue")
    assert text.endswith("Source: Widget \\<Safety\\> › Evaluation Summary (widgets.md)")
    assert _cell_details(matrix, 0, 3)[1] is None and _cell_details(matrix, 1, 1)[1] is None
    assert md_text("- a\n1. b | c") == "\\- a\n1\\. b \\| c"


def test_a_browser_conversation_keeps_its_last_questions_and_numbers_turns_on(tmp_path):
    """Issue 15 (memory): a conversation's questions, filters, messages and the library
    session's turns stay bounded together; turn numbers go on past the forgotten ones."""
    from bot.chat import MAX_TURNS, ChatSession
    from bot.ui import Conversation
    from tests.fakes import FakeEmbedder, index_pages

    page = "---\ntitle: Widgets\n---\n\n## Evaluation Summary\n\n| Dimension | Assessment | Notes |\n|---|---|---|\n| Tractability | High | Easy |\n"
    convo = Conversation(ChatSession(index_pages(tmp_path, {"widgets.md": page}), embedder=FakeEmbedder()))  # type: ignore[arg-type]
    for n in range(MAX_TURNS + 7):
        question = f"how tractable are widgets? ({n})"
        convo.session.ask(question)
        convo.asked.append((question, True))
        convo.scopes.append(())
        convo.messages += [{"role": "user", "content": question}, {"role": "assistant", "content": "High"}]
        convo.trim()
    assert len(convo.asked) == len(convo.scopes) == len(convo.session.history) == MAX_TURNS
    assert len(convo.messages) == 2 * MAX_TURNS and convo.messages[0]["content"].endswith("(7)")
    assert convo.dropped == 7
    assert f'id="turn-{MAX_TURNS + 7}" open' in convo.sources_html() and 'id="turn-7"' not in convo.sources_html()
