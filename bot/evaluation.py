"""Evaluation with a file of test prompts: load, validate, run, report.

A prompt file (YAML) holds ``cases``; each case runs through a fresh
:class:`~bot.chat.ChatSession` (earlier turns first, the last one scored) and
is scored on retrieval (recall@k, MRR), phrases, abstention, citation validity,
length and latency. :func:`evaluate` returns a :class:`Report`.
"""

from __future__ import annotations

import json
import logging
import os
import re
import statistics
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bot.answer import Answer, Citation
from bot.errors import BotError

log = logging.getLogger(__name__)

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


def _require_documents(prompts: str | os.PathLike[str], cases: Sequence[Case], held: Collection[str]) -> None:
    """Fail when the prompts expect documents that the index does not hold
    (they were written for another corpus): every score would be meaningless."""
    missing = sorted({s.doc_id for c in cases for s in c.expected_sources} - set(held))
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise PromptFileError(
            f"{prompts} expects documents this index does not hold ({shown}): "
            "index the corpus it was written for (bot eval run FILE --corpus DIR --index DIR)"
        )


def _in_section(path: str, section: str) -> bool:
    """Whether a ``A › B › C`` section path is, or lies under, the heading ``section``."""
    want = _norm(section)
    norm = _norm(path)
    return norm == want or norm.endswith(want) or any(_norm(part) == want for part in path.split(" › "))


@dataclass(frozen=True)
class Case:
    id: str
    turns: tuple[str, ...]
    expected_sources: tuple[Source, ...] = ()
    must_include: tuple[str, ...] = ()
    must_not_include: tuple[str, ...] = ()
    abstain: bool = False
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class CaseResult:
    id: str
    tags: tuple[str, ...]
    question: str
    query: str
    answer: str
    abstained: bool
    expected_abstain: bool
    citations: tuple[dict[str, Any], ...]
    expected_sources: tuple[dict[str, str], ...]
    recall: float | None  # None when the case expects no source
    doc_recall: float | None
    reciprocal_rank: float | None
    phrases_found: tuple[str, ...]
    phrases_missing: tuple[str, ...]
    forbidden_found: tuple[str, ...]
    citations_valid: bool
    citation_problems: tuple[str, ...]
    seconds: float
    error: str = ""
    crux_balanced: bool | None = None  # every cited crux table gives both columns (None: no crux cited)

    @property
    def phrases_pass(self) -> bool:
        return not self.phrases_missing and not self.forbidden_found

    @property
    def abstention_correct(self) -> bool:
        return self.abstained == self.expected_abstain

    @property
    def passed(self) -> bool:
        return (
            not self.error
            and self.abstention_correct
            and self.phrases_pass
            and self.citations_valid
            and (self.recall is None or self.recall >= 1.0 - 1e-9)
        )

    @property
    def badness(self) -> float:
        """How badly the case failed, for sorting (higher is worse)."""
        score = 0.0
        score += 3.0 if self.error else 0.0
        score += 2.0 if not self.abstention_correct else 0.0
        score += 1.0 - (self.recall if self.recall is not None else 1.0)
        score += 1.0 - (self.reciprocal_rank if self.reciprocal_rank is not None else 1.0)
        score += 0.5 * len(self.phrases_missing) + 1.0 * len(self.forbidden_found)
        score += 1.0 if not self.citations_valid else 0.0
        return score


@dataclass(frozen=True)
class Metrics:
    """Summary metrics; a rate is None when no case could measure it."""

    cases: int
    recall_at_k: float | None
    doc_recall_at_k: float | None
    mrr: float | None
    phrase_pass: float | None
    abstention_precision: float | None
    abstention_recall: float | None
    citation_validity: float
    crux_balance: float | None
    median_answer_chars: float
    p90_answer_chars: float
    latency_p50_ms: float
    latency_p95_ms: float
    passed: int


@dataclass(frozen=True)
class Report:
    file: str
    k: int
    metrics: Metrics
    by_tag: dict[str, Metrics]
    results: tuple[CaseResult, ...]
    failures: tuple[CaseResult, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "k": self.k,
            "metrics": asdict(self.metrics),
            "by_tag": {t: asdict(m) for t, m in self.by_tag.items()},
            "cases": [_result_dict(r) for r in self.results],
            "failures": [r.id for r in self.failures],
        }


def _result_dict(result: CaseResult) -> dict[str, Any]:
    data = asdict(result)
    data["passed"] = result.passed
    data["phrases_pass"] = result.phrases_pass
    return data


# ---------------------------------------------------------------------------
# Loading and validation


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


def _is_regex(phrase: str) -> bool:
    return len(phrase) > 2 and phrase.startswith("/") and phrase.endswith("/")


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\\", "")).strip().lower()


def phrase_in(phrase: str, text: str) -> bool:
    """Case-insensitive substring, or ``/regex/``; markdown escapes ignored."""
    plain = _norm(re.sub(r"\*\*|__", "", text))
    if _is_regex(phrase):
        return re.search(phrase[1:-1], plain, re.I) is not None
    return _norm(phrase) in plain


# ---------------------------------------------------------------------------
# Running


AskFactory = Callable[[], Callable[[str], Answer]]


def evaluate(
    prompts: str | os.PathLike[str],
    *,
    index: str | os.PathLike[str] | None = None,
    corpus: str | os.PathLike[str] | None = None,
    k: int = 3,
    session_factory: AskFactory | None = None,
    progress: bool = False,
    profile: str | os.PathLike[str] | None = None,
) -> Report:
    """Run every case of a prompt file and score it.

    Args:
        prompts: the YAML prompt file.
        index: the index folder (default ``BOT_INDEX_DIR``).
        corpus: index this folder first (incrementally) when given.
        k: the cut-off for recall@k.
        session_factory: makes a new conversation (a callable taking a question,
            returning an Answer) per case; default a fresh ``ChatSession``.
        progress: show a progress bar.
        profile: the corpus profile to index ``corpus`` with.

    Raises:
        PromptFileError: the file is invalid, or expects documents the index does not hold.
    """
    cases = load_cases(prompts)
    if corpus is not None:
        from bot.indexing import build_index

        build_index(corpus, index, progress=progress, profile=profile)
    catalog_texts: dict[str, str] | None = None
    if session_factory is None:
        from bot.chat import ChatSession
        from bot.retrieval import Index

        opened = Index.open(index)
        catalog_texts = {cid: c.text for cid, c in opened.catalog.chunks.items()}
        _require_documents(prompts, cases, opened.catalog.documents)

        def session_factory() -> Callable[[str], Answer]:
            return ChatSession(index).ask

    results = [_run_case(case, session_factory, k, catalog_texts) for case in _progress(cases, progress)]
    return report(str(prompts), k, results)


def _progress(cases: Sequence[Case], show: bool) -> Iterable[Case]:
    if not show:
        return cases
    from tqdm import tqdm

    return tqdm(cases, desc="eval", unit="case")


def _run_case(
    case: Case, factory: AskFactory, k: int, catalog_texts: dict[str, str] | None
) -> CaseResult:
    started = time.perf_counter()
    ask = factory()
    answer: Answer | None = None
    error = ""
    try:
        for turn in case.turns[:-1]:
            ask(turn)
        started = time.perf_counter()
        answer = ask(case.turns[-1])
    except BotError as exc:
        error = str(exc)
    seconds = time.perf_counter() - started
    if answer is None:
        answer = Answer(question=case.turns[-1], text="", abstained=False)
    cites = answer.citations
    recall = doc_recall = rr = None
    if case.expected_sources and not answer.abstained:
        top = cites[:k]
        wanted = min(k, len(case.expected_sources))
        recall = min(1.0, sum(any(s.matches(c) for c in top) for s in case.expected_sources) / wanted)
        docs = {s.doc_id for s in case.expected_sources}
        doc_recall = min(1.0, len(docs & {c.doc_id for c in top}) / min(k, len(docs)))
        rank = next((i for i, c in enumerate(cites, 1) if any(s.matches(c) for s in case.expected_sources)), None)
        rr = 1.0 / rank if rank else 0.0
    elif case.expected_sources:
        recall = doc_recall = rr = 0.0
    found = tuple(p for p in case.must_include if phrase_in(p, answer.text))
    missing = tuple(p for p in case.must_include if not phrase_in(p, answer.text))
    forbidden = tuple(p for p in case.must_not_include if phrase_in(p, answer.text))
    problems = citation_problems(answer, catalog_texts)
    return CaseResult(
        crux_balanced=crux_balance(answer),
        id=case.id,
        tags=case.tags,
        question=case.turns[-1],
        query=answer.query,
        answer=answer.text,
        abstained=answer.abstained,
        expected_abstain=case.abstain,
        citations=tuple({"n": c.n, "doc_id": c.doc_id, "section": c.section, "text": c.text} for c in cites),
        expected_sources=tuple(asdict(s) for s in case.expected_sources),
        recall=recall,
        doc_recall=doc_recall,
        reciprocal_rank=rr,
        phrases_found=found,
        phrases_missing=missing,
        forbidden_found=forbidden,
        citations_valid=not problems,
        citation_problems=tuple(problems),
        seconds=seconds,
        error=error,
    )


def crux_balance(answer: Answer) -> bool | None:
    """Whether every crux table the answer cites has both its columns' arguments
    in the text (None when it cites no crux table)."""
    tables = {c.table.table_id: c.table for c in answer.citations if c.table is not None and c.table.kind == "crux"}
    if not tables:
        return None
    text = answer.text
    for table in tables.values():
        cited = [c for c in answer.citations if c.table is not None and c.table.table_id == table.table_id]
        for col in range(len(table.headers)):
            cells = [table.rows[c.row][col] for c in cited if c.row is not None and col < len(table.rows[c.row])]
            if not any(cell and phrase_in(cell, text) for cell in cells):
                return False
    return True


def citation_problems(answer: Answer, catalog_texts: dict[str, str] | None = None) -> list[str]:
    """What is wrong with an answer's citations (empty when all is well).

    Every ``[n]`` in the text must resolve to a citation, every citation must
    be used, numbered in order, and (given the index's chunks) be the text of
    an indexed passage.
    """
    problems = []
    numbers = {c.n for c in answer.citations}
    used = {int(m) for m in re.findall(r"(?<!\\)\[(\d+)\]", answer.text)}
    for n in sorted(used - numbers):
        problems.append(f"[{n}] does not resolve to a citation")
    for n in sorted(numbers - used):
        problems.append(f"citation {n} is not referenced in the text")
    if [c.n for c in answer.citations] != list(range(1, len(answer.citations) + 1)):
        problems.append("citations are not numbered 1..n in order")
    if answer.abstained and answer.citations:
        problems.append("an abstention carries citations")
    if catalog_texts is not None:
        for c in answer.citations:
            if catalog_texts.get(c.chunk_id) != c.text:
                problems.append(f"citation {c.n} is not a retrieved passage of the index")
    return problems


def report(file: str, k: int, results: Sequence[CaseResult]) -> Report:
    tags = sorted({t for r in results for t in r.tags})
    by_tag = {t: _metrics([r for r in results if t in r.tags]) for t in tags}
    failures = tuple(sorted((r for r in results if not r.passed), key=lambda r: -r.badness))
    return Report(file=file, k=k, metrics=_metrics(results), by_tag=by_tag, results=tuple(results), failures=failures)


def _mean(values: Iterable[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return round(sum(vals) / len(vals), 4) if vals else None


def fmt(value: float | None, spec: str = ".3f") -> str:
    """A metric for display: ``n/a`` when it could not be measured."""
    return "n/a" if value is None else format(value, spec)


def _pct(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    idx = min(len(ordered) - 1, max(0, int(round(q * (len(ordered) - 1)))))
    return round(ordered[idx], 1)


def _metrics(results: Sequence[CaseResult]) -> Metrics:
    abstained = [r for r in results if r.abstained]
    should = [r for r in results if r.expected_abstain]
    lengths = [float(len(r.answer)) for r in results if not r.abstained and not r.error]
    phrase_cases = [r for r in results if not r.expected_abstain]
    latencies = [r.seconds * 1000 for r in results]
    return Metrics(
        cases=len(results),
        recall_at_k=_mean(r.recall for r in results),
        doc_recall_at_k=_mean(r.doc_recall for r in results),
        mrr=_mean(r.reciprocal_rank for r in results),
        phrase_pass=_mean((1.0 if r.phrases_pass else 0.0) for r in phrase_cases),
        abstention_precision=_mean((1.0 if r.expected_abstain else 0.0) for r in abstained),
        abstention_recall=_mean((1.0 if r.abstained else 0.0) for r in should),
        citation_validity=_mean(1.0 if r.citations_valid else 0.0 for r in results) or 0.0,
        crux_balance=_mean(None if r.crux_balanced is None else float(r.crux_balanced) for r in results),
        median_answer_chars=round(statistics.median(lengths), 1) if lengths else 0.0,
        p90_answer_chars=_pct(lengths, 0.9),
        latency_p50_ms=_pct(latencies, 0.5),
        latency_p95_ms=_pct(latencies, 0.95),
        passed=sum(1 for r in results if r.passed),
    )


def to_json(rep: Report) -> str:
    return json.dumps(rep.to_dict(), indent=2, ensure_ascii=False)


# ---------------------------------------------------------------------------
# Reports


def to_markdown(rep: Report, chart: str | None = None) -> str:
    """A report readable on its own: metrics, per-tag table, failures worst first."""
    m = rep.metrics
    lines = [
        f"# Evaluation of `{rep.file}`",
        "",
        f"{m.cases} cases, {m.passed} passed.",
        "",
        "| metric | value |",
        "|---|---|",
        f"| recall@{rep.k} (expected source, with its section) | {fmt(m.recall_at_k)} |",
        f"| recall@{rep.k} (expected document) | {fmt(m.doc_recall_at_k)} |",
        f"| MRR | {fmt(m.mrr)} |",
        f"| phrase pass rate | {fmt(m.phrase_pass)} |",
        f"| abstention precision | {fmt(m.abstention_precision)} |",
        f"| abstention recall | {fmt(m.abstention_recall)} |",
        f"| valid citations | {m.citation_validity:.3f} |",
        f"| crux answers giving both sides | {fmt(m.crux_balance)} |",
        f"| median / p90 answer length (chars) | {m.median_answer_chars:.0f} / {m.p90_answer_chars:.0f} |",
        f"| latency p50 / p95 (ms) | {m.latency_p50_ms:.0f} / {m.latency_p95_ms:.0f} |",
        "",
        "## By tag",
        "",
        "| tag | cases | passed | recall | MRR | phrases | abstention P | abstention R |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for tag, t in rep.by_tag.items():
        lines.append(
            f"| {tag} | {t.cases} | {t.passed} | {fmt(t.recall_at_k, '.2f')} | {fmt(t.mrr, '.2f')} | "
            f"{fmt(t.phrase_pass, '.2f')} | {fmt(t.abstention_precision, '.2f')} | {fmt(t.abstention_recall, '.2f')} |"
        )
    if chart:
        lines += ["", f"![metrics per tag]({chart})"]
    lines += ["", f"## Failing cases, worst first ({len(rep.failures)})", ""]
    for r in rep.failures:
        lines.append(f"### {r.id} ({', '.join(r.tags)})")
        lines.append("")
        lines.append(f"- question: {r.question}")
        if r.query != r.question:
            lines.append(f"- searched as: {r.query}")
        expected = "abstain" if r.expected_abstain else ", ".join(
            f"{s['doc_id']} › {s['section']}" if s.get("section") else s["doc_id"] for s in r.expected_sources
        )
        lines.append(f"- expected: {expected}")
        got = "abstained" if r.abstained else ", ".join(f"[{c['n']}] {c['doc_id']} › {c['section']}" for c in r.citations[:4])
        lines.append(f"- got: {got}")
        if r.phrases_missing:
            lines.append("- missing phrases: " + "; ".join(r.phrases_missing))
        if r.forbidden_found:
            lines.append("- forbidden phrases found: " + "; ".join(r.forbidden_found))
        if r.citation_problems:
            lines.append("- citation problems: " + "; ".join(r.citation_problems))
        if r.error:
            lines.append(f"- error: {r.error}")
        lines.append("")
    return "\n".join(lines) + "\n"


def write_report(rep: Report, path: str | os.PathLike[str]) -> Path:
    """Write the markdown report and its bar chart PNG (``<name>.png``) beside it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    chart = path.with_suffix(".png")
    plot_by_tag(rep, chart)
    path.write_text(to_markdown(rep, chart.name), "utf-8")
    return path


def plot_by_tag(rep: Report, path: Path) -> None:
    """A grouped bar chart of recall, MRR and phrase pass rate per tag."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tags = list(rep.by_tag)
    series = {
        f"recall@{rep.k}": [rep.by_tag[t].recall_at_k or 0.0 for t in tags],
        "MRR": [rep.by_tag[t].mrr or 0.0 for t in tags],
        "phrases": [rep.by_tag[t].phrase_pass or 0.0 for t in tags],
        "passed": [rep.by_tag[t].passed / max(1, rep.by_tag[t].cases) for t in tags],
    }
    width = 0.2
    fig, ax = plt.subplots(figsize=(max(6.0, 0.9 * len(tags) + 2), 4))
    for i, (name, values) in enumerate(series.items()):
        ax.bar([x + i * width for x in range(len(tags))], values, width, label=name)
    ax.set_xticks([x + 1.5 * width for x in range(len(tags))], tags, rotation=30, ha="right")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("score")
    ax.set_title(f"{Path(rep.file).name}: metrics per tag")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.28), ncol=4, fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ---------------------------------------------------------------------------
# Prompts generated from the tables


def generate_cases(corpus: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """One question per table row of a corpus, each expecting its own row."""
    from bot.markdown import PATH_SEP, load_corpus

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
                crux = re.sub(r"^crux\s*\d*\s*[:.\-–—]\s*", "", heading, flags=re.I)
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


@dataclass(frozen=True)
class Coverage:
    rows: int
    covered: int
    missing: tuple[str, ...]  # "title › section — row" of rows no prompt retrieves


def coverage(
    prompts: str | os.PathLike[str], *, index: str | os.PathLike[str] | None = None, k: int = 3
) -> Coverage:
    """The table rows of an index that no prompt of a file retrieves in its top ``k`` citations."""
    from bot.chat import ChatSession
    from bot.retrieval import Index

    cases = load_cases(prompts)
    opened = Index.open(index)
    seen: set[str] = set()
    for case in cases:
        session = ChatSession(index)
        answer = None
        try:
            for turn in case.turns:
                answer = session.ask(turn)
        except BotError:
            continue
        if answer is not None:
            seen.update(c.chunk_id for c in answer.citations[:k])
    rows = [c for c in opened.catalog.chunks.values() if c.kind == "row"]
    missing = sorted(
        (c for c in rows if c.chunk_id not in seen), key=lambda c: (c.doc_id, c.position)
    )
    return Coverage(
        rows=len(rows),
        covered=len(rows) - len(missing),
        missing=tuple(f"{c.title} › {c.section} — {c.body}" for c in missing),
    )
