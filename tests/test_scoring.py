"""`bot eval`'s parts on made-up prompts and answers (fast tier: no model, no index)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from bot.answer import Answer, Citation
from bot.evaluation import (
    Case,
    PromptFileError,
    Source,
    citation_problems,
    crux_balance,
    evaluate,
    generate_cases,
    load_cases,
    phrase_in,
    score,
    to_json,
    to_markdown,
)
from bot.evaluation.prompts import require_documents
from bot.markdown import Table

CRUX = Table("w-crux", "Widget Safety › Crux 1: Is it feasible?", ("Feasible", "Not feasible"),
             (("Few makers", "Opaque supply chains"), ("Cheap checks", "Thin margins")), "crux")  # fmt: skip


def cite(n: int, doc_id: str, section: str, text: str, row: int | None = None, chunk_id: str = "") -> Citation:
    return Citation(n, doc_id, doc_id.title(), section, text, 1.0 / n, chunk_id or f"{doc_id}-{n}",
                    table=CRUX if row is not None else None, row=row)  # fmt: skip


def test_a_prompt_file_reads_sources_phrases_and_turns(tmp_path: Path):
    path = tmp_path / "prompts.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "cases": [
                    {"id": "a", "turns": ["tell me about widgets", "is it feasible?"], "tags": ["crux"],
                     "expected_sources": ["widgets", {"doc_id": "gadgets", "section": "Overview", "row": "Few makers"}],
                     "must_include": ["/few\\s+makers/"], "must_not_include": ["gizmo"]},
                    {"id": "b", "turns": ["what about cheese?"], "abstain": True, "notes": "off topic"},
                ]
            }
        )
    )  # fmt: skip
    first, second = load_cases(path)
    assert first.turns == ("tell me about widgets", "is it feasible?") and first.tags == ("crux",)
    assert first.expected_sources == (Source("widgets"), Source("gadgets", "Overview", "Few makers"))
    assert (first.must_include, first.must_not_include) == (("/few\\s+makers/",), ("gizmo",))
    assert second == Case("b", ("what about cheese?",), abstain=True)


@pytest.mark.parametrize(
    ("case", "problem"),
    [
        ({"id": "x", "turns": "one question", "abstain": True}, "case x: field turns: must be a non-empty list"),
        ({"id": "x", "turns": ["q?"]}, "case x: field expected_sources: a case must expect sources or phrases, or abstain"),
        ({"id": "x", "turns": ["q?"], "abstain": True, "expected_sources": ["d"]}, "an abstain case expects no sources"),
        ({"id": "x", "turns": ["q?"], "abstain": "yes", "must_include": ["p"]}, "case x: field abstain: must be true or false"),
        ({"id": "x", "turns": ["q?"], "expected_sources": [{"section": "s"}], "must_include": ["p"]}, "needs doc_id"),
        ({"turns": ["q?"], "abstain": True}, "case #1: field id: missing or not text"),
        (["not", "a", "mapping"], "case #1: not a mapping"),
    ],
)
def test_each_bad_case_is_named_with_its_field(tmp_path: Path, case: object, problem: str):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"cases": [case]}))
    with pytest.raises(PromptFileError, match="1 problem") as err:
        load_cases(path)
    assert problem in str(err.value)


def test_an_unreadable_or_empty_prompt_file_is_one_clear_error(tmp_path: Path):
    with pytest.raises(PromptFileError, match="cannot read prompt file"):
        load_cases(tmp_path / "missing.yaml")
    (tmp_path / "broken.yaml").write_text("cases: [unclosed")
    with pytest.raises(PromptFileError, match="is not valid YAML"):
        load_cases(tmp_path / "broken.yaml")
    (tmp_path / "empty.yaml").write_text("cases: []")
    with pytest.raises(PromptFileError, match="expected a non-empty list under 'cases'"):
        load_cases(tmp_path / "empty.yaml")


def test_prompts_for_another_corpus_name_the_documents_it_lacks():
    cases = [Case(f"c{i}", ("q?",), (Source(f"doc-{i}"),)) for i in range(7)]
    require_documents("p.yaml", cases, {f"doc-{i}" for i in range(7)})
    with pytest.raises(PromptFileError, match=r"\(doc-0, doc-1, doc-2, doc-3, doc-4 and 1 more\)"):
        require_documents("p.yaml", cases, {"doc-6"})


def test_phrases_ignore_case_spacing_bold_and_escapes():
    text = "**Few  makers** build widgets \\[sic\\]"
    assert phrase_in("few makers", text) and phrase_in("[sic]", text) and phrase_in("/widg\\w+/", text)
    assert not phrase_in("gizmo", text) and not phrase_in("/^build/", text)


def test_a_case_is_scored_on_sources_within_k_rank_and_phrases():
    case = Case(
        "c", ("is it feasible?",),
        expected_sources=(Source("widgets", "Crux 1: Is it feasible?"), Source("gadgets")),
        must_include=("few makers", "/thin\\s+margins/", "missing phrase"), must_not_include=("gizmo",),
    )  # fmt: skip
    answer = Answer(
        "is it feasible?", "Few makers [1] but thin margins [2], and more [3].",
        [cite(1, "others", "Intro", "x"), cite(2, "widgets", "Widget Safety › Crux 1: Is it feasible?", "y", row=1),
         cite(3, "gadgets", "Overview", "z")],
    )  # fmt: skip
    result = score(case, answer, k=2, seconds=0.25)
    assert result.recall == 0.5 and result.doc_recall == 0.5  # gadgets is cited third: outside the top 2
    assert result.reciprocal_rank == 0.5  # the first expected source is cited second
    assert score(case, answer, k=3, seconds=0.25).recall == 1.0
    assert result.phrases_found == ("few makers", "/thin\\s+margins/") and result.phrases_missing == ("missing phrase",)
    assert result.forbidden_found == () and result.citations_valid and not result.passed
    abstained = score(case, Answer("q", "The documents do not cover it.", abstained=True), k=2, seconds=0.1)
    assert (abstained.recall, abstained.reciprocal_rank) == (0.0, 0.0) and not abstained.abstention_correct


def test_citation_problems_find_every_broken_marker():
    ok = Answer("q", "A [1] and B [2]. An escaped \\[3] is text.", [cite(1, "a", "s", "t1"), cite(2, "a", "s", "t2")])
    assert citation_problems(ok) == []
    broken = Answer("q", "A [1] and C [4].", [cite(2, "a", "s", "t2"), cite(1, "a", "s", "t1")])
    assert citation_problems(broken) == [
        "[4] does not resolve to a citation",
        "citation 2 is not referenced in the text",
        "citations are not numbered 1..n in order",
    ]
    assert citation_problems(ok, {"a-1": "t1", "a-2": "other text"}) == ["citation 2 is not a retrieved passage of the index"]
    declined = Answer("q", "No.", [cite(1, "a", "s", "t")], abstained=True)
    assert "an abstention carries citations" in citation_problems(declined)


def test_a_crux_answer_is_balanced_when_it_gives_both_columns():
    rows = [cite(1, "widgets", CRUX.section, "x", row=0), cite(2, "widgets", CRUX.section, "y", row=1)]
    assert crux_balance(Answer("q", "Few makers [1]; thin margins [2].", rows)) is True
    assert crux_balance(Answer("q", "Few makers [1] and cheap checks [2].", rows)) is False
    assert crux_balance(Answer("q", "Prose [1].", [cite(1, "widgets", "Overview", "p")])) is None


def test_a_run_reports_metrics_per_tag_and_failures_worst_first(tmp_path: Path):
    prompts = tmp_path / "prompts.yaml"
    prompts.write_text(
        yaml.safe_dump(
            {
                "cases": [
                    {"id": "good", "turns": ["is it feasible?"], "expected_sources": ["widgets"], "tags": ["crux"]},
                    {"id": "wrong-page", "turns": ["is it feasible?"], "expected_sources": ["gadgets"], "tags": ["crux"]},
                    {"id": "should-decline", "turns": ["cheese?"], "abstain": True, "tags": ["off-topic"]},
                    {"id": "declined", "turns": ["first", "cheese again?"], "abstain": True, "tags": ["off-topic"]},
                ]
            }
        )
    )
    asked: list[list[str]] = []

    def session() -> object:
        turns: list[str] = []
        asked.append(turns)

        def ask(question: str) -> Answer:
            turns.append(question)
            if "cheese again" in question:
                return Answer(question, "The documents do not cover it.", abstained=True)
            return Answer(question, "Few makers [1].", [cite(1, "widgets", CRUX.section, "x", row=0)])

        return ask

    rep = evaluate(prompts, session_factory=session)  # type: ignore[arg-type]
    assert asked == [["is it feasible?"], ["is it feasible?"], ["cheese?"], ["first", "cheese again?"]]  # one conversation each
    m = rep.metrics
    assert (m.cases, m.passed, m.recall_at_k, m.mrr) == (4, 2, 0.5, 0.5)
    assert (m.abstention_precision, m.abstention_recall, m.citation_validity, m.crux_balance) == (1.0, 0.5, 1.0, 0.0)
    assert rep.by_tag["off-topic"].passed == 1 and rep.by_tag["crux"].recall_at_k == 0.5
    assert [(r.id, r.badness) for r in rep.failures] == [("wrong-page", 2.0), ("should-decline", 2.0)]
    text = to_markdown(rep, "chart.png")
    assert "4 cases, 2 passed." in text and "| crux | 2 | 1 | 0.50 |" in text and "![metrics per tag](chart.png)" in text
    assert "### should-decline (off-topic)\n\n- question: cheese?\n- expected: abstain\n- got: [1] widgets › " in text
    data = json.loads(to_json(rep))
    assert data["failures"] == ["wrong-page", "should-decline"] and data["cases"][0]["passed"] is True


CORPUS_PAGE = """---
title: Widget Safety
---

## Evaluation Summary

| Dimension | Assessment | Notes |
|-----------|------------|-------|
| Tractability | Medium | Standards exist |

## Crux 1: Is it feasible?

| Feasible | Not feasible |
|----------|--------------|
| Few makers | Opaque supply chains |
| Cheap checks | |

## Programs

| Program | Status |
|---------|--------|
| Audits | Running |
"""


def test_generated_prompts_ask_one_question_per_table_row(tmp_path: Path):
    (tmp_path / "widgets.md").write_text(CORPUS_PAGE, "utf-8")
    cases = generate_cases(tmp_path)
    assert [c["turns"][0] for c in cases] == [
        "How does Widget Safety rate on Tractability?",
        "What are the arguments on 'Is it feasible?'?",
        "What are the arguments on 'Is it feasible?'?",
        "In Widget Safety, what is the status of Audits?",
    ]
    assert cases[0]["must_include"] == ["Standards exist"] and cases[2]["must_include"] == ["Cheap checks"]
    assert cases[1]["expected_sources"][0]["section"].endswith("Crux 1: Is it feasible?")
    assert [c["tags"][1] for c in cases] == ["assessment", "crux", "crux", "table"]


def test_a_crux_of_positions_is_balanced_only_when_every_position_is_given():
    positions = Table("w-pos", "Widget Safety › Crux: Will widgets spread?", ("Position", "Probability", "Holders"),
                      (("Spread widely", "40%", "Traders"), ("Stay national", "45%", "Customs"),
                       ("Abandoned", "15%", "Economists")), "table")  # fmt: skip
    rows = [Citation(n, "widgets", "Widgets", positions.section, "t", 1.0, f"w-{n}", table=positions, row=n - 1)
            for n in (1, 2)]  # fmt: skip
    assert positions.crux and positions.by_position and positions.question == "Will widgets spread?"
    assert crux_balance(Answer("q", "Spread widely 40% [1]; Stay national 45% [2].", rows)) is False
    assert crux_balance(Answer("q", "Spread widely [1]; Stay national [2]; Abandoned [2].", rows)) is True
