"""Evaluation with a file of test prompts: load, validate, run, score, report.

A prompt file (YAML) holds ``cases``; each case runs through a fresh
:class:`~bot.chat.ChatSession` (earlier turns first, the last one scored) and
is scored on retrieval (recall@k, MRR), phrases, abstention, citation validity,
length and latency. :func:`evaluate` returns a :class:`Report`.

- ``prompts.py``: the prompt file — reading and validating it, writing one from a corpus' tables;
- ``runner.py``: running the cases against an index, and the table rows no prompt retrieves;
- ``scoring.py``: one answer against its case, and the summary metrics;
- ``report.py``: the report, as JSON and as Markdown with a chart.
"""

from bot.evaluation.prompts import Case, PromptFileError, Source, generate_cases, load_cases, phrase_in, write_cases
from bot.evaluation.report import Report, fmt, report, to_json, to_markdown, write_report
from bot.evaluation.runner import Coverage, coverage, evaluate
from bot.evaluation.scoring import CaseResult, Metrics, citation_problems, crux_balance, metrics, score

__all__ = [
    "Case",
    "CaseResult",
    "Coverage",
    "Metrics",
    "PromptFileError",
    "Report",
    "Source",
    "citation_problems",
    "coverage",
    "crux_balance",
    "evaluate",
    "fmt",
    "generate_cases",
    "load_cases",
    "metrics",
    "phrase_in",
    "report",
    "score",
    "to_json",
    "to_markdown",
    "write_cases",
    "write_report",
]
