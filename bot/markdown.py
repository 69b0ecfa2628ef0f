"""Markdown approach documents → typed chunks.

Every table row becomes its own chunk, serialized with its column headers and
its context path (``Title › Section — Header: cell | Header: cell``) and
carrying its whole table. Prose, lists and bold lead-ins are chunked by section
with the heading path prefixed. Nothing here embeds or stores anything.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from bot.errors import CorpusError
from bot.profile import Profile

log = logging.getLogger(__name__)

#: Bump when chunk texts or metadata change shape; the manifest records it.
CHUNKER_VERSION = "6"

#: The separator between a chunk's title and its section.
PATH_SEP = " › "

#: Prose chunks are cut at block boundaries past this many characters.
MAX_PROSE_CHARS = 1200

#: Files larger than this are skipped with a warning.
MAX_FILE_BYTES = 8 * 1024 * 1024

OVERVIEW = "Overview"

#: Front matter keys whose text summarises the page (the page-level passage).
SUMMARY_KEYS = ("description", "llmSummary", "summary")

TableKind = Literal["assessment", "crux", "summary", "table"]
#: A window chunk holds about this many characters of the page as read
#: (headings, passages, rows), and overlaps the next by :data:`WINDOW_OVERLAP`:
#: like the standard 1,000/200 splitter, it carries a page's context, which
#: finds the right page and table for questions worded unlike any single row.
#: (Per-section summaries were tried beside the windows and measured worse on
#: the dev prompts.)
WINDOW_CHARS = 1000
WINDOW_OVERLAP = 200

#: ``window`` chunks are searched, never cited: a hit on one counts for the
#: rows and passages it holds (``members``).
ChunkKind = Literal["row", "passage", "window"]
SUMMARY_KINDS = ("window",)

#: A work a passage links to: (title, URL).
Reference = tuple[str, str]


@dataclass(frozen=True)
class Table:
    """A markdown table with the section it sits in."""

    table_id: str
    section: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    kind: TableKind

    @property
    def crux(self) -> bool:
        """A crux: two sides as columns, or one row per position (a ``<Crux>``),
        under a heading that says it is one."""
        if self.kind == "crux":
            return True
        return self.by_position and _CRUX_HEADING.match(self.section.split(PATH_SEP)[-1]) is not None

    @property
    def by_position(self) -> bool:
        """One row per position (Position | Probability | Holders | …), not one column per side."""
        return bool(self.headers) and self.headers[0].lower() == "position"

    @property
    def question(self) -> str:
        """The question a crux asks: its heading without "Crux 2:"."""
        return crux_question(self.section.split(PATH_SEP)[-1])

    def to_dict(self) -> dict[str, Any]:
        """The table as JSON data (the catalog, citations and the LangChain metadata use it)."""
        return {
            "table_id": self.table_id,
            "section": self.section,
            "headers": list(self.headers),
            "rows": [list(r) for r in self.rows],
            "kind": self.kind,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Table:
        return cls(
            table_id=data["table_id"],
            section=data["section"],
            headers=tuple(data["headers"]),
            rows=tuple(tuple(r) for r in data["rows"]),
            kind=data["kind"],
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)


@dataclass(frozen=True)
class Chunk:
    """One retrievable passage: a table row or a piece of a section's prose."""

    chunk_id: str
    doc_id: str
    title: str
    section: str
    kind: ChunkKind
    text: str
    body: str
    position: int
    text_hash: str
    table: Table | None = None
    row: int | None = None
    refs: tuple[Reference, ...] = ()  # the works this passage links to
    members: tuple[str, ...] = ()  # of a window chunk: the ids of the chunks it holds

    @property
    def cells(self) -> tuple[tuple[str, str], ...]:
        """``(header, cell)`` pairs of a row chunk; empty for prose."""
        if self.table is None or self.row is None:
            return ()
        return tuple(zip(self.table.headers, self.table.rows[self.row]))

    @property
    def path(self) -> str:
        """``Title › Section``."""
        return f"{self.title}{PATH_SEP}{self.section}"


@dataclass(frozen=True)
class Document:
    """A parsed approach document."""

    doc_id: str
    path: Path
    title: str
    description: str
    metadata: Mapping[str, Any]
    chunks: tuple[Chunk, ...]
    tables: tuple[Table, ...]
    warnings: tuple[str, ...] = ()
    digest: str = ""  # sha256 of the file's bytes: an unchanged file need not be parsed again


@dataclass(frozen=True)
class Problem:
    """A file the loader could not use as it was, and why."""

    path: str
    message: str
    skipped: bool


@dataclass(frozen=True)
class Corpus:
    """The result of loading a folder: the documents and the problems met."""

    root: Path
    documents: tuple[Document, ...]
    problems: tuple[Problem, ...] = field(default=())
    excluded: tuple[str, ...] = ()  # files the profile excludes (maintainer notes, …)


# ---------------------------------------------------------------------------
# Loading


def load_corpus(
    root: str | os.PathLike[str],
    reuse: Callable[[str, str], Document | None] | None = None,
    profile: Profile | None = None,
) -> Corpus:
    """Load every document (``.md`` and ``.mdx`` by default) under ``root``, recursively.

    A file that cannot be used is reported as a :class:`Problem` and skipped;
    the rest still load. Files the profile excludes are listed in
    :attr:`Corpus.excluded`. ``reuse(doc_id, digest)`` may return the document
    as parsed before from the same bytes (re-indexing parses only changed files).

    Raises:
        CorpusError: ``root`` is not a readable folder.
    """
    root = Path(root)
    if not root.is_dir():
        raise CorpusError(f"corpus folder not found: {root}")
    profile = profile or Profile()
    reader = _Reader(profile, root)
    documents: list[Document] = []
    problems: list[Problem] = []
    excluded: list[str] = []
    for path in _document_files(root, profile, problems):
        rel = path.relative_to(root).as_posix()
        if profile.excluded(rel):
            excluded.append(rel)
            continue
        try:
            raw = path.read_bytes()
        except OSError as exc:
            problems.append(Problem(rel, f"unreadable: {exc.strerror or exc}", True))
            continue
        doc_id = _doc_id(rel)
        digest = hashlib.sha256(raw).hexdigest()
        known = reuse(doc_id, digest) if reuse else None
        try:
            doc = replace(known, path=path) if known else reader.parse(raw, doc_id=doc_id, path=path, digest=digest)
        except CorpusError as exc:
            problems.append(Problem(rel, str(exc), True))
            continue
        for warning in doc.warnings:
            problems.append(Problem(rel, warning, False))
        documents.append(doc)
    problems.extend(_duplicate_titles(documents, root))
    for problem in problems:
        log.debug("%s: %s%s", problem.path, problem.message, " (skipped)" if problem.skipped else "")
    return Corpus(root=root, documents=tuple(documents), problems=tuple(problems), excluded=tuple(excluded))


def _doc_id(rel: str) -> str:
    """A document's id: its corpus-relative path without the extension."""
    return rel.rsplit(".", 1)[0] if "." in rel.rsplit("/", 1)[-1] else rel


def _duplicate_titles(documents: Sequence[Document], root: Path) -> list[Problem]:
    """A warning for each document whose title another document also has."""
    by_title: dict[str, list[Document]] = {}
    for doc in documents:
        by_title.setdefault(doc.title.casefold(), []).append(doc)
    found = []
    for doc in documents:
        others = [_rel(d, root) for d in by_title[doc.title.casefold()] if d is not doc]
        if others:
            found.append(Problem(_rel(doc, root), f"same title '{doc.title}' as {', '.join(others)}", False))
    return found


def _rel(doc: Document, root: Path) -> str:
    """The document's file, relative to the corpus folder."""
    try:
        return doc.path.relative_to(root).as_posix()
    except ValueError:
        return doc.doc_id


def _document_files(root: Path, profile: Profile, problems: list[Problem]) -> Iterator[Path]:
    """Every document file under root, sorted, following no symlink loop and
    no link that leads out of the corpus folder."""
    seen: set[tuple[int, int]] = set()
    real_root = root.resolve()

    def unlistable(exc: OSError) -> None:  # os.walk would skip a folder it cannot list silently
        try:
            where = Path(exc.filename).relative_to(root).as_posix() if exc.filename else "."
        except ValueError:
            where = str(exc.filename)
        problems.append(Problem(where, f"unreadable folder: {exc.strerror or exc}", True))

    for dirpath, dirnames, filenames in os.walk(root, followlinks=True, onerror=unlistable):
        here = Path(dirpath)
        try:
            st = here.stat()
        except OSError as exc:
            problems.append(Problem(here.relative_to(root).as_posix(), f"unreadable folder: {exc}", True))
            dirnames[:] = []
            continue
        key = (st.st_dev, st.st_ino)
        if key in seen:
            problems.append(Problem(here.relative_to(root).as_posix(), "symlink loop", True))
            dirnames[:] = []
            continue
        seen.add(key)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if not profile.is_document(name) or name.startswith("."):
                continue
            path = here / name
            if not path.exists():
                problems.append(Problem(path.relative_to(root).as_posix(), "broken symlink", True))
                continue
            if not path.resolve().is_relative_to(real_root):
                problems.append(Problem(path.relative_to(root).as_posix(), "links to a file outside the corpus folder", True))
                continue
            if not path.is_file():  # a FIFO would block read_bytes forever
                problems.append(Problem(path.relative_to(root).as_posix(), "not a regular file", True))
                continue
            yield path


def parse_document(raw: bytes, doc_id: str, path: Path | None = None, digest: str = "") -> Document:
    """Parse one document's bytes into chunks, with the default profile.

    Raises:
        CorpusError: the bytes are not a usable markdown document.
    """
    return _Reader(Profile()).parse(raw, doc_id, path, digest)


class _Reader:
    """Parses documents as one corpus profile says (MDX components, data folder, noise tables)."""

    def __init__(self, profile: Profile, root: Path | None = None):
        self.profile = profile
        self.root = root or Path(".")
        self._data: Any = None
        self._rules: Any = None

    def data(self) -> Any:
        """The profile's data folder (entities and references), opened once."""
        if self._data is None:
            from bot.mdx import DataFolder

            self._data = DataFolder(self.profile.data_folder(self.root))
        return self._data

    def rules(self) -> Any:
        """What the profile says MDX components mean."""
        if self._rules is None:
            from bot.mdx import ComponentRules

            self._rules = ComponentRules.from_mapping(self.profile.components)
        return self._rules

    def parse(self, raw: bytes, doc_id: str, path: Path | None = None, digest: str = "") -> Document:
        """Raises:
            CorpusError: the bytes are not a usable document.
        """
        warnings: list[str] = []
        if len(raw) > MAX_FILE_BYTES:
            raise CorpusError(f"too large ({len(raw) // 1024} KiB > {MAX_FILE_BYTES // 1024} KiB)")
        if b"\x00" in raw[:8192]:
            raise CorpusError("binary file, not markdown")
        text = _decode(raw, warnings)
        text, repaired = _repair(text)
        if repaired:
            warnings.append("repaired mis-encoded text (mojibake)")
        metadata, body = _front_matter(text, warnings)
        if path is not None and path.suffix.lower() == ".mdx":
            body = self._mdx(body, metadata, warnings)
        if not body.strip():
            raise CorpusError("no content" if not metadata else "front matter only, no content")
        title = _scalar_text(metadata.get("title"))
        summary = [t for t in dict.fromkeys(_scalar_text(metadata.get(k)) for k in SUMMARY_KEYS) if t]
        if not metadata:
            warnings.append("no front matter: title taken from the first heading or the file name")
        blocks = _blocks(body)
        if not title:
            title = next((b.text for b in blocks if isinstance(b, _Heading) and b.level == 1), "")
            title = title or Path(doc_id).name.replace("-", " ").replace("_", " ").title()
        title = " ".join(_clean(title).split())  # one plain line: no newline or bidi control forges output
        chunks, tables = _chunk(doc_id, title, summary, blocks, warnings, self.profile)
        if not chunks:
            raise CorpusError("no text to index")
        return Document(
            doc_id=doc_id,
            path=path or Path(doc_id + ".md"),
            title=title,
            description=summary[0] if summary else "",
            metadata=metadata,
            chunks=tuple(chunks),
            tables=tuple(tables),
            warnings=tuple(warnings),
            digest=digest or hashlib.sha256(raw).hexdigest(),
        )

    def _mdx(self, body: str, metadata: Mapping[str, Any], warnings: list[str]) -> str:
        from bot.mdx import mdx_to_markdown

        entity = _scalar_text(metadata.get("entityId") or metadata.get("entity")) or None
        converted, said = mdx_to_markdown(body, self.data(), self.rules(), page_entity=entity)
        warnings.extend(said)
        return converted


def _decode(raw: bytes, warnings: list[str]) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        warnings.append(f"invalid UTF-8 at byte {exc.start}: undecodable bytes replaced")
        return raw.decode("utf-8", errors="replace")


def _repair(text: str) -> tuple[str, bool]:
    """Undo mojibake (UTF-8 read as cp1252/latin-1) with ftfy; nothing else."""
    import ftfy

    fixed = ftfy.fix_encoding(text)
    return fixed, fixed != text


def _front_matter(text: str, warnings: list[str]) -> tuple[dict[str, Any], str]:
    import frontmatter
    import yaml

    try:
        post = frontmatter.loads(text, handler=frontmatter.detect_format(text.strip(), _front_matter_handlers()))
    except (yaml.YAMLError, ValueError, TypeError, RecursionError) as exc:
        problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        warnings.append(f"malformed YAML front matter ignored ({problem})")
        match = re.match(r"\A---\s*\n.*?\n---\s*(?:\n|\Z)", text, re.S)
        return {}, text[match.end() :] if match else text
    metadata = dict(post.metadata)
    if not isinstance(post.metadata, Mapping):  # pragma: no cover - library guarantees a dict
        metadata = {}
    return {str(k): v for k, v in metadata.items()}, post.content


def _front_matter_handlers() -> list[Any]:
    """YAML (with the pure-Python loader: libyaml's C parser crashes the process
    on deeply nested front matter) and JSON, as python-frontmatter detects them."""
    import yaml
    from frontmatter.default_handlers import JSONHandler, YAMLHandler

    class _PurePythonYAML(YAMLHandler):
        def load(self, fm: str, **kwargs: object) -> Any:
            kwargs.setdefault("Loader", yaml.SafeLoader)
            return super().load(fm, **kwargs)

    return [_PurePythonYAML(), JSONHandler()]


def _scalar_text(value: Any) -> str:
    """A front matter value as text ("" when it is nested too deeply to print)."""
    try:
        return str(value or "").strip()
    except RecursionError:
        return ""


# ---------------------------------------------------------------------------
# Markdown blocks


@dataclass(frozen=True)
class _Heading:
    level: int
    text: str


@dataclass(frozen=True)
class _Para:
    text: str
    lead_in: bool  # starts with a bold phrase: ``**Tension**: …``
    links: tuple[Reference, ...] = ()


@dataclass(frozen=True)
class _List:
    items: tuple[str, ...]
    links: tuple[Reference, ...] = ()


@dataclass(frozen=True)
class _TableBlock:
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    ragged: tuple[int, ...] = ()  # 1-based rows whose source has more or fewer cells than the header
    row_links: tuple[tuple[Reference, ...], ...] = ()


_Block = _Heading | _Para | _List | _TableBlock


_PARSER: Any = None


def _parser() -> Any:
    """One markdown-it parser for every document (building one costs ~1 ms)."""
    global _PARSER
    if _PARSER is None:
        from markdown_it import MarkdownIt

        _PARSER = MarkdownIt("commonmark", {"html": True}).enable("table")
    return _PARSER


def _blocks(body: str) -> list[_Block]:
    """The document as a flat list of headings, paragraphs, lists and tables."""
    tokens = _parser().parse(body)
    lines = re.split(r"\r\n?|\n", body)
    blocks: list[_Block] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.type == "heading_open":
            blocks.append(_Heading(int(tok.tag[1:]), _inline_text(tokens[i + 1])))
            i += 3
        elif tok.type == "table_open":
            end = _close(tokens, i)
            blocks.append(_table(tokens[i : end + 1], lines))
            i = end + 1
        elif tok.type in ("bullet_list_open", "ordered_list_open"):
            end = _close(tokens, i)
            items = tuple(_list_items(tokens[i : end + 1]))
            if items:
                blocks.append(_List(items, _links(tokens[i : end + 1])))
            i = end + 1
        elif tok.type == "paragraph_open":
            inline = tokens[i + 1]
            text = _inline_text(inline)
            if text:
                children = [c for c in inline.children or [] if c.type != "text" or c.content]
                lead = bool(children) and children[0].type == "strong_open"
                blocks.append(_Para(text, lead, _links([inline])))
            i += 3
        elif tok.type in ("fence", "code_block", "html_block"):
            if tok.content.strip():
                blocks.append(_Para(tok.content.strip(), False))
            i += 1
        else:
            i += 1
    return blocks


def _close(tokens: Sequence[Any], start: int) -> int:
    depth = 0
    for j in range(start, len(tokens)):
        depth += tokens[j].nesting
        if depth == 0:
            return j
    return len(tokens) - 1


def _links(tokens: Sequence[Any]) -> tuple[Reference, ...]:
    """The web links in these tokens: (title or link text, URL)."""
    found: list[Reference] = []
    for tok in tokens:
        children = tok.children or []
        for n, child in enumerate(children):
            if child.type != "link_open":
                continue
            href = str(child.attrs.get("href") or "")
            if not href.startswith(("http://", "https://")):
                continue
            title = str(child.attrs.get("title") or "")
            if not title:
                text = []
                for inner in children[n + 1 :]:
                    if inner.type == "link_close":
                        break
                    text.append(inner.content)
                title = _clean("".join(text))
            found.append((title or href, href))
    return tuple(dict.fromkeys(found))


def _inline_text(tok: Any) -> str:
    """Plain text of an inline token: markup dropped, link text kept."""
    parts: list[str] = []
    for child in tok.children or []:
        if child.type in ("text", "code_inline", "html_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image":
            parts.append(child.content)
    return _clean("".join(parts))


def _clean(text: str) -> str:
    text = "".join(ch if ch.isprintable() or ch in "\n\t" else " " for ch in text)
    return re.sub(r"[ \t]+", " ", text).strip()


def _table(tokens: Sequence[Any], lines: Sequence[str] = ()) -> _TableBlock:
    headers: list[str] = []
    rows: list[list[str]] = []
    current: list[str] | None = None
    in_head = False
    counts: list[int | None] = []  # cells of each body row in the source
    links: list[tuple[Reference, ...]] = []
    current_links: list[Any] = []
    for tok in tokens:
        if tok.type == "thead_open":
            in_head = True
        elif tok.type == "thead_close":
            in_head = False
        elif tok.type == "tr_open":
            current = []
            current_links = []
            if not in_head:
                line = tok.map[0] if tok.map else -1
                counts.append(_source_cells(lines[line]) if 0 <= line < len(lines) else None)
        elif tok.type == "tr_close" and current is not None:
            if in_head:
                headers = current
            else:
                rows.append(current)
                links.append(_links(current_links))
            current = None
        elif tok.type == "inline" and current is not None:
            current.append(_inline_text(tok))
            current_links.append(tok)
    width = len(headers)
    fixed = [tuple((r + [""] * width)[:width]) for r in rows]
    ragged = tuple(n + 1 for n, count in enumerate(counts) if count is not None and count != width)
    return _TableBlock(tuple(h or f"Column {n + 1}" for n, h in enumerate(headers)), tuple(fixed), ragged, tuple(links))


def _source_cells(line: str) -> int:
    """How many cells a table row's source line has (as markdown-it splits it)."""
    cells = re.split(r"(?<!\\)\|", re.sub(r"^[\s>]*", "", line).strip())
    if cells and cells[0] == "":
        cells.pop(0)
    if cells and cells[-1] == "":
        cells.pop()
    return len(cells)


def _list_items(tokens: Sequence[Any]) -> Iterator[str]:
    """Each item of a (possibly nested) list as a line, nested ones indented."""
    depth = 0
    numbered: list[bool] = []
    counters: list[int] = []
    for tok in tokens:
        if tok.type in ("bullet_list_open", "ordered_list_open"):
            numbered.append(tok.type == "ordered_list_open")
            counters.append(int(tok.attrs.get("start", 1) or 1) - 1 if tok.attrs else 0)
            depth += 1
        elif tok.type in ("bullet_list_close", "ordered_list_close"):
            numbered.pop()
            counters.pop()
            depth -= 1
        elif tok.type == "list_item_open":
            counters[-1] += 1
        elif tok.type == "inline" and depth:
            text = _inline_text(tok)
            if text:
                marker = f"{counters[-1]}." if numbered[-1] else "-"
                yield "  " * (depth - 1) + f"{marker} {text}"


# ---------------------------------------------------------------------------
# Chunking


def _chunk(
    doc_id: str,
    title: str,
    summary: Sequence[str],
    blocks: list[_Block],
    warnings: list[str],
    profile: Profile | None = None,
) -> tuple[list[Chunk], list[Table]]:
    chunks: list[Chunk] = []
    tables: list[Table] = []
    heads: list[tuple[int, str]] = []
    group: list[tuple[str, tuple[Reference, ...]]] = []
    intro = [(text, ()) for text in summary]  # the page-level passage: title, description, summary

    def section() -> str:
        names = [t for lvl, t in heads if not (lvl == 1 and t == title)]
        return PATH_SEP.join(names) or OVERVIEW

    def add(
        kind: ChunkKind,
        body: str,
        table: Table | None = None,
        row: int | None = None,
        refs: Sequence[Reference] = (),
        sec: str | None = None,
        members: Sequence[str] = (),
    ) -> None:
        sec = section() if sec is None else sec
        text = f"{title}{PATH_SEP}{sec} — {body}"
        digest = hashlib.sha1(text.encode("utf-8")).hexdigest()
        position = len(chunks)
        chunks.append(
            Chunk(
                chunk_id=f"{doc_id}::{position:05d}::{digest[:12]}",
                doc_id=doc_id,
                title=title,
                section=sec,
                kind=kind,
                text=text,
                body=body,
                position=position,
                text_hash=digest,
                table=table,
                row=row,
                refs=tuple(dict.fromkeys(refs)),
                members=tuple(members),
            )
        )

    def flush() -> None:
        if not group:
            return
        piece: list[str] = []
        refs: list[Reference] = []
        size = 0
        for unit, links in group:
            if piece and size + len(unit) > MAX_PROSE_CHARS:
                add("passage", "\n".join(piece), refs=refs)
                piece, refs, size = [], [], 0
            piece.append(unit)
            refs.extend(links)
            size += len(unit) + 1
        if piece:
            add("passage", "\n".join(piece), refs=refs)
        group.clear()

    group.extend(intro)
    for block in blocks:
        if isinstance(block, _Heading):
            flush()
            if block.level == 1 and block.text == title:
                continue
            while heads and heads[-1][0] >= block.level:
                heads.pop()
            heads.append((block.level, block.text))
        elif isinstance(block, _Para):
            if block.lead_in and group != intro:
                flush()  # a bold lead-in starts a chunk; the description stays with the intro
            group.append((block.text, block.links))
        elif isinstance(block, _List):
            group.append(("\n".join(block.items), block.links))
        elif isinstance(block, _TableBlock):
            flush()
            if not block.headers:
                continue
            if not block.rows:
                warnings.append(f"table without rows under '{section()}'")
                continue
            if profile is not None and profile.noise(block.headers, block.rows[0]):
                continue
            if block.ragged:
                which = ", ".join(map(str, block.ragged))
                warnings.append(
                    f"table under '{section()}': row(s) {which} have more or fewer cells than its "
                    f"{len(block.headers)} column headers (missing cells left empty, extra cells dropped)"
                )
            table = Table(
                table_id=f"{doc_id}#t{len(tables) + 1}",
                section=section(),
                headers=block.headers,
                rows=block.rows,
                kind=_table_kind(section(), block.headers),
            )
            tables.append(table)
            for n, cells in enumerate(block.rows):
                pairs = [f"{h}: {c}" for h, c in zip(block.headers, cells) if c]
                if pairs:
                    links = block.row_links[n] if n < len(block.row_links) else ()
                    add("row", " | ".join(pairs), table, n, links)
    flush()
    cited = list(chunks)
    for sec, body, members in _windows(cited):
        add("window", body, sec=sec, members=members)
    _warn_pipe_paragraphs(blocks, warnings)
    return chunks, tables


def _windows(chunks: Sequence[Chunk]) -> list[tuple[str, str, tuple[str, ...]]]:
    """The page as read (headings, passages, rows) cut into overlapping windows
    of about :data:`WINDOW_CHARS`; each with its first section and the ids of
    the chunks it holds. A page shorter than a window is one window; a page of
    one chunk has none (the chunk is its window)."""
    if len(chunks) < 2:
        return []
    units: list[tuple[str, Chunk]] = []
    section = None
    for chunk in chunks:
        text = " | ".join(c for _, c in chunk.cells if c) if chunk.table is not None else chunk.body
        if chunk.section != section:
            section = chunk.section
            text = f"{section.split(PATH_SEP)[-1]}\n{text}"
        units.append((text, chunk))
    out = []
    start = 0
    while start < len(units):
        end, size = start, 0
        while end < len(units) and (end == start or size + len(units[end][0]) <= WINDOW_CHARS):
            size += len(units[end][0]) + 1
            end += 1
        piece = units[start:end]
        if len(piece) > 1:  # a window of one passage would be that passage again
            body = "\n".join(t for t, _ in piece)[: WINDOW_CHARS + WINDOW_OVERLAP]
            out.append((piece[0][1].section, body, tuple(c.chunk_id for _, c in piece)))
        if end >= len(units):
            break
        back, kept = end, 0  # the next window starts ~WINDOW_OVERLAP characters back
        while back - 1 > start and kept + len(units[back - 1][0]) <= WINDOW_OVERLAP:
            back -= 1
            kept += len(units[back][0]) + 1
        start = back
    return out


_CRUX_HEADING = re.compile(r"crux\b", re.I)
_CRUX_PREFIX = re.compile(r"^crux\s*\d*\s*[:.\-–—]\s*", re.I)


def crux_question(heading: str) -> str:
    """A heading without its "Crux 2:" prefix ("Crux: Is It Safe?" → "Is It Safe?")."""
    return _CRUX_PREFIX.sub("", heading)


def _table_kind(section: str, headers: tuple[str, ...]) -> TableKind:
    low = [h.lower() for h in headers]
    last = section.split(PATH_SEP)[-1]
    if low and low[0] == "dimension" and any("assessment" in h or "rating" in h for h in low):
        return "assessment"
    if _CRUX_HEADING.match(last) and len(headers) == 2:
        return "crux"
    if low and low[0] == "approach" and len(headers) >= 3:
        return "summary"
    return "table"


def _warn_pipe_paragraphs(blocks: list[_Block], warnings: list[str]) -> None:
    """A paragraph of pipes is a table whose separator row is missing."""
    for block in blocks:
        if isinstance(block, _Para) and block.text.count("|") >= 2 and block.text.lstrip().startswith("|"):
            warnings.append("a table has no separator row (|---|): indexed as plain text")
            return
