"""Prompt files: reading and validating them, and writing one from a corpus' tables.

A prompt file (YAML) holds ``cases``; each case has an ``id``, its ``turns``
(earlier questions first, the last one scored) and what it expects:
``expected_sources``, ``must_include`` / ``must_not_include`` phrases (a
``/regex/`` too), or ``abstain``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.answer import Citation
from bot.errors import BotError
from bot.markdown import PATH_SEP, crux_question

_CASE_FIELDS = {"id", "turns", "expected_sources", "must_include", "must_not_include", "abstain", "tags", "notes"}
_SOURCE_FIELDS = {"doc_id", "section", "row"}


class PromptFileError(BotError):
    """A prompt file is not valid; the message names each bad case and field."""


@dataclass(frozen=True)
class Source:
    doc_id: str
    section: str = ""
    row: str = ""

    def matches(self, citation: Citation) -> bool:
        """The citation is from this document and, when given, this section
        (the heading itself or a heading under it) and row."""
        if citation.doc_id != self.doc_id:
            return False
        if self.section and not _in_section(citation.section, self.section):
            return False
        return not self.row or _norm(self.row) in _norm(citation.text)


@dataclass(frozen=True)
class Case:
    id: str
    turns: tuple[str, ...]
    expected_sources: tuple[Source, ...] = ()
    must_include: tuple[str, ...] = ()
    must_not_include: tuple[str, ...] = ()
    abstain: bool = False
    tags: tuple[str, ...] = ()


def load_cases(path: str | os.PathLike[str]) -> list[Case]:
    """Read and validate a prompt file.

    Raises:
        PromptFileError: naming every bad case by id and field.
    """
    import yaml

    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text("utf-8"))
    except OSError as exc:
        raise PromptFileError(f"cannot read prompt file {path}: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise PromptFileError(f"{path} is not valid YAML: {str(exc).splitlines()[0]}") from exc
    raw_cases = data.get("cases") if isinstance(data, dict) else data
    if not isinstance(raw_cases, list) or not raw_cases:
        raise PromptFileError(f"{path}: expected a non-empty list under 'cases'")
    errors: list[str] = []
    cases: list[Case] = []
    seen: set[str] = set()
    for n, raw in enumerate(raw_cases, start=1):
        case, problems = _parse_case(raw, n)
        if case is not None and case.id in seen:
            problems.append(f"case {case.id}: field id: duplicate id")
        errors.extend(problems)
        if case is not None:
            seen.add(case.id)
            cases.append(case)
    if errors:
        raise PromptFileError(f"{path} has {len(errors)} problem(s):\n" + "\n".join(f"  - {e}" for e in errors))
    return cases


def require_documents(prompts: str | os.PathLike[str], cases: Sequence[Case], held: Collection[str]) -> None:
    """Fail when the prompts expect documents that the index does not hold
    (they were written for another corpus): every score would be meaningless."""
    missing = sorted({s.doc_id for c in cases for s in c.expected_sources} - set(held))
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise PromptFileError(
            f"{prompts} expects documents this index does not hold ({shown}): "
            "index the corpus it was written for (bot eval run FILE --corpus DIR --index DIR)"
        )


def phrase_in(phrase: str, text: str) -> bool:
    """Case-insensitive substring, or ``/regex/``; markdown escapes ignored."""
    plain = _norm(re.sub(r"\*\*|__", "", text))
    if _is_regex(phrase):
        return re.search(phrase[1:-1], plain, re.I) is not None
    return _norm(phrase) in plain


def generate_cases(corpus: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """One question per table row of a corpus, each expecting its own row."""
    from bot.markdown import load_corpus

    cases: list[dict[str, Any]] = []
    for doc in load_corpus(corpus).documents:
        for chunk in doc.chunks:
            if chunk.table is None or chunk.row is None:
                continue
            cells = [(h, c) for h, c in chunk.cells if c]
            if not cells:
                continue
            table = chunk.table
            heading = table.section.split(PATH_SEP)[-1]
            if table.kind == "assessment":
                question = f"How does {doc.title} rate on {cells[0][1]}?"
                phrases = [c for h, c in cells if h.lower() in ("notes", "note")] or [cells[-1][1]]
            elif table.kind == "crux":
                crux = crux_question(heading)
                question = f"What are the arguments on '{crux}'?"
                phrases = [c for _, c in cells]
            elif len(cells) >= 2:
                question = f"In {doc.title}, what is the {cells[1][0].lower()} of {cells[0][1]}?"
                phrases = [cells[1][1]]
            else:
                question = f"What does {doc.title} say about {cells[0][1]}?"
                phrases = [cells[0][1]]
            cases.append(
                {
                    "id": f"{doc.doc_id.replace('/', '-')}-{chunk.position:03d}",
                    "turns": [question],
                    "expected_sources": [{"doc_id": doc.doc_id, "section": table.section, "row": chunk.body}],
                    "must_include": phrases[:2],
                    "tags": ["generated", table.kind],
                }
            )
    return cases


def write_cases(cases: Sequence[dict[str, Any]], path: str | os.PathLike[str]) -> None:
    import yaml

    header = "# Generated by `bot eval generate`: one question per table row, each expecting its own row.\n"
    Path(path).write_text(header + yaml.safe_dump({"cases": list(cases)}, sort_keys=False, allow_unicode=True), "utf-8")


def _parse_case(raw: Any, n: int) -> tuple[Case | None, list[str]]:
    if not isinstance(raw, dict):
        return None, [f"case #{n}: not a mapping"]
    cid = raw.get("id")
    name = f"case {cid}" if isinstance(cid, str) and cid else f"case #{n}"
    problems: list[str] = []

    def bad(fieldname: str, message: str) -> None:
        problems.append(f"{name}: field {fieldname}: {message}")

    if not isinstance(cid, str) or not cid.strip():
        bad("id", "missing or not text")
    for key in sorted(set(raw) - _CASE_FIELDS):
        bad(key, "unknown field")
    turns = raw.get("turns")
    if not isinstance(turns, list) or not turns or not all(isinstance(t, str) and t.strip() for t in turns):
        bad("turns", "must be a non-empty list of non-empty questions")
        turns = []
    sources: list[Source] = []
    raw_sources = raw.get("expected_sources") or []
    if not isinstance(raw_sources, list):
        bad("expected_sources", "must be a list")
        raw_sources = []
    for s in raw_sources:
        if isinstance(s, str):
            sources.append(Source(s))
        elif isinstance(s, dict) and isinstance(s.get("doc_id"), str) and not set(s) - _SOURCE_FIELDS:
            sources.append(Source(s["doc_id"], str(s.get("section") or ""), str(s.get("row") or "")))
        else:
            bad("expected_sources", f"bad source {s!r} (needs doc_id; may have section, row)")
    lists: dict[str, tuple[str, ...]] = {}
    for key in ("must_include", "must_not_include", "tags"):
        value = raw.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            bad(key, "must be a list of text")
            value = []
        lists[key] = tuple(value)
    for phrase in lists["must_include"] + lists["must_not_include"]:
        if _is_regex(phrase):
            try:
                re.compile(phrase[1:-1])
            except re.error as exc:
                bad("must_include", f"bad regex {phrase}: {exc}")
    abstain = raw.get("abstain", False)
    if not isinstance(abstain, bool):
        bad("abstain", "must be true or false")
        abstain = False
    if abstain and sources:
        bad("expected_sources", "an abstain case expects no sources")
    if not abstain and not sources and not lists["must_include"]:
        bad("expected_sources", "a case must expect sources or phrases, or abstain")
    if problems:
        return None, problems
    return (
        Case(
            id=str(cid),
            turns=tuple(turns),
            expected_sources=tuple(sources),
            must_include=lists["must_include"],
            must_not_include=lists["must_not_include"],
            abstain=abstain,
            tags=lists["tags"],
        ),
        [],
    )


def _in_section(path: str, section: str) -> bool:
    """Whether a ``A › B › C`` section path is, or lies under, the heading ``section``."""
    want = _norm(section)
    norm = _norm(path)
    return norm == want or norm.endswith(want) or any(_norm(part) == want for part in path.split(PATH_SEP))


def _is_regex(phrase: str) -> bool:
    return len(phrase) > 2 and phrase.startswith("/") and phrase.endswith("/")


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\\", "")).strip().lower()
