"""The vector store (Chroma) and the manifest beside it.

Layout of an index folder::

    index/
      manifest.json   model, vector size, chunker version, collection name,
                      and the live lexical generation
      chroma/         the embedded Chroma store (absent in server mode)
      lexical-<id>/   the BM25 index, the chunk catalog, heading and chunk vectors
                      (see lexical.py); one generation, the one the manifest names
      .lock           held by the one ``bot index`` writing (see locking.py)

Chroma never embeds anything here: every collection is opened with
``embedding_function=None`` and vectors are passed in.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import tempfile
import threading
import time
import uuid
import weakref
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bot.errors import BotError, IndexCorruptError, IndexMismatchError, IndexMissingError
from bot.markdown import CHUNKER_VERSION, Chunk

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
COLLECTION = "approach_chunks"
_BATCH = 1000

REBUILD_HINT = "run `bot index --rebuild` to rebuild it"

#: The suffix of a collection written by ``--rebuild`` (beside the one it replaces).
_REBUILT = re.compile(r"-r[0-9a-f]{8}$")


@dataclass(frozen=True)
class Manifest:
    """What an index was built with; checked every time it is opened."""

    model: str
    dimension: int
    chunker_version: str
    model_id: str = ""  # the model folder's digest (Embedder.identity); "" in indexes built before it
    collection: str = COLLECTION
    documents: int = 0
    chunks: int = 0
    corpus: str = ""
    fingerprint: str = ""
    lexical: str = ""
    chroma_url: str = ""
    built_at: float = field(default_factory=time.time)

    @classmethod
    def read(cls, index_dir: Path) -> Manifest | None:
        path = index_dir / MANIFEST
        if not path.exists():
            return None
        try:
            data = json.loads(path.read_text("utf-8"))
            return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})
        except (ValueError, TypeError, KeyError) as exc:
            raise IndexCorruptError(f"the index manifest {path} is unreadable ({exc}); {REBUILD_HINT}") from exc

    def write(self, index_dir: Path) -> None:
        """Write atomically: a reader sees the old manifest or the new one."""
        write_atomic(index_dir / MANIFEST, json.dumps(asdict(self), indent=2))

    def check(self, model: str, dimension: int | None = None, identity: str | None = None) -> None:
        """Raise :class:`IndexMismatchError` unless built like this (``identity``:
        the model's digest, which tells apart two models under one folder name)."""
        problems = []
        if self.model != model:
            problems.append(f"embedding model {self.model!r}, not {model!r}")
        elif identity and self.model_id and self.model_id != identity:
            problems.append(f"another model saved as {model!r} (digest {self.model_id}, not {identity})")
        if dimension is not None and self.dimension != dimension:
            problems.append(f"vector size {self.dimension}, not {dimension}")
        if self.chunker_version != CHUNKER_VERSION:
            problems.append(f"chunker version {self.chunker_version}, not {CHUNKER_VERSION}")
        if problems:
            raise IndexMismatchError(
                "the index was built differently (" + "; ".join(problems) + f"); {REBUILD_HINT}"
            )


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, 0o644)  # mkstemp makes it 0600: other users serving the index must read it
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class StoredChunk:
    """What the store knows of a chunk without loading its text."""

    chunk_id: str
    doc_id: str
    position: int
    text_hash: str


class VectorStore:
    """One Chroma collection of chunk vectors, embedded or on a server."""

    def __init__(self, index_dir: Path, chroma_url: str | None = None, collection: str = COLLECTION):
        self.index_dir = Path(index_dir)
        self.chroma_url = chroma_url
        self.collection_name = collection
        self._client: Any = None
        self._collection: Any = None

    # -- connection ---------------------------------------------------------

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = _client(self.index_dir, self.chroma_url)
        return self._client

    @property
    def collection(self) -> Any:
        if self._collection is None:
            try:
                self._collection = self.client.get_or_create_collection(
                    self.collection_name,
                    configuration={"hnsw": {"space": "cosine"}},
                    embedding_function=None,
                )
            except BotError:  # already says what to do (opening the client failed)
                raise
            except Exception as exc:  # chromadb raises many kinds on a damaged store
                raise IndexCorruptError(
                    f"the vector store in {self.where} cannot be opened ({_short(exc)}); {_remedy(exc)}"
                ) from exc
        return self._collection

    @property
    def where(self) -> str:
        return self.chroma_url or str(self.index_dir / "chroma")

    def reset(self) -> None:
        """Start from nothing (``--rebuild``): drop the collection on a server;
        delete the embedded store's folder, which also mends a damaged one."""
        self._collection = None
        if self.chroma_url:
            try:
                self.client.delete_collection(self.collection_name)
            except Exception:  # noqa: BLE001 - an absent collection is fine
                pass
            return
        self._client = None
        _forget_embedded((self.index_dir / "chroma").resolve())  # no client of this process keeps the old files open
        shutil.rmtree(self.index_dir / "chroma", ignore_errors=True)

    def for_rebuild(self) -> VectorStore:
        """Where a ``--rebuild`` writes: a new, empty collection beside this one,
        which serves on until the manifest switches and stays whole if the
        rebuild dies. An embedded store that is damaged (or absent) is deleted
        and started again instead: there is nothing to keep serving."""
        base = _REBUILT.sub("", self.collection_name)
        if not self.chroma_url:
            try:
                self.check_file()
                self.count()
            except BotError:
                self.reset()
                return VectorStore(self.index_dir, None, base)
        return VectorStore(self.index_dir, self.chroma_url, f"{base}-r{uuid.uuid4().hex[:8]}")

    def retire(self, replaced: VectorStore) -> None:
        """Delete the collection a ``--rebuild`` replaced, once the manifest names
        this one (in the embedded store, which is this index's alone, also those
        a killed rebuild left)."""
        if replaced.chroma_url != self.chroma_url:
            return
        names = {replaced.collection_name}
        try:
            if not self.chroma_url:
                names |= {getattr(c, "name", c) for c in self.client.list_collections()}
            for name in sorted(names - {self.collection_name}):
                self.client.delete_collection(name)
        except Exception:  # noqa: BLE001 - a collection left over costs space, not correctness
            log.warning("could not delete the replaced collection(s) %s", ", ".join(sorted(names)), exc_info=True)

    # -- writing ------------------------------------------------------------

    def stored(self) -> dict[str, StoredChunk]:
        """Every stored chunk's identity, by id."""
        found: dict[str, StoredChunk] = {}
        total = self.collection.count()
        for offset in range(0, total, 5000):
            got = self.collection.get(include=["metadatas"], limit=5000, offset=offset)
            for cid, meta in zip(got["ids"], got["metadatas"]):
                found[cid] = StoredChunk(cid, str(meta["doc_id"]), int(meta["position"]), str(meta["text_hash"]))
        return found

    def vectors(self, ids: Sequence[str]) -> dict[str, Any]:
        """Stored vectors of some chunks, to reuse for moved or retagged text."""
        out: dict[str, Any] = {}
        for start in range(0, len(ids), _BATCH):
            got = self.collection.get(ids=list(ids[start : start + _BATCH]), include=["embeddings"])
            for cid, vec in zip(got["ids"], got["embeddings"]):
                out[cid] = vec
        return out

    def upsert(self, chunks: Sequence[Chunk], vectors: Sequence[Any]) -> None:
        import numpy as np

        collection = self.collection
        for start in range(0, len(chunks), _BATCH):
            part = chunks[start : start + _BATCH]
            with self._writing():
                collection.upsert(
                    ids=[c.chunk_id for c in part],
                    embeddings=np.asarray(vectors[start : start + _BATCH], dtype=np.float32),
                    documents=[c.text for c in part],
                    metadatas=[chunk_metadata(c) for c in part],
                )

    def delete(self, ids: Iterable[str]) -> None:
        ids = list(ids)
        collection = self.collection
        for start in range(0, len(ids), _BATCH):
            with self._writing():
                collection.delete(ids=ids[start : start + _BATCH])

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """A failed write (a full disk, a read-only folder, a server gone) as one line saying what to do."""
        try:
            yield
        except BotError:
            raise
        except Exception as exc:  # noqa: BLE001 - chromadb raises many kinds
            raise BotError(
                f"cannot write to the vector store in {self.where} ({_short(exc)}); free disk space or make it "
                "writable (or start the server), then run `bot index` again (the old index still serves)"
            ) from exc

    # -- reading ------------------------------------------------------------

    def check_file(self) -> None:
        """A quick look at the embedded store's sqlite file, without opening
        Chroma: answers may be served from the local vectors alone, and a
        damaged store must still be reported, not found at the next re-index.

        Raises:
            IndexCorruptError: the file is missing, not sqlite, or shorter
                than its own header says.
        """
        if self.chroma_url:
            return
        path = self.index_dir / "chroma" / "chroma.sqlite3"
        try:
            with path.open("rb") as handle:
                header = handle.read(100)
            size = path.stat().st_size
        except OSError as exc:
            raise IndexCorruptError(f"the vector store in {self.where} cannot be read ({exc}); {REBUILD_HINT}") from exc
        problem = ""
        if len(header) < 100 or not header.startswith(b"SQLite format 3\x00"):
            problem = "not a sqlite database"
        else:
            page_size = int.from_bytes(header[16:18], "big")
            page_size = 65536 if page_size == 1 else page_size
            pages = int.from_bytes(header[28:32], "big")
            valid = header[92:96] == header[24:28]  # the header's page count is current
            journal = path.with_name(path.name + "-journal")
            recovering = journal.is_file() and journal.stat().st_size > 0  # sqlite rolls back a failed write on open
            if valid and pages and size < pages * page_size and not recovering:
                problem = f"cut short: {size} of {pages * page_size} bytes"
        if problem:
            raise IndexCorruptError(f"the vector store in {self.where} is damaged ({problem}); {REBUILD_HINT}")

    def count(self) -> int:
        collection = self.collection
        try:
            return int(collection.count())
        except Exception as exc:  # noqa: BLE001 - chromadb raises many kinds on a damaged store
            raise IndexCorruptError(
                f"the vector store in {self.where} cannot be read ({_short(exc)}); {REBUILD_HINT}"
            ) from exc

    def query(self, vector: Sequence[float], k: int, where: dict[str, Any] | None = None) -> list[tuple[str, float]]:
        """The ``k`` nearest chunk ids with their cosine similarity."""
        import numpy as np

        got = self.collection.query(
            query_embeddings=np.asarray([vector], dtype=np.float32), n_results=k, where=where or None, include=["distances"]
        )
        return [(cid, 1.0 - float(d)) for cid, d in zip(got["ids"][0], got["distances"][0])]


def chunk_metadata(chunk: Chunk) -> dict[str, Any]:
    return {
        "doc_id": chunk.doc_id,
        "title": chunk.title,
        "section": chunk.section,
        "kind": chunk.kind,
        "position": chunk.position,
        "text_hash": chunk.text_hash,
        "table_id": chunk.table.table_id if chunk.table else "",
        "table_kind": chunk.table.kind if chunk.table else "",
        "row": -1 if chunk.row is None else chunk.row,
    }


def _client(index_dir: Path, chroma_url: str | None) -> Any:
    import chromadb
    from chromadb.config import Settings

    settings = Settings(anonymized_telemetry=False, allow_reset=False)
    if chroma_url:
        from urllib.parse import urlparse

        url = urlparse(chroma_url)
        try:
            return chromadb.HttpClient(
                host=url.hostname or "127.0.0.1",
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=settings,
            )
        except Exception as exc:  # noqa: BLE001 - connection errors come in many types
            raise BotError(f"cannot reach the Chroma server at {chroma_url} ({_short(exc)})") from exc
    path = index_dir / "chroma"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BotError(f"cannot create the vector store in {path} ({exc.strerror or exc}); give --index a writable folder") from exc
    path, state = path.resolve(), _index_state(index_dir)
    with _embedded_lock:
        opened = _embedded.get(str(path))
        if opened is not None and opened[0] == state:
            return opened[1]
        _forget_embedded(path, stop=False)  # its last user stops it (see below)
        try:
            client = chromadb.PersistentClient(path=str(path), settings=settings)
        except Exception as exc:  # noqa: BLE001
            raise IndexCorruptError(f"the vector store in {path} cannot be opened ({_short(exc)}); {_remedy(exc)}") from exc
        _embedded[str(path)] = (state, client)
        system = getattr(client, "_system", None)
        if system is not None:
            weakref.finalize(client, _stop_quietly, system)  # a replaced client's files and memory go with it
        return client


#: The embedded client opened per store folder, with the index state it was opened at.
#: chromadb shares one System per folder within a process and that System never
#: sees what another process wrote (its HNSW index stays as loaded), so a
#: re-index (a new manifest) gets a System of its own; the old one is stopped
#: when the last reader of the old index lets go of it.
_embedded: dict[str, tuple[tuple[int, int, int], Any]] = {}
_embedded_lock = threading.RLock()


def _index_state(index_dir: Path) -> tuple[int, int, int]:
    """Which manifest is live: it is replaced (never edited) by every re-index."""
    try:
        st = (index_dir / MANIFEST).stat()
    except OSError:
        return (0, 0, 0)
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def _forget_embedded(path: Path, stop: bool = True) -> None:
    """Drop this process's client of the embedded store in ``path`` (and chromadb's shared System)."""
    try:
        from chromadb.api.shared_system_client import SharedSystemClient
    except ImportError:  # pragma: no cover - chromadb moved it
        return
    with _embedded_lock:
        _embedded.pop(str(path), None)
        system = SharedSystemClient._identifier_to_system.pop(str(path), None)
        SharedSystemClient._identifier_to_refcount.pop(str(path), None)
    if stop and system is not None:
        _stop_quietly(system)


def _stop_quietly(system: Any) -> None:
    try:
        system.stop()
    except Exception:  # noqa: BLE001 - stopping a stale System must never break a reader
        log.debug("stopping a replaced Chroma system failed", exc_info=True)


def _remedy(exc: BaseException) -> str:
    """What to do about a store that cannot be opened: a full disk or a read-only
    folder is not mended by rebuilding."""
    if re.search(r"disk|full|read-?only|permission|denied", str(exc), re.I):
        return "free disk space or make the index folder writable, then run `bot index` again"
    return REBUILD_HINT


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def live_collection(index_dir: Path, default: str) -> str:
    """The collection the index's manifest names, or ``default`` when there is no readable one."""
    try:
        manifest = Manifest.read(index_dir)
    except BotError:
        return default
    return manifest.collection if manifest is not None else default


def require_manifest(index_dir: Path) -> Manifest:
    """The manifest of an existing index, or :class:`IndexMissingError`."""
    if index_dir.exists() and not index_dir.is_dir():
        raise IndexMissingError(f"{index_dir} is a file, not an index folder: give --index (or BOT_INDEX_DIR) the index folder")
    manifest = Manifest.read(index_dir)
    if manifest is None:
        raise IndexMissingError(f"no index in {index_dir}: run `bot index --corpus DIR --index {index_dir}` first")
    return manifest
