"""Reports of an evaluation: the :class:`Report` itself, as JSON, and as Markdown
with a bar chart of the metrics per tag."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bot.evaluation.scoring import CaseResult, Metrics, metrics
from bot.markdown import PATH_SEP


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


def report(file: str, k: int, results: Sequence[CaseResult]) -> Report:
    """The report of a file's results: its metrics, each tag's, and the failures worst first."""
    tags = sorted({t for r in results for t in r.tags})
    by_tag = {t: metrics([r for r in results if t in r.tags]) for t in tags}
    failures = tuple(sorted((r for r in results if not r.passed), key=lambda r: -r.badness))
    return Report(file=file, k=k, metrics=metrics(results), by_tag=by_tag, results=tuple(results), failures=failures)


def fmt(value: float | None, spec: str = ".3f") -> str:
    """A metric for display: ``n/a`` when it could not be measured."""
    return "n/a" if value is None else format(value, spec)


def to_json(rep: Report) -> str:
    return json.dumps(rep.to_dict(), indent=2, ensure_ascii=False)


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
        if r.query and r.query != r.question:
            lines.append(f"- searched as: {r.query}")
        expected = "abstain" if r.expected_abstain else ", ".join(
            f"{s['doc_id']}{PATH_SEP}{s['section']}" if s.get("section") else s["doc_id"] for s in r.expected_sources
        )
        lines.append(f"- expected: {expected}")
        got = "abstained" if r.abstained else ", ".join(f"[{c['n']}] {c['doc_id']}{PATH_SEP}{c['section']}" for c in r.citations[:4])
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


def _result_dict(result: CaseResult) -> dict[str, Any]:
    data = asdict(result)
    data["passed"] = result.passed
    data["phrases_pass"] = result.phrases_pass
    return data
