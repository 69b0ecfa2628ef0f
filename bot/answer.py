"""Grounded answers: composed only from retrieved passages, each cited ``[n]``.

No language model is involved. The shape of the answer follows the table the
evidence comes from: a crux table gives its question and both sides' arguments,
an Evaluation Summary row gives the rating and its note, other tables give
their rows with column names, prose is quoted. When the evidence is too weak
the composer abstains.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from bot import messages, ranking
from bot.lexical import stem
from bot.markdown import PATH_SEP, Chunk, Table
from bot.query import content_words
from bot.retrieval import Hit


@dataclass(frozen=True)
class Citation:
    """A numbered source of an answer."""

    n: int
    doc_id: str
    title: str
    section: str
    text: str
    score: float
    chunk_id: str = ""
    kind: str = "passage"
    table: Table | None = None
    row: int | None = None
    refs: tuple[tuple[str, str], ...] = ()  # the works the passage cites: (title, URL)
    url: str = ""  # the page on its site, when the corpus profile gives the site's address

    @property
    def path(self) -> str:
        return f"{self.title}{PATH_SEP}{self.section}"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["table"] = None if self.table is None else self.table.to_dict()
        return data


@dataclass(frozen=True)
class Answer:
    """An answer: markdown text with ``[n]`` markers and its citations."""

    question: str
    text: str
    citations: list[Citation] = field(default_factory=list)
    abstained: bool = False
    query: str = ""  # the standalone query that was searched
    notice: str = ""  # e.g. why an LLM answer fell back to the grounded one
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "query": self.query,
            "text": self.text,
            "citations": [c.to_dict() for c in self.citations],
            "abstained": self.abstained,
            "notice": self.notice,
            "seconds": self.seconds,
        }


def abstain(question: str, query: str = "", message: str = messages.NOT_FOUND) -> Answer:
    return Answer(question=question, text=message, citations=[], abstained=True, query=query or question)


def evidence_is_weak(hits: Sequence[Hit], cued: bool = False, named: bool = False) -> bool:
    """Whether the hits are too weak to answer from.

    ``cued``: the question's wording names the heading of a section among the
    best hits ("… tell me what I want to hear" and a section on sycophancy), so
    a lower similarity is still evidence; ``named``: the question names the page
    the hits are from in its own words (see :data:`ranking.MIN_SIMILARITY_OWN_NAME`).
    """
    best = max((h.dense for h in hits if h.dense is not None), default=0.0)
    least = ranking.MIN_SIMILARITY_CUED if cued else ranking.MIN_SIMILARITY
    if named:
        least = min(least, ranking.MIN_SIMILARITY_OWN_NAME)
    return not hits or best < least


class _Numbering:
    """Assigns ``[n]`` to chunks in the order the answer cites them."""

    def __init__(self, hits: Sequence[Hit]):
        self.score = {h.chunk.chunk_id: h.score for h in hits}
        self.citations: list[Citation] = []
        self._n: dict[str, int] = {}

    def cite(self, chunk: Chunk) -> str:
        n = self._n.get(chunk.chunk_id)
        if n is None:
            n = self._n[chunk.chunk_id] = len(self.citations) + 1
            self.citations.append(
                Citation(
                    n=n,
                    doc_id=chunk.doc_id,
                    title=chunk.title,
                    section=chunk.section,
                    text=chunk.text,
                    score=round(self.score.get(chunk.chunk_id, 0.0), 6),
                    chunk_id=chunk.chunk_id,
                    kind=chunk.kind,
                    table=chunk.table,
                    row=chunk.row,
                    refs=chunk.refs,
                )
            )
        return f"[{n}]"


@dataclass
class _Group:
    """Hits from one section of a page: its passages and its tables' rows."""

    key: str
    hits: list[Hit]

    @property
    def best(self) -> float:
        return max(h.score for h in self.hits)

    @property
    def dense(self) -> float:
        """The best cosine similarity of the group's hits to the question."""
        return max((h.dense for h in self.hits if h.dense is not None), default=0.0)

    @property
    def first(self) -> Chunk:
        return self.hits[0].chunk

    @property
    def table(self) -> Table | None:
        return self.first.table


def group_hits(hits: Sequence[Hit]) -> list[_Group]:
    """Hits grouped by section, in order of first appearance."""
    groups: dict[str, _Group] = {}
    for hit in hits:
        key = f"{hit.chunk.doc_id}::{hit.chunk.section}"
        groups.setdefault(key, _Group(key, [])).hits.append(hit)
    return list(groups.values())


def compose(question: str, hits: Sequence[Hit], query: str = "", judged: bool = False, also: Sequence[Hit] = ()) -> Answer:
    """A grounded, cited markdown answer from ``hits`` (best first).

    ``judged``: the caller has already found the hits strong enough to answer
    from (see :func:`evidence_is_weak`); otherwise weak evidence gets no answer.
    ``also``: the evidence of a second page the search could not tell from the
    answer's own: the answer names both pages first, the second by its best
    section, cited, and quotes that section briefly after its own."""
    query = query or question
    if not hits or (not judged and evidence_is_weak(hits)):
        return abstain(question, query)
    numbering = _Numbering([*hits, *also])
    focus = _focus(query)
    groups = [g for g in group_hits(hits) if any(not h.expanded for h in g.hits)]
    main, related = groups[0], _related(groups)
    parts = []
    other = next((h.chunk for h in also if _pointer(h) and h.chunk.doc_id != main.first.doc_id), None)
    if other is not None:  # named first, with its section and a citation
        pages = f"**{_md(main.first.title)}** {numbering.cite(main.first)} and {_heading(other)} {numbering.cite(other)}"
        parts.append(messages.LEAD_UNSURE.format(pages=pages))
    second = None
    if other is not None and f"{other.doc_id}::{other.section}" not in {g.key for g in (main, *related)}:
        # the second page's section, briefly: the ranking could not tell which of the two answers
        second = next((g for g in group_hits(also) if g.key == f"{other.doc_id}::{other.section}"), None)
    if second is not None:  # in the place of the last related section: answers stay short
        related = related[: max(0, ranking.MAX_RELATED - 1)]
    parts.append(_render(main, numbering, full=True, focus=focus))
    for group in related:
        parts.append(_render(group, numbering, full=False, focus=focus))
    if second is not None:  # one passage or row of it (a crux stays whole)
        brief = second if second.table is not None and second.table.crux else _Group(second.key, second.hits[:1])
        parts.append(_render(brief, numbering, full=False, focus=focus))
    text = "\n\n".join(p for p in parts if p)
    return Answer(question=question, text=text, citations=numbering.citations, abstained=False, query=query)


def compose_groups(question: str, query: str, evidence: Sequence[Sequence[Hit]]) -> Answer:
    """One section per approach (a comparison), each from its own evidence."""
    numbering = _Numbering([h for hits in evidence for h in hits])
    mains = [groups[0] for hits in evidence if (groups := [g for g in group_hits(hits) if any(not h.expanded for h in g.hits)])]
    if not mains:
        return abstain(question, query)
    named = [f"{_md(g.first.title)} {numbering.cite(g.first)}" for g in mains]
    lead = messages.LEAD_COMPARE.format(pages=" and ".join([", ".join(named[:-1]), named[-1]] if len(named) > 1 else named))
    focus = _focus(query)
    parts = [lead] + [_render(g, numbering, full=True, focus=focus) for g in mains]  # each side as fully as a lone answer
    return Answer(question=question, text="\n\n".join(parts), citations=numbering.citations, query=query)


def compose_listing(
    question: str, query: str, rows: Sequence[Sequence[Any]], dimensions: Sequence[str], rating: str | None
) -> Answer:
    """Approaches listed from the evaluation matrix, each citing its own rows.

    ``rows``: per approach, its :class:`~bot.matrix.Cell` on each dimension.
    """
    numbering = _Numbering([])
    dims = " and ".join(f"*{_md(d)}*" for d in dimensions)
    head = f"**Approaches rated {_md(rating)} on {dims}**" if rating else f"**Approaches by their rating on {dims}**"
    lines = [f"{head} ({len(rows)} of the approach pages):"]
    for cells in rows:
        first = cells[0]
        parts = []
        for cell in cells:
            label = f"{_md(cell.dimension)}: " if len(cells) > 1 else ""
            note = f" — {_md(cell.note)}" if cell.note else ""
            parts.append(f"{label}**{_md(cell.rating)}**{note} {numbering.cite(cell.chunk)}")
        lines.append(f"- **{_md(first.title)}**: " + "; ".join(parts))
    return Answer(question=question, text="\n".join(lines), citations=numbering.citations, query=query)


def cite_pages(
    head: str, groups: dict[str, list[Any]], catalog: Any, per_group: int, max_groups: int = 12
) -> tuple[str, list[Citation]]:
    """A listing of pages under ``head``, by folder, each title cited by the
    page's first passage; the largest folders first when there are many."""
    numbering = _Numbering([])
    lines = [head]
    shown = 0
    ordered = sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))[:max_groups]
    for folder, docs in sorted(ordered):
        items = []
        for doc in docs[:per_group]:
            first = next((c for c in catalog.document_chunks(doc.doc_id) if c.kind == "passage" or c.kind == "row"), None)
            if first is not None:
                what = _gist(doc.description) if not folder and doc.description else ""
                items.append(f"{_md(doc.title)}{f' — {_md(what)}' if what else ''} {numbering.cite(first)}")
                shown += 1
        if not items:
            continue
        more = f" (+{len(docs) - len(items)} more)" if len(docs) > len(items) else ""
        lines.append(f"- **{_md(folder)}**: " + "; ".join(items) + more if folder else "- " + "\n- ".join(items))
    total = sum(len(d) for d in groups.values())
    if total > shown and len(groups) > 1:
        lines.append(messages.CATALOG_MORE.format(more=total - shown))
    return "\n".join(lines), numbering.citations


def _pointer(hit: Hit) -> bool:
    """Whether a hit can stand for its section in a lead sentence: not a crux
    row (a crux is given whole, its sides with it, or not at all)."""
    return not hit.expanded and not (hit.chunk.table is not None and hit.chunk.table.crux)


def _gist(text: str, limit: int = 120) -> str:
    """A page's description cut to its first sentence, at most ``limit`` characters."""
    first = re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0]
    if len(first) <= limit:
        return first
    cut = first.rfind(" ", 0, limit)
    return first[: cut if cut > 0 else limit].rstrip(",;:") + " …"


def _related(groups: list[_Group]) -> list[_Group]:
    """Other groups worth a block: close in score to the main one and at least
    as similar to the question. None after what the question asked for by
    structure (a rating, a named section): nothing it did not ask for."""
    if len(groups) < 2:
        return []
    main = groups[0]
    if any(h.pinned for h in main.hits):  # asked for by structure: all of it, and nothing else
        return [g for g in groups[1:] if any(h.pinned for h in g.hits)][:ranking.MAX_PINNED_GROUPS]
    picked = [g for g in groups[1:] if g.best >= ranking.RELATED_SHARE * main.best and g.dense >= main.dense - ranking.RELATED_DENSE_SLACK]
    return picked[:ranking.MAX_RELATED]


def _render(group: _Group, numbering: _Numbering, full: bool, focus: frozenset[str] = frozenset()) -> str:
    """A section's evidence: its passages (in page order), then each table."""
    parts = []
    tables: dict[str, list[Hit]] = {}
    for hit in group.hits:
        if hit.chunk.table is not None:
            tables.setdefault(hit.chunk.table.table_id, []).append(hit)
    crux = any(table.crux for hits in tables.values() if (table := hits[0].chunk.table) is not None)
    passages = sorted((h for h in group.hits if h.chunk.table is None), key=lambda h: h.chunk.position)
    if passages and not full:
        passages = passages[:1]

    def prose() -> str:  # rendered where it stands, so that citations number in reading order
        return "\n\n".join(_render_passage(h.chunk, numbering, full, heading=i == 0 and not crux, focus=focus) for i, h in enumerate(passages))

    if passages and not crux:
        parts.append(prose())
    for hits in tables.values():
        part = _Group(hits[0].chunk.table.table_id if hits[0].chunk.table else "", hits)
        parts.append(_render_table(part, numbering, full, heading=not parts))
    if passages and crux:  # a crux leads with the sentence saying it is open; what its section says follows
        parts.append(prose())
    return "\n".join(parts)


def _render_table(group: _Group, numbering: _Numbering, full: bool, heading: bool) -> str:
    table = group.table
    assert table is not None
    if table.crux:
        return _render_crux(group, numbering, full)
    if table.kind == "assessment":
        return _render_assessment(group, numbering, heading)
    return _render_rows(group, numbering, full, heading)


def _heading(chunk: Chunk) -> str:
    return f"**{_md(chunk.title)}{PATH_SEP}{_md(chunk.section)}**"


def _render_crux(group: _Group, numbering: _Numbering, full: bool) -> str:
    """A crux whole, never cut: a lead sentence saying it is contested, then
    each side with its arguments (columns as sides, or one row per position)."""
    chunks = sorted((h.chunk for h in group.hits), key=lambda c: c.row or 0)
    table = chunks[0].table
    assert table is not None
    question = table.question
    positions = table.by_position
    sides = f"{len(chunks)} positions" if positions else " and ".join(f"“{_md(h)}”" for h in table.headers)
    lead = messages.LEAD_CRUX.format(question=f"**{_md(question)}**, {_md(chunks[0].title)}", sides=sides)
    lines = [f"{lead} {numbering.cite(chunks[0])}"]
    if positions:
        for chunk in chunks:
            cells = [(h, c) for h, c in chunk.cells if c]
            if cells:
                rest = "; ".join(f"{_md(h)}: {_md(c)}" for h, c in cells[1:])
                lines.append(f"- **{_md(cells[0][1])}**" + (f" — {rest}" if rest else "") + f" {numbering.cite(chunk)}")
        return "\n".join(lines)
    by_row = [(c, c.cells) for c in chunks]
    for col, header in enumerate(table.headers):
        args = [f"{_md(row[col][1])} {numbering.cite(c)}" for c, row in by_row if col < len(row) and row[col][1]]
        if args:
            lines.append(f"- **{_md(header)}**: " + "; ".join(args))
    return "\n".join(lines)


def _render_assessment(group: _Group, numbering: _Numbering, heading: bool = True) -> str:
    lines = []
    asked = [h for h in group.hits if h.pinned]
    for hit in asked or group.hits:
        if hit.expanded:
            continue
        cells = dict(hit.chunk.cells)
        keys = list(cells)
        dimension = cells.get(keys[0], "")
        rating = next((cells[k] for k in keys if k.lower() in ("assessment", "rating")), "")
        note = next((cells[k] for k in keys if k.lower() in ("notes", "note")), "")
        sentence = f"**{_md(hit.chunk.title)}** rates **{_md(rating)}** on *{_md(dimension)}*"
        sentence += f": {_md(note)}" if note else ""
        lines.append(f"- {sentence} {numbering.cite(hit.chunk)}")
        if len(lines) >= (4 if asked else 2):
            break
    return (f"{_heading(group.first)}\n" if heading else "") + "\n".join(lines)


def _render_rows(group: _Group, numbering: _Numbering, full: bool, heading: bool = True) -> str:
    if full:
        hits = sorted(group.hits, key=lambda h: h.chunk.row or 0)
    else:
        hits = [h for h in group.hits if not h.expanded][:2]
    lines = []
    for hit in hits:
        cells = [(h, c) for h, c in hit.chunk.cells if c]
        if not cells:
            continue
        lead = f"**{_md(cells[0][1])}**"
        rest = "; ".join(f"{_md(h)}: {_md(c)}" for h, c in cells[1:])
        lines.append(f"- {lead}" + (f" — {rest}" if rest else "") + f" {numbering.cite(hit.chunk)}")
    return (f"{_heading(group.first)}\n" if heading else "") + "\n".join(lines)


def _render_passage(chunk: Chunk, numbering: _Numbering, full: bool, heading: bool = True, focus: frozenset[str] = frozenset()) -> str:
    body = chunk.body
    limit = ranking.MAX_QUOTE if full else ranking.MAX_QUOTE // 2
    if len(body) > limit:
        start = _focused_start(body, limit, focus)
        body = body[start:]
        if len(body) > limit:
            cut = body.rfind("\n", 0, limit)
            body = body[: cut if cut > limit // 2 else limit].rstrip() + " …"
        if start:
            body = "… " + body
    lines = body.split("\n")
    if len(lines) > 1:  # a list or several paragraphs: cited once, on the line that leads them
        lead = f"{_heading(chunk)} {numbering.cite(chunk)}" if heading else f"{_md(lines.pop(0))} {numbering.cite(chunk)}"
        out = [lead]
        for line in lines:
            if not _LIST_ITEM.match(line) and out and _LIST_ITEM.match(out[-1]):
                out.append("")  # a lead-in after a list starts a paragraph of its own, not the last item's
            out.append(_md(line, keep_list=True))
        return "\n".join(out)
    head = f"{_heading(chunk)}\n" if heading else ""
    return f"{head}{_md(body)} {numbering.cite(chunk)}"


_LIST_ITEM = re.compile(r"^\s*(?:-|\d+\.)\s")
_SENTENCE_START = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“(])|\n+")


def _focus(query: str) -> frozenset[str]:
    """The stems of the question's own words (a quote is cut around them)."""
    return frozenset(stem(w) for w in content_words(query) if len(w) > 2)


def _focused_start(body: str, limit: int, focus: frozenset[str]) -> int:
    """Where to start quoting a passage longer than ``limit``: its opening, unless
    a later sentence starts a stretch that holds more of the question's words."""
    if not focus or any(_LIST_ITEM.match(line) for line in body.split("\n")):  # a list is quoted from its lead
        return 0
    heads = {word[:3] for word in focus}  # a stem keeps its word's first letters: only those words are stemmed
    found = [
        (m.start(), stemmed)
        for m in re.finditer(r"[a-z0-9]+", body.lower())
        if m.group(0)[:3] in heads and (stemmed := stem(m.group(0))) in focus
    ]

    def held(start: int) -> int:
        return len({word for at, word in found if start <= at < start + limit})

    best, most = 0, held(0)
    for start in (m.end() for m in _SENTENCE_START.finditer(body)):
        count = held(start)
        if count >= most + ranking.FOCUS_MARGIN:
            best, most = start, count
    return best


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")


@functools.lru_cache(maxsize=8192)
def _md(text: str, keep_list: bool = False) -> str:
    """Document text made inert in markdown: markup characters escaped."""
    lead = ""
    if keep_list:
        match = re.match(r"^(\s*(?:-|\d+\.)\s)", text)
        if match:
            lead, text = match.group(1), text[match.end() :]
    return lead + _MD_SPECIAL.sub(r"\\\1", text)
