"""The chat web UI (Gradio), a thin edge over :class:`~bot.chat.ChatSession`.

* Chat tab: answers whose ``[n]`` markers open that answer's own source card
  (the cited row highlighted in its table, a preview on hover), the standalone
  query on demand, example questions from the indexed corpus, Stop, Retry and
  edit-and-resend, "new chat", past conversations (kept on the server, so a
  reload reopens them), a filter to chosen approaches, and export of the
  conversation as Markdown or JSON.
* Approach map tab: approaches × dimensions from the Evaluation Summaries,
  colour-coded; selecting a cell shows its note and source, or asks the chat.
* ``/chat`` and ``/ask`` (each with an optional ``scope``) and ``/new_chat``
  API endpoints for gradio_client; no other endpoint is exposed.

Every browser (and API) session has its own ChatSession. Everything shown is
inert: document text and questions are escaped (HTML, markdown images, LaTeX,
bidirectional overrides), and a Content-Security-Policy lets the page load
images and frames from nowhere but the server itself.
"""


import asyncio
import atexit
import html
import json
import logging
import os
import re
import shutil
import signal
import tempfile
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bot.answer import Answer, Citation
from bot.chat import MAX_TURNS, ChatSession, Turn, example_questions
from bot.errors import BotError
from bot.matrix import rating_level

log = logging.getLogger(__name__)

#: How many example questions the empty chat offers.
MAX_EXAMPLES = 5

#: API sessions kept (by gradio session hash), least recently used dropped first.
MAX_API_SESSIONS = 1024

#: Sessions (browser or API) whose state Gradio keeps, least recently used dropped first. Each
#: costs about 60 kB (Gradio copies the page's settings per session); Gradio's own default,
#: 10,000, let a caller who invents session ids grow the server by some 600 MB.
MAX_SESSIONS = 2000

#: Answers whose source cards stay in the Sources panel (older markers then lead nowhere).
MAX_SOURCE_TURNS = 20

#: Table rows a source card shows around the cited row (a 10k-row table is not sent whole).
CARD_ROWS = 15

#: Conversations kept on the server for reloads, least recently used dropped first.
MAX_CONVERSATIONS = 500

#: A question is cut to this many characters at the edge, before it is stored, searched or echoed
#: (the library then searches at most its own ``MAX_QUESTION_CHARS`` of it, with a notice).
MAX_MESSAGE_CHARS = 4000

#: A request body larger than this is refused (413) before it is read whole; a 10 MB question
#: still fits, and is cut to ``MAX_MESSAGE_CHARS`` before Gradio sees it (:class:`CutLongInputs`).
MAX_BODY_BYTES = 16 * 1024 * 1024

#: Past conversations a browser lists (newest first).
MAX_PAST = 20

#: Login: failures allowed before a user is locked out, the first lockout, the longest.
LOGIN_FREE_FAILURES = 4
LOGIN_LOCK_SECONDS = 1.0
LOGIN_MAX_LOCK_SECONDS = 900.0

_RATING_COLOURS = {0: "#f4a6a6", 1: "#f8c9a0", 1.5: "#fbe0a0", 2: "#fdf1a8", 2.5: "#d9ecae", 3: "#b5dfb0", 4: "#8fd19e"}

CSS = """
#chat .placeholder-content, #chat .examples {margin-top: 0;}
.source-card {border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 6px 10px; margin: 6px 0;}
.source-card summary {cursor: pointer;}
.source-card table {border-collapse: collapse; margin-top: 6px; font-size: 0.9em; width: 100%;}
.source-card th, .source-card td {border: 1px solid var(--border-color-primary); padding: 3px 8px; text-align: left;}
.source-card tr.cited td {background: #fff3b0; color: #222; font-weight: 600;}
.source-card.flash {animation: card-flash 2s ease-out;}
.source-card tr.flash td {animation: row-flash 2s ease-out;}
@keyframes card-flash {0%, 40% {box-shadow: 0 0 0 3px #f5b400;} 100% {box-shadow: none;}}
@keyframes row-flash {0%, 40% {background: #ffd43b; color: #222;} 100% {}}
.source-score, .search-details, .rows-hidden, .source-file {color: var(--body-text-color-subdued); font-size: 0.85em;}
.turn-sources > summary {cursor: pointer; font-weight: 600; margin: 8px 0 2px;}
.passage {white-space: pre-wrap; margin-top: 6px;}
#source-preview {position: fixed; z-index: 1000; max-width: 420px; padding: 8px 10px; border-radius: 6px;
  background: var(--background-fill-primary); color: var(--body-text-color); white-space: pre-wrap;
  border: 1px solid var(--border-color-primary); box-shadow: 0 4px 14px rgba(0,0,0,.18); font-size: 0.85em;
  pointer-events: none;}
#approach-map table {table-layout: fixed; width: 100%;}
#approach-map th, #approach-map td {overflow-wrap: break-word;}
@media (max-width: 700px) {
  #chat-actions {flex-wrap: nowrap; gap: 4px;}
  #chat-actions button {min-width: 0 !important; padding: 4px 6px; font-size: 12px;}
  #approach-map th, #approach-map td {font-size: 11px; padding: 1px 2px;}
  #approach-map .cell-wrap {padding: 4px 2px;}
}
"""

#: The page may load images, media and frames from the server only: a markdown image in a
#: document (a "beacon") cannot make a reader's browser call anywhere else.
CSP = "img-src 'self' data: blob:; media-src 'self' data: blob:; frame-src 'none'; object-src 'none'; form-action 'self'"
HEAD = f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'

#: In the page: a click on ``[n]`` opens that answer's card, scrolls to it and flashes the
#: cited row; hovering ``[n]`` previews the passage (built with textContent, never HTML).
JS = """
() => {
  const card = (a) => document.getElementById((a.getAttribute('href') || '').slice(1));
  const marker = (e) => e.target.closest && e.target.closest('a[href^="#source-"]');
  const flash = (el) => { el.classList.remove('flash'); void el.offsetWidth; el.classList.add('flash');
                          setTimeout(() => el.classList.remove('flash'), 2500); };
  document.addEventListener('click', (e) => {
    const a = marker(e); if (!a) return;
    const target = card(a); if (!target) return;
    e.preventDefault(); e.stopPropagation();
    for (let d = target; d; d = d.parentElement) if (d.tagName === 'DETAILS') d.open = true;
    target.scrollIntoView({block: 'center'});
    flash(target); target.querySelectorAll('tr.cited').forEach(flash);
  }, true);
  let tip = null;
  document.addEventListener('mouseover', (e) => {
    const a = marker(e); if (!a) return;
    const target = card(a); if (!target) return;
    tip = tip || Object.assign(document.createElement('div'), {id: 'source-preview'});
    const row = target.querySelector('tr.cited');
    const head = target.querySelector('summary');
    tip.textContent = (head ? head.innerText + '\\n' : '') +
      (row ? [...row.cells].map(c => c.innerText).join(' | ') : (target.querySelector('.passage') || target).innerText.slice(0, 400));
    const box = a.getBoundingClientRect();
    tip.style.left = Math.max(4, Math.min(box.left, window.innerWidth - 430)) + 'px';
    tip.style.top = (box.bottom + 6) + 'px';
    document.body.appendChild(tip);
  });
  document.addEventListener('mouseout', (e) => { if (marker(e) && tip) tip.remove(); });
  // A new or growing answer: show its question at the top of the log, so a long answer is read from its start.
  let seen = '';
  const settle = () => {
    const log = document.querySelector('#chat [role="log"]'); if (!log) return;
    const users = log.querySelectorAll('[data-testid="user"]');
    const bots = log.querySelectorAll('[data-testid="bot"]');
    const last = bots.length ? bots[bots.length - 1].innerText.length : 0;
    const now = users.length + ':' + bots.length + ':' + last;
    if (now === seen || !users.length) { seen = now; return; }
    seen = now;
    const q = users[users.length - 1];
    const top = q.getBoundingClientRect().top - log.getBoundingClientRect().top + log.scrollTop - 8;
    log.scrollTop = Math.max(0, Math.min(top, log.scrollHeight - log.clientHeight));
  };
  const watch = setInterval(() => {
    const chat = document.querySelector('#chat'); if (!chat) return;
    clearInterval(watch);
    new MutationObserver(() => requestAnimationFrame(settle)).observe(chat, {childList: true, subtree: true, characterData: true});
  }, 200);
}
"""


# ---------------------------------------------------------------------------
# Making text inert (plain functions, tested without a browser)

_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>&|#!$~])")


def plain(text: str) -> str:
    """Text without bidirectional embedding, override and isolate controls (they disguise text)."""
    return _BIDI.sub("", text)


def md_text(text: str) -> str:
    """Text shown exactly as written where markdown is rendered: no HTML, link, image, LaTeX, list or rule."""
    text = _MD_SPECIAL.sub(r"\\\1", plain(text))
    text = re.sub(r"(?m)^(\s*)([-+=])", r"\1\\\2", text)  # "- x", "---", "===" at a line's start
    return re.sub(r"(?m)^(\s*\d+)([.)])", r"\1\\\2", text)  # "1. x"


def safe_markdown(text: str) -> str:
    """Markdown from the library made inert before it is shown: no raw HTML, no image, no
    bidirectional override (the composer escapes document text; this holds whatever it misses)."""
    text = plain(text)
    text = re.sub(r"(?<!\\)<", "&lt;", text)
    text = re.sub(r"(?<!\\)\](?=\(\s*(?!https?://|#))", r"\\]", text)  # links only to web pages: no "[x](javascript:…)"
    return re.sub(r"(?<!\\)!(?=\[)", r"\\!", text)


# ---------------------------------------------------------------------------
# Rendering


def citation_body(c: Citation) -> str:
    """A citation's passage without the ``Title › Section —`` it starts with."""
    text = c.text
    for prefix in (f"{c.path} — ", f"{c.path} - ", f"{c.path}\n", c.path):
        if text.startswith(prefix):
            return text[len(prefix) :].strip()
    return text.strip()


def relevance(c: Citation, answer: Answer) -> str:
    """How well a source matches, in words (scores are rank fusion numbers, meaningless to people)."""
    top = max((x.score for x in answer.citations), default=0.0)
    if top <= 0 or c.score >= 0.8 * top:
        return "best match"
    return "good match" if c.score >= 0.5 * top else "related"


def _row_label(c: Citation) -> str:
    """What tells the cards of one section apart: the cited row's first cell, or the passage's first line."""
    if c.table is None or c.row is None or c.row >= len(c.table.rows):
        lines = citation_body(c).splitlines()
        first = lines[0].strip() if lines else ""
        first = first[:60] + "…" if len(first) > 60 else first
    else:
        first = next((cell for cell in c.table.rows[c.row] if cell.strip()), "")[:80]
    return f" — {html.escape(plain(first))}" if first else ""


def source_link(doc_id: str, url: str = "") -> str:
    """Where a source comes from: a link to its page when the corpus profile names a site, else its file."""
    if url.startswith(("https://", "http://")):
        href = html.escape(url, quote=True)
        return (
            f'<div class="source-file"><a class="source-link" href="{href}" target="_blank" '
            f'rel="noopener noreferrer nofollow">{html.escape(plain(url))}</a></div>'
        )
    return f'<div class="source-file">{html.escape(plain(doc_id))}.md</div>'


def _card(c: Citation, answer: Answer, turn: int, open_: bool = False, url: str = "") -> str:
    esc = lambda s: html.escape(plain(s))  # noqa: E731
    summary = (
        f"<summary><b>[{c.n}]</b> {esc(c.path)}{_row_label(c)} "
        f'<span class="source-score">{relevance(c, answer)}</span></summary>'
    )
    if c.table is None:
        body = f'<div class="passage">{esc(citation_body(c))}</div>'
    else:
        body = _table(c, esc)
    file = source_link(c.doc_id, url)
    opened = " open" if open_ else ""
    return f'<details class="source-card" id="source-{turn}-{c.n}"{opened}>{summary}{body}{file}</details>'


def _table(c: Citation, esc: Any) -> str:
    """The cited row inside its table, at most ``CARD_ROWS`` rows around it."""
    assert c.table is not None
    rows = c.table.rows
    centre = c.row if c.row is not None else 0
    start = max(0, min(centre - CARD_ROWS // 2, len(rows) - CARD_ROWS))
    end = min(len(rows), start + CARD_ROWS)
    header = "<tr>" + "".join(f"<th>{esc(h)}</th>" for h in c.table.headers) + "</tr>"
    body = "".join(
        f'<tr{" class=cited" if i == c.row else ""}>' + "".join(f"<td>{esc(cell)}</td>" for cell in rows[i]) + "</tr>"
        for i in range(start, end)
    )
    hidden = []
    if start:
        hidden.append(f"{start:,} rows above")
    if end < len(rows):
        hidden.append(f"{len(rows) - end:,} rows below")
    note = f'<div class="rows-hidden">Not shown: {" and ".join(hidden)}.</div>' if hidden else ""
    return f"<table><thead>{header}</thead><tbody>{body}</tbody></table>{note}"


def render_answer_sources(
    answer: Answer, turn: int, scope_titles: Sequence[str] = (), url_of: Callable[[str], str] | None = None
) -> str:
    """One answer's numbered source cards (ids ``source-<turn>-<n>``), every string escaped."""
    parts = []
    if answer.query and answer.query != answer.question:
        parts.append(
            '<details class="search-details"><summary>How this was searched</summary>'
            f"<p>Standalone query: {html.escape(plain(answer.query))}</p></details>"
        )
    if scope_titles:
        parts.append(f'<p class="search-details">Filter: {html.escape(plain(", ".join(scope_titles)))}</p>')
    if answer.abstained:
        parts.append('<p class="search-details">No source: the approach documents do not answer this.</p>')
    parts.extend(
        _card(c, answer, turn, open_=c.n == 1, url=getattr(c, "url", "") or (url_of(c.doc_id) if url_of else ""))
        for c in answer.citations
    )
    return "\n".join(parts)


def link_markers(text: str, turn: int = 1) -> str:
    """``[n]`` markers turned into links to this answer's source cards."""
    return re.sub(r"(?<!\\)\[(\d+)\]", rf"[[\1]](#source-{turn}-\1)", text)


def chat_message(answer: Answer, turn: int = 1, scope_titles: Sequence[str] = ()) -> str:
    """The assistant message shown in the chat."""
    text = link_markers(safe_markdown(answer.text), turn)
    if answer.abstained and scope_titles:
        text += f"\n\n*Searched only in {md_text(', '.join(scope_titles))} (the filter): clear it to search every approach.*"
    if answer.notice:
        text += f"\n\n*{md_text(answer.notice)}*"
    return text


def api_text(answer: Answer) -> str:
    """The answer with its ``[n]`` markers, then its sources, as plain text."""
    lines = [plain(answer.text)]
    if answer.notice:
        lines.append(f"({answer.notice})")
    if answer.citations:
        lines.append("")
        lines.append("Sources:")
        lines.extend(f"[{c.n}] {plain(c.path)}: {plain(' '.join(citation_body(c).split()))}" for c in answer.citations)
    return "\n".join(lines)


def export_markdown(history: Sequence[Turn], scopes: Sequence[Sequence[str]] = ()) -> str:
    """The conversation as Markdown, each answer followed by its citations (all text inert)."""
    out = ["# approach-bot conversation", ""]
    for i, turn in enumerate(history):
        answer = turn.answer
        out += [f"## Q: {md_text(turn.question)}", ""]
        scope = scopes[i] if i < len(scopes) else ()
        if scope:
            out += [f"*Filter: {md_text(', '.join(scope))}*", ""]
        out += [safe_markdown(answer.text), ""]
        if answer.query and answer.query != turn.question:
            out += [f"*Searched as: {md_text(answer.query)}*", ""]
        for c in answer.citations:
            out.append(f"- **[{c.n}] {md_text(c.path)}** ({relevance(c, answer)})")
            out.extend(f"  > {md_text(line)}" if line.strip() else "  >" for line in citation_body(c).splitlines())
        out.append("")
    return "\n".join(out)


def export_json(history: Sequence[Turn], scopes: Sequence[Sequence[str]] = ()) -> str:
    return json.dumps(
        {
            "conversation": [
                {"question": t.question, "filter": list(scopes[i]) if i < len(scopes) else [], "answer": t.answer.to_dict()}
                for i, t in enumerate(history)
            ]
        },
        indent=2,
        ensure_ascii=False,
    )


def map_rows(matrix: Any) -> tuple[list[str], list[list[str]]]:
    """The approach map as headers and rows of rating strings."""
    headers = ["Approach", *matrix.dimensions]
    rows = []
    for doc_id, title in matrix.approaches:
        row = [plain(title)]
        for dim in matrix.dimensions:
            cell = matrix.get(doc_id, dim)
            row.append(plain(cell.rating) if cell else "—")
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

    return frame.style.map(colour, subset=list(matrix.dimensions))


def _cell_details(matrix: Any, row: int, col: int) -> tuple[str, tuple[str, str] | None]:
    if row < 0 or row >= len(matrix.approaches) or col < 1 or col > len(matrix.dimensions):
        return "Select a rating to see its note and source.", None
    doc_id, title = matrix.approaches[row]
    dim = matrix.dimensions[col - 1]
    cell = matrix.get(doc_id, dim)
    if cell is None:
        return f"**{md_text(title)}** has no rating for *{dim}*.", None
    text = (
        f"**{md_text(title)}** — *{dim}*: **{md_text(cell.rating)}**"
        + (f" — {md_text(cell.note)}" if cell.note else "")
        + f"\n\nSource: {md_text(cell.chunk.path)} ({md_text(doc_id)}.md)"
    )
    return text, (plain(title), dim)


def corpus_examples(index: Any, limit: int = MAX_EXAMPLES) -> list[str]:
    """Example questions about what the index holds (the library's, shown inert)."""
    return [plain(q) for q in example_questions(index, limit)]


def _site_urls(index: Any) -> Callable[[str], str] | None:
    """A document's page on the corpus' site, when the index's profile names one."""
    try:
        profile = index.profile
    except Exception:  # noqa: BLE001 - an index from before profiles: no links
        log.debug("no corpus profile", exc_info=True)
        return None
    return profile.url if getattr(profile, "site", "") else None


# ---------------------------------------------------------------------------
# The app


@dataclass
class Conversation:
    """One browser's conversation: the library session and what the UI adds to each turn.

    Kept on the server by ``key`` (the browser holds only the key), so a reload reopens it.
    """

    session: ChatSession
    scopes: list[tuple[str, ...]] = field(default_factory=list)  # each answered turn's filter, as titles
    asked: list[tuple[str, bool]] = field(default_factory=list)  # each question as typed; answered or not
    messages: list[dict[str, Any]] = field(default_factory=list)  # the chat as last shown
    run: int = 0  # bumped by each question and by Stop: an answer finishing under an older number was stopped
    dropped: int = 0  # answered turns forgotten to keep the conversation bounded (turn numbers go on from them)
    url_of: Callable[[str], str] | None = None  # a document's page on the corpus' site, if it has one
    started: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    key: str = field(default_factory=lambda: uuid.uuid4().hex)

    def sources_html(self) -> str:
        """Every recent answer's sources, newest first; only the newest open."""
        turns = list(enumerate(self.session.history, self.dropped + 1))[-MAX_SOURCE_TURNS:]
        parts = []
        for n, turn in reversed(turns):
            scope = self.scopes[n - 1 - self.dropped] if n - 1 - self.dropped < len(self.scopes) else ()
            inner = render_answer_sources(turn.answer, n, scope, self.url_of)
            opened = " open" if n == self.dropped + len(self.session.history) else ""
            parts.append(
                f'<details class="turn-sources" id="turn-{n}"{opened}><summary>Q{n}: '
                f"{html.escape(plain(turn.question[:120]))}</summary>{inner}</details>"
            )
        return "\n".join(parts)

    def label(self) -> str:
        first = plain(self.asked[0][0]) if self.asked else "(no question yet)"
        first = " ".join(first.split())
        return f"{self.started:%Y-%m-%d %H:%M} — {first[:60]}{'…' if len(first) > 60 else ''}"

    def trim(self, limit: int = MAX_TURNS) -> None:
        """Keep the last ``limit`` questions, with their answers, filters and messages
        (the library session keeps as many turns): a conversation's memory is bounded."""
        extra = len(self.asked) - limit
        if extra <= 0:
            return
        self.messages = self.messages[chat_index_of_question(self.messages, extra) :]
        self.asked = self.asked[extra:]
        kept = sum(ok for _, ok in self.asked)
        gone = len(self.scopes) - kept
        if gone > 0:
            self.dropped += gone
            del self.scopes[:gone]
        del self.session.history[: max(0, len(self.session.history) - kept)]

    def rewind(self, questions: int) -> None:
        """Forget every question from the ``questions``-th on (0: all), with its answer."""
        kept = self.asked[:questions]
        answered = sum(ok for _, ok in kept)
        del self.session.history[answered:]
        del self.scopes[answered:]
        self.asked = kept


def chat_index_of_question(messages: Sequence[dict[str, Any]], question: int) -> int:
    """Where the ``question``-th user message (0-based) sits in the chat's message list."""
    seen = -1
    for i, message in enumerate(messages):
        if message.get("role") == "user":
            seen += 1
            if seen == question:
                return i
    return len(messages)


def message_text(message: dict[str, Any]) -> str:
    """The text of a chat message as Gradio passes it back (a string, or a list of parts)."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) if isinstance(p, dict) else str(p) for p in content)
    return ""


def unescape_md(text: str) -> str:
    """A question as typed from its shown (escaped) form, e.g. after an edit in the chat."""
    return re.sub(r"\\([\\`*_\[\]<>&|#!$~+=.)-])", r"\1", text)


class LoginThrottle:
    """Failed logins counted per key (a user at a client); past a few, a lockout that doubles each time."""

    def __init__(self) -> None:
        self.failures: OrderedDict[str, tuple[int, float]] = OrderedDict()
        self.lock = threading.Lock()

    def locked_for(self, key: str) -> float:
        """Seconds until ``key`` may try again (0: now)."""
        with self.lock:
            count, last = self.failures.get(key, (0, 0.0))
        if count <= LOGIN_FREE_FAILURES:
            return 0.0
        wait = min(LOGIN_LOCK_SECONDS * 2 ** (count - LOGIN_FREE_FAILURES - 1), LOGIN_MAX_LOCK_SECONDS)
        return max(0.0, last + wait - time.monotonic())

    def record(self, key: str, ok: bool) -> None:
        with self.lock:
            if ok:
                self.failures.pop(key, None)
                return
            count = self.failures.pop(key, (0, 0.0))[0] + 1
            self.failures[key] = (count, time.monotonic())
            while len(self.failures) > 10_000:  # made-up names cannot grow this without bound
                self.failures.popitem(last=False)


class LoginGuard:
    """ASGI middleware in front of Gradio's ``POST /login``: a user at a client that failed too often
    is refused (429, with the wait) before the password is even looked at."""

    def __init__(self, app: Any, throttle: LoginThrottle | None = None):
        self.app = app
        self.throttle = throttle or LoginThrottle()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST" or not scope["path"].rstrip("/").endswith("/login"):
            await self.app(scope, receive, send)
            return
        from urllib.parse import parse_qs

        body, more = b"", True
        while more and len(body) <= 65_536:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        user = (parse_qs(body.decode("utf-8", "replace")).get("username") or [""])[0].strip()
        key = f"{user}\x00{(scope.get('client') or ('?', 0))[0]}"
        wait = self.throttle.locked_for(key)
        if wait > 0:
            await _reply(send, 429, {"detail": f"Too many failed logins: try again in {int(wait) + 1} s."})
            return
        status = 0

        async def watch(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, _replaying(body, receive), watch)
        if status in (200, 400):  # success, or Gradio's "Incorrect credentials"
            self.throttle.record(key, ok=status == 200)
        if status == 400:
            await asyncio.sleep(0.2)


def _replaying(body: bytes | bytearray, receive: Any) -> Any:
    """An ASGI ``receive`` that hands the app a request body already read, then
    goes on with the real one (for the disconnect message)."""
    replayed = False

    async def replay() -> dict[str, Any]:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": bytes(body), "more_body": False}

    return replay


async def _reply(send: Any, status: int, data: dict[str, Any]) -> None:
    body = json.dumps(data).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def build_app(index_dir: str | os.PathLike[str] | None = None, chroma_url: str | None = None) -> Any:
    """The Gradio Blocks app (not launched)."""
    import gradio as gr

    from bot.retrieval import Index

    index = Index.open(index_dir, chroma_url)
    matrix = index.matrix
    titles = {d.doc_id: d.title for d in index.catalog.documents.values()}
    approaches = sorted(((plain(t), d) for d, t in titles.items()), key=lambda x: x[0].lower())
    by_title = {plain(t).lower(): d for d, t in titles.items()}
    examples = corpus_examples(index)
    url_of = _site_urls(index)
    exports = Path(tempfile.mkdtemp(prefix="approach-bot-exports-"))
    atexit.register(shutil.rmtree, exports, ignore_errors=True)  # at the latest when the process ends
    api_sessions: OrderedDict[str, ChatSession] = OrderedDict()
    conversations: OrderedDict[str, Conversation] = OrderedDict()
    lock = threading.Lock()

    def new_session() -> ChatSession:
        return ChatSession(index_dir, chroma_url=chroma_url)

    def keep(convo: Conversation) -> None:
        with lock:
            conversations[convo.key] = convo
            conversations.move_to_end(convo.key)
            while len(conversations) > MAX_CONVERSATIONS:
                drop_exports(conversations.popitem(last=False)[0])

    def drop_exports(key: str) -> None:
        """A conversation's export files go with it."""
        shutil.rmtree(exports / key, ignore_errors=True)

    def respond(
        message: str, history: list[dict[str, Any]], convo: Conversation | None, scope: list[str] | None
    ) -> Iterator[tuple[Any, ...]]:
        if not (message or "").strip():
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip()  # an empty Enter posts nothing
            return
        message = message[:MAX_MESSAGE_CHARS]
        if convo is None:
            convo = Conversation(new_session(), url_of=url_of)
        keep(convo)
        session = convo.session
        scope = list(scope or [])
        scope_titles = tuple(plain(titles.get(d, d)) for d in scope)
        history = list(convo.messages if convo.asked else history or [])  # the server's own copy, not what is sent
        history.append({"role": "user", "content": md_text(message)})
        history.append({"role": "assistant", "content": "…"})
        convo.asked.append((message, False))
        convo.messages = history
        convo.run += 1
        run = convo.run
        yield "", history, gr.skip(), convo  # the box is cleared once; what is typed from now on stays
        turn = convo.dropped + len(session.history) + 1
        try:
            for partial, answer in session.stream(message, doc_ids=scope or None):
                if convo.run != run:  # Stop was pressed while the answer was being made
                    if answer is not None and session.history and session.history[-1].answer is answer:
                        session.history.pop()
                    return
                if answer is not None:
                    convo.scopes.append(scope_titles)
                    convo.asked[-1] = (message, True)
                    history[-1] = {"role": "assistant", "content": chat_message(answer, turn, scope_titles)}
                    convo.trim()
                    history = convo.messages
                    yield gr.skip(), history, convo.sources_html(), convo
                elif session.llm is not None:  # only a language model is still writing; a grounded answer shows at once
                    history[-1] = {"role": "assistant", "content": link_markers(safe_markdown(partial), turn)}
                    yield gr.skip(), history, gr.skip(), convo
        except BotError as exc:
            history[-1] = {"role": "assistant", "content": f"⚠️ {md_text(str(exc))}"}
            yield gr.skip(), history, gr.skip(), convo

    def ask_again(
        question: int, text: str, history: list[dict[str, Any]], convo: Conversation | None, scope: list[str] | None
    ) -> Iterator[tuple[Any, ...]]:
        """Forget the ``question``-th question (0-based) and all after it, then ask ``text`` in its place."""
        if convo is None or question >= len(convo.asked):
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        convo.rewind(question)
        history = list(convo.messages)[: chat_index_of_question(convo.messages, question)]
        convo.messages = history
        yield from respond(text, history, convo, scope)

    def regenerate(history: list[dict[str, Any]], convo: Conversation | None, scope: list[str] | None) -> Iterator[tuple[Any, ...]]:
        if convo is None or not convo.asked:
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        last = len(convo.asked) - 1
        yield from ask_again(last, convo.asked[last][0], history, convo, scope)

    def edit(
        history: list[dict[str, Any]], convo: Conversation | None, scope: list[str] | None, evt: gr.EditData
    ) -> Iterator[tuple[Any, ...]]:
        index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        question = sum(1 for m in (history or [])[: int(index)] if m.get("role") == "user")
        yield from ask_again(question, unescape_md(str(evt.value)), history, convo, scope)

    def stopped(history: list[dict[str, Any]], convo: Conversation | None) -> list[dict[str, Any]]:
        history = list(convo.messages if convo is not None and convo.asked else history or [])
        if history and history[-1].get("role") == "assistant" and message_text(history[-1]).strip() == "…":
            history[-1] = {"role": "assistant", "content": "*Stopped.*"}
        if convo is not None:
            convo.run += 1
            convo.messages = history
        return history

    def clear() -> tuple[Any, ...]:
        off = gr.DownloadButton(value=None, interactive=False)
        return [], "", None, off, off, gr.Dropdown(value=None)

    def known(keys: list[str] | None) -> list[Conversation]:
        with lock:
            return [conversations[k] for k in keys or [] if isinstance(k, str) and k in conversations]

    def past_menu(keys: list[str] | None, value: str | None = None) -> Any:
        return gr.Dropdown(choices=[(c.label(), c.key) for c in known(keys)], value=value)

    def remember(convo: Conversation | None, keys: list[str] | None) -> tuple[Any, Any]:
        """After an answer: this conversation first in the browser's list of past ones."""
        if convo is None or not convo.asked:
            return gr.skip(), gr.skip()
        keys = [convo.key, *[k for k in keys or [] if k != convo.key]][:MAX_PAST]
        return keys, past_menu(keys, convo.key)

    def show(convo: Conversation) -> tuple[Any, ...]:
        return (convo.messages, convo.sources_html(), convo, *export(convo))

    def reopen(key: str | None) -> tuple[Any, ...]:
        with lock:
            convo = conversations.get(key or "")
        if convo is None:
            return (gr.skip(),) * 5
        return show(convo)

    def delete(key: str | None, keys: list[str] | None, convo: Conversation | None) -> tuple[Any, ...]:
        if not key:
            return (gr.skip(),) * 7
        with lock:
            if conversations.pop(key, None) is not None:
                drop_exports(key)
        keys = [k for k in keys or [] if k != key]
        if convo is not None and convo.key == key:
            shown = clear()[:5]
        else:
            shown = (gr.skip(),) * 5
        return (*shown, keys, past_menu(keys))

    def export(convo: Conversation | None) -> tuple[Any, Any]:
        if convo is None or not convo.session.history:
            off = gr.DownloadButton(value=None, interactive=False)
            return off, off
        session = convo.session
        folder = exports / convo.key
        folder.mkdir(exist_ok=True)
        stem = f"approach-bot-{convo.started:%Y-%m-%d-%H%M}"
        md, js = folder / f"{stem}.md", folder / f"{stem}.json"
        md.write_text(export_markdown(session.history, convo.scopes), "utf-8")
        js.write_text(export_json(session.history, convo.scopes), "utf-8")
        return gr.DownloadButton(value=str(md), interactive=True), gr.DownloadButton(value=str(js), interactive=True)

    def restore(keys: list[str] | None) -> tuple[Any, ...]:
        """On page load: this browser's latest conversation, if the server still holds it, and the list of its others."""
        convos = known(keys if isinstance(keys, list) else [])
        if not convos:
            return (gr.skip(),) * 6
        return (*show(convos[0]), past_menu([c.key for c in convos], convos[0].key))

    def select_cell(evt: gr.SelectData) -> tuple[str, Any, Any]:
        row, col = (evt.index if isinstance(evt.index, (list, tuple)) else (evt.index, 0))[:2]
        text, target = _cell_details(matrix, int(row), int(col))
        return text, target, gr.Button(interactive=target is not None)

    def ask_about(target: tuple[str, str] | None) -> tuple[Any, Any]:
        if not target:
            return gr.skip(), gr.skip()
        title, dim = target
        return f"How does {title} rate on {dim}?", gr.Tabs(selected="chat")

    def pick_example(evt: gr.SelectData) -> str:
        value = evt.value
        return str(value.get("text", "") if isinstance(value, dict) else value or "")

    def api_session(request: gr.Request | None, fresh: bool = False) -> ChatSession:
        key = getattr(request, "session_hash", None)
        if not key:
            return new_session()  # a caller without a session gets no shared history
        with lock:
            session = None if fresh else api_sessions.pop(key, None)
            session = session or new_session()
            api_sessions[key] = session
            api_sessions.move_to_end(key)
            while len(api_sessions) > MAX_API_SESSIONS:
                api_sessions.popitem(last=False)
            return session

    def doc_ids(scope: list[str] | None) -> list[str] | None:
        """The approaches a caller names (document ids or titles), or None for every approach."""
        if not scope:
            return None
        ids = []
        for name in scope:
            doc_id = name if name in titles else by_title.get(plain(str(name)).strip().lower())
            if doc_id is None:
                raise BotError(f"no approach {str(name)[:80]!r} in the index; use a document id or title from the filter")
            ids.append(doc_id)
        return ids

    def chat(message: str, scope: list[str] | None = None, request: gr.Request = None) -> str:  # type: ignore[assignment]  # gradio injects the request
        """Answer a question (follow-ups use this client's conversation): the text with [n] markers, then its sources.
        ``scope``: optional list of approaches (document ids or titles) to search, like the page's filter."""
        try:
            return api_text(api_session(request).ask(str(message)[:MAX_MESSAGE_CHARS], doc_ids=doc_ids(scope)))
        except BotError as exc:
            return f"error: {exc}"

    def ask_json(message: str, scope: list[str] | None = None, request: gr.Request = None) -> dict:  # type: ignore[assignment]  # gradio injects the request
        """Answer a question; the Answer as JSON (text, citations, abstained, query). ``scope`` as for /chat."""
        try:
            return api_session(request).ask(str(message)[:MAX_MESSAGE_CHARS], doc_ids=doc_ids(scope)).to_dict()
        except BotError as exc:
            return {"error": str(exc)}

    def new_chat(request: gr.Request = None) -> str:  # type: ignore[assignment]  # gradio injects the request
        """Start a new conversation for this client: the next question has no history."""
        api_session(request, fresh=True)
        return "new conversation"

    theme = gr.themes.Default(
        font=["ui-sans-serif", "system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"]
    )
    with gr.Blocks(title="approach-bot", analytics_enabled=False) as demo:
        gr.Markdown("## approach-bot\nAsk about AI-safety approaches — answers cite the rows of the documents' tables.")
        convo = gr.State(None)
        saved = gr.BrowserState([], storage_key="approach-bot-conversations")  # this browser's conversation keys
        target = gr.State(None)
        with gr.Tabs() as tabs:
            with gr.Tab("Chat", id="chat"):
                with gr.Row():
                    with gr.Column(scale=3):
                        chatbot = gr.Chatbot(
                            label="Conversation",
                            show_label=False,
                            height=460,
                            autoscroll=False,  # the page scrolls to the start of a new answer instead (JS)
                            sanitize_html=True,
                            allow_tags=False,
                            latex_delimiters=[],
                            buttons=["copy", "copy_all"],
                            feedback_options=None,
                            editable="user",
                            examples=[{"text": q} for q in examples],
                            placeholder="Ask about the approach documents, or pick an example:",
                            elem_id="chat",
                        )
                        with gr.Row():
                            box = gr.Textbox(
                                placeholder="Ask a question, e.g. " + (examples[0] if examples else "who should work on it?"),
                                show_label=False,
                                scale=5,
                                min_width=120,
                                elem_id="question",
                                max_length=MAX_MESSAGE_CHARS,
                            )
                            send = gr.Button("Ask", variant="primary", scale=1, min_width=64, elem_id="ask")
                        with gr.Row(elem_id="chat-actions"):
                            new = gr.Button("New chat", elem_id="new-chat", size="sm", min_width=80)
                            stop = gr.Button("Stop", elem_id="stop", size="sm", min_width=60)
                            md_button = gr.DownloadButton(
                                "Export Markdown", elem_id="export-md", size="sm", min_width=80, interactive=False
                            )
                            json_button = gr.DownloadButton(
                                "Export JSON", elem_id="export-json", size="sm", min_width=80, interactive=False
                            )
                        with gr.Accordion("Past conversations", open=False, elem_id="past"):
                            with gr.Row():
                                past = gr.Dropdown(
                                    choices=[], label="Reopen", scale=4, elem_id="past-list", interactive=True
                                )
                                forget = gr.Button("Delete", elem_id="delete-chat", size="sm", scale=1, min_width=60)
                    with gr.Column(scale=2, elem_id="sources-column"):
                        gr.Markdown("### Sources")
                        sources = gr.HTML(elem_id="sources")
                        scope = gr.Dropdown(
                            choices=approaches,
                            multiselect=True,
                            label="Limit the search to these approaches (optional)",
                            elem_id="scope",
                        )
            with gr.Tab("Approach map", id="map"):
                gr.Markdown(
                    "Ratings from each approach's Evaluation Summary. Select a rating to see its note and source.",
                    latex_delimiters=[],
                )
                grid = gr.Dataframe(
                    value=_map_value(matrix),
                    interactive=False,
                    elem_id="approach-map",
                    wrap=True,
                    column_widths=["24%", *[f"{76 // max(1, len(matrix.dimensions))}%"] * len(matrix.dimensions)],
                )
                details = gr.Markdown(
                    "Select a rating to see its note and source.", elem_id="cell-details", latex_delimiters=[]
                )
                ask_cell = gr.Button("Ask the chat about this rating", elem_id="ask-cell", interactive=False)

        private: dict[str, Any] = {"api_visibility": "private"}
        answer_out = [box, chatbot, sources, convo]
        answer_io = ([box, chatbot, convo, scope], answer_out)
        answering = []

        def answered(event: Any) -> None:
            answering.append(event)
            event.then(export, convo, [md_button, json_button], **private).then(
                remember, [convo, saved], [saved, past], **private
            )

        for trigger in (box.submit, send.click):
            answered(trigger(respond, *answer_io, trigger_mode="always_last", **private))
        answered(chatbot.example_select(pick_example, None, box, **private).then(respond, *answer_io, **private))
        answered(chatbot.retry(regenerate, [chatbot, convo, scope], answer_out, **private))
        answered(chatbot.edit(edit, [chatbot, convo, scope], answer_out, **private))
        answered(ask_cell.click(ask_about, target, [box, tabs], **private).then(respond, *answer_io, **private))
        stop.click(stopped, [chatbot, convo], chatbot, cancels=answering, **private)
        shown = [chatbot, sources, convo, md_button, json_button]
        for reset in (new.click, chatbot.clear):
            reset(clear, None, [*shown, past], **private)
        past.input(reopen, past, shown, **private)
        forget.click(delete, [past, saved, convo], [*shown, saved, past], **private)
        grid.select(select_cell, None, [details, target, ask_cell], **private)
        demo.load(restore, saved, [*shown, past], **private)
        # Straight HTTP calls, not the queue: an answer takes tens of milliseconds.
        gr.api(chat, api_name="chat", queue=False)
        gr.api(ask_json, api_name="ask", queue=False)
        gr.api(new_chat, api_name="new_chat", queue=False)
    demo.bot_theme = theme
    demo.exports_dir = exports  # removed when the server shuts down (see serve)
    return demo


class SecurityHeaders:
    """ASGI middleware: every response carries the CSP (before any script runs), no MIME sniffing,
    and no referrer, so a link to a source page does not tell that site where the chat runs."""

    HEADERS = (
        (b"content-security-policy", CSP.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
    )

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in self.HEADERS if k not in names]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class CutLongInputs:
    """ASGI middleware: every over-long text input of a request (a question) is cut to
    ``MAX_MESSAGE_CHARS`` before Gradio reads it. Gradio keeps each session's last inputs
    (for deep links), so a question cut only by the app would still be held, one per session;
    cut here, nothing stores or echoes it. A body over ``MAX_BODY_BYTES`` is refused (413).
    Bodies over a megabyte are read one at a time: concurrent big questions do not pile up."""

    def __init__(self, app: Any):
        self.app = app
        self.big: asyncio.Lock | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length", b"")
        if declared.isdigit() and int(declared) <= 2**20:
            read = await _read_body(receive)
        else:
            self.big = self.big or asyncio.Lock()
            async with self.big:
                read = await _read_body(receive)
        if read is None:  # the client went away
            return
        if len(read) > MAX_BODY_BYTES:
            await _reply(send, 413, {"detail": f"The request is over {MAX_BODY_BYTES // 2**20} MB."})
            return
        body = cut_inputs(read)
        del read
        headers = [(k, v) for k, v in scope.get("headers", []) if k.lower() != b"content-length"]
        scope = {**scope, "headers": [*headers, (b"content-length", str(len(body)).encode())]}
        await self.app(scope, _replaying(body, receive), send)


async def _read_body(receive: Any) -> bytearray | None:
    """A request's body, read up to one byte past ``MAX_BODY_BYTES``; None when the client disconnected."""
    body, more = bytearray(), True
    while more and len(body) <= MAX_BODY_BYTES:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        body += message.get("body", b"")
        more = message.get("more_body", False)
    return body


def cut_inputs(body: bytes | bytearray) -> bytes:
    """A Gradio call's JSON body with each text input (an item of ``data``) cut to ``MAX_MESSAGE_CHARS``;
    any other body as it came."""
    if len(body) <= MAX_MESSAGE_CHARS:  # no text in it can be longer
        return bytes(body)
    try:
        request = json.loads(body)
    except (ValueError, RecursionError):
        return bytes(body)
    data = request.get("data") if isinstance(request, dict) else None
    if not isinstance(data, list) or not any(isinstance(v, str) and len(v) > MAX_MESSAGE_CHARS for v in data):
        return bytes(body)
    request["data"] = [v[:MAX_MESSAGE_CHARS] if isinstance(v, str) else v for v in data]
    return json.dumps(request).encode()


def warm_up(index_dir: str | os.PathLike[str] | None = None, chroma_url: str | None = None) -> None:
    """Load the model and the question reader now, not on the first question."""
    from bot.retrieval import Index

    ChatSession(index_dir, chroma_url=chroma_url, llm="").ask("warm up: is cooperation possible?")
    _ = Index.open(index_dir, chroma_url).reader  # built on first use: now


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
    from starlette.middleware import Middleware

    if block and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)
    demo = build_app(index_dir, chroma_url)
    warm_up(index_dir, chroma_url)
    demo.queue(default_concurrency_limit=8)
    demo.launch(
        server_name=host,
        server_port=port,
        auth=auth,
        css=CSS,
        js=JS,
        head=HEAD,
        theme=demo.bot_theme,
        show_error=False,
        quiet=True,
        ssr_mode=False,
        prevent_thread_lock=not block,
        footer_links=["api"],
        state_session_capacity=MAX_SESSIONS,
        app_kwargs={
            "middleware": [Middleware(SecurityHeaders), Middleware(LoginGuard), Middleware(CutLongInputs)],
            "lifespan": _removing(demo.exports_dir),
        },
    )
    return demo


def _removing(folder: Path) -> Callable[[Any], Any]:
    """A server lifespan that removes ``folder`` (the conversations' export files) at shutdown."""
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(app: Any) -> Any:
        try:
            yield
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    return lifespan


def _interrupt(signum: int, frame: Any) -> None:
    """SIGTERM stops a serving ``bot chat`` as Ctrl-C does: the server shuts down and cleans up."""
    raise KeyboardInterrupt
