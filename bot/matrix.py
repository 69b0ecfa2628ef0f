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
from bot.profile import Profile

_ORDER = {"very low": 0, "low": 1, "low-medium": 1.5, "medium": 2, "medium-high": 2.5, "high": 3, "very high": 4}



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
    """Every approach's ratings on the corpus profile's rating dimensions."""

    approaches: tuple[tuple[str, str], ...]  # (doc_id, title) in title order
    dimensions: tuple[str, ...]  # in display order, as the corpus profile names them
    cells: dict[tuple[str, str], Cell] = field(default_factory=dict)

    def get(self, doc_id: str, dimension: str) -> Cell | None:
        return self.cells.get((doc_id, dimension))

    def to_rows(self) -> list[dict[str, Any]]:
        """One dict per approach: doc_id, title and each dimension's rating and note."""
        rows = []
        for doc_id, title in self.approaches:
            row: dict[str, Any] = {"doc_id": doc_id, "title": title}
            for dim in self.dimensions:
                cell = self.cells.get((doc_id, dim))
                row[dim] = {"rating": cell.rating, "note": cell.note} if cell else None
            rows.append(row)
        return rows


def rating_level(rating: str) -> float:
    return _ORDER.get(rating.strip().lower(), -1)


def build_matrix(chunks: Iterable[Chunk], titles: dict[str, str], profile: Profile | None = None) -> Matrix:
    """The matrix from the row chunks of assessment and summary tables, on the
    rating dimensions the corpus profile names."""
    dimensions = _Dimensions((profile or Profile.defaults()).rating_dimensions)
    cells: dict[tuple[str, str], Cell] = {}
    exact: set[tuple[str, str]] = set()
    summary_rows: list[Chunk] = []
    for chunk in chunks:
        if chunk.table is None or chunk.row is None:
            continue
        if chunk.table.kind == "assessment":
            cell = _assessment_cell(chunk, dimensions)
            key = (cell.doc_id, cell.dimension) if cell is not None else None
            if cell is not None and key is not None and (dimensions.exact(cell.chunk) or key not in exact):
                cells[key] = cell  # a row naming the dimension outright beats one naming it in other words
                if dimensions.exact(cell.chunk):
                    exact.add(key)
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
            dim = dimensions.columns.get(header.strip().lower())
            if dim and value and (doc_id, dim) not in cells:
                cells[(doc_id, dim)] = Cell(doc_id, titles[doc_id], dim, value, "", chunk)
    rated = sorted({d for d, _ in cells}, key=lambda d: (titles.get(d) or d).lower())
    return Matrix(approaches=tuple((d, titles.get(d, d)) for d in rated), cells=cells, dimensions=dimensions.names)


class _Dimensions:
    """The profile's rating dimensions: names, summary-table columns, and how rows name them."""

    def __init__(self, table: Iterable[Any]):
        entries = list(table)
        self.names = tuple(str(d["name"]) for d in entries)
        self.columns = {str(c).strip().lower(): str(d["name"]) for d in entries for c in d.get("columns") or ()}
        self.asked = [(str(d["name"]), re.compile("|".join(f"(?:{p})" for p in d.get("asked") or ["(?!)"]), re.I)) for d in entries]

    def exact(self, chunk: Chunk) -> bool:
        """Whether a row's first cell is a dimension's very name."""
        first = next((v for _, v in chunk.cells), "")
        return any(_norm(d) == _norm(first) for d in self.names)

    def named(self, text: str) -> str | None:
        """The dimension a row's first cell names: by its name, else as people ask about it."""
        low = _norm(text)
        exact = next((d for d in self.names if _norm(d) == low), None)
        return exact or next((d for d, pattern in self.asked if pattern.search(text)), None)


def _assessment_cell(chunk: Chunk, dimensions: _Dimensions) -> Cell | None:
    values = list(chunk.cells)
    if not values:
        return None
    dimension = dimensions.named(values[0][1])
    if dimension is None:
        return None
    rating = next((v for h, v in values if h.lower() in ("assessment", "rating")), "")
    note = next((v for h, v in values if h.lower() in ("notes", "note")), "")
    return Cell(chunk.doc_id, chunk.title, dimension, rating, note, chunk)


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()
