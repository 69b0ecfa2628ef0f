"""The approach matrix from made-up documents (fast tier: parsed pages, no model, no store)."""

from __future__ import annotations

import pytest

from bot.markdown import Chunk, parse_document
from bot.matrix import Matrix, build_matrix, rating_level
from bot.profile import Profile

WIDGETS = """---
title: Widget Safety
---

## Evaluation Summary

| Dimension | Assessment | Notes |
|-----------|------------|-------|
| Tractability | Medium | Standards exist but adoption is slow |
| Neglectedness | High | Few teams work on widget audits |
| Popularity | Very high | Not a dimension of the profile |
"""

GIZMOS = """---
title: Gizmo Audits
---

## Evaluation Summary

| Dimension | Rating | Note |
|-----------|--------|------|
| Progress on it | Low-Medium | Audits are slow to write |
"""

GADGETS = """---
title: Gadget Oversight
---

## Overview

Watching gadgets once they are deployed.
"""

INDEX = """---
title: All approaches
---

## Summary

| Approach | Tractable? | Neglectedness | Cost |
|---|---|---|---|
| Widget safety | High | Low | cheap |
| Gadget Oversight! | Low | Medium | dear |
| Sprocket Research | High | High | free |
"""

PAGES = {"widgets": WIDGETS, "gizmos": GIZMOS, "gadgets": GADGETS, "index": INDEX}


def parsed(pages: dict[str, str] = PAGES) -> tuple[list[Chunk], dict[str, str]]:
    docs = [parse_document(text.encode(), doc_id) for doc_id, text in pages.items()]
    return [c for d in docs for c in d.chunks], {d.doc_id: d.title for d in docs}


def test_a_cell_keeps_its_rating_note_and_the_row_it_is_written_in():
    chunks, titles = parsed()
    matrix = build_matrix(chunks, titles)
    cell = matrix.get("widgets", "Tractability")
    assert cell is not None
    assert (cell.title, cell.rating, cell.note, cell.level) == ("Widget Safety", "Medium", "Standards exist but adoption is slow", 2)
    assert cell.chunk.doc_id == "widgets" and cell.chunk.table is not None and cell.chunk.table.kind == "assessment"
    assert cell.chunk.table.rows[cell.chunk.row or 0][0] == "Tractability"  # the very row, so an answer cites it
    assert matrix.get("widgets", "If alignment hard") is None
    assert all(dim != "Popularity" for _, dim in matrix.cells)  # a row naming no dimension of the profile


def test_a_row_may_name_its_dimension_the_way_people_ask_about_it():
    chunks, titles = parsed()
    cell = build_matrix(chunks, titles).get("gizmos", "Tractability")
    assert cell is not None and (cell.rating, cell.note, cell.level) == ("Low-Medium", "Audits are slow to write", 1.5)


def test_a_row_naming_the_dimension_outright_beats_a_later_one_naming_it_in_other_words():
    page = WIDGETS.replace("| Popularity | Very high | Not a dimension of the profile |", "| Progress on it | Low | Said another way |")
    chunks, titles = parsed({"widgets": page})
    cell = build_matrix(chunks, titles).get("widgets", "Tractability")
    assert cell is not None and (cell.rating, cell.note) == ("Medium", "Standards exist but adoption is slow")


def test_a_summary_table_fills_only_the_cells_an_approach_page_leaves_empty():
    chunks, titles = parsed()
    matrix = build_matrix(chunks, titles)
    own = matrix.get("widgets", "Neglectedness")
    assert own is not None and own.rating == "High"  # the page's own summary wins over the index's "Low"
    filled = matrix.get("gadgets", "Tractability")
    assert filled is not None and (filled.rating, filled.note, filled.chunk.doc_id) == ("Low", "", "index")
    neglect = matrix.get("gadgets", "Neglectedness")
    assert neglect is not None and neglect.rating == "Medium"  # "Gadget Oversight!" names the page, punctuation aside
    assert not [key for key in matrix.cells if key[0] not in titles]  # "Sprocket Research" is no page of the corpus


def test_approaches_are_the_rated_pages_in_title_order_and_dimensions_follow_the_profile():
    chunks, titles = parsed()
    matrix = build_matrix(chunks, titles)
    assert matrix.approaches == (("gadgets", "Gadget Oversight"), ("gizmos", "Gizmo Audits"), ("widgets", "Widget Safety"))
    assert matrix.dimensions == Profile.defaults().dimension_names
    rows = matrix.to_rows()
    assert [r["doc_id"] for r in rows] == ["gadgets", "gizmos", "widgets"]
    assert rows[2]["Tractability"] == {"rating": "Medium", "note": "Standards exist but adoption is slow"}
    assert rows[1]["Neglectedness"] is None and set(rows[0]) == {"doc_id", "title", *matrix.dimensions}


def test_a_corpus_profile_names_its_own_dimensions():
    profile = Profile.from_json(
        {
            "rating_dimensions": [
                {"name": "Cost", "columns": ["cost"], "asked": ["expensive", "cheap"]},
                {"name": "Popularity", "asked": ["popular"]},
            ]
        }
    )
    chunks, titles = parsed()
    matrix = build_matrix(chunks, titles, profile)
    assert matrix.dimensions == ("Cost", "Popularity")
    popularity, cost = matrix.get("widgets", "Popularity"), matrix.get("gadgets", "Cost")
    assert popularity is not None and popularity.rating == "Very high"
    assert cost is not None and cost.rating == "dear"
    assert matrix.get("widgets", "Tractability") is None


def test_a_corpus_without_rating_tables_has_an_empty_matrix():
    chunks, titles = parsed({"gadgets": GADGETS})
    matrix = build_matrix(chunks, titles)
    assert matrix == Matrix(approaches=(), dimensions=Profile.defaults().dimension_names)
    assert matrix.to_rows() == []


@pytest.mark.parametrize(
    ("rating", "level"),
    [("Very low", 0), ("low", 1), (" Low-Medium ", 1.5), ("MEDIUM", 2), ("Medium-High", 2.5), ("High", 3), ("Very High", 4),
     ("Unclear", -1), ("", -1)],
)  # fmt: skip
def test_ratings_sort_on_one_scale(rating: str, level: float):
    assert rating_level(rating) == level
