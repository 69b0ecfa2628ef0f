from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bot import build_index
from bot.errors import CorpusError, IndexMismatchError
from bot.markdown import SUMMARY_KINDS, parse_document
from bot.retrieval import Index
from bot.store import MANIFEST, VectorStore


def test_incremental_counts_after_an_edit_and_a_deletion(corpus_copy: Path, tmp_path: Path):
    index = tmp_path / "index"
    first = build_index(corpus_copy, index)
    assert first.added == first.chunks and first.updated == first.removed == first.unchanged == 0
    assert first.documents == len(list(corpus_copy.glob("*.md")))

    again = build_index(corpus_copy, index)
    assert (again.added, again.updated, again.removed, again.embedded) == (0, 0, 0, 0)
    assert again.unchanged == first.chunks

    seed = corpus_copy / "international-coordination.md"
    before = parse_document(seed.read_bytes(), "international-coordination").chunks
    seed.write_text(seed.read_text("utf-8").replace("Engagement is superficial", "Engagement is for show"), "utf-8")
    after = parse_document(seed.read_bytes(), "international-coordination").chunks
    changed = [c for b, c in zip(before, after) if b.chunk_id != c.chunk_id]
    # the edited row, and the window(s) that quote it
    assert [c.kind for c in changed if c.kind not in SUMMARY_KINDS] == ["row"] and len(changed) <= 3
    edited = build_index(corpus_copy, index)
    assert (edited.added, edited.updated, edited.removed, edited.embedded) == (0, len(changed), 0, len(changed))
    assert edited.unchanged == first.chunks - len(changed)

    gone = corpus_copy / "ai-control.md"
    gone_chunks = edited.chunks - build_index_count(corpus_copy, exclude="ai-control.md")
    gone.unlink()
    deleted = build_index(corpus_copy, index)
    assert deleted.removed == gone_chunks and deleted.added == deleted.updated == deleted.embedded == 0
    assert VectorStore(index).count() == deleted.chunks
    catalog = Index.open(index).catalog
    assert not any(c.doc_id == "ai-control" for c in catalog.chunks.values())
    assert any("Engagement is for show" in c.text for c in catalog.chunks.values())


def build_index_count(corpus: Path, exclude: str) -> int:
    from bot.markdown import load_corpus

    return sum(len(d.chunks) for d in load_corpus(corpus).documents if d.path.name != exclude)


def test_a_row_edited_away_is_deleted_from_the_store(corpus_copy: Path, tmp_path: Path):
    index = tmp_path / "index"
    build_index(corpus_copy, index)
    seed = corpus_copy / "international-coordination.md"
    text = seed.read_text("utf-8").replace("| China engaging on safety | Engagement is superficial |\n", "")
    seed.write_text(text, "utf-8")
    stats = build_index(corpus_copy, index)
    # later chunks moved up: their vectors are reused; only the window(s) that quoted the row are embedded again
    assert stats.removed >= 1 and stats.embedded <= 2
    catalog = Index.open(index).catalog
    assert not any("China engaging on safety" in c.text for c in catalog.chunks.values())
    assert VectorStore(index).count() == stats.chunks


def test_opening_an_index_built_differently_says_rebuild(shipped_index: Path, tmp_path: Path):
    index = tmp_path / "index"
    shutil.copytree(shipped_index, index)
    manifest = json.loads((index / MANIFEST).read_text())
    manifest["model"] = "some-other-model"
    (index / MANIFEST).write_text(json.dumps(manifest))
    Index.forget()
    with pytest.raises(IndexMismatchError, match="bot index --rebuild"):
        Index.open(index)
    with pytest.raises(IndexMismatchError, match="bot index --rebuild"):
        build_index(Path(__file__).parent.parent / "corpus", index)
    stats = build_index(Path(__file__).parent.parent / "corpus", index, rebuild=True)
    assert stats.added == stats.chunks
    assert Index.open(index).manifest.model != "some-other-model"


def test_a_folder_with_no_document_keeps_the_old_index(shipped_index: Path, tmp_path: Path):
    index = tmp_path / "index"
    shutil.copytree(shipped_index, index)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "broken.md").write_bytes(b"\x00\x01binary")
    with pytest.raises(CorpusError, match="broken.md"):
        build_index(empty, index)
    assert Index.open(index).manifest.chunks == VectorStore(index).count() > 0


def test_a_broken_file_is_skipped_and_the_rest_indexes(corpus_copy: Path, tmp_path: Path):
    (corpus_copy / "broken.md").write_bytes(b"\x00\x00\x00binary")
    stats = build_index(corpus_copy, tmp_path / "index")
    assert stats.partial and [p.path for p in stats.skipped] == ["broken.md"]
    assert stats.documents == len(list(corpus_copy.glob("*.md"))) - 1


def test_re_indexing_parses_only_the_changed_file(corpus_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from bot.markdown import _Reader

    index = tmp_path / "index"
    (corpus_copy / "mojibake.md").write_bytes("---\ntitle: Broken\n---\n# Broken\n\nIt’s a â€” dash.\n".encode())
    first = build_index(corpus_copy, index)
    parsed: list[str] = []
    real = _Reader.parse
    monkeypatch.setattr(_Reader, "parse", lambda self, raw, doc_id, path=None, digest="": parsed.append(doc_id) or real(self, raw, doc_id, path, digest))

    seed = corpus_copy / "international-coordination.md"
    seed.write_text(seed.read_text("utf-8").replace("Engagement is superficial", "Engagement is for show"), "utf-8")
    edited = build_index(corpus_copy, index)
    assert parsed == ["international-coordination"]
    assert edited.chunks == first.chunks and 1 <= edited.updated == edited.embedded <= 3  # the row and its window(s)
    # what the loader said of an unchanged file is said again
    assert [p.message for p in edited.problems if p.path == "mojibake.md"] == [
        p.message for p in first.problems if p.path == "mojibake.md"
    ] != []
    # and the reused documents answer exactly as parsed ones do
    fresh = tmp_path / "fresh"
    build_index(corpus_copy, fresh)
    reused, parsed_again = Index.open(index).catalog, Index.open(fresh).catalog
    assert reused.chunks == parsed_again.chunks and reused.documents == parsed_again.documents


def test_vectors_the_catalog_does_not_know_are_found_and_deleted(corpus_copy: Path, tmp_path: Path):
    """A store that disagrees with the last catalog (an interrupted run) is scanned, not trusted."""
    index = tmp_path / "index"
    first = build_index(corpus_copy, index)
    store = VectorStore(index)
    store.collection.add(
        ids=["orphan::0::x"],
        embeddings=[[0.1] * 384],
        metadatas=[{"doc_id": "orphan", "position": 0, "text_hash": "x"}],
        documents=["orphan"],
    )
    seed = corpus_copy / "international-coordination.md"
    seed.write_text(seed.read_text("utf-8").replace("Engagement is superficial", "Engagement is for show"), "utf-8")
    build_index(corpus_copy, index)
    assert VectorStore(index).count() == first.chunks
