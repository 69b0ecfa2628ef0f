"""Scoring: one answer against its case, and the summary metrics of many.

A case is scored on retrieval (recall@k of its expected sources and
documents, reciprocal rank), phrases, abstention, citation validity, whether
a cited crux table gets both its sides, length and latency.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from bot.answer import Answer
from bot.evaluation.prompts import Case, phrase_in


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


def score(
    case: Case, answer: Answer, k: int, seconds: float, error: str = "", catalog_texts: dict[str, str] | None = None
) -> CaseResult:
    """How one answer (to the case's last turn) fares against what the case expects."""
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
        phrases_found=tuple(p for p in case.must_include if phrase_in(p, answer.text)),
        phrases_missing=tuple(p for p in case.must_include if not phrase_in(p, answer.text)),
        forbidden_found=tuple(p for p in case.must_not_include if phrase_in(p, answer.text)),
        citations_valid=not problems,
        citation_problems=tuple(problems),
        seconds=seconds,
        error=error,
    )


def crux_balance(answer: Answer) -> bool | None:
    """Whether every crux table the answer cites has both its columns' arguments
    in the text, or every position of a crux given one row per position (None
    when it cites no crux table)."""
    tables = {c.table.table_id: c.table for c in answer.citations if c.table is not None and c.table.crux}
    if not tables:
        return None
    text = answer.text
    for table in tables.values():
        if table.by_position:
            if not all(phrase_in(row[0], text) for row in table.rows if row and row[0]):
                return False
            continue
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


def metrics(results: Sequence[CaseResult]) -> Metrics:
    """The summary of a set of results (all of a file's, or one tag's)."""
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


def _mean(values: Iterable[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return round(sum(vals) / len(vals), 4) if vals else None


def _pct(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    idx = min(len(ordered) - 1, max(0, int(round(q * (len(ordered) - 1)))))
    return round(ordered[idx], 1)
