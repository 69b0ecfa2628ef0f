"""The lexical side of the index: a BM25 index (bm25s) and the chunk catalog.

Both are written at index time into a fresh ``lexical-<generation>`` folder;
the manifest names the live generation, so a reader never sees half of one.
Loading them takes no model and no Chroma call, so a hit is resolved to its
chunk (text, section, whole table) from memory.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import threading
from collections import OrderedDict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.errors import IndexCorruptError
from bot.markdown import SUMMARY_KINDS, Chunk, Table

CATALOG = "catalog.json"
BM25_DIR = "bm25"


@dataclass(frozen=True)
class DocumentInfo:
    doc_id: str
    title: str
    description: str
    aliases: tuple[str, ...] = ()
    digest: str = ""  # the source file's sha256, to skip parsing it again
    warnings: tuple[str, ...] = ()  # what the loader said of it (said again on every run)


class Catalog:
    """Every indexed chunk by id, with its table and document."""

    def __init__(
        self, chunks: Iterable[Chunk], documents: Iterable[DocumentInfo], profile: dict[str, Any] | None = None
    ):
        self.profile: dict[str, Any] = dict(profile or {})  # the corpus profile it was built with, as JSON
        self.chunks: dict[str, Chunk] = {c.chunk_id: c for c in chunks}
        self.ids: list[str] = sorted(self.chunks)
        self.documents: dict[str, DocumentInfo] = {d.doc_id: d for d in documents}
        self._by_table: dict[str, list[Chunk]] = {}
        self._by_doc: dict[str, list[Chunk]] = {}
        for chunk in self.chunks.values():
            self._by_doc.setdefault(chunk.doc_id, []).append(chunk)
            if chunk.table is not None:
                self._by_table.setdefault(chunk.table.table_id, []).append(chunk)
        for rows in self._by_table.values():
            rows.sort(key=lambda c: c.row or 0)
        self._vocabulary: set[str] | None = None
        self._sections: dict[str, dict[str, list[Chunk]]] = {}
        self._kinds: dict[tuple[str, ...], list[str]] = {}

    def ids_of_kind(self, kinds: tuple[str, ...], doc_ids: Collection[str] | None = None) -> list[str]:
        """The ids of the chunks of these kinds (in these documents)."""
        if doc_ids:
            return [c.chunk_id for d in sorted(doc_ids) for c in self._by_doc.get(d, ()) if c.kind in kinds]
        if kinds not in self._kinds:
            self._kinds[kinds] = [cid for cid in self.ids if self.chunks[cid].kind in kinds]
        return self._kinds[kinds]

    @property
    def vocabulary(self) -> set[str]:
        """Every lower-cased word of the indexed texts (for spelling correction)."""
        if self._vocabulary is None:
            words: set[str] = set()
            for chunk in self.chunks.values():
                words.update(re.findall(r"[a-z][a-z0-9\-']+", chunk.text.lower()))
            self._vocabulary = words
        return self._vocabulary

    def document_chunks(self, doc_id: str) -> list[Chunk]:
        return self._by_doc.get(doc_id, [])

    def sections(self, doc_id: str) -> dict[str, list[Chunk]]:
        """A document's chunks by section, in document order (do not modify)."""
        out = self._sections.get(doc_id)
        if out is None:
            out = {}
            for chunk in sorted(self._by_doc.get(doc_id, ()), key=lambda c: c.position):
                if chunk.kind not in SUMMARY_KINDS:  # windows are searched, never cited
                    out.setdefault(chunk.section, []).append(chunk)
            self._sections[doc_id] = out
        return out

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
            if c.table is not None and c.table.table_id not in tables:
                tables[c.table.table_id] = c.table.to_dict()
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
                    "refs": [list(r) for r in c.refs],
                    "members": list(c.members),
                }
            )
        docs = [{**d.__dict__, "aliases": list(d.aliases), "warnings": list(d.warnings)} for d in self.documents.values()]
        data = {"chunks": rows, "tables": tables, "documents": docs, "profile": self.profile}
        (folder / CATALOG).write_text(json.dumps(data, ensure_ascii=False), "utf-8")

    @classmethod
    def load(cls, folder: Path) -> Catalog:
        data = json.loads((folder / CATALOG).read_text("utf-8"))
        tables = {tid: Table.from_dict({**t, "table_id": tid}) for tid, t in data["tables"].items()}
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
                refs=tuple((str(t), str(u)) for t, u in r.get("refs", ())),
                members=tuple(r.get("members", ())),
            )
            for r in data["chunks"]
        )
        docs = (
            DocumentInfo(**{**d, "aliases": tuple(d.get("aliases", ())), "warnings": tuple(d.get("warnings", ()))})
            for d in data["documents"]
        )
        return cls(chunks, docs, data.get("profile") or {})


class Lexical:
    """BM25 over chunk texts, English stop words removed, Snowball-stemmed."""

    def __init__(self, retriever: Any, ids: Sequence[str]):
        self._retriever = retriever
        self._ids = list(ids)
        self._row = {cid: i for i, cid in enumerate(self._ids)}
        self._vocab: dict[str, int] = dict(getattr(retriever, "vocab_dict", {}) or {})
        self._terms: OrderedDict[str, list[str]] = OrderedDict()
        self._terms_lock = threading.Lock()
        self._scores: OrderedDict[tuple[str, ...], Any] = OrderedDict()  # the last few queries' scores

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

    def search(self, query: str, k: int, only: Collection[str] | None = None) -> list[tuple[str, float]]:
        """The ``k`` best chunk ids for ``query`` with their BM25 scores (> 0),
        among the chunk ids ``only`` when given."""
        if not self._ids:
            return []
        terms = self.terms(query)
        if not terms:
            return []
        import numpy as np

        scores = self._scores_of(terms)
        if only is None:
            rows, candidate = None, scores
        else:
            rows = np.fromiter((self._row[c] for c in only if c in self._row), dtype=np.int64)
            if rows.size == 0:
                return []
            candidate = scores[rows]
        keep = np.flatnonzero(candidate > 0)
        if keep.size > k:
            keep = keep[np.argpartition(-candidate[keep], k - 1)[:k]]
        row = (lambda i: i) if rows is None else (lambda i: int(rows[i]))
        best = sorted(keep.tolist(), key=lambda i: (-float(candidate[i]), row(i)))
        return [(self._ids[row(i)], float(candidate[i])) for i in best]

    def _scores_of(self, terms: list[str]) -> Any:
        """Every chunk's BM25 score for ``terms``: a question searches the whole
        index and then its best pages with the same terms, so the last few are kept."""
        key = tuple(terms)
        with self._terms_lock:
            scores = self._scores.get(key)
        if scores is None:
            # get_scores is one sparse column sum; retrieve() adds ~7 ms of thread-pool set-up per call
            scores = self._retriever.get_scores(terms)
            scores.setflags(write=False)
            with self._terms_lock:
                self._scores[key] = scores
                while len(self._scores) > 8:
                    self._scores.popitem(last=False)
        return scores

    def terms(self, query: str) -> list[str]:
        """The query's stemmed terms that occur in the corpus (remembered for the last few queries)."""
        with self._terms_lock:
            cached = self._terms.get(query)
            if cached is None:
                tokens = _bm25s().tokenize(
                    [query], stopwords="en", stemmer=_stemmer(), return_ids=False, show_progress=False
                )
                cached = self._terms[query] = [t for t in tokens[0] if t in self._vocab]
                while len(self._terms) > 64:
                    self._terms.popitem(last=False)
            return cached

    def known(self, term: str) -> bool:
        return term in self._vocab


class Headings:
    """One vector per section heading (``Title: Section``), searched in memory.

    Questions resemble headings ("Is Pause Feasible?") more than they resemble
    the rows under them, so the heading ranking steers retrieval to the
    right section of an approach.
    """

    FILE = "headings.json"
    VECTORS = "headings.npy"

    def __init__(self, keys: Sequence[tuple[str, str]], texts: Sequence[str], vectors: Any):
        import numpy as np

        self.keys = list(keys)
        self.texts = list(texts)
        self.vectors = np.asarray(vectors, dtype=np.float32).reshape(len(self.keys), -1) if keys else np.zeros((0, 1))
        self._by_doc: dict[str, list[int]] = {}
        for i, (doc_id, _) in enumerate(self.keys):
            self._by_doc.setdefault(doc_id, []).append(i)

    @staticmethod
    def text(title: str, section: str) -> str:
        return f"{title}: {section}"

    @classmethod
    def build(cls, catalog: Catalog, embed: Any, previous: Headings | None = None) -> Headings:
        """Vectors for every section, reusing the previous generation's where the text is unchanged."""
        keys: list[tuple[str, str]] = []
        texts: list[str] = []
        for chunk in sorted(catalog.chunks.values(), key=lambda c: (c.doc_id, c.position)):
            key = (chunk.doc_id, chunk.section)
            if not keys or keys[-1] != key and key not in set(keys[-50:]):
                keys.append(key)
                texts.append(cls.text(chunk.title, chunk.section))
        known = previous.by_text() if previous is not None else {}
        missing = sorted({t for t in texts if t not in known})
        fresh = dict(zip(missing, embed(missing))) if missing else {}
        vectors = [known[t] if t in known else fresh[t] for t in texts]
        return cls(keys, texts, vectors)

    def by_text(self) -> dict[str, Any]:
        return {t: self.vectors[i] for i, t in enumerate(self.texts)}

    def save(self, folder: Path) -> None:
        import numpy as np

        (folder / self.FILE).write_text(json.dumps({"keys": self.keys, "texts": self.texts}), "utf-8")
        np.save(folder / self.VECTORS, self.vectors.astype(np.float32))

    @classmethod
    def load(cls, folder: Path) -> Headings:
        import numpy as np

        data = json.loads((folder / cls.FILE).read_text("utf-8"))
        keys = [tuple(k) for k in data["keys"]]
        return cls(keys, data["texts"], np.load(folder / cls.VECTORS))

    def search(self, vector: Any, k: int, doc_ids: Collection[str] | None = None) -> list[tuple[tuple[str, str], float]]:
        """The ``k`` headings most similar to a (normalized) query vector."""
        import numpy as np

        if not self.keys:
            return []
        if doc_ids:
            rows = [i for d in doc_ids for i in self._by_doc.get(d, ())]
            if not rows:
                return []
            sims = self.vectors[rows] @ np.asarray(vector, dtype=np.float32)
            order = np.argsort(-sims)[:k]
            return [(self.keys[rows[j]], float(sims[j])) for j in order]
        sims = self.vectors @ np.asarray(vector, dtype=np.float32)
        top = np.argpartition(-sims, min(k, len(sims) - 1))[:k] if len(sims) > k else np.arange(len(sims))
        top = top[np.argsort(-sims[top])]
        return [(self.keys[j], float(sims[j])) for j in top]


#: From this many chunks on, a question's similarity to every chunk is found in
#: two stages: a projection of every vector on its PROJECTED_DIMENSIONS
#: principal directions (fit when first needed: ~0.05 s at the wiki's 42k)
#: picks the CANDIDATES most similar, and their similarity is then computed
#: exactly; the rest keep the projected value. At 42k chunks, right after the
#: question's embedding has left the caches cold, this is 1.7 ms against 2.0 ms
#: with 2,048 candidates and ~3 ms for the full scan; 4 of the 4,500 top-30
#: places of the wiki's 150 dev questions differ from the full scan (13 of 9,000 top-60).
PROJECTED_FROM = 20_000
PROJECTED_DIMENSIONS = 128
CANDIDATES = 1_024

#: How many of the best similarities a search by kind looks through first
#: (``Vectors.top``): most of a kind's best are among them.
LEADERS = 512


class Vectors:
    """Every chunk's vector, in catalog order, kept beside the catalog.

    Chroma answers the global nearest-neighbour query; these serve the
    searches limited to a few documents (an approach a question names) with no
    second round trip, and let re-indexing reuse vectors without reading the
    whole store back.
    """

    FILE = "vectors.npy"
    IDS = "vector_ids.json"

    def __init__(self, ids: Sequence[str], matrix: Any):
        import numpy as np

        self.ids = list(ids)
        self.matrix = np.asarray(matrix, dtype=np.float32).reshape(len(self.ids), -1) if self.ids else np.zeros((0, 1))
        self.row = {cid: i for i, cid in enumerate(self.ids)}
        self._rows: dict[int, tuple[Sequence[str], Any, Any]] = {}  # rows of an id list (the catalog's, by kind)
        self._projection: tuple[Any, Any] | None = None  # (directions, projected vectors), fit on first use
        self._projecting = threading.Lock()
        self._leading: tuple[Any, Any] | None = None  # (similarities, their best rows)

    def get(self, chunk_id: str) -> Any:
        i = self.row.get(chunk_id)
        return None if i is None else self.matrix[i]

    def save(self, folder: Path) -> None:
        import numpy as np

        np.save(folder / self.FILE, self.matrix)
        (folder / self.IDS).write_text(json.dumps(self.ids), "utf-8")

    @classmethod
    def load(cls, folder: Path) -> Vectors:
        import numpy as np

        ids = json.loads((folder / cls.IDS).read_text("utf-8"))
        return cls(ids, np.load(folder / cls.FILE, mmap_mode="r") if ids else [])

    def search(self, vector: Any, chunk_ids: Sequence[str], k: int) -> list[tuple[str, float]]:
        """The ``k`` of ``chunk_ids`` most similar to a normalized query vector."""
        import numpy as np

        rows = [self.row[c] for c in chunk_ids if c in self.row]
        if not rows:
            return []
        sims = np.asarray(self.matrix[rows]) @ np.asarray(vector, dtype=np.float32)
        order = np.argsort(np.negative(sims))[:k]
        return [(self.ids[rows[j]], float(sims[j])) for j in order]

    def nearest(self, vector: Any, k: int) -> list[tuple[str, float]]:
        """The ``k`` chunks most similar to a normalized query vector: an exact scan."""
        return self.top(self.similarities(vector), k)

    def similarities(self, vector: Any) -> Any:
        """The cosine similarity of a normalized query vector to every chunk, in
        ``ids`` order: exact for the most similar (see :data:`PROJECTED_FROM`)."""
        import numpy as np

        if not self.ids:
            return np.zeros(0, dtype=np.float32)
        query = np.asarray(vector, dtype=np.float32)
        if len(self.ids) < PROJECTED_FROM:
            return self.matrix @ query
        directions, projected = self._projected()
        sims = projected @ (query @ directions)
        candidates = np.sort(np.argpartition(-sims, CANDIDATES)[:CANDIDATES])
        sims[candidates] = self.matrix[candidates] @ query
        return sims

    def _projected(self) -> tuple[Any, Any]:
        """The principal directions of the vectors and every vector projected on them."""
        import numpy as np

        with self._projecting:
            if self._projection is None:
                matrix: Any = np.asarray(self.matrix, dtype=np.float32)
                _, eigenvectors = np.linalg.eigh(matrix.T @ matrix)  # ascending: the last are the principal ones
                directions = np.ascontiguousarray(eigenvectors[:, ::-1][:, :PROJECTED_DIMENSIONS], dtype=np.float32)
                self._projection = (directions, np.ascontiguousarray(matrix @ directions))
            return self._projection

    def top(self, sims: Any, k: int, among: Sequence[str] | None = None) -> list[tuple[str, float]]:
        """The ``k`` best of precomputed similarities (among these chunk ids, when given)."""
        import numpy as np

        if among is None:
            rows = None
            leaders = self._leaders(sims) if k <= LEADERS else None
            if leaders is not None:
                return [(self.ids[int(i)], float(sims[i])) for i in leaders[:k]]
        else:
            key = id(among)
            cached = self._rows.get(key)
            if cached is None or cached[0] is not among:
                picked = np.asarray([self.row[c] for c in among if c in self.row], dtype=np.int64)
                mask = np.zeros(len(self.ids), dtype=bool)
                mask[picked] = True
                cached = self._rows[key] = (among, picked, mask)
            rows = cached[1]
            if not len(rows):
                return []
            leaders = self._leaders(sims)
            if leaders is not None:  # the best of the whole index usually hold the k best of a kind
                best = leaders[cached[2][leaders]][:k]
                if len(best) == min(k, len(rows)):
                    return [(self.ids[int(i)], float(sims[i])) for i in best]
        part = sims if rows is None else sims[rows]
        if not len(part):
            return []
        top = np.argpartition(-part, k - 1)[:k] if k < len(part) else np.arange(len(part))
        order = top[np.argsort(-part[top], kind="stable")]
        return [(self.ids[int(j if rows is None else rows[j])], float(part[j])) for j in order]

    def _leaders(self, sims: Any) -> Any:
        """The rows of the :data:`LEADERS` highest similarities, best first
        (remembered for the last array: one question asks for several kinds)."""
        import numpy as np

        if len(sims) <= 4 * LEADERS:
            return None
        cached = self._leading
        if cached is None or cached[0] is not sims:
            top = np.argpartition(-sims, LEADERS - 1)[:LEADERS]
            cached = self._leading = (sims, top[np.argsort(-sims[top], kind="stable")])
        return cached[1]


_STEMMER: Any = None


_BM25S: Any = None


def _bm25s() -> Any:
    global _BM25S
    if _BM25S is None:
        import bm25s

        # bm25s sets its own logger to DEBUG at import; keep its chatter out of our output.
        logging.getLogger("bm25s").setLevel(logging.WARNING)
        _BM25S = bm25s
    return _BM25S


def stem(word: str) -> str:
    """The Snowball (English) stem of a lower-case word."""
    return str(_stemmer().stemWord(word))


def _stemmer() -> Any:
    global _STEMMER
    if _STEMMER is None:
        import Stemmer

        _STEMMER = Stemmer.Stemmer("english")
    return _STEMMER


def write_generation(
    index_dir: Path, generation: str, catalog: Catalog, lexical: Lexical, headings: Headings, vectors: Vectors
) -> None:
    """Write a complete lexical generation folder (not yet live)."""
    folder = index_dir / generation
    if folder.exists():
        shutil.rmtree(folder)
    tmp = index_dir / f".{generation}.tmp"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    try:
        catalog.save(tmp)
        lexical.save(tmp)
        headings.save(tmp)
        vectors.save(tmp)
        tmp.rename(folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)  # a half-written folder (a full disk) must not fill it for the next run
        raise


def remove_leftovers(index_dir: Path) -> None:
    """Delete half-written generation folders (only the lock holder may: they may be another run's)."""
    for path in index_dir.glob(".lexical-*.tmp"):
        shutil.rmtree(path, ignore_errors=True)


def remove_stale_generations(index_dir: Path, live: str) -> None:
    for path in index_dir.glob("lexical-*"):
        if path.name != live:
            shutil.rmtree(path, ignore_errors=True)
    for path in index_dir.glob(".lexical-*.tmp"):
        shutil.rmtree(path, ignore_errors=True)


def load_generation(index_dir: Path, generation: str) -> tuple[Catalog, Lexical, Headings, Vectors]:
    folder = index_dir / generation
    try:
        return Catalog.load(folder), Lexical.load(folder), Headings.load(folder), Vectors.load(folder)
    except Exception as exc:  # noqa: BLE001 - json, numpy (EOFError on an empty .npy) and bm25s fail in many ways
        raise IndexCorruptError(
            f"the lexical index {folder} is unreadable ({_reason(exc)}); run `bot index --rebuild` to rebuild it"
        ) from exc


def check_generation(index_dir: Path, generation: str) -> None:
    """A quick look at every file of a generation, without loading it: none
    empty, every JSON file closed, every ``.npy`` as long as its header says.

    Raises:
        IndexCorruptError: a file is missing, empty or cut short.
    """
    import numpy as np

    folder = index_dir / generation
    expected = (CATALOG, Headings.FILE, Headings.VECTORS, Vectors.FILE, Vectors.IDS, f"{BM25_DIR}/ids.json")
    try:
        missing = [name for name in expected if not (folder / name).is_file()]
        if missing:
            raise IndexCorruptError(f"the lexical index {folder} is incomplete ({missing[0]} is missing)")
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            size = path.stat().st_size
            with path.open("rb") as handle:
                if size == 0:
                    problem = "empty"
                elif path.suffix == ".json":
                    handle.seek(max(0, size - 16))
                    problem = "" if handle.read().rstrip()[-1:] in (b"}", b"]") else "cut short"
                elif path.suffix == ".npy":
                    problem = _npy_problem(np, path)
                else:
                    problem = ""
            if problem:
                raise IndexCorruptError(f"the lexical index {folder} is damaged ({path.name}: {problem})")
    except OSError as exc:
        raise IndexCorruptError(f"the lexical index {folder} is unreadable ({_reason(exc)})") from exc


def _npy_problem(np: Any, path: Path) -> str:
    """Why an .npy file cannot be mapped (its header read, its length checked), or ``""``."""
    try:
        np.load(path, mmap_mode="r")
    except Exception as exc:  # noqa: BLE001 - a damaged file fails in many ways
        return _reason(exc)
    return ""


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
