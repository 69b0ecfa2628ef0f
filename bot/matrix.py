"""The cross-approach evaluation matrix: approach × dimension → rating, note.

Built from every document's Evaluation Summary table (and, where an approach
has none, from cross-approach summary tables such as the index page's), each
cell keeping the chunk it came from so an answer can cite that very row.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from bot.markdown import Chunk

#: The dimensions of an Evaluation Summary, in display order.
DIMENSIONS = ("Tractability", "If alignment hard", "If alignment easy", "Neglectedness")

_ORDER = {"very low": 0, "low": 1, "low-medium": 1.5, "medium": 2, "medium-high": 2.5, "high": 3, "very high": 4}

# Column headers of summary tables, mapped onto the dimensions.
_SUMMARY_COLUMNS = {
    "tractable?": "Tractability",
    "tractability": "Tractability",
    "if alignment hard": "If alignment hard",
    "if alignment easy": "If alignment easy",
    "neglectedness": "Neglectedness",
}


@dataclass(frozen=True)
class Cell:
    """One rating of one approach on one dimension, and where it is written."""

    doc_id: str
    title: str
    dimension: str
    rating: str
    note: str
    chunk: Chunk

    @property
    def level(self) -> float:
        """The rating on a 0–4 scale (-1 when unknown), for sorting."""
        return rating_level(self.rating)


@dataclass(frozen=True)
class Matrix:
    """Every approach's ratings on the four dimensions."""

    approaches: tuple[tuple[str, str], ...]  # (doc_id, title) in title order
    cells: dict[tuple[str, str], Cell] = field(default_factory=dict)

    def get(self, doc_id: str, dimension: str) -> Cell | None:
        return self.cells.get((doc_id, dimension))

    def column(self, dimension: str) -> list[Cell]:
        return [c for doc_id, _ in self.approaches if (c := self.cells.get((doc_id, dimension)))]

    def where(self, dimension: str, rating: str) -> list[Cell]:
        """Approaches rated ``rating`` on ``dimension`` ("High" also matches "Very high")."""
        want = rating.lower()
        out = []
        for cell in self.column(dimension):
            have = cell.rating.lower()
            if have == want or (want in ("high", "low") and have in (f"very {want}",)):
                out.append(cell)
        return out

    def to_rows(self) -> list[dict[str, Any]]:
        """One dict per approach: doc_id, title and each dimension's rating and note."""
        rows = []
        for doc_id, title in self.approaches:
            row: dict[str, Any] = {"doc_id": doc_id, "title": title}
            for dim in DIMENSIONS:
                cell = self.cells.get((doc_id, dim))
                row[dim] = {"rating": cell.rating, "note": cell.note} if cell else None
            rows.append(row)
        return rows


def rating_level(rating: str) -> float:
    return _ORDER.get(rating.strip().lower(), -1)


def build_matrix(chunks: Iterable[Chunk], titles: dict[str, str]) -> Matrix:
    """The matrix from the row chunks of assessment and summary tables."""
    cells: dict[tuple[str, str], Cell] = {}
    summary_rows: list[Chunk] = []
    for chunk in chunks:
        if chunk.table is None or chunk.row is None:
            continue
        if chunk.table.kind == "assessment":
            cell = _assessment_cell(chunk)
            if cell is not None:
                cells[(cell.doc_id, cell.dimension)] = cell
        elif chunk.table.kind == "summary":
            summary_rows.append(chunk)
    by_title = {_norm(t): d for d, t in titles.items()}
    for chunk in summary_rows:
        values = dict(chunk.cells)
        name = next(iter(values.values()), "")
        doc_id = by_title.get(_norm(name))
        if doc_id is None:
            continue
        for header, value in values.items():
            dim = _SUMMARY_COLUMNS.get(header.strip().lower())
            if dim and value and (doc_id, dim) not in cells:
                cells[(doc_id, dim)] = Cell(doc_id, titles[doc_id], dim, value, "", chunk)
    rated = sorted({d for d, _ in cells}, key=lambda d: titles.get(d, d).lower())
    return Matrix(approaches=tuple((d, titles.get(d, d)) for d in rated), cells=cells)


def _assessment_cell(chunk: Chunk) -> Cell | None:
    values = list(chunk.cells)
    if not values:
        return None
    dimension = _dimension(values[0][1])
    if dimension is None:
        return None
    rating = next((v for h, v in values if h.lower() in ("assessment", "rating")), "")
    note = next((v for h, v in values if h.lower() in ("notes", "note")), "")
    return Cell(chunk.doc_id, chunk.title, dimension, rating, note, chunk)


def _dimension(name: str) -> str | None:
    low = _norm(name)
    for dim in DIMENSIONS:
        if _norm(dim) == low:
            return dim
    if "tractab" in low:
        return "Tractability"
    if "neglect" in low:
        return "Neglectedness"
    if "hard" in low:
        return "If alignment hard"
    if "easy" in low:
        return "If alignment easy"
    return None


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()
