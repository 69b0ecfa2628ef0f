from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import CorpusError
from bot.markdown import PATH_SEP, load_corpus, parse_document
from tests.conftest import CORPUS, SEED, needs_seed


def seed_doc():
    return parse_document((CORPUS / "international-coordination.md").read_bytes(), "international-coordination")


def test_every_table_row_of_the_seed_is_a_chunk_with_headers_and_section_path():
    doc = seed_doc()
    rows = [c for c in doc.chunks if c.kind == "row"]
    # 4 assessment + 4 efforts + 3 crux1 + 5 crux2 + 3 crux3 rows in the document
    assert len(rows) == 19
    crux1 = [c for c in rows if c.section == "Crux 1: Is US-China Cooperation Possible?"]
    assert [c.text for c in crux1][0] == (
        "International Coordination › Crux 1: Is US-China Cooperation Possible? — "
        "Possible: Mutual interest in avoiding catastrophe | Not possible: Strategic competition too intense"
    )
    for chunk in crux1:
        assert chunk.table is not None and chunk.table.kind == "crux"
        assert chunk.table.headers == ("Possible", "Not possible")
        assert len(chunk.table.rows) == 3  # each row knows its whole table
        assert chunk.table.rows[chunk.row] == tuple(cell for _, cell in chunk.cells)
    kinds = {c.table.kind for c in rows}
    assert kinds == {"assessment", "table", "crux"}


def test_no_chunk_loses_its_title_and_section():
    for chunk in seed_doc().chunks:
        assert chunk.text.startswith(f"International Coordination{PATH_SEP}{chunk.section} — ")
        assert chunk.section


def test_bold_lead_ins_and_lists_are_chunked_with_their_section():
    passages = {c.body.split(":")[0]: c for c in seed_doc().chunks if c.kind == "passage"}
    assert passages["Tension"].section == "Crux 3: Do We Want Coordination?"
    good = passages["Good fit if you believe"]
    assert good.section == "Who Should Work on This?"
    assert "- Diplomacy can make progress" in good.body
    assert "Less relevant" not in good.body  # the next lead-in starts its own chunk
    assert passages["Less relevant if you believe"].body.count("\n- ") == 3


def test_front_matter_goes_into_metadata(tmp_path: Path):
    raw = b"---\ntitle: My Approach\ndescription: A test.\nauthor: someone\n---\n\n## Part\n\nText here.\n"
    doc = parse_document(raw, "nested/my-approach")
    assert doc.title == "My Approach"
    assert doc.description == "A test."
    assert doc.metadata["author"] == "someone"
    assert doc.doc_id == "nested/my-approach"


@needs_seed
def test_mojibake_is_repaired_and_reported_by_file(tmp_path: Path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "seed.md").write_bytes(SEED.read_bytes())
    corpus = load_corpus(tmp_path)
    (doc,) = corpus.documents
    assert doc.doc_id == "sub/seed"
    text = " ".join(c.text for c in doc.chunks)
    assert "worldwide—especially" in text and "â€" not in text
    assert [(p.path, p.skipped) for p in corpus.problems if "mojibake" in p.message] == [("sub/seed.md", False)]


@needs_seed
def test_shipped_seed_is_the_repaired_user_document():
    original = SEED.read_text("utf-8")
    shipped = (CORPUS / "international-coordination.md").read_text("utf-8")
    assert "â€" in original and "â€" not in shipped
    assert shipped == original.replace("â€”", "—")


def test_chunk_ids_are_stable_and_change_only_with_content():
    raw = (CORPUS / "international-coordination.md").read_bytes()
    first = [c.chunk_id for c in parse_document(raw, "d").chunks]
    assert first == [c.chunk_id for c in parse_document(raw, "d").chunks]
    edited = raw.replace(b"Engagement is superficial", b"Engagement is cosmetic")
    chunks = parse_document(edited, "d").chunks
    changed = [c for a, c in zip(first, chunks) if a != c.chunk_id]
    assert len(first) == len(chunks)
    # the edited row, and the window(s) that quote it
    kinds = sorted(c.kind for c in changed)
    assert kinds[0] == "row" and set(kinds[1:]) == {"window"} and len(kinds) <= 3
    assert all("cosmetic" in c.body for c in changed)


def test_unusable_files_are_reported_and_skipped(tmp_path: Path):
    (tmp_path / "good.md").write_text("---\ntitle: Good\n---\n\n## A\n\n| X | Y |\n|---|---|\n| 1 | 2 |\n")
    (tmp_path / "empty.md").write_text("")
    (tmp_path / "binary.md").write_bytes(b"\x89PNG\x00\x00\x01")
    (tmp_path / "notes.txt").write_text("not markdown")
    corpus = load_corpus(tmp_path)
    assert [d.doc_id for d in corpus.documents] == ["good"]
    assert {p.path for p in corpus.problems if p.skipped} == {"empty.md", "binary.md"}


def test_missing_folder_is_a_clear_error(tmp_path: Path):
    with pytest.raises(CorpusError, match="not found"):
        load_corpus(tmp_path / "nope")


def test_a_link_to_a_file_outside_the_corpus_is_skipped_by_name(tmp_path: Path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good.md").write_text("---\ntitle: Good\n---\n\nText.\n")
    secret = tmp_path / "secret.md"
    secret.write_text("---\ntitle: Secret\n---\n\nroot:x:0:0\n")
    (corpus / "passwd.md").symlink_to(secret)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "more.md").write_text("---\ntitle: More\n---\n\nroot:x:0:0\n")
    (corpus / "linked").symlink_to(outside, target_is_directory=True)
    loaded = load_corpus(corpus)
    assert [d.doc_id for d in loaded.documents] == ["good"]
    assert {(p.path, p.skipped) for p in loaded.problems} == {
        ("passwd.md", True),
        ("linked/more.md", True),
    }
    assert all("outside the corpus" in p.message for p in loaded.problems)


def test_mdx_pages_are_documents_and_the_profile_excludes_by_pattern(tmp_path: Path):
    from bot.profile import Profile

    (tmp_path / "internal").mkdir()
    (tmp_path / "page.mdx").write_text('---\ntitle: Page\n---\nimport {X} from "y";\n\n<Aside title="Note">Inside.</Aside>\n')
    (tmp_path / "internal" / "notes.md").write_text("---\ntitle: Notes\n---\n\nFor maintainers.\n")
    (tmp_path / "_draft.md").write_text("---\ntitle: Draft\n---\n\nNot yet.\n")
    loaded = load_corpus(tmp_path, profile=Profile(exclude=("internal/**", "_*.md")))
    assert [d.doc_id for d in loaded.documents] == ["page"]
    assert sorted(loaded.excluded) == ["_draft.md", "internal/notes.md"]
    (doc,) = loaded.documents
    assert "Note: Inside." in doc.chunks[0].body and "import" not in doc.chunks[0].text
