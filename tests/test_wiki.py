"""The real wiki (../shared/wiki): every page indexed, excluded or skipped by
name; nothing of its markup in any chunk; every <Crux> answered whole."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest

from tests.conftest import ROOT, SHARED

WIKI = SHARED / "wiki"
PROFILE = ROOT / "profiles" / "wiki.yaml"

needs_wiki = pytest.mark.skipif(
    not (WIKI / "docs").is_dir(), reason="../shared/wiki is absent (the real corpus sits beside the repo in CI)"
)

#: Markup a reader never sees, which no chunk may hold.
RAW = {
    "a JSX component": re.compile(r"<[A-Z][A-Za-z]*[\s/>]"),
    "an import line": re.compile(r"^\s*(?:import|export)\s+[\w{*]", re.M),
    "Mermaid syntax": re.compile(r"-->|\bgraph (?:TD|LR|TB)\b|^\s*flowchart\b", re.M),
    "an <R id> citation": re.compile(r"<R id="),
    "an MDX comment": re.compile(r"\{/\*"),
}


@pytest.fixture(scope="module")
def wiki_corpus():
    from bot.markdown import load_corpus
    from bot.profile import load_profile

    return load_corpus(WIKI / "docs", profile=load_profile(WIKI / "docs", PROFILE))


@needs_wiki
def test_every_page_is_indexed_excluded_or_skipped_by_name(wiki_corpus):
    files = sorted(p.relative_to(WIKI / "docs").as_posix() for p in (WIKI / "docs").rglob("*") if p.suffix in (".md", ".mdx"))
    indexed = {d.path.relative_to(WIKI / "docs").as_posix() for d in wiki_corpus.documents}
    skipped = {p.path for p in wiki_corpus.problems if p.skipped}
    assert sorted(indexed | set(wiki_corpus.excluded) | skipped) == files
    assert all(p.startswith("internal/") or Path(p).name.startswith("_") for p in wiki_corpus.excluded)
    assert len(indexed) >= 470


@needs_wiki
def test_no_chunk_holds_markup_a_reader_never_sees(wiki_corpus):
    found = []
    for doc in wiki_corpus.documents:
        for chunk in doc.chunks:
            for what, pattern in RAW.items():
                if pattern.search(chunk.text):
                    found.append(f"{doc.doc_id}: {what}: {chunk.text[:80]!r}")
    assert found == []


@needs_wiki
def test_references_are_kept_with_their_passages(wiki_corpus):
    refs = [r for d in wiki_corpus.documents for c in d.chunks for r in c.refs]
    assert len(refs) > 1000
    assert all(url.startswith(("http://", "https://")) and title for title, url in refs)


@needs_wiki
def test_stub_pages_get_their_text_from_the_entity_data(wiki_corpus):
    stubs = [d for d in wiki_corpus.documents if d.doc_id.startswith("ai-transition-model/")]
    assert len(stubs) >= 60
    empty = [d.doc_id for d in stubs if sum(len(c.body) for c in d.chunks if c.kind == "passage") < 200]
    assert len(empty) <= 2, empty


def _cruxes() -> list[tuple[str, str, list[tuple[str, str]]]]:
    """Every <Crux> of the crux pages: (page, question, [(view, probability)])."""
    found = []
    for page in sorted((WIKI / "docs" / "knowledge-base" / "cruxes").glob("*.mdx")):
        text = page.read_text("utf-8")
        for block in re.findall(r"<Crux\b(.*?)/>", text, re.S):
            question = re.search(r'question="([^"]+)"', block)
            views = re.findall(r'view:\s*"([^"]+)",\s*probability:\s*"([^"]+)"', block)
            if question:
                found.append((page.stem, question.group(1), views))
    return found


@needs_wiki
@pytest.mark.slow
def test_every_crux_answers_with_all_its_positions_and_probabilities(tmp_path_factory: pytest.TempPathFactory):
    """The crux pages alone (with the wiki's profile and data), indexed with the real model."""
    import shutil

    from bot import build_index
    from bot.chat import ChatSession

    root = tmp_path_factory.mktemp("cruxes")
    corpus = root / "docs" / "knowledge-base" / "cruxes"
    shutil.copytree(WIKI / "docs" / "knowledge-base" / "cruxes", corpus)
    (root / "data").symlink_to(WIKI / "data")
    build_index(root / "docs", root / "index", profile=PROFILE)
    cruxes = _cruxes()
    assert len(cruxes) == 43
    missing = []
    for page, question, views in cruxes:
        answer = ChatSession(root / "index").ask(f"What are the positions on {question}")
        text = answer.text.replace("\\", "").lower()  # as a reader sees it: markdown escapes gone
        lost = [f"{v} ({p})" for v, p in views if unescape(v).lower() not in text or unescape(p).lower() not in text]
        if lost or not views:
            missing.append(f"{page}: {question}: {lost or 'no positions parsed'}")
    assert missing == []
