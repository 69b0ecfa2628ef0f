"""The chat web UI (Gradio), a thin edge over :class:`~bot.chat.ChatSession`.

Every browser session gets its own ChatSession (``gr.State``), so two users
never see each other's turns. Document text is escaped before it reaches the
page, so a corpus row holding HTML shows as text.
"""

from __future__ import annotations

import html
import logging
import os
import time
from collections.abc import Iterator
from typing import Any

from bot.answer import Answer, Citation
from bot.chat import ChatSession
from bot.errors import BotError

log = logging.getLogger(__name__)

EXAMPLES = [
    "Is US-China cooperation possible?",
    "Is a pause on frontier AI feasible?",
    "How tractable is interpretability?",
    "Which approaches are rated low on tractability?",
]

_CSS = """
.source-card {border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px 12px; margin: 6px 0;}
.source-card table {border-collapse: collapse; margin-top: 6px; font-size: 0.9em;}
.source-card th, .source-card td {border: 1px solid var(--border-color-primary); padding: 3px 8px; text-align: left;}
.source-card tr.cited td {background: var(--color-accent-soft); font-weight: 600;}
.source-score {color: var(--body-text-color-subdued); font-size: 0.85em;}
"""


def render_sources(answer: Answer | None) -> str:
    """Numbered source cards (HTML, every document string escaped)."""
    if answer is None or not answer.citations:
        return ""
    cards = [_card(c) for c in answer.citations]
    query = ""
    if answer.query and answer.query != answer.question:
        query = f'<p class="source-score">Searched for: {html.escape(answer.query)}</p>'
    return query + "\n".join(cards)


def _card(c: Citation) -> str:
    esc = html.escape
    head = (
        f'<div class="source-card" id="source-{c.n}"><b>[{c.n}]</b> {esc(c.title)} › {esc(c.section)} '
        f'<span class="source-score">score {c.score:.3f}</span>'
    )
    if c.table is None:
        return f"{head}<div>{esc(c.text)}</div></div>"
    rows = []
    for i, row in enumerate(c.table.rows):
        cls = ' class="cited"' if i == c.row else ""
        rows.append(f"<tr{cls}>" + "".join(f"<td>{esc(cell)}</td>" for cell in row) + "</tr>")
    header = "<tr>" + "".join(f"<th>{esc(h)}</th>" for h in c.table.headers) + "</tr>"
    return f"{head}<table><thead>{header}</thead><tbody>{''.join(rows)}</tbody></table></div>"


def _stream(text: str) -> Iterator[str]:
    """The answer revealed a few words at a time."""
    words = text.split(" ")
    for end in range(6, len(words) + 6, 6):
        yield " ".join(words[:end])


def build_app(index_dir: str | os.PathLike[str] | None = None, chroma_url: str | None = None) -> Any:
    """The Gradio Blocks app (not launched)."""
    import gradio as gr

    def new_session() -> ChatSession:
        return ChatSession(index_dir, chroma_url=chroma_url)

    def respond(message: str, history: list[dict[str, Any]], session: ChatSession) -> Iterator[tuple[Any, ...]]:
        history = list(history or [])
        history.append({"role": "user", "content": message})
        try:
            answer = session.ask(message)
        except BotError as exc:
            history.append({"role": "assistant", "content": f"⚠️ {exc}"})
            yield "", history, "", session
            return
        history.append({"role": "assistant", "content": ""})
        for partial in _stream(answer.text):
            history[-1] = {"role": "assistant", "content": partial}
            yield "", history, "", session
            time.sleep(0.01)
        content = answer.text + (f"\n\n*{answer.notice}*" if answer.notice else "")
        history[-1] = {"role": "assistant", "content": content}
        yield "", history, render_sources(answer), session

    def clear() -> tuple[Any, ...]:
        return [], "", new_session()

    with gr.Blocks(title="approach-bot", analytics_enabled=False) as demo:
        gr.Markdown("## approach-bot\nAsk about AI-safety approaches; answers cite the documents' tables.")
        session = gr.State(new_session)
        chatbot = gr.Chatbot(label="Chat", height=480, sanitize_html=True)
        box = gr.Textbox(placeholder="Ask a question, e.g. is US-China cooperation possible?", label="Question")
        with gr.Row():
            send = gr.Button("Ask", variant="primary")
            new = gr.Button("New chat")
        sources = gr.HTML(label="Sources")
        gr.Examples(EXAMPLES, inputs=box)
        for trigger in (box.submit, send.click):
            trigger(respond, [box, chatbot, session], [box, chatbot, sources, session], api_name=False)
        new.click(clear, None, [chatbot, sources, session], api_name=False)
    return demo


def serve(
    index_dir: str | os.PathLike[str] | None = None,
    chroma_url: str | None = None,
    host: str = "127.0.0.1",
    port: int = 7860,
) -> None:
    """Build the app and serve it until interrupted."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from bot.retrieval import Index

    Index.open(index_dir, chroma_url)  # fail early, with a clear error, if the index is unusable
    demo = build_app(index_dir, chroma_url)
    demo.queue(default_concurrency_limit=8).launch(
        server_name=host, server_port=port, css=_CSS, show_error=False, quiet=False
    )
