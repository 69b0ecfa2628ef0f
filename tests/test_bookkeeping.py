"""Re-index bookkeeping — what changed, what to delete, which vectors to reuse — on
synthetic chunks (fast tier: nothing parsed, embedded or stored)."""

from __future__ import annotations

import hashlib
import time

from bot.indexing import plan_changes
from bot.markdown import Chunk
from bot.store import StoredChunk


def chunk(doc_id: str, position: int, text: str) -> Chunk:
    digest = hashlib.sha256(text.encode()).hexdigest()
    return Chunk(f"{doc_id}::{position:05d}::{digest[:12]}", doc_id, doc_id.title(), "S", "row", text, text, position, digest)


def stored(chunks: list[Chunk]) -> dict[str, StoredChunk]:
    return {c.chunk_id: StoredChunk(c.chunk_id, c.doc_id, c.position, c.text_hash) for c in chunks}


def test_each_chunk_is_counted_once_and_moved_text_keeps_its_vector():
    before = [chunk("a", 0, "alpha"), chunk("a", 1, "beta"), chunk("a", 2, "gamma"), chunk("gone", 0, "delta")]
    now = [
        chunk("a", 0, "alpha"),  # unchanged
        chunk("a", 1, "beta, edited"),  # updated: new text in a stored place
        chunk("a", 2, "beta"),  # updated: stored text moved here, its vector reused
        chunk("b", 0, "epsilon"),  # added
        chunk("b", 1, "delta"),  # added, with the text of a deleted page: reused
    ]
    changes = plan_changes(now, stored(before))
    assert [c.chunk_id for c in changes.changed] == [c.chunk_id for c in now[1:]]
    assert (changes.added, changes.updated, changes.removed, changes.unchanged) == (2, 2, 1, 1)
    assert sorted(changes.stale) == sorted(c.chunk_id for c in before[1:])
    assert changes.reuse == {now[2].chunk_id: before[1].chunk_id, now[4].chunk_id: before[3].chunk_id}
    assert changes.embedded == 2


def test_nothing_stored_means_everything_is_added_and_embedded():
    now = [chunk("a", i, f"text {i}") for i in range(3)]
    changes = plan_changes(now, {})
    assert (changes.added, changes.updated, changes.removed, changes.unchanged, changes.embedded) == (3, 0, 0, 0, 3)
    assert changes.stale == [] and changes.reuse == {}
    same = plan_changes(now, stored(now))
    assert (same.changed, same.stale, same.unchanged) == ([], [], 3)


def test_the_bookkeeping_grows_with_the_chunks_not_with_their_product():
    """It once rebuilt the stored hashes for every changed chunk: 2k changed at 20k stored took seconds."""
    before = [chunk(f"d{i // 35}", i % 35, f"row {i}") for i in range(20_000)]
    now = [chunk(c.doc_id, c.position, f"edited {i}") if i % 10 == 0 else c for i, c in enumerate(before)]
    started = time.perf_counter()
    changes = plan_changes(now, stored(before))
    assert time.perf_counter() - started < 1.0
    assert changes.updated == len(changes.stale) == 2_000
