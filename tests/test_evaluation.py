"""`bot eval`: prompt files, metrics, reports, generated prompts — on real indexes."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.evaluation import PromptFileError, coverage, evaluate, generate_cases, load_cases, write_cases, write_report
from tests.conftest import CORPUS, ROOT, needs_shared


def test_a_bad_prompt_file_names_each_bad_case_and_field(tmp_path: Path):
    path = tmp_path / "bad.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "cases": [
                    {"id": "ok", "turns": ["q?"], "abstain": True},
                    {"id": "no-turns", "turns": [], "abstain": True},
                    {"id": "typo-field", "turns": ["q?"], "must_includ": ["x"], "abstain": True},
                    {"id": "bad-regex", "turns": ["q?"], "must_include": ["/(/"], "expected_sources": ["d"]},
                    {"id": "ok", "turns": ["again?"], "abstain": True},
                ]
            }
        )
    )
    with pytest.raises(PromptFileError) as err:
        load_cases(path)
    message = str(err.value)
    assert "case no-turns: field turns" in message
    assert "case typo-field: field must_includ: unknown field" in message
    assert "case bad-regex: field must_include: bad regex" in message
    assert "case ok: field id: duplicate id" in message


def test_eval_on_the_shipped_corpus_meets_its_thresholds(shipped_index: Path, tmp_path: Path):
    rep = evaluate(ROOT / "evals" / "corpus.yaml", index=shipped_index)
    m = rep.metrics
    assert m.citation_validity == 1.0
    assert m.doc_recall_at_k >= 0.9 and m.recall_at_k >= 0.65
    assert m.abstention_precision >= 0.85 and m.abstention_recall >= 0.8  # a held-out file: floors, not targets
    assert m.median_answer_chars <= 1000
    # the JSON report: one entry per case, and the summary
    data = rep.to_dict()
    assert len(data["cases"]) == m.cases and {"id", "passed", "citations", "recall"} <= set(data["cases"][0])
    json.dumps(data)
    # the markdown report, with its chart beside it
    report = write_report(rep, tmp_path / "report.md")
    text = report.read_text()
    assert "## By tag" in text and "## Failing cases, worst first" in text
    assert (tmp_path / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    worst = [r.badness for r in rep.failures]
    assert worst == sorted(worst, reverse=True)


@needs_shared
def test_eval_on_the_shared_approaches_meets_the_targets(approaches_index: Path):
    m = evaluate(ROOT / "evals" / "approaches.yaml", index=approaches_index).metrics
    assert m.recall_at_k >= 0.95 and m.doc_recall_at_k >= 0.95
    assert m.mrr >= 0.85
    assert m.phrase_pass >= 0.9
    assert m.abstention_precision >= 0.9 and m.abstention_recall >= 0.9
    assert m.citation_validity == 1.0
    assert m.median_answer_chars <= 1000


def test_generated_prompts_expect_their_own_rows(shipped_index: Path, tmp_path: Path):
    cases = generate_cases(CORPUS)
    assert len(cases) == sum(body_rows(path.read_text()) for path in CORPUS.glob("*.md")) > 50  # one per row
    assessment = [c for c in cases if "assessment" in c["tags"]]
    assert assessment[0]["turns"][0].startswith("How does ") and " rate on " in assessment[0]["turns"][0]
    crux = [c for c in cases if "crux" in c["tags"]]
    assert crux[0]["turns"][0].startswith("What are the arguments on '")
    path = tmp_path / "generated.yaml"
    write_cases(cases, path)
    assert len(load_cases(path)) == len(cases)
    rep = evaluate(path, index=shipped_index)
    assert rep.metrics.doc_recall_at_k >= 0.95 and rep.metrics.recall_at_k >= 0.8
    found = coverage(path, index=shipped_index)
    assert found.rows == len(cases) and 0 < found.covered <= found.rows
    assert len(found.missing) == found.rows - found.covered


def body_rows(markdown: str) -> int:
    """The body rows of a page's tables: lines of cells, less each table's header and separator."""
    separator = re.compile(r"^\|[\s:|-]+\|\s*$")
    lines = markdown.splitlines()
    follows = [*lines[1:], ""]
    return sum(1 for line, after in zip(lines, follows) if line.startswith("|") and not separator.match(line) and not separator.match(after))


def test_a_missed_threshold_fails_the_command(shipped_index: Path):
    args = [sys.executable, "-m", "bot", "eval", str(ROOT / "evals" / "corpus.yaml"), "--index", str(shipped_index), "--quiet"]
    ok = subprocess.run([*args, "--min-citations", "1.0"], capture_output=True, text=True, cwd=ROOT)
    assert ok.returncode == 0, ok.stderr
    assert "cases," in ok.stdout and "recall@3" in ok.stdout
    missed = subprocess.run([*args, "--min-recall", "1.01"], capture_output=True, text=True, cwd=ROOT)
    assert missed.returncode == 1 and "threshold missed: recall@3" in missed.stderr


def test_a_prompt_file_for_another_corpus_is_refused_with_one_clear_message(shipped_index: Path, tmp_path: Path):
    prompts = tmp_path / "other.yaml"
    prompts.write_text(
        "cases:\n  - id: elsewhere\n    turns: [\"is a pause feasible?\"]\n"
        "    expected_sources: [{doc_id: pause}]\n    must_include: [\"Feasible\"]\n"
    )
    with pytest.raises(PromptFileError, match=r"does not hold \(pause\).*--corpus"):
        evaluate(prompts, index=shipped_index)
