"""A corpus full of bad files, indexed for real: good files index, bad ones are named.

The corpus is written at test time beside two shipped approach pages. It holds
one file (or folder) of each kind a real corpus folder ends up with: invalid
UTF-8, mojibake, a PNG named .md, an empty file, front matter only, malformed
YAML, no front matter, ragged tables, a table without its separator row, a
5 MB document and one over the size limit, two documents with the same title,
an unreadable file, a named pipe, symlink loops and dangling links, and files
that are not markdown. It is indexed once per module through the real API
(real model, real Chroma); the command line is run as a real process.
"""

from __future__ import annotations

import base64
import os
import random
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.markdown import MAX_FILE_BYTES
from tests.conftest import CORPUS, ROOT

FIVE_MB = 5 * 1024 * 1024
#: The issue's "5 MB document" is under the loader's limit: it must index, and
#: a file just over the limit must be skipped instead.
FIVE_MB_FITS = FIVE_MB <= MAX_FILE_BYTES

GOOD_PAGES = ("ai-control.md", "model-organisms.md")

PNG_HEADER = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00\x1f\xf3\xffa"


def _root_reads_anything(tmp: Path) -> bool:
    """Whether chmod 000 fails to stop this process from reading (root, CAP_DAC_OVERRIDE)."""
    probe = tmp / "probe"
    probe.write_text("x")
    probe.chmod(0)
    try:
        probe.read_bytes()
        return True
    except PermissionError:
        return False
    finally:
        probe.chmod(0o644)
        probe.unlink()


def page(title: str | None, word: str, *, front_matter: str | None = None, extra: str = "") -> str:
    """A small approach page whose rows carry a made-up ``word`` to search for."""
    head = front_matter if front_matter is not None else (f"---\ntitle: {title}\n---\n\n" if title else "")
    return (
        f"{head}**The approach**: study {word} systems and their failure modes.\n\n"
        "## Evaluation Summary\n\n"
        "| Dimension | Assessment | Notes |\n"
        "|-----------|------------|-------|\n"
        f"| Tractability | Medium | {word} audits are cheap to run |\n"
        f"| Neglectedness | High | few teams study {word} |\n"
        f"{extra}"
    )


@dataclass(frozen=True)
class Bad:
    """A bad file (or folder) and what the loader must say about it."""

    path: str
    skipped: bool
    words: tuple[str, ...]  # all must appear in one of its problem messages (case-insensitive)


@dataclass(frozen=True)
class BadCorpus:
    root: Path
    index: Path
    stats: Any  # IndexStats
    bad: tuple[Bad, ...]
    documents: frozenset[str]  # doc ids that must be indexed
    markers: dict[str, str]  # skipped file → a word only it contains
    root_reads_anything: bool


def write_bad_corpus(root: Path, scratch: Path) -> tuple[tuple[Bad, ...], frozenset[str], dict[str, str], bool]:
    """Write the corpus; return what is expected of it."""
    root.mkdir()
    for name in GOOD_PAGES:
        shutil.copy(CORPUS / name, root / name)
    documents = {"ai-control", "model-organisms"}
    bad: list[Bad] = []
    markers: dict[str, str] = {}

    # Repaired, indexed with a warning -----------------------------------------------------
    raw = page("Vexilla Screening", "vexilla").encode()
    raw = raw.replace(b"audits are cheap", b"audits \xff\xfe\xc3( are cheap")
    (root / "invalid-utf8.md").write_bytes(raw)
    bad.append(Bad("invalid-utf8.md", False, ("invalid utf-8", "replaced")))
    documents.add("invalid-utf8")

    mojibake = page("Quorra Oversight", "quorra").replace(
        "few teams study quorra", "few teams study quorra â€” it isnâ€™t fashionable"
    )
    (root / "mojibake.md").write_text(mojibake, "utf-8")
    bad.append(Bad("mojibake.md", False, ("mis-encoded", "mojibake")))
    documents.add("mojibake")

    # Unusable, skipped --------------------------------------------------------------------
    rng = random.Random(7)
    (root / "binary-image.md").write_bytes(PNG_HEADER + bytes(rng.randrange(256) for _ in range(2048)))
    bad.append(Bad("binary-image.md", True, ("binary",)))

    (root / "empty.md").write_bytes(b"")
    bad.append(Bad("empty.md", True, ("no content",)))

    (root / "front-matter-only.md").write_text("---\ntitle: Nothing Below\ndescription: only this\n---\n", "utf-8")
    bad.append(Bad("front-matter-only.md", True, ("front matter only",)))

    # Odd front matter, indexed with a warning ----------------------------------------------
    (root / "malformed-yaml.md").write_text(
        page(None, "brennic", front_matter="---\ntitle: [unclosed\ndescription: x\n---\n\n# Brennic Tracing\n\n"),
        "utf-8",
    )
    bad.append(Bad("malformed-yaml.md", False, ("malformed yaml",)))
    documents.add("malformed-yaml")

    (root / "no-front-matter.md").write_text(page(None, "ostrel", front_matter="# Ostrel Sandboxing\n\n"), "utf-8")
    bad.append(Bad("no-front-matter.md", False, ("no front matter", "first heading")))
    documents.add("no-front-matter")

    (root / "untitled_notes.md").write_text(page(None, "pellucid"), "utf-8")
    bad.append(Bad("untitled_notes.md", False, ("no front matter", "file name")))
    documents.add("untitled_notes")

    # Broken tables, indexed with a warning -------------------------------------------------
    ragged = page(
        "Tamsin Red Teaming",
        "tamsin",
        extra=(
            "\n## Key Techniques\n\n"
            "| Technique | What it does | Limitation |\n"
            "|-----------|--------------|------------|\n"
            "| Short row | only two cells |\n"
            "| Full row | tamsin probes | slow |\n"
            "| Long row | tamsin sweeps | costly | stray fourth cell | and a fifth |\n"
        ),
    )
    (root / "ragged-table.md").write_text(ragged, "utf-8")
    bad.append(Bad("ragged-table.md", False, ("cells", "1, 3")))
    documents.add("ragged-table")

    (root / "no-separator.md").write_text(
        "---\ntitle: Ferrule Logging\n---\n\n## Evaluation Summary\n\n"
        "| Dimension | Assessment | Notes |\n| Tractability | High | ferrule logs are easy |\n",
        "utf-8",
    )
    bad.append(Bad("no-separator.md", False, ("separator row",)))
    documents.add("no-separator")

    # Size --------------------------------------------------------------------------------
    # A realistic 5 MB page: a short approach page with an embedded base64 figure (what
    # Notion or Typora exports look like). Its text is small; its bytes are not.
    figure_bytes = FIVE_MB * 3 // 4
    figure = base64.b64encode(rng.randbytes(figure_bytes)).decode()
    big = page(
        "Lumen Telemetry",
        "lumen",
        extra=f"\n## Figures\n\nThe lumen pipeline:\n\n![lumen pipeline diagram](data:image/png;base64,{figure})\n",
    )
    (root / "large-5mb.md").write_text(big, "utf-8")
    assert (root / "large-5mb.md").stat().st_size >= FIVE_MB
    if FIVE_MB_FITS:
        documents.add("large-5mb")
    else:  # pragma: no cover - only if the limit is lowered below 5 MB
        bad.append(Bad("large-5mb.md", True, ("too large",)))
        markers["large-5mb.md"] = "lumen"

    line = "The zanthor approach is described at length in this oversized document.\n"
    body = page("Zanthor Overflow", "zanthor", extra="\n## Appendix\n\n")
    filler = line * ((MAX_FILE_BYTES + 4096 - len(body)) // len(line) + 1)
    (root / "too-large.md").write_text(body + filler, "utf-8")
    assert MAX_FILE_BYTES < (root / "too-large.md").stat().st_size < MAX_FILE_BYTES + 64 * 1024
    bad.append(Bad("too-large.md", True, ("too large",)))
    markers["too-large.md"] = "zanthor"

    # Same title in two folders: both indexed, each warned about the other ---------------
    for team, word in (("team-a", "halcyon"), ("team-b", "meridian")):
        (root / team).mkdir()
        (root / team / "shared-title.md").write_text(page("Shared Title Approach", word), "utf-8")
        documents.add(f"{team}/shared-title")
    bad.append(Bad("team-a/shared-title.md", False, ("same title", "team-b/shared-title.md")))
    bad.append(Bad("team-b/shared-title.md", False, ("same title", "team-a/shared-title.md")))

    # Unreadable ----------------------------------------------------------------------------
    root_reads_anything = _root_reads_anything(scratch)
    if root_reads_anything:
        # chmod 000 does not stop root: use what root cannot read either, a link to nowhere.
        (root / "locked.md").symlink_to(root / "gone" / "locked.md")
        bad.append(Bad("locked.md", True, ("broken symlink",)))
    else:
        (root / "locked.md").write_text(page("Kobaltrix Locks", "kobaltrix"), "utf-8")
        (root / "locked.md").chmod(0)
        bad.append(Bad("locked.md", True, ("unreadable", "permission denied")))
        markers["locked.md"] = "kobaltrix"
        (root / "locked-folder").mkdir()
        (root / "locked-folder" / "inside.md").write_text(page("Sablewyrm Vault", "sablewyrm"), "utf-8")
        (root / "locked-folder").chmod(0)
        bad.append(Bad("locked-folder", True, ("unreadable folder", "permission denied")))
        markers["locked-folder/inside.md"] = "sablewyrm"

    os.mkfifo(root / "named-pipe.md")  # reading it would block forever
    bad.append(Bad("named-pipe.md", True, ("not a regular file",)))

    (root / "dangling.md").symlink_to("nowhere/at-all.md")
    bad.append(Bad("dangling.md", True, ("broken symlink",)))

    # Symlink loops -------------------------------------------------------------------------
    (root / "loop").mkdir()
    (root / "loop" / "back").symlink_to("..", target_is_directory=True)  # the corpus inside itself
    bad.append(Bad("loop/back", True, ("symlink loop",)))
    (root / "cycle-a.md").symlink_to("cycle-b.md")
    (root / "cycle-b.md").symlink_to("cycle-a.md")
    bad.append(Bad("cycle-a.md", True, ("broken symlink",)))
    bad.append(Bad("cycle-b.md", True, ("broken symlink",)))

    # Not markdown: ignored silently -------------------------------------------------------
    (root / "notes.txt").write_text("# Plain Notes\n\nnot markdown, never indexed: wombatfeather\n", "utf-8")
    (root / "diagram.png").write_bytes(PNG_HEADER + b"\x00" * 64)
    markers["notes.txt"] = "wombatfeather"

    return tuple(bad), frozenset(documents), markers, root_reads_anything


def _unlock(root: Path) -> None:
    """Let pytest remove the corpus later (a chmod 000 folder cannot be emptied)."""
    folder = root / "locked-folder"
    if folder.exists():
        folder.chmod(0o755)


@pytest.fixture(scope="module")
def bad_corpus(tmp_path_factory: pytest.TempPathFactory):
    from bot import build_index

    base = tmp_path_factory.mktemp("bad-corpus")
    root = base / "corpus"
    bad, documents, markers, root_reads = write_bad_corpus(root, base)
    index = base / "index"
    try:
        stats = build_index(root, index)
        yield BadCorpus(root, index, stats, bad, documents, markers, root_reads)
    finally:
        _unlock(root)


def bot(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env
    )


def _problems_of(corpus: BadCorpus, path: str) -> list:
    return [p for p in corpus.stats.problems if p.path == path]


def _catalog(corpus: BadCorpus):
    from bot import Index

    return Index.open(corpus.index).catalog


# ---------------------------------------------------------------------------
# The API: build_index reports every bad file and indexes every good one


def test_every_usable_file_is_indexed(bad_corpus: BadCorpus):
    stats = bad_corpus.stats
    assert stats.documents == len(bad_corpus.documents)
    assert set(_catalog(bad_corpus).documents) == set(bad_corpus.documents)
    assert stats.partial  # files were skipped


def test_every_bad_file_is_named_with_what_was_wrong(bad_corpus: BadCorpus):
    assert len({b.path for b in bad_corpus.bad}) >= 12
    for bad in bad_corpus.bad:
        found = _problems_of(bad_corpus, bad.path)
        assert found, f"{bad.path} is not reported: {bad_corpus.stats.problems}"
        matching = [p for p in found if all(w in p.message.lower() for w in bad.words)]
        assert matching, f"{bad.path}: expected {bad.words} in {[p.message for p in found]}"
        assert all(p.skipped == bad.skipped for p in matching), (bad.path, matching)


def test_only_the_bad_files_are_reported(bad_corpus: BadCorpus):
    reported = {p.path for p in bad_corpus.stats.problems}
    assert reported == {b.path for b in bad_corpus.bad}
    assert {p.path for p in bad_corpus.stats.skipped} == {b.path for b in bad_corpus.bad if b.skipped}
    for ignored in ("notes.txt", "diagram.png", *GOOD_PAGES, "large-5mb.md"):
        assert ignored not in reported


def test_skipped_files_are_not_indexed(bad_corpus: BadCorpus):
    catalog = _catalog(bad_corpus)
    skipped = {b.path.removesuffix(".md") for b in bad_corpus.bad if b.skipped}
    assert not skipped & set(catalog.documents)
    texts = [c.text.lower() for c in catalog.chunks.values()]
    for path, word in bad_corpus.markers.items():
        assert not any(word in t for t in texts), f"{path} was indexed"
    # the loop did not index the corpus twice through loop/back
    assert not any(doc.startswith("loop/") for doc in catalog.documents)


def test_repaired_files_are_indexed_repaired(bad_corpus: BadCorpus):
    chunks = list(_catalog(bad_corpus).chunks.values())
    mojibake = " ".join(c.text for c in chunks if c.doc_id == "mojibake")
    assert "quorra — it isn’t fashionable" in mojibake and "â€" not in mojibake
    invalid = [c.text for c in chunks if c.doc_id == "invalid-utf8" and "Tractability" in c.text]
    assert invalid and "\ufffd" in invalid[0] and "are cheap to run" in invalid[0]


def test_titles_fall_back_to_the_first_heading_then_the_file_name(bad_corpus: BadCorpus):
    docs = _catalog(bad_corpus).documents
    assert docs["malformed-yaml"].title == "Brennic Tracing"
    assert docs["no-front-matter"].title == "Ostrel Sandboxing"
    assert docs["untitled_notes"].title == "Untitled Notes"
    assert docs["team-a/shared-title"].title == docs["team-b/shared-title"].title == "Shared Title Approach"


def test_ragged_rows_are_padded_or_cut_to_the_header(bad_corpus: BadCorpus):
    rows = {
        c.body.split(" | ")[0]: c
        for c in _catalog(bad_corpus).chunks.values()
        if c.doc_id == "ragged-table" and c.table is not None and c.table.section == "Key Techniques"
    }
    assert set(rows) == {"Technique: Short row", "Technique: Full row", "Technique: Long row"}
    assert rows["Technique: Short row"].table.rows[0] == ("Short row", "only two cells", "")
    assert rows["Technique: Long row"].body == (
        "Technique: Long row | What it does: tamsin sweeps | Limitation: costly"
    )


def test_the_table_without_separator_is_indexed_as_text(bad_corpus: BadCorpus):
    chunks = [c for c in _catalog(bad_corpus).chunks.values() if c.doc_id == "no-separator"]
    assert chunks and any("ferrule logs are easy" in c.text for c in chunks)
    assert all(c.table is None for c in chunks)


def test_the_5mb_document_indexes_as_small_chunks(bad_corpus: BadCorpus):
    if not FIVE_MB_FITS:  # pragma: no cover
        pytest.skip("the size limit is below 5 MB")
    chunks = [c for c in _catalog(bad_corpus).chunks.values() if c.doc_id == "large-5mb"]
    assert chunks and max(len(c.text) for c in chunks) < 2000
    assert any("lumen pipeline diagram" in c.text for c in chunks)


@pytest.mark.parametrize(
    ("question", "doc_id"),
    [
        ("What is trusted monitoring in AI control?", "ai-control"),
        ("How neglected are model organisms of misalignment?", "model-organisms"),
        ("How tractable is Lumen Telemetry?", "large-5mb"),
        ("How tractable is Vexilla Screening?", "invalid-utf8"),
        ("How neglected is Quorra Oversight?", "mojibake"),
        ("How tractable is Brennic Tracing?", "malformed-yaml"),
        ("How tractable is Ostrel Sandboxing?", "no-front-matter"),
        ("What are the limitations of tamsin sweeps?", "ragged-table"),
        ("Are ferrule logs easy?", "no-separator"),
    ],
)
def test_indexed_documents_are_searchable(bad_corpus: BadCorpus, question: str, doc_id: str):
    from bot import ask
    from bot.evaluation import citation_problems

    answer = ask(question, index_dir=bad_corpus.index)
    assert not answer.abstained, answer.text
    assert doc_id in {c.doc_id for c in answer.citations}, [(c.doc_id, c.section) for c in answer.citations]
    assert citation_problems(answer) == []


def test_both_documents_with_the_same_title_are_searchable(bad_corpus: BadCorpus):
    from bot import ask
    from bot.retrieval import HybridRetriever, Index

    found = {h.chunk.doc_id for h in HybridRetriever(Index.open(bad_corpus.index)).search("Who studies halcyon or meridian?")}
    assert {"team-a/shared-title", "team-b/shared-title"} <= found
    for word, doc_id in (("halcyon", "team-a/shared-title"), ("meridian", "team-b/shared-title")):
        assert ask(f"Who studies {word}?", index_dir=bad_corpus.index).citations[0].doc_id == doc_id


# ---------------------------------------------------------------------------
# The command line


def test_cli_names_every_bad_file_and_exits_partial(bad_corpus: BadCorpus, tmp_path: Path):
    # On a copy of the built index: the CLI loads the corpus and reports it the same way,
    # without embedding everything again.
    index = tmp_path / "index"
    shutil.copytree(bad_corpus.index, index)
    result = bot("index", "--corpus", str(bad_corpus.root), "--index", str(index))
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    for bad in bad_corpus.bad:
        labels = ("skipped:",) if bad.skipped else ("warning:", "repaired:")
        assert sum(line.startswith(tuple(f"{s} {bad.path}: " for s in labels)) for line in lines) >= 1, (bad.path, result.stderr)
    for ignored in ("notes.txt", "diagram.png", *GOOD_PAGES, "large-5mb.md"):
        assert ignored not in result.stderr
    skipped = sum(1 for b in bad_corpus.bad if b.skipped)
    assert f"partial: {skipped} file(s) skipped" in result.stderr
    assert f"indexed {len(bad_corpus.documents)} documents" in result.stdout


def test_cli_exits_0_on_a_corpus_of_good_files(bad_corpus: BadCorpus, tmp_path: Path):
    good = tmp_path / "good"
    good.mkdir()
    for name in GOOD_PAGES:
        shutil.copy(CORPUS / name, good / name)
    index = tmp_path / "index"
    shutil.copytree(bad_corpus.index, index)  # incremental: the bad corpus's extra documents are removed
    result = bot("index", "--corpus", str(good), "--index", str(index))
    assert result.returncode == 0, result.stderr
    assert "skipped:" not in result.stderr and "warning:" not in result.stderr
    assert "indexed 2 documents" in result.stdout
    asked = bot("ask", "What is trusted monitoring in AI control?", "--index", str(index), "--json")
    assert asked.returncode == 0, asked.stderr
    assert '"doc_id": "ai-control"' in asked.stdout and "large-5mb" not in asked.stdout


def test_cli_exits_1_when_the_corpus_folder_is_missing(tmp_path: Path):
    result = bot("index", "--corpus", str(tmp_path / "no-such-folder"), "--index", str(tmp_path / "index"))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0
    assert "corpus folder not found" in result.stderr and "no-such-folder" in result.stderr


# ---------------------------------------------------------------------------
# A damaged index: one clear line naming the fix, no traceback

#: Names no approach, so the search goes to the Chroma store.
STORE_QUESTION = "What are the main limitations and risks?"


def _assert_rebuild_hint(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert result.stderr.startswith("error: ") and result.stderr.count("bot index --rebuild") == 1, result.stderr


def _truncated_copy(bad_corpus: BadCorpus, tmp_path: Path, check: bool = False) -> Path:
    """A copy of the built index whose Chroma sqlite file is cut to 300 bytes."""
    index = tmp_path / "index"
    shutil.copytree(bad_corpus.index, index)
    if check:  # the copy's store opens and holds every vector
        from bot import Index

        opened = Index.open(index)
        assert opened.store.count() == opened.manifest.chunks > 0
    (sqlite,) = (index / "chroma").rglob("chroma.sqlite3")
    for leftover in sqlite.parent.glob("chroma.sqlite3-*"):  # no WAL to recover from
        leftover.unlink()
    with sqlite.open("r+b") as handle:
        handle.truncate(300)
    return index


def test_a_truncated_chroma_store_says_rebuild(bad_corpus: BadCorpus, tmp_path: Path):
    index = _truncated_copy(bad_corpus, tmp_path, check=True)
    result = bot("ask", STORE_QUESTION, "--index", str(index))
    _assert_rebuild_hint(result)
    assert "vector store" in result.stderr


def test_rebuild_recovers_a_truncated_chroma_store(bad_corpus: BadCorpus, tmp_path: Path):
    index = _truncated_copy(bad_corpus, tmp_path)
    good = tmp_path / "good"
    good.mkdir()
    for name in GOOD_PAGES:
        shutil.copy(CORPUS / name, good / name)
    result = bot("index", "--rebuild", "--corpus", str(good), "--index", str(index))
    assert result.returncode == 0, result.stderr
    assert bot("ask", STORE_QUESTION, "--index", str(index)).returncode == 0


def test_a_garbage_manifest_says_rebuild(bad_corpus: BadCorpus, tmp_path: Path):
    index = tmp_path / "index"
    shutil.copytree(bad_corpus.index, index)
    (index / "manifest.json").write_bytes(b"\x00\xffnot json at all {{{")
    result = bot("ask", STORE_QUESTION, "--index", str(index))
    _assert_rebuild_hint(result)
    assert "manifest" in result.stderr
