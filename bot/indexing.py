"""Building and incrementally updating an index from a corpus folder.

Only chunks whose text is new are embedded; a chunk whose text moved (its
position changed) reuses its stored vector. The new state goes live in one
atomic step, when the manifest naming the new lexical generation is written;
stale vectors are deleted only after that, so a reader (or a crash) at any
moment sees the old index or the new one.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot import config
from bot.embedding import Embedder
from bot.errors import BotError, CorpusError, IndexCorruptError
from bot.lexical import (
    Catalog,
    DocumentInfo,
    Headings,
    Lexical,
    Vectors,
    check_generation,
    remove_leftovers,
    remove_stale_generations,
    write_generation,
)
from bot.locking import index_lock
from bot.markdown import CHUNKER_VERSION, Chunk, Document, Problem, load_corpus
from bot.profile import Profile, load_profile
from bot.store import Manifest, StoredChunk, VectorStore, live_collection

log = logging.getLogger(__name__)

#: Chunks embedded per slab; Chroma stores one slab while the next is embedded.
SLAB = 1024


@dataclass(frozen=True)
class IndexStats:
    """What one ``build_index`` run did."""

    documents: int
    chunks: int
    added: int
    updated: int
    removed: int
    unchanged: int
    seconds: float
    embedded: int = 0
    problems: tuple[Problem, ...] = ()
    excluded: tuple[str, ...] = ()  # files the corpus profile excludes

    @property
    def skipped(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.skipped)

    @property
    def partial(self) -> bool:
        """Some files were skipped."""
        return bool(self.skipped)


def build_index(
    corpus: str | os.PathLike[str] = "corpus",
    index: str | os.PathLike[str] | None = None,
    *,
    rebuild: bool = False,
    chroma_url: str | None = None,
    embedder: Embedder | None = None,
    progress: bool = False,
    profile: str | os.PathLike[str] | Profile | None = None,
) -> IndexStats:
    """Index (or re-index) every document under ``corpus`` into ``index``.

    Args:
        corpus: the folder of markdown/MDX documents.
        index: the index folder (default ``BOT_INDEX_DIR`` or ``index``).
        rebuild: drop the existing index first (after a model change).
        chroma_url: a Chroma server to store vectors in (default ``BOT_CHROMA_URL``).
        embedder: the embedding model (default the configured one).
        progress: show a progress bar while embedding.
        profile: the corpus profile (a file, or a :class:`~bot.profile.Profile`;
            default ``<corpus>/bot.yaml`` when there is one).

    Returns:
        IndexStats with the counts of added, updated, removed and unchanged chunks.

    Raises:
        CorpusError: the folder is missing or holds no usable document; the
            existing index is left as it was.
        IndexMismatchError: the index was built differently and ``rebuild`` is off.
        IndexBusyError: another run kept the index folder locked past
            ``BOT_INDEX_LOCK_TIMEOUT`` (runs on one folder take turns).
    """
    index_dir = config.index_dir(index)
    with index_lock(index_dir, config.index_lock_timeout()), _writing(index_dir):  # one writer at a time
        chosen = profile if isinstance(profile, Profile) else load_profile(corpus, profile)
        return _build(corpus, index_dir, rebuild, chroma_url, embedder, progress, chosen)


def _build(
    corpus: str | os.PathLike[str],
    index_dir: Path,
    rebuild: bool,
    chroma_url: str | None,
    embedder: Embedder | None,
    progress: bool,
    profile: Profile,
) -> IndexStats:
    started = time.perf_counter()
    chroma_url = config.chroma_url(chroma_url)
    embedder = embedder or Embedder.default()
    remove_leftovers(index_dir)  # of a run that crashed or found the disk full: we hold the lock
    old = None if rebuild else Manifest.read(index_dir)
    if old is not None:
        old.check(embedder.name, identity=embedder.identity)
    known = _previous(Catalog, index_dir, old)  # the documents as last indexed
    if known is not None and known.profile != profile.to_json():
        known = None  # another profile may read the same files differently: parse them again
    loaded = load_corpus(corpus, reuse=_reuser(known), profile=profile)
    if not loaded.documents:
        reasons = "; ".join(f"{p.path}: {p.message}" for p in loaded.problems[:5])
        raise CorpusError(f"no usable markdown documents in {corpus}" + (f" ({reasons})" if reasons else ""))
    chunks = [c for doc in loaded.documents for c in doc.chunks]
    fingerprint = _fingerprint(chunks, profile)

    store = VectorStore(index_dir, chroma_url, old.collection if old else live_collection(index_dir, config.collection()))
    replaced = None
    if rebuild:  # into a new collection: the live one serves on, and stays whole if this run dies
        replaced, store = store, store.for_rebuild()
    elif old is not None:
        _mend_store(store, known, _previous(Vectors, index_dir, old))
    if (
        old is not None
        and old.fingerprint == fingerprint
        and _lexical_sound(index_dir, old)  # a damaged generation is written again below
        and store.count() >= old.chunks  # the store is readable and whole
    ):
        log.info("index is up to date (%d chunks)", len(chunks))
        return IndexStats(
            documents=len(loaded.documents),
            chunks=len(chunks),
            added=0,
            updated=0,
            removed=0,
            unchanged=len(chunks),
            seconds=time.perf_counter() - started,
            problems=loaded.problems,
            excluded=loaded.excluded,
        )

    changes = plan_changes(chunks, _stored(store, known))
    previous = _previous(Vectors, index_dir, old)
    with ThreadPoolExecutor(1, thread_name_prefix="store") as writer:  # stores one slab while the next is embedded
        fresh, dimension, writes = _store_changed(changes, store, embedder, previous, old, writer, progress)
        log.info("writing the index: %d chunks to store, %d to delete", len(changes.changed), len(changes.stale))
        generation = _write_lexical(index_dir, loaded.documents, profile, embedder, old, fresh, previous, store)
        for write in writes:
            write.result()  # the store holds every new vector before the manifest points at them
    Manifest(
        model=embedder.name,
        model_id=embedder.identity,
        dimension=dimension,
        chunker_version=CHUNKER_VERSION,
        collection=store.collection_name,
        documents=len(loaded.documents),
        chunks=len(chunks),
        corpus=str(Path(corpus).resolve()),
        fingerprint=fingerprint,
        lexical=generation,
        chroma_url=chroma_url or "",
    ).write(index_dir)
    store.delete(changes.stale)
    if replaced is not None:
        store.retire(replaced)
    remove_stale_generations(index_dir, generation)
    stats = IndexStats(
        documents=len(loaded.documents),
        chunks=len(chunks),
        added=changes.added,
        updated=changes.updated,
        removed=changes.removed,
        unchanged=changes.unchanged,
        seconds=time.perf_counter() - started,
        embedded=changes.embedded,
        problems=loaded.problems,
        excluded=loaded.excluded,
    )
    log.info(
        "indexed %d documents: %d added, %d updated, %d removed, %d unchanged",
        stats.documents,
        stats.added,
        stats.updated,
        stats.removed,
        stats.unchanged,
    )
    return stats


@dataclass(frozen=True)
class Changes:
    """What a re-index must do: the bookkeeping of the chunks now against those stored."""

    changed: list[Chunk]  # chunks whose id (place and text) is not stored: each gets a vector
    stale: list[str]  # stored ids no chunk has now: deleted once the new index is live
    reuse: dict[str, str]  # a changed chunk's id → a stored chunk with the same text, whose vector it takes
    added: int  # changed chunks at a new (document, position)
    updated: int  # changed chunks at a stored (document, position)
    removed: int  # stored (document, position)s no chunk has now
    unchanged: int

    @property
    def embedded(self) -> int:
        """Changed chunks whose text is nowhere in the store: the ones the model embeds."""
        return len(self.changed) - len(self.reuse)


def plan_changes(chunks: Sequence[Chunk], stored: Mapping[str, StoredChunk]) -> Changes:
    """Compare the corpus' chunks with the stored ones: a few passes over each side,
    never one per changed chunk (``make bench`` times 5k changed chunks at 100k stored)."""
    by_key = {(s.doc_id, s.position) for s in stored.values()}
    by_hash = {s.text_hash: s.chunk_id for s in stored.values()}
    changed = [c for c in chunks if c.chunk_id not in stored]
    updated = sum(1 for c in changed if (c.doc_id, c.position) in by_key)
    new_ids = {c.chunk_id for c in chunks}
    new_keys = {(c.doc_id, c.position) for c in chunks}
    return Changes(
        changed=changed,
        stale=[cid for cid in stored if cid not in new_ids],
        reuse={c.chunk_id: by_hash[c.text_hash] for c in changed if c.text_hash in by_hash},
        added=len(changed) - updated,
        updated=updated,
        removed=sum(1 for key in by_key if key not in new_keys),
        unchanged=len(chunks) - len(changed),
    )


def _store_changed(
    changes: Changes,
    store: VectorStore,
    embedder: Embedder,
    previous: Vectors | None,
    old: Manifest | None,
    writer: ThreadPoolExecutor,
    progress: bool,
) -> tuple[dict[str, Any], int, list[Future[None]]]:
    """Vectors for the changed chunks, slab by slab, each slab handed to ``writer`` to
    store while the next is embedded: the vectors by chunk id, their size (the old
    index's when nothing changed), and the pending writes."""
    changed = sorted(changes.changed, key=lambda c: len(c.text))  # slabs of like lengths pad little
    fresh: dict[str, Any] = {}
    writes: list[Future[None]] = []
    dimension = old.dimension if old is not None else 0
    bar = _bar(len(changed)) if progress and changed else None
    for start in range(0, len(changed), SLAB):
        slab = changed[start : start + SLAB]
        got = _vectors_for(slab, changes.reuse, store, embedder, previous)
        if not fresh:  # the first slab: refuse a model of another size before anything is written
            dimension = len(got[0])
            if old is not None:
                old.check(embedder.name, dimension, embedder.identity)
        fresh.update(zip((c.chunk_id for c in slab), got))
        writes.append(writer.submit(store.upsert, slab, got))
        if bar is not None:
            bar.update(len(slab))
    if bar is not None:
        bar.close()
    return fresh, dimension or embedder.dimension, writes


def _write_lexical(
    index_dir: Path,
    documents: Sequence[Document],
    profile: Profile,
    embedder: Embedder,
    old: Manifest | None,
    fresh: dict[str, Any],
    previous: Vectors | None,
    store: VectorStore,
) -> str:
    """Write a new lexical generation — the catalog, BM25, the heading vectors and every
    chunk's vector — and return its name (live once the manifest names it)."""
    generation = f"lexical-{uuid.uuid4().hex[:12]}"
    catalog = Catalog(
        (c for d in documents for c in d.chunks),
        (DocumentInfo(d.doc_id, d.title, d.description, _aliases(d.metadata), d.digest, d.warnings) for d in documents),
        profile.to_json(),
    )
    ids = catalog.ids
    headings = Headings.build(catalog, embedder.embed, _previous(Headings, index_dir, old))
    lexical = Lexical.build(ids, [catalog.chunks[i].text for i in ids])
    write_generation(index_dir, generation, catalog, lexical, headings, _all_vectors(ids, fresh, previous, store))
    return generation


def _aliases(metadata: Mapping[str, Any]) -> tuple[str, ...]:
    """Other names of an approach, from front matter ``aliases`` (a list or a string)."""
    raw = metadata.get("aliases") or ()
    if isinstance(raw, str):
        raw = [raw]
    return tuple(str(a) for a in raw if isinstance(a, (str, int, float)) and str(a).strip())


def _vectors_for(
    changed: list[Chunk],
    reuse: Mapping[str, str],
    store: VectorStore,
    embedder: Embedder,
    previous: Vectors | None = None,
) -> list[Any]:
    """Vectors for changed chunks: a stored chunk's with the same text (from the previous
    generation, else read from the store), else embedded."""
    wanted = sorted({reuse[c.chunk_id] for c in changed if c.chunk_id in reuse})
    reused = {cid: previous.get(cid) for cid in wanted} if previous is not None else {}
    reused = {cid: v for cid, v in reused.items() if v is not None}
    missing = [cid for cid in wanted if cid not in reused]
    if missing:
        reused.update(store.vectors(missing))
    fresh = [c for c in changed if reuse.get(c.chunk_id) not in reused]
    embedded = dict(zip((c.chunk_id for c in fresh), embedder.embed([c.text for c in fresh])))
    return [embedded[c.chunk_id] if c.chunk_id in embedded else reused[reuse[c.chunk_id]] for c in changed]


def _bar(total: int) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc="embedding", unit="chunk")


def _fingerprint(chunks: list[Chunk], profile: Profile) -> str:
    digest = hashlib.sha1(json.dumps(profile.to_json(), sort_keys=True).encode("utf-8"))
    tables: dict[int, bytes] = {}  # a table's JSON once, not once per row
    for chunk in chunks:
        digest.update(chunk.chunk_id.encode("utf-8"))
        digest.update(chunk.text_hash.encode("ascii"))
        if chunk.table is not None:
            key = id(chunk.table)
            if key not in tables:
                tables[key] = chunk.table.to_json().encode("utf-8")
            digest.update(tables[key])
    return digest.hexdigest()


def _reuser(known: Catalog | None) -> Callable[[str, str], Document | None] | None:
    """Rebuilds a document from the last catalog when its file's bytes are unchanged."""
    if known is None:
        return None

    def reuse(doc_id: str, digest: str) -> Document | None:
        info = known.documents.get(doc_id)
        if info is None or not info.digest or info.digest != digest:
            return None
        chunks = tuple(sorted(known.document_chunks(doc_id), key=lambda c: c.position))
        tables = tuple(dict.fromkeys(c.table for c in chunks if c.table is not None))
        metadata = {"title": info.title, "description": info.description, "aliases": list(info.aliases)}
        return Document(
            doc_id, Path(doc_id + ".md"), info.title, info.description, metadata, chunks, tables, info.warnings, digest
        )

    return reuse


def _stored(store: VectorStore, known: Catalog | None) -> dict[str, StoredChunk]:
    """What the store holds: the last catalog when the store agrees with it, else a full scan."""
    if known is not None and store.count() == len(known.chunks):
        return {cid: StoredChunk(cid, c.doc_id, c.position, c.text_hash) for cid, c in known.chunks.items()}
    return store.stored()


def _all_vectors(
    ids: list[str], fresh: dict[str, Any], previous: Vectors | None, store: VectorStore
) -> Vectors:
    """Every live chunk's vector: new ones, the previous generation's, else read from the store."""
    found: dict[str, Any] = dict(fresh)
    if previous is not None:
        for cid in ids:
            if cid not in found:
                vec = previous.get(cid)
                if vec is not None:
                    found[cid] = vec
    missing = [cid for cid in ids if cid not in found]
    if missing:
        found.update(store.vectors(missing))
    return Vectors(ids, [found[cid] for cid in ids])


def _mend_store(store: VectorStore, known: Catalog | None, previous: Vectors | None) -> None:
    """A damaged embedded store is written again from the live generation's own
    vectors (nothing is embedded again); when those are incomplete the store's
    error, which names ``--rebuild``, stands."""
    if store.chroma_url or known is None or previous is None:
        return
    try:
        store.check_file()
        store.count()
        return
    except IndexCorruptError as exc:
        if any(previous.get(cid) is None for cid in known.ids):
            return
        log.warning("%s; restoring it from the index's own vectors", exc)
    store.reset()
    chunks = [known.chunks[cid] for cid in known.ids]
    store.upsert(chunks, [previous.get(cid) for cid in known.ids])


def _previous(kind: Any, index_dir: Path, manifest: Manifest | None) -> Any:
    """The live generation's Vectors or Headings, to reuse; None when there is none or it is unreadable."""
    if manifest is None or not _lexical_live(index_dir, manifest):
        return None
    try:
        return kind.load(index_dir / manifest.lexical)
    except Exception:  # noqa: BLE001 - a damaged file (an empty .npy raises EOFError): rebuild that part
        log.warning("the last index's %s is unreadable; rebuilding it", kind.__name__)
        return None


def _lexical_sound(index_dir: Path, manifest: Manifest) -> bool:
    """The live generation is there and none of its files is empty or cut short."""
    if not _lexical_live(index_dir, manifest):
        return False
    try:
        check_generation(index_dir, manifest.lexical)
    except IndexCorruptError as exc:
        log.warning("%s; rebuilding it", exc)
        return False
    return True


@contextlib.contextmanager
def _writing(index_dir: Path) -> Iterator[None]:
    """A failed write (a full disk, a folder made read-only) becomes one line saying what to do."""
    try:
        yield
    except OSError as exc:
        where = exc.filename or index_dir
        raise BotError(f"cannot write the index in {index_dir} ({exc.strerror or exc}: {where}); {_remedy(exc)}") from exc


def _remedy(exc: OSError) -> str:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return "free some disk space, then run `bot index` again (the old index still serves)"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "make the index folder writable, then run `bot index` again (the old index still serves)"
    return "fix that, then run `bot index` again (the old index still serves)"


def _lexical_live(index_dir: Path, manifest: Manifest) -> bool:
    return bool(manifest.lexical) and (index_dir / manifest.lexical).is_dir()
