"""The chat web UI (Gradio), a thin edge over :class:`~bot.chat.ChatSession`.

* Chat tab: streamed answers whose ``[n]`` markers link to numbered source
  cards (the cited row highlighted in its whole table), the standalone query on
  demand, example questions, "new chat", a filter to chosen approaches, and
  export of the conversation as Markdown or JSON.
* Approach map tab: approaches × dimensions from the Evaluation Summaries,
  colour-coded; selecting a cell shows its note and source, or asks the chat.
* ``/chat`` and ``/ask`` API endpoints for gradio_client.

Every browser (and API) session has its own ChatSession. Document text is
escaped before it reaches the page, so a corpus row holding HTML shows as text.
"""


import html
import json
import logging
import os
import re
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from bot.answer import Answer, Citation
from bot.chat import ChatSession, Turn
from bot.errors import BotError
from bot.matrix import DIMENSIONS, rating_level

log = logging.getLogger(__name__)

EXAMPLES = [
    "Is US-China cooperation possible?",
    "Is a pause on frontier AI feasible?",
    "How tractable is interpretability?",
    "Which approaches are rated low on tractability?",
    "Who should work on AI control?",
]

#: Pause between revealed pieces of a grounded answer (seconds).
STREAM_PAUSE = 0.05

#: API sessions kept (by gradio session hash), least recently used dropped first.
MAX_API_SESSIONS = 1024

_RATING_COLOURS = {0: "#f4a6a6", 1: "#f8c9a0", 1.5: "#fbe0a0", 2: "#fdf1a8", 2.5: "#d9ecae", 3: "#b5dfb0", 4: "#8fd19e"}

CSS = """
.source-card {border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 6px 10px; margin: 6px 0;}
.source-card summary {cursor: pointer;}
.source-card table {border-collapse: collapse; margin-top: 6px; font-size: 0.9em; width: 100%;}
.source-card th, .source-card td {border: 1px solid var(--border-color-primary); padding: 3px 8px; text-align: left;}
.source-card tr.cited td {background: #fff3b0; color: #222; font-weight: 600;}
.source-score, .search-details {color: var(--body-text-color-subdued); font-size: 0.85em;}
.passage {white-space: pre-wrap; margin-top: 6px;}
"""


# ---------------------------------------------------------------------------
# Rendering (plain functions, tested without a browser)


def render_sources(answer: Answer | None) -> str:
    """Numbered source cards, every document string escaped."""
    if answer is None:
        return ""
    parts = []
    if answer.query and answer.query != answer.question:
        parts.append(
            '<details class="search-details"><summary>How this was searched</summary>'
            f"<p>Standalone query: {html.escape(answer.query)}</p></details>"
        )
    if answer.abstained:
        parts.append('<p class="search-details">No source: the approach documents do not answer this.</p>')
    parts.extend(_card(c, open_=c.n == 1) for c in answer.citations)
    return "\n".join(parts)


def _card(c: Citation, open_: bool = False) -> str:
    esc = html.escape
    summary = (
        f"<summary><b>[{c.n}]</b> {esc(c.title)} › {esc(c.section)} "
        f'<span class="source-score">score {c.score:.3f}</span></summary>'
    )
    if c.table is None:
        body = f'<div class="passage">{esc(c.text)}</div>'
    else:
        header = "<tr>" + "".join(f"<th>{esc(h)}</th>" for h in c.table.headers) + "</tr>"
        rows = "".join(
            f'<tr{" class=cited" if i == c.row else ""}>' + "".join(f"<td>{esc(cell)}</td>" for cell in row) + "</tr>"
            for i, row in enumerate(c.table.rows)
        )
        body = f"<table><thead>{header}</thead><tbody>{rows}</tbody></table>"
    opened = " open" if open_ else ""
    return f'<details class="source-card" id="source-{c.n}"{opened}>{summary}{body}</details>'


def link_markers(text: str) -> str:
    """``[n]`` markers turned into links to their source cards."""
    return re.sub(r"(?<!\\)\[(\d+)\]", r"[[\1]](#source-\1)", text)


def chat_message(answer: Answer) -> str:
    """The assistant message shown in the chat."""
    text = link_markers(answer.text)
    if answer.notice:
        text += f"\n\n*{html.escape(answer.notice)}*"
    return text


def api_text(answer: Answer) -> str:
    """The answer with its ``[n]`` markers, then its sources, as plain text."""
    lines = [answer.text]
    if answer.notice:
        lines.append(f"({answer.notice})")
    if answer.citations:
        lines.append("")
        lines.append("Sources:")
        lines.extend(f"[{c.n}] {c.title} › {c.section}: {c.text}" for c in answer.citations)
    return "\n".join(lines)


def export_markdown(history: Sequence[Turn]) -> str:
    """The conversation as Markdown, each answer followed by its citations."""
    out = ["# approach-bot conversation", ""]
    for turn in history:
        out += [f"## Q: {turn.question}", "", turn.answer.text, ""]
        if turn.answer.query and turn.answer.query != turn.question:
            out += [f"*Searched as: {turn.answer.query}*", ""]
        for c in turn.answer.citations:
            out.append(f"- [{c.n}] {c.title} › {c.section} — {c.text} (score {c.score:.3f})")
        out.append("")
    return "\n".join(out)


def export_json(history: Sequence[Turn]) -> str:
    return json.dumps(
        {"conversation": [{"question": t.question, "answer": t.answer.to_dict()} for t in history]},
        indent=2,
        ensure_ascii=False,
    )


def map_rows(matrix: Any) -> tuple[list[str], list[list[str]]]:
    """The approach map as headers and rows of rating strings."""
    headers = ["Approach", *DIMENSIONS]
    rows = []
    for doc_id, title in matrix.approaches:
        row = [title]
        for dim in DIMENSIONS:
            cell = matrix.get(doc_id, dim)
            row.append(cell.rating if cell else "—")
        rows.append(row)
    return headers, rows


def _map_value(matrix: Any) -> Any:
    import pandas as pd

    headers, rows = map_rows(matrix)
    frame = pd.DataFrame(rows, columns=headers)

    def colour(value: str) -> str:
        level = rating_level(str(value))
        if level < 0:
            return ""
        return f"background-color: {_RATING_COLOURS.get(level, '#eeeeee')}; color: #222;"

    return frame.style.map(colour, subset=list(DIMENSIONS))


def _cell_details(matrix: Any, row: int, col: int) -> tuple[str, tuple[str, str] | None]:
    if row < 0 or row >= len(matrix.approaches) or col < 1 or col > len(DIMENSIONS):
        return "Select a rating to see its note and source.", None
    doc_id, title = matrix.approaches[row]
    dim = DIMENSIONS[col - 1]
    cell = matrix.get(doc_id, dim)
    if cell is None:
        return f"**{html.escape(title)}** has no rating for *{dim}*.", None
    text = (
        f"**{html.escape(title)}** — *{dim}*: **{html.escape(cell.rating)}**"
        + (f" — {html.escape(cell.note)}" if cell.note else "")
        + f"\n\nSource: {html.escape(cell.chunk.title)} › {html.escape(cell.chunk.section)} (`{html.escape(doc_id)}.md`)"
    )
    return text, (title, dim)


# ---------------------------------------------------------------------------
# The app


def build_app(index_dir: str | os.PathLike[str] | None = None, chroma_url: str | None = None) -> Any:
    """The Gradio Blocks app (not launched)."""
    import gradio as gr

    from bot.retrieval import Index

    index = Index.open(index_dir, chroma_url)
    matrix = index.matrix
    approaches = sorted(((d.title, d.doc_id) for d in index.catalog.documents.values()), key=lambda x: x[0].lower())
    exports = Path(tempfile.mkdtemp(prefix="approach-bot-exports-"))
    api_sessions: OrderedDict[str, ChatSession] = OrderedDict()
    api_lock = threading.Lock()

    def new_session() -> ChatSession:
        return ChatSession(index_dir, chroma_url=chroma_url)

    def respond(
        message: str, history: list[dict[str, Any]], session: ChatSession, scope: list[str] | None
    ) -> Iterator[tuple[Any, ...]]:
        history = list(history or [])
        history.append({"role": "user", "content": message})
        history.append({"role": "assistant", "content": "…"})
        yield "", history, gr.skip(), session
        try:
            for partial, answer in session.stream(message, doc_ids=scope or None):
                if answer is None:
                    history[-1] = {"role": "assistant", "content": partial}
                    yield "", history, gr.skip(), session
                    if session.llm is None:
                        time.sleep(STREAM_PAUSE)  # the grounded answer is ready at once; reveal it as it is read
                else:
                    history[-1] = {"role": "assistant", "content": chat_message(answer)}
                    yield "", history, render_sources(answer), session
        except BotError as exc:
            history[-1] = {"role": "assistant", "content": f"⚠️ {html.escape(str(exc))}"}
            yield "", history, "", session

    def clear() -> tuple[Any, ...]:
        return [], "", new_session(), "", None, None

    def export(session: ChatSession, kind: str) -> str | None:
        if not session.history:
            gr.Warning("Nothing to export yet: ask a question first.")
            return None
        path = exports / f"conversation-{id(session):x}.{kind}"
        path.write_text(export_markdown(session.history) if kind == "md" else export_json(session.history), "utf-8")
        return str(path)

    def select_cell(evt: gr.SelectData) -> tuple[str, Any]:
        row, col = (evt.index if isinstance(evt.index, (list, tuple)) else (evt.index, 0))[:2]
        text, target = _cell_details(matrix, int(row), int(col))
        return text, target

    def ask_about(target: tuple[str, str] | None) -> tuple[Any, Any]:
        if not target:
            return gr.skip(), gr.skip()
        title, dim = target
        return f"How does {title} rate on {dim}?", gr.Tabs(selected="chat")

    def api_session(request: gr.Request | None) -> ChatSession:
        key = getattr(request, "session_hash", None)
        if not key:
            return new_session()  # a caller without a session gets no shared history
        with api_lock:
            session = api_sessions.pop(key, None) or new_session()
            api_sessions[key] = session
            while len(api_sessions) > MAX_API_SESSIONS:
                api_sessions.popitem(last=False)
            return session

    def chat(message: str, request: gr.Request) -> str:
        """Answer a question (follow-ups use this client's conversation): the text with [n] markers, then its sources."""
        try:
            return api_text(api_session(request).ask(message))
        except BotError as exc:
            return f"error: {exc}"

    def ask_json(message: str, request: gr.Request) -> dict:
        """Answer a question; the Answer as JSON (text, citations, abstained, query)."""
        try:
            return api_session(request).ask(message).to_dict()
        except BotError as exc:
            return {"error": str(exc)}

    theme = gr.themes.Default(
        font=["ui-sans-serif", "system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"]
    )
    with gr.Blocks(title="approach-bot", analytics_enabled=False) as demo:
        gr.Markdown("## approach-bot\nAsk about AI-safety approaches — answers cite the rows of the documents' tables.")
        session = gr.State(new_session)
        target = gr.State(None)
        with gr.Tabs() as tabs:
            with gr.Tab("Chat", id="chat"):
                with gr.Row():
                    with gr.Column(scale=3):
                        chatbot = gr.Chatbot(label="Conversation", height=460, sanitize_html=True, elem_id="chat")
                        with gr.Row():
                            box = gr.Textbox(
                                placeholder="Ask a question, e.g. is US-China cooperation possible?",
                                show_label=False,
                                scale=5,
                                elem_id="question",
                                max_length=4000,
                            )
                            send = gr.Button("Ask", variant="primary", scale=1, elem_id="ask")
                        with gr.Row():
                            new = gr.Button("New chat", elem_id="new-chat", size="sm")
                            md_button = gr.DownloadButton("Export Markdown", elem_id="export-md", size="sm")
                            json_button = gr.DownloadButton("Export JSON", elem_id="export-json", size="sm")
                        scope = gr.Dropdown(
                            choices=approaches,
                            multiselect=True,
                            label="Limit the search to these approaches (optional)",
                            elem_id="scope",
                        )
                        gr.Examples(EXAMPLES, inputs=box, label="Examples")
                    with gr.Column(scale=2):
                        gr.Markdown("### Sources")
                        sources = gr.HTML(elem_id="sources")
            with gr.Tab("Approach map", id="map"):
                gr.Markdown(
                    "Ratings from each approach's Evaluation Summary. Select a rating to see its note and source."
                )
                grid = gr.Dataframe(value=_map_value(matrix), interactive=False, elem_id="approach-map", wrap=True)
                details = gr.Markdown("Select a rating to see its note and source.", elem_id="cell-details")
                ask_cell = gr.Button("Ask the chat about this rating", elem_id="ask-cell")

        for trigger in (box.submit, send.click):
            event = trigger(
                respond, [box, chatbot, session, scope], [box, chatbot, sources, session], api_visibility="private"
            )
            event.then(lambda s: export(s, "md"), session, md_button, api_visibility="private").then(
                lambda s: export(s, "json"), session, json_button, api_visibility="private"
            )
        new.click(clear, None, [chatbot, sources, session, box, md_button, json_button], api_visibility="private")
        grid.select(select_cell, None, [details, target], api_visibility="private")
        ask_cell.click(ask_about, target, [box, tabs], api_visibility="private").then(
            respond, [box, chatbot, session, scope], [box, chatbot, sources, session], api_visibility="private"
        )
        # Straight HTTP calls, not the queue: an answer takes tens of milliseconds.
        gr.api(chat, api_name="chat", queue=False)
        gr.api(ask_json, api_name="ask", queue=False)
    demo.bot_theme = theme
    return demo


def warm_up(index_dir: str | os.PathLike[str] | None = None, chroma_url: str | None = None) -> None:
    """Load the model and the question reader now, not on the first question."""
    from bot.retrieval import Index

    ChatSession(index_dir, chroma_url=chroma_url, llm="").ask("warm up: is cooperation possible?")
    Index.open(index_dir, chroma_url).reader


def auth_from_env(value: str | None = None) -> list[tuple[str, str]] | None:
    """Users from ``BOT_AUTH``: ``user:password[,user:password]`` or the path of a
    file with one ``user:password`` per line."""
    raw = value if value is not None else os.environ.get("BOT_AUTH", "")
    if not raw:
        return None
    if os.path.isfile(raw):
        entries = [line.strip() for line in Path(raw).read_text("utf-8").splitlines()]
    else:
        entries = [part.strip() for part in raw.split(",")]
    users = []
    for entry in entries:
        if not entry or entry.startswith("#"):
            continue
        user, sep, password = entry.partition(":")
        if not sep or not user or not password:
            raise BotError("BOT_AUTH must be 'user:password' (comma-separated) or a file of such lines")
        users.append((user, password))
    return users or None


def is_loopback(host: str) -> bool:
    return host in ("localhost", "::1") or host.startswith("127.")


def serve(
    index_dir: str | os.PathLike[str] | None = None,
    chroma_url: str | None = None,
    host: str = "127.0.0.1",
    port: int = 7860,
    auth: list[tuple[str, str]] | None = None,
    block: bool = True,
) -> Any:
    """Build the app and serve it (until interrupted when ``block``)."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    demo = build_app(index_dir, chroma_url)
    warm_up(index_dir, chroma_url)
    demo.queue(default_concurrency_limit=8)
    demo.launch(
        server_name=host,
        server_port=port,
        auth=auth,
        css=CSS,
        theme=demo.bot_theme,
        show_error=False,
        quiet=True,
        ssr_mode=False,
        prevent_thread_lock=not block,
        footer_links=["api"],
    )
    return demo
