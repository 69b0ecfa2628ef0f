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

log = logging.getLogger(__name__)

#: Bump when chunk texts or metadata change shape; the manifest records it.
CHUNKER_VERSION = "5"

#: The separator between a chunk's title and its section.
PATH_SEP = " › "

#: Prose chunks are cut at block boundaries past this many characters.
MAX_PROSE_CHARS = 1200

#: Files larger than this are skipped with a warning.
MAX_FILE_BYTES = 8 * 1024 * 1024

OVERVIEW = "Overview"

TableKind = Literal["assessment", "crux", "summary", "table"]
ChunkKind = Literal["row", "passage"]


@dataclass(frozen=True)
class Table:
    """A markdown table with the section it sits in."""

    table_id: str
    section: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    kind: TableKind

    def to_json(self) -> str:
        return json.dumps(
            {
                "table_id": self.table_id,
                "section": self.section,
                "headers": list(self.headers),
                "rows": [list(r) for r in self.rows],
                "kind": self.kind,
            },
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, raw: str) -> Table:
        data = json.loads(raw)
        return cls(
            table_id=data["table_id"],
            section=data["section"],
            headers=tuple(data["headers"]),
            rows=tuple(tuple(r) for r in data["rows"]),
            kind=data["kind"],
        )


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


# ---------------------------------------------------------------------------
# Loading


def load_corpus(
    root: str | os.PathLike[str], reuse: Callable[[str, str], Document | None] | None = None
) -> Corpus:
    """Load every ``.md`` file under ``root``, recursively.

    A file that cannot be used is reported as a :class:`Problem` and skipped;
    the rest still load. ``reuse(doc_id, digest)`` may return the document as
    parsed before from the same bytes (re-indexing parses only changed files).

    Raises:
        CorpusError: ``root`` is not a readable folder.
    """
    root = Path(root)
    if not root.is_dir():
        raise CorpusError(f"corpus folder not found: {root}")
    documents: list[Document] = []
    problems: list[Problem] = []
    for path in _markdown_files(root, problems):
        rel = path.relative_to(root).as_posix()
        try:
            raw = path.read_bytes()
        except OSError as exc:
            problems.append(Problem(rel, f"unreadable: {exc.strerror or exc}", True))
            continue
        doc_id = rel[: -len(".md")]
        digest = hashlib.sha256(raw).hexdigest()
        known = reuse(doc_id, digest) if reuse else None
        try:
            doc = replace(known, path=path) if known else parse_document(raw, doc_id=doc_id, path=path, digest=digest)
        except CorpusError as exc:
            problems.append(Problem(rel, str(exc), True))
            continue
        for warning in doc.warnings:
            problems.append(Problem(rel, warning, False))
        documents.append(doc)
    problems.extend(_duplicate_titles(documents))
    for problem in problems:
        log.warning("%s: %s%s", problem.path, problem.message, " (skipped)" if problem.skipped else "")
    return Corpus(root=root, documents=tuple(documents), problems=tuple(problems))


def _duplicate_titles(documents: Sequence[Document]) -> list[Problem]:
    """A warning for each document whose title another document also has."""
    by_title: dict[str, list[Document]] = {}
    for doc in documents:
        by_title.setdefault(doc.title.casefold(), []).append(doc)
    found = []
    for doc in documents:
        others = [d.doc_id + ".md" for d in by_title[doc.title.casefold()] if d is not doc]
        if others:
            found.append(Problem(doc.doc_id + ".md", f"same title '{doc.title}' as {', '.join(others)}", False))
    return found


def _markdown_files(root: Path, problems: list[Problem]) -> Iterator[Path]:
    """Every ``*.md`` file under root, sorted, following no symlink loop."""
    seen: set[tuple[int, int]] = set()

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
            if not name.endswith(".md") or name.startswith("."):
                continue
            path = here / name
            if not path.exists():
                problems.append(Problem(path.relative_to(root).as_posix(), "broken symlink", True))
                continue
            if not path.is_file():  # a FIFO would block read_bytes forever
                problems.append(Problem(path.relative_to(root).as_posix(), "not a regular file", True))
                continue
            yield path


def parse_document(raw: bytes, doc_id: str, path: Path | None = None, digest: str = "") -> Document:
    """Parse one document's bytes into chunks.

    Raises:
        CorpusError: the bytes are not a usable markdown document.
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
    if not body.strip():
        raise CorpusError("no content" if not metadata else "front matter only, no content")
    title = _scalar_text(metadata.get("title"))
    description = _scalar_text(metadata.get("description"))
    if not metadata:
        warnings.append("no front matter: title taken from the first heading or the file name")
    blocks = _blocks(body)
    if not title:
        title = next((b.text for b in blocks if isinstance(b, _Heading) and b.level == 1), "")
        title = title or Path(doc_id).name.replace("-", " ").replace("_", " ").title()
    chunks, tables = _chunk(doc_id, title, description, blocks, warnings)
    if not chunks:
        raise CorpusError("no text to index")
    return Document(
        doc_id=doc_id,
        path=path or Path(doc_id + ".md"),
        title=title,
        description=description,
        metadata=metadata,
        chunks=tuple(chunks),
        tables=tuple(tables),
        warnings=tuple(warnings),
        digest=digest or hashlib.sha256(raw).hexdigest(),
    )


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


def repair_text(text: str) -> str:
    """The text with mis-encoded characters repaired (``â€”`` → ``—``)."""
    return _repair(text)[0]


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


@dataclass(frozen=True)
class _List:
    items: tuple[str, ...]


@dataclass(frozen=True)
class _TableBlock:
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    ragged: tuple[int, ...] = ()  # 1-based rows whose source has more or fewer cells than the header


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
                blocks.append(_List(items))
            i = end + 1
        elif tok.type == "paragraph_open":
            inline = tokens[i + 1]
            text = _inline_text(inline)
            if text:
                children = [c for c in inline.children or [] if c.type != "text" or c.content]
                lead = bool(children) and children[0].type == "strong_open"
                blocks.append(_Para(text, lead))
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
    for tok in tokens:
        if tok.type == "thead_open":
            in_head = True
        elif tok.type == "thead_close":
            in_head = False
        elif tok.type == "tr_open":
            current = []
            if not in_head:
                line = tok.map[0] if tok.map else -1
                counts.append(_source_cells(lines[line]) if 0 <= line < len(lines) else None)
        elif tok.type == "tr_close" and current is not None:
            if in_head:
                headers = current
            else:
                rows.append(current)
            current = None
        elif tok.type == "inline" and current is not None:
            current.append(_inline_text(tok))
    width = len(headers)
    fixed = [tuple((r + [""] * width)[:width]) for r in rows]
    ragged = tuple(n + 1 for n, count in enumerate(counts) if count is not None and count != width)
    return _TableBlock(tuple(h or f"Column {n + 1}" for n, h in enumerate(headers)), tuple(fixed), ragged)


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
    doc_id: str, title: str, description: str, blocks: list[_Block], warnings: list[str]
) -> tuple[list[Chunk], list[Table]]:
    chunks: list[Chunk] = []
    tables: list[Table] = []
    heads: list[tuple[int, str]] = []
    group: list[str] = []

    def section() -> str:
        names = [t for lvl, t in heads if not (lvl == 1 and t == title)]
        return PATH_SEP.join(names) or OVERVIEW

    def add(kind: ChunkKind, body: str, table: Table | None = None, row: int | None = None) -> None:
        sec = section()
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
            )
        )

    def flush() -> None:
        if not group:
            return
        piece: list[str] = []
        size = 0
        for unit in group:
            if piece and size + len(unit) > MAX_PROSE_CHARS:
                add("passage", "\n".join(piece))
                piece, size = [], 0
            piece.append(unit)
            size += len(unit) + 1
        if piece:
            add("passage", "\n".join(piece))
        group.clear()

    if description:
        group.append(description)
    for block in blocks:
        if isinstance(block, _Heading):
            flush()
            if block.level == 1 and block.text == title:
                continue
            while heads and heads[-1][0] >= block.level:
                heads.pop()
            heads.append((block.level, block.text))
        elif isinstance(block, _Para):
            if block.lead_in and group != [description]:
                flush()  # a bold lead-in starts a chunk; the description stays with the intro
            group.append(block.text)
        elif isinstance(block, _List):
            group.append("\n".join(block.items))
        elif isinstance(block, _TableBlock):
            flush()
            if not block.headers:
                continue
            if not block.rows:
                warnings.append(f"table without rows under '{section()}'")
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
                    add("row", " | ".join(pairs), table, n)
    flush()
    _warn_pipe_paragraphs(blocks, warnings)
    return chunks, tables


def _table_kind(section: str, headers: tuple[str, ...]) -> TableKind:
    low = [h.lower() for h in headers]
    last = section.split(PATH_SEP)[-1]
    if low and low[0] == "dimension" and any("assessment" in h or "rating" in h for h in low):
        return "assessment"
    if re.match(r"crux\b", last, re.I) and len(headers) == 2:
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
