"""Hybrid retrieval: dense (Chroma) and lexical (BM25) lists fused by RRF.

:class:`Index` is an opened, read-only index: manifest, chunk catalog, BM25
and the vector store. It is cached per folder and reopened when the manifest
changes (after ``bot index``), so a serving process follows re-indexing.
"""

from __future__ import annotations

import functools
import os
import re
import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot import config, ranking
from bot.embedding import Embedder
from bot.errors import IndexCorruptError
from bot.lexical import Catalog, Headings, Lexical, Vectors, load_generation
from bot.markdown import PATH_SEP, SUMMARY_KINDS, Chunk, crux_question
from bot.matrix import Matrix, build_matrix
from bot.profile import Profile
from bot.query import QueryReader, opening_pages
from bot.store import VectorStore, require_manifest

#: Searches limited to at most this many documents are scored locally.
LOCAL_DOCS = 8

#: Tables whose missing rows are fetched when one row is retrieved.
EXPANDED_KINDS = ("crux", "table")

#: Up to this many chunks, the global dense search is a scan of the local
#: vectors, one per question, serving both the chunk and the document rankings
#: (under a millisecond at 10k chunks; about one at the wiki's 42k, where it
#: runs in two stages, see ``lexical.PROJECTED_FROM``; a Chroma query is
#: ~1.5 ms, and a question needs three); above it, or with a Chroma server,
#: Chroma's HNSW index answers.
EXACT_UP_TO = 60_000



@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its scores."""

    chunk: Chunk
    score: float  # fused (RRF)
    dense: float | None  # cosine similarity, when in the dense list
    lexical: float | None  # BM25 score, when in the lexical list
    expanded: bool = False  # added as a sibling row of a retrieved table row
    pinned: bool = False  # asked for by structure (a dimension's row, a named section)


class Index:
    """An opened index. Use :meth:`open`, which caches one per folder."""

    def __init__(self, index_dir: Path, chroma_url: str | None, embedder: Embedder):
        stamp = _stamp(index_dir)  # before the manifest is read: a re-index meanwhile shows at the next open
        manifest = require_manifest(index_dir)
        manifest.check(embedder.name, identity=embedder.identity)  # two models under one name differ here
        url = chroma_url or manifest.chroma_url or None
        self.store = VectorStore(index_dir, url, manifest.collection)
        self.store.check_file()  # answers may never touch Chroma: look at its file now
        self.exact = url is None and manifest.chunks <= EXACT_UP_TO
        embedder.preload()  # overlaps with reading the catalog, BM25 and the store below
        self.index_dir = index_dir
        self.manifest = manifest
        self.embedder = embedder
        self.catalog: Catalog
        self.lexical: Lexical
        self.headings: Headings
        self.vectors: Vectors
        try:
            self.catalog, self.lexical, self.headings, self.vectors = load_generation(index_dir, manifest.lexical)
        except BaseException:
            embedder.settle()  # a process leaving while the model loads in a thread can abort
            raise
        self._stamp = stamp
        self._reader: QueryReader | None = None
        self._matrix: Matrix | None = None
        self._profile: Profile | None = None
        self._opening_pages: set[str] | None = None
        self._headings_by_text: dict[str, list[tuple[str, str]]] | None = None
        self._heading_starts: dict[int, dict[str, list[tuple[str, list[tuple[str, str]]]]]] = {}

    @property
    def reader(self) -> QueryReader:
        """Reads questions against this index's approaches and vocabulary."""
        if self._reader is None:
            chunks = (c for c in self.catalog.chunks.values() if c.kind not in SUMMARY_KINDS)  # they repeat the rest
            self._reader = QueryReader(self.catalog.documents.values(), chunks, self.profile)
        return self._reader

    @property
    def opening_pages(self) -> set[str]:
        """The pages that open a folder or the corpus (see :func:`bot.query.opening_pages`)."""
        if self._opening_pages is None:
            self._opening_pages = opening_pages(self.catalog.documents, root=True)
        return self._opening_pages

    @property
    def profile(self) -> Profile:
        """The corpus profile this index was built with."""
        if self._profile is None:
            self._profile = Profile.from_json(self.catalog.profile) if self.catalog.profile else Profile.defaults()
        return self._profile

    @property
    def headings_by_text(self) -> dict[str, list[tuple[str, str]]]:
        """Each section's own heading as plain words ("crux:" and numbering dropped) →
        the (document, section) pairs that have it."""
        if self._headings_by_text is None:
            table: dict[str, list[tuple[str, str]]] = {}
            for doc_id in self.catalog.documents:
                for section in self.catalog.sections(doc_id):
                    last = crux_question(section.split(PATH_SEP)[-1])
                    plain = " ".join(re.findall(r"[a-z0-9]+", last.lower()))
                    if plain:
                        table.setdefault(plain, []).append((doc_id, section))
            self._headings_by_text = table
        return self._headings_by_text

    def headings_by_start(self, words: int) -> dict[str, list[tuple[str, list[tuple[str, str]]]]]:
        """The headings of at least ``words`` words, by their first ``words`` words (cached)."""
        if words not in self._heading_starts:
            table: dict[str, list[tuple[str, list[tuple[str, str]]]]] = {}
            for heading, places in self.headings_by_text.items():
                parts = heading.split()
                if len(parts) >= words:
                    table.setdefault(" ".join(parts[:words]), []).append((heading, places))
            self._heading_starts[words] = table
        return self._heading_starts[words]

    @property
    def matrix(self) -> Matrix:
        """The approach × dimension evaluation matrix of this index."""
        if self._matrix is None:
            titles = {d.doc_id: d.title for d in self.catalog.documents.values()}
            self._matrix = build_matrix(self.catalog.chunks.values(), titles, self.profile)
        return self._matrix

    _cache: dict[tuple[str, str], Index] = {}
    _lock = threading.Lock()

    @classmethod
    def open(
        cls,
        index: str | os.PathLike[str] | None = None,
        chroma_url: str | None = None,
        embedder: Embedder | None = None,
    ) -> Index:
        """The index in ``index`` (default ``BOT_INDEX_DIR``), cached per process."""
        index_dir = _resolved(str(config.index_dir(index)), os.getcwd())
        url = config.chroma_url(chroma_url) or ""
        embedder = embedder or Embedder.default()
        key = (str(index_dir), url)
        with cls._lock:
            cached = cls._cache.get(key)
            if cached is not None and cached._stamp == _stamp(index_dir) and cached.embedder == embedder:
                return cached
            stamp = _stamp(index_dir)
            try:
                opened = cls(index_dir, url or None, embedder)
            except IndexCorruptError:
                if _stamp(index_dir) == stamp:
                    raise
                opened = cls(index_dir, url or None, embedder)  # a re-index removed what it was reading: read the new one
            cls._cache[key] = opened
            return opened

    @classmethod
    def forget(cls) -> None:
        """Drop every cached index (tests, or after deleting a folder)."""
        with cls._lock:
            cls._cache.clear()


@functools.lru_cache(maxsize=256)
def _resolved(path: str, cwd: str) -> Path:
    return Path(cwd, path).resolve()


def _stamp(index_dir: Path) -> float:
    try:
        return (index_dir / "manifest.json").stat().st_mtime_ns
    except OSError:
        return 0.0


@dataclass(frozen=True)
class Ranking:
    """One ranked list of ``(chunk_id, score)``, best first."""

    kind: str  # "dense" (cosine), "lexical" (BM25) or "heading" (cosine of the section heading)
    items: Sequence[tuple[str, float]]
    weight: float = 1.0
    tied: bool = False  # equal scores share a rank (all chunks of one section)


class HybridRetriever:
    """Dense + BM25 retrieval fused by reciprocal rank."""

    def __init__(self, index: Index, depth: int = 30):
        self.index = index
        self.depth = depth
        self._vectors: dict[str, Any] = {}
        self._sims: dict[str, Any] = {}
        self._bm25: dict[tuple[str, int, tuple[str, ...] | None], list[tuple[str, float]]] = {}

    def search(
        self,
        query: str,
        k: int = 8,
        doc_ids: Collection[str] | None = None,
        expand_tables: bool = True,
    ) -> list[Hit]:
        """The ``k`` best chunks for ``query``, best first.

        Args:
            query: the search text.
            k: how many fused hits to return (before table expansion).
            doc_ids: limit the search to these documents.
            expand_tables: append the missing rows of a retrieved crux table, so
                an answer can give both sides in full.
        """
        return self.fuse(self.ranked(query, doc_ids), k, expand_tables)

    def vector(self, text: str) -> Any:
        """The query vector of ``text`` (embedded once per retriever)."""
        if text not in self._vectors:
            self.prepare([text])
        return self._vectors[text]

    def prepare(self, texts: Sequence[str]) -> None:
        """Embed the texts a question will search with, in one batch."""
        todo = list(dict.fromkeys(t for t in texts if t and t not in self._vectors))
        if todo:
            self._vectors.update(zip(todo, self.index.embedder.embed(todo)))

    def ranked(
        self,
        query: str,
        doc_ids: Collection[str] | None = None,
        headings: bool = False,
        dense: bool = True,
    ) -> list[Ranking]:
        """The dense and the lexical ranking of ``query`` (and, with
        ``headings``, the ranking of chunks by their section heading)."""
        catalog = self.index.catalog
        allowed = set(doc_ids) if doc_ids else None
        depth = self.depth
        where = {"doc_id": {"$in": sorted(allowed)}} if allowed else None
        nearest: list[tuple[str, float]] = []
        rankings: list[Ranking] = []
        if self.index.manifest.chunks and dense:
            vector = self.vector(query)
            if allowed and len(allowed) <= LOCAL_DOCS:
                # a few documents: score their chunks from the local vectors, no round trip
                ids = [c.chunk_id for d in sorted(allowed) for c in catalog.document_chunks(d)]
                nearest = self.index.vectors.search(vector, ids, depth)
            elif not allowed and self.index.exact:
                nearest = self.index.vectors.top(self._similarities(query), depth)
            else:
                nearest = self.index.store.query(vector, min(depth, self.index.manifest.chunks), where)
            if headings:
                rankings.append(self._heading_ranking(vector, allowed))
        only = [c.chunk_id for d in sorted(allowed) for c in catalog.document_chunks(d)] if allowed else None
        lexical = self._lexical(query, depth, only)
        return [
            Ranking("dense", self._spread(nearest), tied=True),
            Ranking("lexical", self._spread(lexical), tied=True),
            *rankings,
        ]

    def _spread(self, items: Sequence[tuple[str, float]]) -> list[tuple[str, float]]:
        """The ranked ids with each window replaced by the chunks it holds, at
        the window's rank (a chunk keeps its best place). Measured on the dev
        prompts, this beats giving the windows a ranking of their own."""
        catalog = self.index.catalog
        out: dict[str, float] = {}
        for cid, score in items:
            chunk = catalog.chunks.get(cid)
            if chunk is None:
                continue  # deleted since this list was made
            for member in chunk.members or (cid,):
                out.setdefault(member, score)
        return list(out.items())

    def documents(self, query: str, doc_ids: Collection[str] | None = None) -> list[tuple[str, float]]:
        """Documents ranked for ``query``, best first, with their fused score.

        Each list (dense by chunk kind, BM25) ranks documents by their best
        chunk; the lists are fused by reciprocal rank with :data:`ranking.DOCUMENT_WEIGHTS`.
        """
        catalog = self.index.catalog
        allowed = set(doc_ids) if doc_ids else None
        lists: dict[str, list[str]] = {}
        if self.index.manifest.chunks:
            vector = self.vector(query)
            for kind, kinds in (("window", ("window",)), ("cited", ("row", "passage"))):
                ids = catalog.ids_of_kind(kinds, allowed)
                if self.index.exact and not allowed:
                    found = self.index.vectors.top(self._similarities(query), self.depth, ids)
                elif self.index.exact or (allowed and len(allowed) <= LOCAL_DOCS):
                    found = self.index.vectors.search(vector, ids, self.depth)
                else:
                    where: dict[str, Any] = {"kind": {"$in": list(kinds)}}
                    if allowed:
                        where = {"$and": [where, {"doc_id": {"$in": sorted(allowed)}}]}
                    found = self.index.store.query(vector, min(self.depth, max(1, len(ids))), where)
                lists[kind] = _documents_of(catalog, found)
        only = [c.chunk_id for d in sorted(allowed) for c in catalog.document_chunks(d)] if allowed else None
        lists["lexical"] = _documents_of(catalog, self._lexical(query, self.depth, only))
        scores: dict[str, float] = {}
        for kind, docs in lists.items():
            for rank, doc_id in enumerate(docs, start=1):
                scores[doc_id] = scores.get(doc_id, 0.0) + ranking.DOCUMENT_WEIGHTS[kind] / (ranking.DOCUMENT_RRF_K + rank)
        for doc_id in self.index.opening_pages & scores.keys():
            scores[doc_id] *= ranking.OPENING_PAGE_SHARE
        return sorted(scores.items(), key=lambda item: (-item[1], item[0]))

    def _lexical(self, query: str, depth: int, only: Sequence[str] | None) -> list[tuple[str, float]]:
        """BM25 for ``query`` (once per retriever: the document and the chunk rankings share it)."""
        key = (query, depth, tuple(only) if only is not None else None)
        if key not in self._bm25:
            self._bm25[key] = self.index.lexical.search(query, depth, only)
        return self._bm25[key]

    def _similarities(self, query: str) -> Any:
        """The query's cosine similarity to every chunk (one exact scan per question)."""
        if query not in self._sims:
            self._sims[query] = self.index.vectors.similarities(self.vector(query))
        return self._sims[query]

    def _heading_ranking(self, vector: Any, allowed: set[str] | None) -> Ranking:
        """Chunks ranked by their section heading's similarity (tied within a section)."""
        sections = self.index.headings.search(vector, ranking.HEADING_DEPTH, allowed)
        items: list[tuple[str, float]] = []
        for (doc_id, section), sim in sections:
            for chunk in self.index.catalog.sections(doc_id).get(section, ()):
                items.append((chunk.chunk_id, sim))
        return Ranking("heading", items, weight=ranking.HEADING_WEIGHT, tied=True)

    def fuse(self, rankings: Sequence[Ranking], k: int, expand_tables: bool = True) -> list[Hit]:
        """Reciprocal-rank fusion of several rankings into ``k`` hits."""
        catalog = self.index.catalog
        scores: dict[str, float] = {}
        dense_of: dict[str, float] = {}
        lexical_of: dict[str, float] = {}
        for listing in rankings:
            seen = {"dense": dense_of, "lexical": lexical_of}.get(listing.kind)
            rank, previous = 0, None
            for position, (cid, score) in enumerate(listing.items, start=1):
                if not listing.tied or score != previous:
                    rank, previous = (rank + 1 if listing.tied else position), score
                scores[cid] = scores.get(cid, 0.0) + listing.weight / (ranking.RRF_K + rank)
                if seen is not None:
                    seen[cid] = max(score, seen.get(cid, score))
        order = sorted(scores, key=lambda cid: (-scores[cid], cid))[:k]
        hits = [Hit(catalog.chunks[c], scores[c], dense_of.get(c), lexical_of.get(c)) for c in order]
        if expand_tables:
            hits = self._expand(hits, scores, dense_of, lexical_of)
        return hits

    def _expand(
        self, hits: list[Hit], scores: dict[str, float], dense_of: dict[str, float], lexical_of: dict[str, float]
    ) -> list[Hit]:
        """Add the missing rows of every crux or small table among the hits."""
        have = {h.chunk.chunk_id for h in hits}
        extra: list[Hit] = []
        for hit in hits:
            table = hit.chunk.table
            if table is None or table.kind not in EXPANDED_KINDS or len(table.rows) > ranking.MAX_EXPANDED_ROWS:
                continue
            for row in self.index.catalog.table_rows(table.table_id):
                if row.chunk_id not in have:
                    have.add(row.chunk_id)
                    extra.append(
                        Hit(row, scores.get(row.chunk_id, 0.0), dense_of.get(row.chunk_id), lexical_of.get(row.chunk_id), True)
                    )
        return hits + extra


def _documents_of(catalog: Catalog, items: Sequence[tuple[str, float]]) -> list[str]:
    """The documents of ranked chunk ids, in order of their best chunk."""
    return list(dict.fromkeys(catalog.chunks[cid].doc_id for cid, _ in items if cid in catalog.chunks))


def langchain_retriever(index: str | os.PathLike[str] | None = None, k: int = 6, **kwargs: Any) -> Any:
    """The hybrid retriever as a LangChain ``BaseRetriever``."""
    return _langchain_class()(index_dir=str(config.index_dir(index)), k=k, **kwargs)


_LC_CLASS: Any = None


def _langchain_class() -> Any:
    global _LC_CLASS
    if _LC_CLASS is not None:
        return _LC_CLASS
    from langchain_core.callbacks import CallbackManagerForRetrieverRun
    from langchain_core.documents import Document
    from langchain_core.retrievers import BaseRetriever

    class ApproachRetriever(BaseRetriever):
        """approach-bot's hybrid (dense + BM25) retriever for LangChain chains."""

        index_dir: str = config.DEFAULT_INDEX_DIR
        k: int = 6
        chroma_url: str | None = None

        def _get_relevant_documents(
            self, query: str, *, run_manager: CallbackManagerForRetrieverRun
        ) -> list[Document]:
            retriever = HybridRetriever(Index.open(self.index_dir, self.chroma_url))
            return [
                Document(
                    page_content=h.chunk.text,
                    id=h.chunk.chunk_id,
                    metadata={
                        "doc_id": h.chunk.doc_id,
                        "title": h.chunk.title,
                        "section": h.chunk.section,
                        "kind": h.chunk.kind,
                        "score": h.score,
                        "table": h.chunk.table.to_json() if h.chunk.table else None,
                        "row": h.chunk.row,
                    },
                )
                for h in retriever.search(query, k=self.k, expand_tables=False)
            ]

    _LC_CLASS = ApproachRetriever
    return _LC_CLASS


def __getattr__(name: str) -> Any:
    if name == "ApproachRetriever":
        return _langchain_class()
    raise AttributeError(name)
