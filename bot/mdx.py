"""MDX pages → the markdown a reader sees, with the text of components kept.

An MDX page mixes markdown with JSX components. Some components only wrap
markdown (``<Aside>``, ``<Tabs>``); some hold their visible text in props
(``<Crux positions={[…]}>``); some stand for data kept elsewhere
(``<EntityLink id>``, ``<R id>``, ``<TransitionModelContent entityId>``, read
from the site's data folder); some are generated widgets with no text. This
module turns each into plain markdown (headings, paragraphs, lists, pipe
tables, bold lead-ins) that :mod:`bot.markdown` chunks.

Element boundaries are found with a small scanner that knows JavaScript
strings, template literals, comments and nesting; props are parsed with
esprima and only literal values are evaluated. What is specific to one site
(which component is dropped, which renderer draws which component, column
order) is data in :class:`ComponentRules`.
"""

from __future__ import annotations

import html
import logging
import re
import textwrap
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

log = logging.getLogger(__name__)

__all__ = ["RENDERER_KINDS", "ComponentRules", "DataFolder", "Reference", "mdx_to_markdown"]


# ---------------------------------------------------------------------------
# Public API


@dataclass(frozen=True)
class Reference:
    """A work cited by ``<R id>``: its title and where it is."""

    id: str
    title: str
    url: str


class DataFolder:
    """Entities and references of a site's data folder (loaded lazily, once).

    ``root/entities/*.yaml`` and ``root/resources/*.yaml`` each hold a list of
    records with an ``id``. A file that cannot be read is logged and skipped.
    """

    def __init__(self, root: Path | None) -> None:
        self._root = Path(root) if root is not None else None
        self._entities: dict[str, Mapping[str, Any]] | None = None
        self._references: dict[str, Reference] | None = None

    @property
    def entities(self) -> Mapping[str, Mapping[str, Any]]:
        """Every entity record by id (the first one wins when an id repeats)."""
        if self._entities is None:
            self._entities = _records(self._root / "entities") if self._root else {}
        return self._entities

    def entity(self, entity_id: str) -> Mapping[str, Any] | None:
        """The entity record (``title``/``name``, ``description``, …), if known."""
        return self.entities.get(entity_id)

    def entity_title(self, entity_id: str) -> str | None:
        """The entity's title (or name), if known."""
        record = self.entity(entity_id) or {}
        title = record.get("title") or record.get("name")
        return _text(title) or None

    def reference(self, ref_id: str) -> Reference | None:
        """The reference cited as ``<R id=ref_id>``, if known."""
        if self._references is None:
            self._references = self._load_references()
        return self._references.get(ref_id)

    def _load_references(self) -> dict[str, Reference]:
        records = _records(self._root / "resources") if self._root else {}
        found = {}
        for ref_id, record in records.items():
            url = _text(record.get("url"))
            found[ref_id] = Reference(ref_id, _text(record.get("title")) or url, url)
        return found


def _records(folder: Path) -> dict[str, Mapping[str, Any]]:
    """The records with an ``id`` in every YAML list file of ``folder``."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    found: dict[str, Mapping[str, Any]] = {}
    for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
        try:
            records = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            log.warning("%s: unreadable data file skipped (%s)", path, str(exc).splitlines()[0])
            continue
        for record in records if isinstance(records, list) else []:
            if isinstance(record, Mapping) and record.get("id") is not None:
                found.setdefault(str(record["id"]), record)
    return found


#: Components dropped by default: none. What a site's components mean is its
#: corpus profile's ``components`` table (see profiles/wiki.yaml), not code.
DEFAULT_DROP: frozenset[str] = frozenset()

#: Which renderer draws which component by default: Starlight's own. A
#: component named nowhere is unwrapped, its ``title``/``label`` a bold lead-in.
DEFAULT_RENDERERS: Mapping[str, str] = MappingProxyType({"Aside": "aside", "Mermaid": "mermaid"})

#: The order of columns when a list of records becomes a table.
DEFAULT_COLUMN_ORDER = (
    "question", "name", "actor", "person", "title", "label", "year", "source", "view", "position",
    "stance", "estimate", "value", "probability", "date", "role", "importance", "timeframe",
    "confidence", "strength", "holders", "proponents", "description", "summary", "reasoning",
    "notes", "implications", "background", "expertise", "quote", "evidence", "sources",
)  # fmt: skip

#: Fenced code in these languages is site machinery, not reader text.
DEFAULT_DROPPED_CODE = frozenset(
    {"astro", "bash", "js", "javascript", "json", "jsx", "markdown", "md", "mdx", "sh", "shell",
     "ts", "tsx", "typescript", "yaml", "yml"}
)  # fmt: skip


@dataclass(frozen=True)
class ComponentRules:
    """What one site's components mean: the corpus profile's ``components``
    table over these defaults (Starlight's own components, generic columns).

    Attributes:
        drop: components with no reader text, dropped with their children.
        renderers: component name → renderer kind (one of :data:`RENDERER_KINDS`).
        title_props: props of an unwrapped component that become its lead-in.
        admonitions: ``:::kind[Title]`` blocks that are unwrapped.
        dropped_code: fenced-code languages left out (``mermaid`` is reduced
            to its labels).
        column_order: key order when records become a table's columns.
        column_labels: header text for a record key (default: humanized key).
        acronyms: words kept in capitals when an id is humanized.
    """

    drop: frozenset[str] = DEFAULT_DROP
    renderers: Mapping[str, str] = field(default_factory=lambda: DEFAULT_RENDERERS)
    title_props: tuple[str, ...] = ("title", "label")
    admonitions: frozenset[str] = frozenset({"note", "tip", "caution", "danger"})
    dropped_code: frozenset[str] = DEFAULT_DROPPED_CODE
    column_order: tuple[str, ...] = DEFAULT_COLUMN_ORDER
    column_labels: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    acronyms: frozenset[str] = frozenset({"ai", "agi", "asi", "eu", "llm", "ml", "rlhf", "uk", "un", "us"})

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> ComponentRules:
        """Rules from a corpus profile's ``components`` table, over the defaults.

        ``renderers`` and ``column_labels`` are merged into the defaults (a
        renderer kind ``"drop"`` drops a component); every other key replaces
        its default.

        Raises:
            ValueError: an unknown key or renderer kind.
        """
        defaults = cls()
        unknown = set(raw) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown component rule(s): {', '.join(sorted(unknown))}")
        renderers = {**defaults.renderers, **raw.get("renderers", {})}
        bad = sorted(set(renderers.values()) - set(_RENDERERS))
        if bad:
            raise ValueError(f"unknown renderer kind(s): {', '.join(bad)} (known: {', '.join(sorted(_RENDERERS))})")
        values: dict[str, Any] = {"renderers": MappingProxyType(renderers)}
        values["column_labels"] = MappingProxyType({**defaults.column_labels, **raw.get("column_labels", {})})
        for key in ("drop", "admonitions", "dropped_code", "acronyms"):
            if key in raw:
                values[key] = frozenset(str(v) for v in raw[key])
        for key in ("title_props", "column_order"):
            if key in raw:
                values[key] = tuple(str(v) for v in raw[key])
        return cls(**values)


def mdx_to_markdown(
    body: str,
    data: DataFolder | None = None,
    rules: ComponentRules | None = None,
    page_entity: str | None = None,
) -> tuple[str, list[str]]:
    """The markdown a reader sees, and warnings (e.g. a component whose props could not be parsed).

    Args:
        body: the MDX page without its front matter.
        data: the site's data folder, for entity titles, references and the
            content of ``<TransitionModelContent>`` pages.
        rules: what the site's components mean (default: this wiki's).
        page_entity: the entity a stub page stands for when its component
            names none (e.g. taken from front matter).

    Returns:
        The markdown, and one warning per problem met, as ``"kind: detail"``;
        the kinds are ``props not parsed``, ``unterminated tag``, ``stray
        closing tag``, ``unknown component``, ``unknown renderer``, ``unknown
        entity``, ``unknown reference``, ``entity content missing``,
        ``leftover tags`` and ``too deeply nested``. Each is logged at DEBUG.
    """
    converter = _Converter(data, rules or ComponentRules(), page_entity)
    try:
        markdown = converter.convert(body)
    except RecursionError:
        converter.warn("too deeply nested", "components nest too deep to convert; the page is kept as text")
        markdown = _COMPONENT_TAG.sub(lambda m: "&lt;" + m.group()[1:], body)
    markdown, leftovers = _LEFTOVER_TAG.subn("&lt;", markdown)
    if leftovers:
        converter.warn("leftover tags", f"{leftovers} component-like tag(s) in prop text shown as text")
    return _tidy(markdown), converter.warnings


_LEFTOVER_TAG = re.compile(r"<(?=/?[A-Z])")


def _tidy(markdown: str) -> str:
    """Trailing spaces and runs of blank lines removed."""
    markdown = re.sub(r"[ \t]+\n", "\n", markdown)
    return re.sub(r"\n{3,}", "\n\n", markdown).strip() + "\n"


# ---------------------------------------------------------------------------
# Conversion


_TOKEN = re.compile(  # line-start tokens begin with "\n": convert() puts one before the text
    r"\n(?P<fence>[ \t]*(?:`{3,}|~{3,}))"
    r"|\n(?P<admonition>[ \t]*:::(?=[a-z]))"
    r"|\n(?P<statement>(?:import[ \t]+[\w{*'\"]|export[ \t]+(?:const|let|var|function|default|\{)))"
    r"|(?P<comment><!--)"
    r"|(?P<tag></?[A-Za-z])"
    r"|(?P<expression>\{)"
    r"|(?P<code>`+)"
    r"|(?P<math>\$\$?)"
    r"|(?P<escape>\\.)"
)
_TOKEN_START = re.compile(r"\n(?=[ \t]*[`~:ie])|[<{`$\\]")  # where a token may start


def _next_token(text: str, pos: int) -> re.Match[str] | None:
    """The next token at or after ``pos`` (found by its first character: five times
    faster than searching with the whole alternation)."""
    while (candidate := _TOKEN_START.search(text, pos)) is not None:
        match = _TOKEN.match(text, candidate.start())
        if match is not None:
            return match
        pos = candidate.start() + 1
    return None


_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]", re.M)
_CLOSING_TAG = re.compile(r"</\s*([A-Za-z][\w.]*)\s*>")
_ADMONITION = re.compile(r"[ \t]*:::([a-z]+)(?:\[([^\]\n]*)\])?[^\n]*")
_ADMONITION_END = re.compile(r"^[ \t]*:::[ \t]*$", re.M)
_COMPONENT_TAG = re.compile(r"</?[A-Z]")

_HTML_VOID = frozenset({"br", "hr", "img", "wbr", "input", "source", "col"})
_HTML_DROP = frozenset({"style", "script", "iframe", "svg", "video", "audio", "picture", "img", "hr"})
_HTML_TAGS = _HTML_VOID | _HTML_DROP | frozenset(
    {"a", "abbr", "b", "blockquote", "cite", "code", "dd", "del", "details", "div", "dl", "dt", "em",
     "figcaption", "figure", "i", "kbd", "li", "mark", "ol", "p", "s", "section", "small", "span",
     "strong", "sub", "summary", "sup", "u", "ul"}
)  # fmt: skip


@dataclass(frozen=True)
class _Element:
    """A component as its renderer sees it."""

    name: str
    props: Mapping[str, Any]
    children: str  # the MDX between the tags, dedented
    block: bool  # stands on lines of its own


class _Converter:
    """One page's conversion: the rules, the data, and what was met so far."""

    def __init__(self, data: DataFolder | None, rules: ComponentRules, page_entity: str | None) -> None:
        self.data = data
        self.rules = rules
        self.page_entity = page_entity
        self.warnings: list[str] = []
        self.heading_level = 1  # of the last heading met; the page title counts as 1
        self.rendering: list[str] = []  # entities being rendered, against self-inclusion

    def warn(self, kind: str, detail: str) -> None:
        message = f"{kind}: {detail}"
        if message not in self.warnings:
            log.debug(message)
            self.warnings.append(message)

    def convert(self, text: str) -> str:
        """MDX text → markdown."""
        text = "\n" + text  # so that every line-start token begins with "\n" (a fast scan)
        out: list[str] = []
        pos = 0
        while (match := _next_token(text, pos)) is not None:
            name = match.lastgroup or ""
            start, end = match.span(name)
            out.append(self._prose(text, pos, start))
            replacement, pos = getattr(self, f"_on_{name}")(text, start, end)
            out.append(replacement)
        out.append(self._prose(text, pos, len(text)))
        return "".join(out)[1:]

    def convert_inline(self, text: str) -> str:
        """MDX text → markdown on one line."""
        return _one_line(self.convert(text))

    def _prose(self, text: str, start: int, end: int) -> str:
        """Plain markdown copied as it is; its headings are noted."""
        piece = text[start:end]
        at_line_start = start == 0 or text[start - 1] == "\n"
        for heading in _HEADING.finditer(piece):
            if heading.start() > 0 or at_line_start:
                self.heading_level = len(heading.group(1))
        return piece

    # -- tokens: each handler gets the token's span, returns (markdown, where to go on)

    def _on_fence(self, text: str, start: int, end: int) -> tuple[str, int]:
        marker = text[start:end].strip()
        line_end = _line_end(text, end)
        info = text[end:line_end].strip()
        if marker[0] == "`" and "`" in info:  # ```code``` on one line: a code span
            return self._on_code(text, end - len(marker), end)
        closing = re.compile(rf"^[ \t]*{re.escape(marker[0])}{{{len(marker)},}}[ \t]*$", re.M)
        close = closing.search(text, min(line_end + 1, len(text)))
        body = text[min(line_end + 1, len(text)) : close.start() if close else len(text)]
        block_end = close.end() if close else len(text)
        language = info.split()[0].lower() if info else _guess_language(body)
        if language == "mermaid":
            return _block(_diagram_line(_mermaid_labels(body))), block_end
        if language in self.rules.dropped_code or _COMPONENT_TAG.search(text, start, block_end):
            return "", block_end  # site machinery, or a sample of component markup
        return text[start:block_end], block_end

    def _on_admonition(self, text: str, start: int, end: int) -> tuple[str, int]:
        opened = _ADMONITION.match(text, start)
        if opened is None or opened.group(1) not in self.rules.admonitions:
            return text[start:end], end
        close = _ADMONITION_END.search(text, opened.end())
        inner = text[opened.end() : close.start() if close else len(text)]
        body = self.convert(_dedent(inner))
        return _block(_lead_in(_text(opened.group(2)), body)), close.end() if close else len(text)

    def _on_statement(self, text: str, start: int, end: int) -> tuple[str, int]:
        return "", _statement_end(text, start)

    def _on_comment(self, text: str, start: int, end: int) -> tuple[str, int]:
        close = text.find("-->", end)
        return "", len(text) if close < 0 else close + 3

    def _on_expression(self, text: str, start: int, end: int) -> tuple[str, int]:
        close = _skip_braces(text, start)
        if close < 0:
            return "{", end
        inner = text[start + 1 : close - 1].strip()
        if not inner or (inner.startswith("/*") and inner.endswith("*/")):
            return "", close
        value = _evaluate(inner, self.convert_inline)
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            return str(value), close
        return "", close  # computed at build time: nothing we can show

    def _on_code(self, text: str, start: int, end: int) -> tuple[str, int]:
        run = text[start:end]
        close = re.compile(rf"(?<!`){run}(?!`)").search(text, end)
        if close is None:
            return run, end
        inner = text[end : close.start()]
        if _COMPONENT_TAG.search(inner):  # shown as text, so no raw tag reaches the output
            return _escape_markdown(inner.strip()), close.end()
        return text[start : close.end()], close.end()

    def _on_math(self, text: str, start: int, end: int) -> tuple[str, int]:
        if text[start:end] == "$$":
            close = text.find("$$", end)
            span_end = -1 if close < 0 else close + 2
        else:
            found = re.compile(r"(?<!\\)\$").search(text, end, _line_end(text, end))
            span_end = -1 if found is None else found.end()
        if span_end < 0 or _COMPONENT_TAG.search(text, start, span_end):
            return "$", start + 1
        return text[start:span_end], span_end

    def _on_escape(self, text: str, start: int, end: int) -> tuple[str, int]:
        return ("&lt;" if text[start + 1] == "<" else text[start:end]), end

    def _on_tag(self, text: str, start: int, end: int) -> tuple[str, int]:
        if text.startswith("</", start):
            return self._stray_close(text, start)
        name = _TAG_NAME.match(text, start + 1)
        assert name is not None  # the token matched "<" and a letter
        if name.group()[0].isupper():
            return self._component(text, start, name.group())
        if name.group().lower() in _HTML_TAGS:
            return self._html(text, start)
        return "<", start + 1

    def _stray_close(self, text: str, start: int) -> tuple[str, int]:
        close = _CLOSING_TAG.match(text, start)
        if close is None:
            return "&lt;", start + 1
        if close.group(1)[0].isupper():
            self.warn("stray closing tag", f"</{close.group(1)}> without its opening tag, dropped")
        elif close.group(1).lower() not in _HTML_TAGS:
            return "&lt;", start + 1
        return "", close.end()

    # -- elements -------------------------------------------------------------

    def _component(self, text: str, start: int, name: str) -> tuple[str, int]:
        tag = _find_tag(text, start)
        if tag is None:
            end = _paragraph_end(text, start)
            self.warn("unterminated tag", f"<{name}> has no end; dropped to the end of its paragraph")
            return "", end
        element = self._element(text, tag)
        return _placed(element, self.render(element)), tag.end

    def _element(self, text: str, tag: _Tag) -> _Element:
        children = _dedent(text[tag.open_end : tag.close_start])
        return _Element(tag.name, self._props(text, tag), children, _is_block(text, tag))

    def _props(self, text: str, tag: _Tag) -> dict[str, Any]:
        try:
            return _parse_props(text[tag.start : tag.open_end], self.convert_inline)
        except PropsError as exc:
            self.warn("props not parsed", f"<{tag.name}>: {exc}; rendered without its props")
            return {}

    def render(self, element: _Element) -> str:
        """The markdown of one component."""
        if element.name in self.rules.drop:
            return ""
        kind = self.rules.renderers.get(element.name)
        if kind is None and not element.children.strip():
            self.warn("unknown component", f"<{element.name}/> has no text and no rule; dropped")
            return ""
        renderer = _RENDERERS.get(kind or "unwrap")
        if renderer is None:
            self.warn("unknown renderer", f"<{element.name}>: no renderer '{kind}'; unwrapped")
            renderer = _render_unwrap
        return renderer(self, element)

    def _html(self, text: str, start: int) -> tuple[str, int]:
        opened = _opening_tag(text, start)
        if opened is None:
            return "&lt;", start + 1
        name, open_end, self_closing = opened
        tag_name = name.lower()
        if tag_name == "br":
            return ("; " if _in_table_row(text, start) else " "), open_end
        if self_closing or tag_name in _HTML_VOID:
            return "", open_end
        closed = _find_close(text, name, open_end)
        if closed is None:
            return "", open_end  # an unclosed wrapper: its content follows as prose
        tag = _Tag(tag_name, start, open_end, closed[0], closed[1], False)
        element = self._element(text, tag)
        return _placed(element, _render_html(self, element)), tag.end

    # -- helpers for renderers ------------------------------------------------

    def deeper_heading(self) -> int:
        """The level of a heading one deeper than the last one met (at most 6)."""
        return min(self.heading_level + 1, 6)

    def entity_title(self, entity_id: str) -> str:
        """The entity's title, or its id humanized ("deceptive-alignment" → "Deceptive alignment")."""
        title = self.data.entity_title(entity_id) if self.data else None
        if title is None and self.data is not None:
            self.warn("unknown entity", f"'{entity_id}' is not in the data folder; its id is shown")
        return title or self.humanize(entity_id)

    def humanize(self, name: str) -> str:
        """An id as words: ``ai-takeover`` → ``AI takeover``."""
        return _humanize(name, acronyms=self.rules.acronyms)

    def records_table(self, records: Any, labels: Mapping[str, str] | None = None) -> str:
        """A list of records as a table, one column per key that has data."""
        rows = [r for r in records if isinstance(r, Mapping)] if isinstance(records, list) else []
        keys = _ordered_keys(rows, self.rules.column_order)
        names = {**self.rules.column_labels, **(labels or {})}
        headers = [names.get(k) or _humanize(k, capitalize_all=True) for k in keys]
        return _table(headers, [[self.cell(r.get(k)) for k in keys] for r in rows])

    def cell(self, value: Any) -> str:
        """A prop value as the text of one table cell."""
        return _text(value, self.convert_inline)


# ---------------------------------------------------------------------------
# Renderers: one per kind named in ComponentRules.renderers


def _render_unwrap(conv: _Converter, el: _Element) -> str:
    title = next((_text(el.props.get(p)) for p in conv.rules.title_props if _text(el.props.get(p))), "")
    return _lead_in(title, conv.convert(el.children))


def _render_aside(conv: _Converter, el: _Element) -> str:
    return _lead_in(_text(el.props.get("title")), conv.convert(el.children))


def _render_section(conv: _Converter, el: _Element) -> str:
    title = _text(el.props.get("title"))
    if not title:
        return conv.convert(el.children)
    outer = conv.heading_level
    level = conv.heading_level = conv.deeper_heading()
    try:
        return f"{'#' * level} {title}\n\n{conv.convert(el.children)}"
    finally:
        conv.heading_level = outer  # the next section is a sibling, not a child


def _render_reference(conv: _Converter, el: _Element) -> str:
    ref_id = _text(el.props.get("id"))
    inner = conv.convert_inline(el.children)
    ref = conv.data.reference(ref_id) if conv.data and ref_id else None
    if ref is None:
        if conv.data is not None and ref_id:
            conv.warn("unknown reference", f"'{ref_id}' is not in the data folder; its text is kept")
        return inner
    return _link(inner or ref.title, ref.url, ref.title)


def _render_reference_list(conv: _Converter, el: _Element) -> str:
    ids = el.props.get("ids")
    refs = [conv.data.reference(str(i)) for i in ids] if conv.data and isinstance(ids, list) else []
    return "\n".join(f"- {_link(r.title, r.url, r.title)}" for r in refs if r)


def _render_entity_link(conv: _Converter, el: _Element) -> str:
    label = conv.convert_inline(el.children)
    entity_id = _text(el.props.get("id"))
    return label or (conv.entity_title(entity_id) if entity_id else "")


def _render_mermaid(conv: _Converter, el: _Element) -> str:
    return _diagram_line(_mermaid_labels(_text(el.props.get("chart"), keep_lines=True)))


def _render_crux(conv: _Converter, el: _Element) -> str:
    props = el.props
    question = _text(props.get("question")) or conv.humanize(_text(props.get("id")))
    facts = [f"{label}: {_text(props.get(key))}." for key, label in _CRUX_FACTS if _text(props.get(key))]
    state = conv.cell(props.get("currentState"))
    rows = [[conv.cell(p.get(k)) for k in _CRUX_COLUMNS] for p in _records_of(props.get("positions"))]
    updates = _bullets(conv.cell(v) for v in _list(props.get("wouldUpdateOn")))
    research = [_link(_text(r.get("title")), _text(r.get("url"))) for r in _records_of(props.get("relevantResearch"))]
    return _blocks(
        [
            f"{'#' * conv.deeper_heading()} Crux: {question}",
            conv.cell(props.get("description")),
            " ".join(facts),
            f"**Current state**: {state}" if state else "",
            _table(["Position", "Probability", "Holders", "Implications"], rows),
            _lead_in("Would update on", updates) if updates else "",
            _lead_in("Relevant research", _bullets(research)) if research else "",
        ]
    )


_CRUX_FACTS = (("domain", "Domain"), ("importance", "Importance"), ("resolvability", "Resolvability"))
_CRUX_COLUMNS = ("view", "probability", "holders", "implications")


def _render_crux_list(conv: _Converter, el: _Element) -> str:
    domain = _text(el.props.get("domain"))
    title = f"Cruxes: {domain}" if domain else "Cruxes"
    return _blocks([_lead_in(title, ""), conv.records_table(el.props.get("cruxes"))])


def _render_key_questions(conv: _Converter, el: _Element) -> str:
    questions = _list(el.props.get("questions"))
    plain = [conv.cell(q) for q in questions if not isinstance(q, Mapping)]
    parts = [_lead_in("Key questions", _bullets(plain))] if plain else []
    for q in _records_of(questions):
        positions = [{"question": q.get("question"), **p} for p in _records_of(q.get("positions"))]
        if positions:
            parts.append(conv.records_table(positions))
        else:
            parts.append(_lead_in("Key question", conv.cell(q.get("question"))))
    return _blocks(parts)


def _render_disagreement_map(conv: _Converter, el: _Element) -> str:
    props = el.props
    title = _text(props.get("title")) or _text(props.get("topic"))
    spectrum = props.get("spectrum") if isinstance(props.get("spectrum"), Mapping) else {}
    scale = f"Spectrum: from {_text(spectrum.get('low'))} to {_text(spectrum.get('high'))}." if spectrum else ""
    intro = " ".join(x for x in (conv.cell(props.get("description")), scale) if x)
    return _blocks([_lead_in(title, intro), conv.records_table(props.get("positions"), _POSITION_LABELS)])


_POSITION_LABELS = {"actor": "Name", "person": "Name"}


def _render_estimate_box(conv: _Converter, el: _Element) -> str:
    props = el.props
    title = _text(props.get("variable")) or _text(props.get("question"))
    unit = _text(props.get("unit"))
    summary = conv.cell(props.get("description"))
    if _text(props.get("aggregateRange")):
        summary = f"{summary} Aggregate range: {_text(props.get('aggregateRange'))}.".strip()
    labels = {"value": f"Value ({unit})" if unit else "Value", "source": "Source"}
    return _blocks([_lead_in(title, summary), conv.records_table(props.get("estimates"), labels)])


def _render_info_box(conv: _Converter, el: _Element) -> str:
    fields = [(_text(f.get("label")), conv.cell(f.get("value"))) for f in _records_of(el.props.get("customFields"))]
    return _fields(_text(el.props.get("title")), fields)


def _render_data_info_box(conv: _Converter, el: _Element) -> str:
    data = el.props.get("data")
    if not isinstance(data, Mapping):
        return ""  # drawn from the entity's record: site chrome, not page text
    return _fields(_text(el.props.get("title")), [(_text(k), conv.cell(v)) for k, v in data.items()])


def _render_comparison_table(conv: _Converter, el: _Element) -> str:
    props = el.props
    if isinstance(props.get("items"), list):
        rows = [{"name": i.get("name"), **(i.get("attributes") or {})} for i in _records_of(props.get("items"))]
    else:
        rows = [{"name": r.get("name"), **(r.get("values") or {})} for r in _records_of(props.get("rows"))]
    columns = ["name", *[c for c in _ordered_keys(rows, ()) if c != "name"]]
    if isinstance(props.get("columns"), list):
        columns = ["name", *[_text(c) for c in props["columns"]]]
    table = _table(["Name", *columns[1:]], [[conv.cell(_badge_value(r.get(c))) for c in columns] for r in rows])
    return _blocks([_lead_in(_text(props.get("title")), ""), table])


def _badge_value(value: Any) -> Any:
    """``{value, badge}`` cells show their value (the badge is a colour)."""
    return value.get("value") if isinstance(value, Mapping) and "value" in value else value


def _render_entity_card(conv: _Converter, el: _Element) -> str:
    props = el.props
    title = _text(props.get("title")) or conv.entity_title(_text(props.get("id")))
    extra = "; ".join(_text(props.get(k)) for k in ("subtitle", "probability") if _text(props.get(k)))
    return f"- {_item(title, conv.cell(props.get('description')), extra)}"


def _render_records_table(conv: _Converter, el: _Element) -> str:
    lists = [v for v in el.props.values() if isinstance(v, list) and any(isinstance(x, Mapping) for x in v)]
    return _blocks([conv.records_table(v) for v in lists])


def _render_parameter_distinctions(conv: _Converter, el: _Element) -> str:
    entity_id = _text(el.props.get("entityId")) or (conv.page_entity or "")
    entity = conv.data.entity(entity_id) if conv.data and entity_id else None
    info = entity.get("parameterDistinctions") if entity else None
    if not isinstance(info, Mapping):
        return ""
    rows = [[conv.entity_title(entity_id), conv.cell(info.get("focus")), conv.cell(info.get("summary"))]]
    for other in _records_of(info.get("distinctFrom")):
        name = conv.entity_title(_text(other.get("id")))
        rows.append([name, conv.cell(other.get("theirFocus")), conv.cell(other.get("relationship"))])
    return _table(["Parameter", "Focus", "Distinction"], rows)


def _render_impact_list(conv: _Converter, el: _Element) -> str:
    node = _text(el.props.get("nodeId"))
    if not node or conv.data is None:
        return ""
    if _text(el.props.get("direction")) == "to":
        links = _incoming(conv.data, node)
    else:
        links = _records_of((conv.data.entity(node) or {}).get("relatedEntries"))
    titles = [(conv.entity_title(_text(e.get("id"))), _text(e.get("relationship"))) for e in links if e.get("id")]
    return _bullets(_item(title, "", relationship) for title, relationship in titles)


def _incoming(data: DataFolder, node: str) -> list[Mapping[str, Any]]:
    """``{id, relationship}`` of every entity whose related entries name ``node``."""
    return [
        {"id": source, "relationship": link.get("relationship")}
        for source, record in data.entities.items()
        for link in _records_of(record.get("relatedEntries"))
        if link.get("id") == node
    ]


def _render_sub_items(conv: _Converter, el: _Element) -> str:
    factor = _text(el.props.get("factorId"))
    if not factor or conv.data is None:
        return ""
    subs = [r for r in conv.data.entities.values() if r.get("parentFactor") == factor]
    summaries = [(_text(r.get("title")), _first_paragraph(_text(r.get("description"), keep_lines=True))) for r in subs]
    return _bullets(_item(title, summary) for title, summary in summaries)


def _render_jsx_table(conv: _Converter, el: _Element) -> str:
    headers: list[str] = []
    rows: list[list[str]] = []
    for name, _props, children in _elements(el.children, deep={"TableHeader", "TableBody"}):
        if name != "TableRow":
            continue
        cells = [(n, conv.convert_inline(c)) for n, _p, c in _elements(children)]
        if cells and all(n == "TableHead" for n, _ in cells) and not headers:
            headers = [c for _, c in cells]
        else:
            rows.append([c for _, c in cells])
    return _table(headers, rows) if headers and rows else ""


def _render_entity_content(conv: _Converter, el: _Element) -> str:
    entity_id = _text(el.props.get("entityId")) or (conv.page_entity or "")
    if not entity_id or entity_id in conv.rendering:
        return ""
    entity = conv.data.entity(entity_id) if conv.data else None
    if entity is None:
        conv.warn("entity content missing", f"<{el.name}> stands for '{entity_id}', not in the data folder")
        return ""
    conv.rendering.append(entity_id)
    try:
        return _entity_markdown(conv, entity, conv.deeper_heading())
    finally:
        conv.rendering.pop()


def _render_entity_graph(conv: _Converter, el: _Element) -> str:
    slug = _text(el.props.get("slug")) or _text(el.props.get("entityId"))
    entity = conv.data.entity(slug) if conv.data and slug else None
    graph = entity.get("causeEffectGraph") if entity else None
    return _graph_markdown(conv, graph, conv.deeper_heading()) if isinstance(graph, Mapping) else ""


def _render_cause_effect_graph(conv: _Converter, el: _Element) -> str:
    nodes = [{"id": n.get("id"), **(n.get("data") or {})} for n in _records_of(el.props.get("initialNodes"))]
    edges = _records_of(el.props.get("initialEdges"))
    return _nodes_list(conv, nodes, edges, details=True)


def _render_relationship_diagram(conv: _Converter, el: _Element) -> str:
    titles = {_text(n.get("id")): _text(n.get("title")) for n in _records_of(el.props.get("nodes"))}

    def name(node_id: Any) -> str:
        return titles.get(_text(node_id)) or conv.humanize(_text(node_id))

    edges = _records_of(el.props.get("edges"))
    lines = [f"{name(e.get('from'))} {_text(e.get('label')) or '→'} {name(e.get('to'))}" for e in edges]
    body = _bullets(lines) if lines else _diagram_line(list(titles.values()))
    return _blocks([_lead_in(_text(el.props.get("title")), ""), body])


def _render_timeline(conv: _Converter, el: _Element) -> str:
    return _blocks([_lead_in(_text(el.props.get("title")), ""), conv.records_table(el.props.get("events"))])


def _render_sources(conv: _Converter, el: _Element) -> str:
    items = []
    for source in _records_of(el.props.get("sources")):
        byline = ", ".join(_text(source.get(k)) for k in ("author", "date") if _text(source.get(k)))
        link = _link(_text(source.get("title")), _text(source.get("url")))
        items.append(f"{link} ({byline})" if byline else link)
    return _lead_in("Sources", _bullets(items))


def _render_html(conv: _Converter, el: _Element) -> str:
    name = el.name
    if name in _HTML_DROP:
        return ""
    if name == "a":
        return _link(conv.convert_inline(el.children), _text(el.props.get("href")))
    if name in ("strong", "b"):
        return f"**{conv.convert_inline(el.children)}**"
    if name in ("em", "i"):
        return f"*{conv.convert_inline(el.children)}*"
    if name == "li":
        return f"- {conv.convert_inline(el.children)}"
    if name == "summary":
        return _lead_in(conv.convert_inline(el.children), "")
    return conv.convert(el.children)


_RENDERERS: dict[str, Callable[[_Converter, _Element], str]] = {
    "unwrap": _render_unwrap,
    "aside": _render_aside,
    "section": _render_section,
    "reference": _render_reference,
    "reference_list": _render_reference_list,
    "entity_link": _render_entity_link,
    "mermaid": _render_mermaid,
    "crux": _render_crux,
    "crux_list": _render_crux_list,
    "key_questions": _render_key_questions,
    "disagreement_map": _render_disagreement_map,
    "estimate_box": _render_estimate_box,
    "info_box": _render_info_box,
    "data_info_box": _render_data_info_box,
    "comparison_table": _render_comparison_table,
    "entity_card": _render_entity_card,
    "records_table": _render_records_table,
    "impact_list": _render_impact_list,
    "sub_items": _render_sub_items,
    "jsx_table": _render_jsx_table,
    "entity_content": _render_entity_content,
    "entity_graph": _render_entity_graph,
    "cause_effect_graph": _render_cause_effect_graph,
    "relationship_diagram": _render_relationship_diagram,
    "timeline": _render_timeline,
    "sources": _render_sources,
    "parameter_distinctions": _render_parameter_distinctions,
    "drop": lambda conv, el: "",
}

#: The renderer kinds a profile may name in ``ComponentRules.renderers``.
RENDERER_KINDS = frozenset(_RENDERERS)


# ---------------------------------------------------------------------------
# Entity records (ai-transition-model pages) → markdown


def _entity_markdown(conv: _Converter, entity: Mapping[str, Any], level: int) -> str:
    """An entity's record as the page the site draws from it."""
    raw_content = entity.get("content")
    content: Mapping[str, Any] = raw_content if isinstance(raw_content, Mapping) else {}
    parts = [conv.convert(_paragraphs(_text(entity.get("description"), keep_lines=True)))]
    fields = [(_text(f.get("label")), conv.cell(f.get("value"))) for f in _records_of(entity.get("customFields"))]
    parts.append(_fields("", fields))
    parts.append(_assessment(entity))
    parts.append(conv.convert(_text(content.get("intro"), keep_lines=True)))
    for section in _records_of(content.get("sections")):
        parts.append(_content_section(conv, section, level))
    parts.append(_entity_lists(conv, entity, level))
    graph = entity.get("causeEffectGraph")
    if isinstance(graph, Mapping):
        parts.append(_graph_markdown(conv, graph, level))
    return _blocks(parts)


def _content_section(conv: _Converter, section: Mapping[str, Any], level: int) -> str:
    heading = _text(section.get("heading"))
    parts = [f"{'#' * level} {heading}" if heading else ""]
    parts.append(_diagram_line(_mermaid_labels(_text(section.get("mermaid"), keep_lines=True))))
    parts.append(conv.convert(_text(section.get("body"), keep_lines=True)))
    table = section.get("table")
    if isinstance(table, Mapping):
        rows = [[conv.cell(c) for c in r] for r in table.get("rows") or [] if isinstance(r, list)]
        parts.append(_table([conv.cell(h) for h in table.get("headers") or []], rows))
    return _blocks(parts)


def _assessment(entity: Mapping[str, Any]) -> str:
    """Ratings and the current assessment as lead-in lines."""
    lines = []
    for key, title in (("ratings", "Ratings"), ("currentAssessment", "Current assessment")):
        value = entity.get(key)
        if isinstance(value, Mapping) and value:
            facts = "; ".join(f"{_humanize(str(k))}: {_text(v)}" for k, v in value.items() if _text(v))
            lines.append(f"**{title}**: {facts}")
    return "\n\n".join(lines)


def _entity_lists(conv: _Converter, entity: Mapping[str, Any], level: int) -> str:
    """Key debates, warning indicators, what addresses it, related pages: each under a heading."""
    debates = [
        _item(_text(d.get("topic")), conv.cell(d.get("description"))) if isinstance(d, Mapping) else conv.cell(d)
        for d in _list(entity.get("keyDebates"))
    ]
    addressed = [
        _item(_text(a.get("title")) or conv.entity_title(_text(a.get("id"))), "", _text([a.get(k) for k in _EFFECT]))
        for a in _records_of(entity.get("addressedBy"))
    ]
    raw_groups = entity.get("relatedContent")
    groups: Mapping[str, Any] = raw_groups if isinstance(raw_groups, Mapping) else {}
    related = [
        " ".join([_link(_text(r.get("title")), _text(r.get("path"))), conv.cell(r.get("description"))]).strip()
        for group in groups.values()
        for r in _records_of(group)
    ]
    sections = (
        ("Key debates", _bullets(debates)),
        ("Warning indicators", conv.records_table(entity.get("warningIndicators"))),
        ("Addressed by", _bullets(addressed)),
        ("Related content", _bullets(related)),
    )
    return _blocks(f"{'#' * level} {title}\n\n{body}" for title, body in sections if body)


_EFFECT = ("effect", "strength")


def _graph_markdown(conv: _Converter, graph: Mapping[str, Any], level: int) -> str:
    """A cause-effect graph as a heading, its description and its nodes."""
    title = _text(graph.get("title")) or "Causal factors"
    body = _nodes_list(conv, _records_of(graph.get("nodes")), _records_of(graph.get("edges")), details=False)
    return _blocks([f"{'#' * level} {title}", conv.cell(graph.get("description")), body])


def _nodes_list(
    conv: _Converter, nodes: Sequence[Mapping[str, Any]], edges: Sequence[Mapping[str, Any]], details: bool
) -> str:
    """One bullet per node: its label, description (and details) and what it leads to."""
    labels = {_text(n.get("id")): _text(n.get("label")) for n in nodes}
    keys = ("description", "details") if details else ("description",)
    items = []
    for node in nodes:
        node_id = _text(node.get("id"))
        targets = [labels.get(_text(e.get("target"))) for e in edges if _text(e.get("source")) == node_id]
        leads = ", ".join(t for t in targets if t)
        text = " ".join([*(conv.cell(node.get(k)) for k in keys), f"Leads to: {leads}." if leads else ""]).strip()
        items.append(_item(labels[node_id], text) if labels.get(node_id) else text)
    return _bullets(items)


# ---------------------------------------------------------------------------
# Markdown building


def _text(value: Any, inline: Callable[[str], str] | None = None, keep_lines: bool = False) -> str:
    """A prop or data value as text: lists joined with ", ", records as "key: value"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(t for t in (_text(v, inline) for v in value) if t)
    if isinstance(value, Mapping):
        return "; ".join(f"{k}: {_text(v, inline)}" for k, v in value.items() if _text(v, inline))
    text = str(value)
    if inline is not None and _MARKUP.search(text):
        text = inline(text)  # a prop string may hold markup such as <R> or <br/>
    return text.strip() if keep_lines else " ".join(text.split())


_MARKUP = re.compile(r"</?[A-Za-z]")


def _one_line(text: str) -> str:
    return re.sub(r"\s*\n\s*", " ", text.strip())


def _escape_markdown(text: str) -> str:
    """Text that markdown shows as it is (no emphasis, links, tags or cells)."""
    text = re.sub(r"&(?=#?\w+;)", "&amp;", text)
    text = re.sub(r"<(?=[A-Za-z/!?])", "&lt;", text)
    return re.sub(r"([\\`*_\[\]|])", r"\\\1", text)


def _cell(text: str) -> str:
    """Text fit for one table cell: one line, ``<br/>`` as "; ", pipes escaped."""
    text = re.sub(r"<br\s*/?>", "; ", text)
    return re.sub(r"(?<!\\)\|", r"\\|", _one_line(text))


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A pipe table; empty without headers or rows."""
    if not headers or not rows:
        return ""
    width = len(headers)
    lines = ["| " + " | ".join(_cell(h) or " " for h in headers) + " |", "|" + "---|" * width]
    for row in rows:
        cells = [*row, *[""] * width][:width]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines)


def _ordered_keys(rows: Sequence[Mapping[str, Any]], order: Sequence[str]) -> list[str]:
    """Keys with data in any row: those named in ``order`` first, the rest as met."""
    seen: dict[str, None] = {}
    for row in rows:
        for key, value in row.items():
            if _text(value):
                seen.setdefault(str(key), None)
    rank = {k: n for n, k in enumerate(order)}
    met = {k: n for n, k in enumerate(seen)}
    return sorted(seen, key=lambda k: (rank.get(k, len(rank)), met[k]))


def _lead_in(title: str, body: str) -> str:
    """``**Title**: body`` when the body starts with a paragraph, else a title line above it."""
    body = body.strip("\n")
    if not title:
        return body
    bold = f"**{_escape_markdown(title)}**"
    first = body.lstrip().split("\n", 1)[0]
    if not body.strip():
        return bold
    if _BLOCK_START.match(first):
        return f"{bold}\n\n{body}"
    separator = " " if title.rstrip()[-1:] in ":?!." else ": "
    return f"{bold}{separator}{body.lstrip()}"


_BLOCK_START = re.compile(r"\s*(?:[-*+][ \t]|\d+[.)][ \t]|#|\||>|```|~~~|<|\*\*)")


def _fields(title: str, fields: Sequence[tuple[str, str]]) -> str:
    """Label/value pairs as a list under a bold title."""
    return _lead_in(title, _bullets(_item(k, v) if k else v for k, v in fields if v))


def _item(title: str, text: str = "", note: str = "") -> str:
    """``**title** (note): text``, the shape of a list item or lead-in line."""
    head = f"**{_escape_markdown(title)}**" + (f" ({note})" if note else "")
    return f"{head}: {text}" if text else head


def _bullets(items: Iterable[str]) -> str:
    return "\n".join(f"- {_one_line(i)}" for i in items if i and i.strip())


def _blocks(parts: Iterable[str]) -> str:
    return "\n\n".join(p.strip("\n") for p in parts if p and p.strip())


def _placed(element: _Element, rendered: str) -> str:
    """A rendering set apart as a block, or kept on its line when the element is inline."""
    return _block(rendered) if element.block else _one_line(rendered)


def _block(text: str) -> str:
    return f"\n\n{text.strip(chr(10))}\n\n" if text.strip() else ""


def _link(text: str, url: str, title: str = "") -> str:
    """``[text](url "title")``; just the text without a URL."""
    if not url:
        return text
    label = text.replace("[", "\\[").replace("]", "\\]") if not re.search(r"\[.*\]\(", text) else _strip_links(text)
    url = url.replace(" ", "%20").replace("(", "%28").replace(")", "%29")
    if not title:
        return f"[{label or url}]({url})"
    title = _one_line(title).replace("\\", "\\\\").replace('"', '\\"').replace("|", "\\|")
    return f'[{label or url}]({url} "{title}")'


def _strip_links(text: str) -> str:
    """``[a](b)`` → ``a`` (a link cannot hold a link)."""
    return re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)


def _humanize(name: str, capitalize_all: bool = False, acronyms: frozenset[str] = frozenset()) -> str:
    """``deceptive-alignment`` → ``Deceptive alignment``; ``currentState`` → ``Current state``."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).replace("-", " ").replace("_", " ").split()
    if capitalize_all:
        return " ".join(w[:1].upper() + w[1:] for w in words)
    words = [w.upper() if w.lower() in acronyms else w if w.isupper() and len(w) > 1 else w.lower() for w in words]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _records_of(value: Any) -> list[Mapping[str, Any]]:
    return [v for v in _list(value) if isinstance(v, Mapping)]


def _paragraphs(text: str) -> str:
    """Folded YAML keeps a paragraph break as one newline: make it a blank line."""
    return re.sub(r"(?<=\S)\n(?=[A-Z\"'(\[])", "\n\n", text)


def _first_paragraph(text: str) -> str:
    return text.strip().split("\n\n", 1)[0].strip()


def _dedent(text: str) -> str:
    """Children text dedented; a first line that follows the tag keeps its place."""
    if text and not text.startswith(("\n", "\r")) and "\n" in text:
        first, rest = text.split("\n", 1)
        return first + "\n" + textwrap.dedent(rest)
    return textwrap.dedent(text)


_MERMAID_START = re.compile(
    r"^\s*(?:graph|flowchart|sequenceDiagram|stateDiagram(?:-v2)?|classDiagram|erDiagram|gantt|pie|"
    r"quadrantChart|xychart-beta|timeline|mindmap|journey|gitGraph)\b"
)


def _guess_language(code: str) -> str:
    """The language of an untagged code block: Mermaid, MDX samples, or none."""
    if _MERMAID_START.match(code) or "-->" in code:
        return "mermaid"
    if re.search(r"^(?:import|export) ", code, re.M):
        return "mdx"
    return ""


def _line_end(text: str, i: int) -> int:
    end = text.find("\n", i)
    return len(text) if end < 0 else end


def _paragraph_end(text: str, i: int) -> int:
    end = text.find("\n\n", i)
    return len(text) if end < 0 else end


def _is_block(text: str, tag: _Tag) -> bool:
    """Whether the element stands on lines of its own."""
    line_start = text.rfind("\n", 0, tag.start) + 1
    return not text[line_start : tag.start].strip() and not text[tag.end : _line_end(text, tag.end)].strip()


def _in_table_row(text: str, i: int) -> bool:
    return text[text.rfind("\n", 0, i) + 1 : i].lstrip().startswith("|")


def _elements(text: str, deep: frozenset[str] | set[str] = frozenset()) -> Iterator[tuple[str, dict[str, Any], str]]:
    """``(name, props, children)`` of the components in ``text``, outside ``{…}``.

    Elements named in ``deep`` are looked into instead of being yielded.
    """
    pos = 0
    while (match := re.compile(r"<[A-Z]|\{").search(text, pos)) is not None:
        if match.group() == "{":
            end = _skip_braces(text, match.start())
            pos = match.end() if end < 0 else end
            continue
        tag = _find_tag(text, match.start())
        if tag is None:
            pos = match.end()
            continue
        try:
            props = _parse_props(text[tag.start : tag.open_end])
        except PropsError:
            props = {}
        children = text[tag.open_end : tag.close_start]
        if tag.name in deep:
            yield from _elements(children, deep)
        else:
            yield tag.name, props, children
        pos = tag.end


def _evaluate(expression: str, source_of: Callable[[str], str]) -> Any:
    """The value of a literal JS expression (``{"text"}``), None when computed or invalid."""
    import esprima

    try:
        program = esprima.parseScript(f"({expression})", {"jsx": True, "range": True})
    except esprima.Error:
        return None
    if not program.body or program.body[0].type != "ExpressionStatement":
        return None
    return _literal(program.body[0].expression, f"({expression})", source_of)


# ---------------------------------------------------------------------------
# Mermaid: the labels a reader sees, never the graph syntax


def _diagram_line(labels: Sequence[str]) -> str:
    return f"Diagram: {'; '.join(_escape_markdown(label) for label in labels)}." if labels else ""


_MERMAID_SKIP = re.compile(
    r"^(?:style|classDef|class|linkStyle|click|direction|end|dateFormat|axisFormat|excludes|"
    r"tickInterval|todayMarker|accTitle|accDescr|%%|\}|\{)\b",
)
_FLOW_SHAPES = (
    ("(((", ")))"), ("([", "])"), ("[[", "]]"), ("[(", ")]"), ("((", "))"), ("{{", "}}"),
    ("[/", "/]"), ("[\\", "\\]"), ("[/", "\\]"), ("[\\", "/]"), ("[", "]"), ("(", ")"), ("{", "}"), (">", "]"),
)  # fmt: skip
_FLOW_NODE = re.compile(r"(?<![\w-])[A-Za-z0-9_](?:[\w.-]*\w)?(?=\(|\[|\{|>[^>])")
_EDGE_LABELS = re.compile(r"\|([^|\n]+)\||(?:^|\s)(?:--|-\.|==)\s+([^-=.>|][^|]*?)\s+(?:--|\.-|==)[->ox]")
_SUBGRAPH = re.compile(r"^subgraph\s+(?:[\w-]+\s*\[\s*(.+?)\s*\]|(.+))$")


def _mermaid_labels(chart: str) -> list[str]:
    """The labels of a Mermaid chart: node and subgraph titles, edge labels, names."""
    lines = [line.strip() for line in chart.strip().splitlines()]
    lines = [line for line in lines if line and not line.startswith("%%")]
    if not lines:
        return []
    kind = lines[0].split()[0]
    if kind in ("flowchart", "graph"):
        found = [label for line in lines[1:] for label in _flow_labels(line)]
    else:
        found = [label for line in lines for label in _diagram_labels(line, first=line is lines[0])]
    return _unique(_clean_label(f) for f in found)


def _flow_labels(line: str) -> list[str]:
    """Labels on one flowchart line."""
    if _MERMAID_SKIP.match(line):
        return []
    subgraph = _SUBGRAPH.match(line)
    if subgraph:
        return [subgraph.group(1) or subgraph.group(2)]
    labels = []
    pos = 0
    while (node := _FLOW_NODE.search(line, pos)) is not None:
        label, pos = _shape_label(line, node.end())
        if label is not None:
            labels.append(label)
    for edge in _EDGE_LABELS.finditer(line):
        labels.append(edge.group(1) or edge.group(2))
    return labels


def _shape_label(line: str, i: int) -> tuple[str | None, int]:
    """The label of the node shape opening at ``i``, and where the shape ends."""
    for opener, closer in _FLOW_SHAPES:
        if not line.startswith(opener, i):
            continue
        start = i + len(opener)
        if line.startswith('"', start):
            quote_end = line.find('"', start + 1)
            end = line.find(closer, quote_end + 1) if quote_end >= 0 else -1
            if end >= 0:
                return line[start + 1 : quote_end], end + len(closer)
        end = _closing(line, start, opener[-1], closer)
        if end >= 0:
            return line[start:end], end + len(closer)
    return None, i + 1


def _closing(line: str, start: int, opener: str, closer: str) -> int:
    """Where ``closer`` ends the shape, brackets of the same kind nested inside counted."""
    depth = 0
    for j in range(start, len(line)):
        if line.startswith(closer, j) and depth == 0:
            return j
        if line[j] == opener:
            depth += 1
        elif depth and line[j] == _PAIRS.get(opener):
            depth -= 1
    return -1


_PAIRS = {"[": "]", "(": ")", "{": "}"}


_DIAGRAM_KEYWORD = re.compile(
    r"^(?:pie\s+)?(?:title|section|participant|actor|quadrant-\d|[xy]-axis|line|bar|state|class|"
    r"note\s+(?:right|left)\s+of\s+[^:]+|note\s+over\s+[^:]+)\b\s*:?\s*",
    re.I,
)
_DIAGRAM_ARROW = re.compile(r"\s*(?:<<?-+>>?|[-=.]{2,}[>ox)]*>?|\|[|o]?--[o{|]{1,2}|[}|]o--o[{|]|-[)x>]+|:)\s*")


def _diagram_labels(line: str, first: bool) -> list[str]:
    """Labels on one line of a non-flowchart diagram (pie, state, gantt, timeline, …)."""
    if first:
        line = re.sub(r"^[\w-]+\s*", "", line)  # the diagram type
    if not line or _MERMAID_SKIP.match(line):
        return []
    line = _DIAGRAM_KEYWORD.sub("", line)
    line = re.sub(r"\[[\d.,\s-]*\]|\[\*\]", "", line)  # data arrays, start/end states
    labels: list[str] = []
    for part in _DIAGRAM_ARROW.split(line):
        part = part.strip().strip('"').strip()
        if re.search(r"[A-Za-z]", part):
            labels.append(part)
        elif part and labels:
            labels[-1] = f"{labels[-1]}: {part}"
    return labels


def _clean_label(label: str) -> str:
    label = re.sub(r"<br\s*/?>", " ", label)
    label = re.sub(r"<[^>]+>|fa:fa-[\w-]+|#quot;|&quot;", " ", label)
    label = label.replace("**", "").replace("`", "").strip().strip('"').strip("'")
    return " ".join(label.split())


def _unique(items: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    found = []
    for item in items:
        if item and item.casefold() not in seen:
            seen.add(item.casefold())
            found.append(item)
    return found


# ---------------------------------------------------------------------------
# Scanning: where an element, an expression or a statement ends


_TAG_NAME = re.compile(r"[A-Za-z][\w.]*(?::[\w.]+)?")
_ATTR_NAME = re.compile(r"[A-Za-z_$][\w$:.-]*")
_SPACE = re.compile(r"\s*")


@dataclass(frozen=True)
class _Tag:
    """An element found in MDX text; offsets index that text."""

    name: str
    start: int  # the "<"
    open_end: int  # just past the opening tag's ">"
    close_start: int  # the closing tag's "<" (== open_end when self-closing)
    end: int  # just past the element
    self_closing: bool


def _skip_quoted(text: str, i: int) -> int:
    """Index just past the JS string literal opening at ``i`` (-1: unterminated)."""
    quote = text[i]
    j = i + 1
    while j < len(text):
        ch = text[j]
        if ch == "\\":
            j += 2
            continue
        if ch == quote:
            return j + 1
        j += 1
    return -1


def _skip_template(text: str, i: int) -> int:
    """Index just past the template literal opening at ``i`` (-1: unterminated)."""
    j = i + 1
    while j < len(text):
        ch = text[j]
        if ch == "\\":
            j += 2
        elif ch == "`":
            return j + 1
        elif text.startswith("${", j):
            j = _skip_braces(text, j + 1)
            if j < 0:
                return -1
        else:
            j += 1
    return -1


def _skip_comment(text: str, i: int) -> int:
    """Index just past the ``//`` or ``/* */`` comment at ``i`` (-1: unterminated)."""
    if text.startswith("//", i):
        end = text.find("\n", i)
        return len(text) if end < 0 else end
    end = text.find("*/", i + 2)
    return -1 if end < 0 else end + 2


def _skip_braces(text: str, i: int) -> int:
    """Index just past the ``{…}`` expression whose ``{`` is at ``i`` (-1: unbalanced).

    Strings, template literals (with nested ``${…}``) and comments are skipped,
    so a brace inside them does not count.
    """
    depth = 0
    j = i
    while j < len(text):
        ch = text[j]
        if ch in "\"'":
            j = _skip_quoted(text, j)
        elif ch == "`":
            j = _skip_template(text, j)
        elif ch == "/" and text.startswith(("//", "/*"), j):
            j = _skip_comment(text, j)
        else:
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth == 0:
                    return j + 1
            j += 1
        if j < 0:
            return -1
    return -1


def _statement_end(text: str, i: int) -> int:
    """Index just past the ``import``/``export`` statement starting at ``i``.

    The statement ends at the first newline (or ``;``) outside brackets,
    strings and template literals.
    """
    depth = 0
    j = i
    while j < len(text):
        ch = text[j]
        if ch in "\"'`":
            k = _skip_template(text, j) if ch == "`" else _skip_quoted(text, j)
            j = len(text) if k < 0 else k
            continue
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch in "\n;" and depth <= 0:
            return j + 1
        j += 1
    return len(text)


def _opening_tag(text: str, i: int) -> tuple[str, int, bool] | None:
    """``(name, end, self_closing)`` of the tag opening at ``text[i] == "<"``.

    None when no well-formed opening tag starts there.
    """
    match = _TAG_NAME.match(text, i + 1)
    if not match:
        return None
    j = match.end()
    while j < len(text):
        j = _SPACE.match(text, j).end()  # type: ignore[union-attr]
        if text.startswith("/>", j):
            return match.group(), j + 2, True
        if text.startswith(">", j):
            return match.group(), j + 1, False
        if text.startswith("{", j):  # {...spread} or {/* comment */}
            j = _skip_braces(text, j)
        else:
            j = _attribute_end(text, j)
        if j < 0:
            return None
    return None


def _attribute_end(text: str, i: int) -> int:
    """Index just past the attribute ``name``, ``name="…"`` or ``name={…}`` at ``i``."""
    match = _ATTR_NAME.match(text, i)
    if not match:
        return -1
    j = _SPACE.match(text, match.end()).end()  # type: ignore[union-attr]
    if not text.startswith("=", j):
        return match.end()
    j = _SPACE.match(text, j + 1).end()  # type: ignore[union-attr]
    if text.startswith(("\"", "'"), j):  # JSX attribute strings have no escapes
        end = text.find(text[j], j + 1)
        return -1 if end < 0 else end + 1
    if text.startswith("{", j):
        return _skip_braces(text, j)
    return -1


def _find_tag(text: str, i: int) -> _Tag | None:
    """The element whose opening tag starts at ``text[i] == "<"``, with its closing tag.

    A tag without its closing tag is returned as if it were self-closing.
    None when no well-formed opening tag starts at ``i``.
    """
    opened = _opening_tag(text, i)
    if opened is None:
        return None
    name, open_end, self_closing = opened
    if self_closing:
        return _Tag(name, i, open_end, open_end, open_end, True)
    closed = _find_close(text, name, open_end)
    if closed is None:
        return _Tag(name, i, open_end, open_end, open_end, True)
    return _Tag(name, i, open_end, closed[0], closed[1], False)


def _find_close(text: str, name: str, i: int) -> tuple[int, int] | None:
    """``(start, end)`` of the tag closing ``name`` opened before ``i``, nesting counted."""
    pattern = re.compile(rf"<(/?)\s*{re.escape(name)}(?=[\s/>])")
    closing = re.compile(rf"</\s*{re.escape(name)}\s*>")
    depth = 1
    j = i
    while (match := pattern.search(text, j)) is not None:
        if match.group(1):
            close = closing.match(text, match.start())
            j = close.end() if close else match.end()
            if close:
                depth -= 1
                if depth == 0:
                    return match.start(), close.end()
            continue
        inner = _opening_tag(text, match.start())
        if inner is None:
            j = match.end()
            continue
        depth += 0 if inner[2] else 1
        j = inner[1]
    return None


# ---------------------------------------------------------------------------
# Props: parsed with esprima, literal values evaluated


class PropsError(ValueError):
    """A component's props are not valid JSX."""


def _parse_props(tag_source: str, source_of: Any = None) -> dict[str, Any]:
    """The props of the opening tag ``tag_source`` (``<Name …>`` or ``<Name …/>``).

    Literal values are evaluated (strings, numbers, booleans, null, arrays,
    objects, template literals, unary minus); a JSX value becomes its source
    text passed through ``source_of``; anything computed becomes None. A
    bare attribute is True.

    Raises:
        PropsError: the tag is not valid JSX.
    """
    simple = _string_props(tag_source)
    if simple is not None:
        return simple
    import esprima

    if not tag_source.endswith("/>"):
        tag_source = tag_source[:-1].rstrip() + " />"
    try:
        program = esprima.parseScript(tag_source, {"jsx": True, "range": True})
    except esprima.Error as exc:
        raise PropsError(str(exc)) from exc
    element = program.body[0].expression
    props: dict[str, Any] = {}
    for attribute in element.openingElement.attributes:
        if attribute.type != "JSXAttribute":
            continue
        name = _jsx_name(attribute.name)
        props[name] = _attribute_value(attribute.value, tag_source, source_of)
    return props


def _string_props(tag_source: str) -> dict[str, Any] | None:
    """The props of a tag whose values are all quoted strings (``<R id="…">``), read
    without esprima (ten times faster); None when any value is an expression."""
    props: dict[str, Any] = {}
    name = _TAG_NAME.match(tag_source, 1)
    j = name.end() if name else len(tag_source)
    while j < len(tag_source):
        j = _SPACE.match(tag_source, j).end()  # type: ignore[union-attr]
        if tag_source.startswith(("/>", ">"), j):
            return props
        attribute = _ATTR_NAME.match(tag_source, j)
        if attribute is None:
            return None
        j = _SPACE.match(tag_source, attribute.end()).end()  # type: ignore[union-attr]
        if not tag_source.startswith("=", j):
            props[attribute.group()] = True
            continue
        j = _SPACE.match(tag_source, j + 1).end()  # type: ignore[union-attr]
        quote = tag_source[j : j + 1]
        end = tag_source.find(quote, j + 1) if quote in ("\"", "'") else -1
        if end < 0:
            return None
        props[attribute.group()] = html.unescape(tag_source[j + 1 : end])
        j = end + 1
    return None


def _jsx_name(node: Any) -> str:
    if node.type == "JSXNamespacedName":
        return f"{node.namespace.name}:{node.name.name}"
    return str(node.name)


def _attribute_value(node: Any, source: str, source_of: Any) -> Any:
    if node is None:
        return True
    if node.type == "JSXExpressionContainer":
        return _literal(node.expression, source, source_of)
    return _literal(node, source, source_of)


def _literal(node: Any, source: str, source_of: Any = None) -> Any:
    """The value of a literal AST node; None for anything computed."""
    kind = node.type
    if kind == "Literal":
        return node.value
    if kind == "TemplateLiteral":
        parts = []
        for n, quasi in enumerate(node.quasis):
            parts.append(quasi.value.cooked or "")
            if n < len(node.expressions):
                value = _literal(node.expressions[n], source, source_of)
                parts.append("" if value is None else str(value))
        return "".join(parts)
    if kind == "ArrayExpression":
        return [_literal(e, source, source_of) for e in node.elements if e is not None]
    if kind == "ObjectExpression":
        return _object(node, source, source_of)
    if kind == "UnaryExpression" and node.operator in "-+":
        value = _literal(node.argument, source, source_of)
        if isinstance(value, int | float):
            return -value if node.operator == "-" else value
    if kind in ("JSXElement", "JSXFragment") and source_of is not None:
        return source_of(source[node.range[0] : node.range[1]])
    return None


def _object(node: Any, source: str, source_of: Any) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for prop in node.properties:
        if prop.type != "Property" or prop.computed:
            continue
        key = prop.key.name if prop.key.type == "Identifier" else prop.key.value
        result[str(key)] = _literal(prop.value, source, source_of)
    return result
