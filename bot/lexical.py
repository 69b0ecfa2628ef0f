"""The lexical side of the index: a BM25 index (bm25s) and the chunk catalog.

Both are written at index time into a fresh ``lexical-<generation>`` folder;
the manifest names the live generation, so a reader never sees half of one.
Loading them takes no model and no Chroma call, so a hit is resolved to its
chunk (text, section, whole table) from memory.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.errors import IndexCorruptError
from bot.markdown import Chunk, Table

log = logging.getLogger(__name__)

CATALOG = "catalog.json"
BM25_DIR = "bm25"


@dataclass(frozen=True)
class DocumentInfo:
    doc_id: str
    title: str
    description: str


class Catalog:
    """Every indexed chunk by id, with its table and document."""

    def __init__(self, chunks: Iterable[Chunk], documents: Iterable[DocumentInfo]):
        self.chunks: dict[str, Chunk] = {c.chunk_id: c for c in chunks}
        self.ids: list[str] = sorted(self.chunks)
        self.documents: dict[str, DocumentInfo] = {d.doc_id: d for d in documents}
        self._by_table: dict[str, list[Chunk]] = {}
        for chunk in self.chunks.values():
            if chunk.table is not None:
                self._by_table.setdefault(chunk.table.table_id, []).append(chunk)
        for rows in self._by_table.values():
            rows.sort(key=lambda c: c.row or 0)

    def table_rows(self, table_id: str) -> list[Chunk]:
        """The row chunks of one table, in table order."""
        return self._by_table.get(table_id, [])

    def tables(self) -> list[Table]:
        return [rows[0].table for rows in self._by_table.values() if rows[0].table is not None]

    def save(self, folder: Path) -> None:
        tables: dict[str, Any] = {}
        rows = []
        for cid in self.ids:
            c = self.chunks[cid]
            if c.table is not None:
                tables[c.table.table_id] = json.loads(c.table.to_json())
            rows.append(
                {
                    "id": c.chunk_id,
                    "doc_id": c.doc_id,
                    "title": c.title,
                    "section": c.section,
                    "kind": c.kind,
                    "text": c.text,
                    "body": c.body,
                    "position": c.position,
                    "text_hash": c.text_hash,
                    "table": c.table.table_id if c.table else None,
                    "row": c.row,
                }
            )
        docs = [d.__dict__ for d in self.documents.values()]
        data = {"chunks": rows, "tables": tables, "documents": docs}
        (folder / CATALOG).write_text(json.dumps(data, ensure_ascii=False), "utf-8")

    @classmethod
    def load(cls, folder: Path) -> Catalog:
        data = json.loads((folder / CATALOG).read_text("utf-8"))
        tables = {
            tid: Table(
                table_id=tid,
                section=t["section"],
                headers=tuple(t["headers"]),
                rows=tuple(tuple(r) for r in t["rows"]),
                kind=t["kind"],
            )
            for tid, t in data["tables"].items()
        }
        chunks = (
            Chunk(
                chunk_id=r["id"],
                doc_id=r["doc_id"],
                title=r["title"],
                section=r["section"],
                kind=r["kind"],
                text=r["text"],
                body=r["body"],
                position=r["position"],
                text_hash=r["text_hash"],
                table=tables[r["table"]] if r["table"] else None,
                row=r["row"],
            )
            for r in data["chunks"]
        )
        return cls(chunks, (DocumentInfo(**d) for d in data["documents"]))


class Lexical:
    """BM25 over chunk texts, English stop words removed, Snowball-stemmed."""

    def __init__(self, retriever: Any, ids: Sequence[str]):
        self._retriever = retriever
        self._ids = list(ids)
        self._vocab: dict[str, int] = dict(getattr(retriever, "vocab_dict", {}) or {})

    @classmethod
    def build(cls, ids: Sequence[str], texts: Sequence[str]) -> Lexical:
        bm25s = _bm25s()

        retriever = bm25s.BM25()
        if texts:
            tokens = bm25s.tokenize(list(texts), stopwords="en", stemmer=_stemmer(), show_progress=False)
            retriever.index(tokens, show_progress=False)
        return cls(retriever, ids)

    def save(self, folder: Path) -> None:
        target = folder / BM25_DIR
        target.mkdir(parents=True, exist_ok=True)
        if self._ids:
            self._retriever.save(str(target), show_progress=False)
        (target / "ids.json").write_text(json.dumps(self._ids), "utf-8")

    @classmethod
    def load(cls, folder: Path) -> Lexical:
        bm25s = _bm25s()

        target = folder / BM25_DIR
        ids = json.loads((target / "ids.json").read_text("utf-8"))
        if not ids:
            return cls(bm25s.BM25(), [])
        retriever = bm25s.BM25.load(str(target), show_progress=False, verbosity=0)
        return cls(retriever, ids)

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        """The ``k`` best chunk ids for ``query`` with their BM25 scores (> 0)."""
        if not self._ids:
            return []
        terms = self.terms(query)
        if not terms:
            return []
        import numpy as np

        docs, scores = self._retriever.retrieve(
            [terms], k=min(k, len(self._ids)), show_progress=False, n_threads=1
        )
        return [
            (self._ids[int(d)], float(s))
            for d, s in zip(np.asarray(docs)[0], np.asarray(scores)[0])
            if float(s) > 0
        ]

    def terms(self, query: str) -> list[str]:
        """The query's stemmed terms that occur in the corpus."""
        bm25s = _bm25s()

        tokens = bm25s.tokenize([query], stopwords="en", stemmer=_stemmer(), return_ids=False, show_progress=False)
        return [t for t in tokens[0] if t in self._vocab]

    def known(self, term: str) -> bool:
        return term in self._vocab


_STEMMER: Any = None


def _bm25s() -> Any:
    import bm25s

    # bm25s sets its own logger to DEBUG at import; keep its chatter out of our output.
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


def _stemmer() -> Any:
    global _STEMMER
    if _STEMMER is None:
        import Stemmer

        _STEMMER = Stemmer.Stemmer("english")
    return _STEMMER


def write_generation(index_dir: Path, generation: str, catalog: Catalog, lexical: Lexical) -> None:
    """Write a complete lexical generation folder (not yet live)."""
    folder = index_dir / generation
    if folder.exists():
        shutil.rmtree(folder)
    tmp = index_dir / f".{generation}.tmp"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    catalog.save(tmp)
    lexical.save(tmp)
    tmp.rename(folder)


def remove_stale_generations(index_dir: Path, live: str) -> None:
    for path in index_dir.glob("lexical-*"):
        if path.name != live:
            shutil.rmtree(path, ignore_errors=True)
    for path in index_dir.glob(".lexical-*.tmp"):
        shutil.rmtree(path, ignore_errors=True)


def load_generation(index_dir: Path, generation: str) -> tuple[Catalog, Lexical]:
    folder = index_dir / generation
    try:
        return Catalog.load(folder), Lexical.load(folder)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IndexCorruptError(
            f"the lexical index {folder} is unreadable ({exc}); run `bot index --rebuild` to rebuild it"
        ) from exc
