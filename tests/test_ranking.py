"""The ranking policy applied (bot/ranking.py): chunk fusion, window spreading and
the document ranking, on made-up pages with the fake embedder (fast tier)."""

from __future__ import annotations

import pytest

from bot import ranking
from bot.retrieval import HybridRetriever, Index, Ranking
from tests.fakes import FakeEmbedder, index_pages
from tests.test_patterns import GADGETS, LENSES, WIDGETS

FAKE = FakeEmbedder()


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Index:
    pages = {"widget-safety.md": WIDGETS, "gadget-oversight.md": GADGETS, "interpretability-tools.md": LENSES}
    return Index.open(index_pages(tmp_path_factory.mktemp("ranking"), pages), embedder=FAKE)  # type: ignore[arg-type]


def rows(index: Index, doc_id: str, heading: str) -> list[str]:
    """The chunk ids of one section's rows, in order."""
    return [c.chunk_id for c in index.catalog.sections(doc_id)[heading] if c.kind == "row"]


def test_a_chunk_found_by_two_lists_outranks_one_found_first_by_one(index: Index):
    a, b, c = rows(index, "widget-safety", "Key Mechanisms")
    retriever = HybridRetriever(index)
    hits = retriever.fuse(
        [Ranking("dense", [(a, 0.9), (b, 0.8)]), Ranking("lexical", [(c, 7.0), (b, 5.0)])], k=3, expand_tables=False
    )
    assert [h.chunk.chunk_id for h in hits][0] == b
    assert hits[0].score == pytest.approx(1 / (ranking.RRF_K + 2) * 2)
    assert hits[0].dense == 0.8 and hits[0].lexical == 5.0


def test_a_weighted_list_counts_more_and_tied_scores_share_a_rank(index: Index):
    a, b, c = rows(index, "widget-safety", "Key Mechanisms")
    retriever = HybridRetriever(index)
    hits = retriever.fuse(
        [
            Ranking("dense", [(a, 0.9), (b, 0.8), (c, 0.7)]),
            Ranking("cue", [(c, 1.0), (b, 1.0)], weight=3.0, tied=True),
        ],
        k=3,
        expand_tables=False,
    )
    by_id = {h.chunk.chunk_id: h.score for h in hits}
    assert by_id[c] == pytest.approx(1 / (ranking.RRF_K + 3) + 3 / (ranking.RRF_K + 1))
    assert by_id[b] == pytest.approx(1 / (ranking.RRF_K + 2) + 3 / (ranking.RRF_K + 1))
    assert [h.chunk.chunk_id for h in hits] == [b, c, a]


def test_fusion_returns_k_hits_and_a_crux_row_brings_its_whole_table(index: Index):
    crux = rows(index, "widget-safety", "Crux 1: Is Widget Safety Feasible?")
    mechanisms = rows(index, "widget-safety", "Key Mechanisms")
    retriever = HybridRetriever(index)
    items = [(crux[0], 0.9), *((m, 0.5) for m in mechanisms)]
    bare = retriever.fuse([Ranking("dense", items)], k=2, expand_tables=False)
    assert [h.chunk.chunk_id for h in bare] == [crux[0], mechanisms[0]]
    expanded = retriever.fuse([Ranking("dense", items)], k=2)
    ids = [h.chunk.chunk_id for h in expanded]
    assert set(crux) <= set(ids) and set(mechanisms) <= set(ids)  # both tables are short enough to expand
    assert all(h.expanded for h in expanded[2:]) and not any(h.expanded for h in expanded[:2])


def test_a_window_hit_stands_for_the_chunks_it_holds_at_its_rank(index: Index):
    windows = [c for c in index.catalog.document_chunks("widget-safety") if c.kind == "window"]
    assert windows, "a page of several sections is cut into windows"
    window = windows[0]
    other = rows(index, "gadget-oversight", "Evaluation Summary")[0]
    spread = HybridRetriever(index)._spread([(other, 0.9), (window.chunk_id, 0.8), ("deleted-id", 0.7)])
    assert spread[0] == (other, 0.9)
    assert [cid for cid, _ in spread[1:]] == list(window.members)
    assert {score for _, score in spread[1:]} == {0.8}
    assert all(index.catalog.chunks[cid].kind != "window" for cid, _ in spread)


def test_the_document_ranking_puts_the_page_that_matches_first(index: Index):
    documents = HybridRetriever(index).documents("factory audits and recall orders for widgets")
    assert documents[0][0] == "widget-safety"
    assert [score for _, score in documents] == sorted((score for _, score in documents), reverse=True)
    best = sum(w / (ranking.DOCUMENT_RRF_K + 1) for w in ranking.DOCUMENT_WEIGHTS.values())
    assert documents[0][1] <= best + 1e-9


def test_the_document_ranking_stays_within_the_allowed_pages(index: Index):
    documents = HybridRetriever(index).documents("factory audits", doc_ids={"gadget-oversight", "interpretability-tools"})
    assert documents and {d for d, _ in documents} <= {"gadget-oversight", "interpretability-tools"}


def test_a_second_section_nearly_as_similar_is_shown_and_a_less_similar_one_is_not(index: Index):
    from bot.answer import compose
    from bot.retrieval import Hit

    chunks = index.catalog.sections("widget-safety")
    main, second = chunks["Key Mechanisms"][0], chunks["Evaluation Summary"][0]
    for dense, shown in ((0.60 - ranking.RELATED_DENSE_SLACK / 2, True), (0.60 - ranking.RELATED_DENSE_SLACK * 2, False)):
        answer = compose("q", [Hit(main, 1.0, 0.60, None), Hit(second, 0.95, dense, None)])
        assert ("Evaluation Summary" in answer.text) is shown


def test_the_two_stage_scan_finds_the_same_nearest_chunks_with_their_exact_similarity(monkeypatch: pytest.MonkeyPatch):
    import numpy as np

    from bot import lexical

    monkeypatch.setattr(lexical, "PROJECTED_FROM", 1_000)
    monkeypatch.setattr(lexical, "PROJECTED_DIMENSIONS", 16)
    monkeypatch.setattr(lexical, "CANDIDATES", 200)
    rng = np.random.default_rng(7)
    matrix = rng.normal(size=(3_000, 12)) @ rng.normal(size=(12, 64)) + 0.05 * rng.normal(size=(3_000, 64))
    matrix = (matrix / np.linalg.norm(matrix, axis=1, keepdims=True)).astype(np.float32)
    vectors = lexical.Vectors([f"c{i}" for i in range(3_000)], matrix)
    for query in matrix[rng.choice(3_000, 20)] + 0.1 * rng.normal(size=(20, 64)).astype(np.float32):
        query /= np.linalg.norm(query)
        exact = matrix @ query
        sims = vectors.similarities(query)
        assert not np.allclose(sims, exact)  # the rest keep their projected value
        top = np.argsort(-exact)[:30]
        assert list(np.argsort(-sims)[:30]) == list(top)
        assert np.allclose(sims[top], exact[top], atol=1e-5)


def test_the_best_of_a_kind_are_the_same_whether_found_among_the_leaders_or_by_a_full_pass(monkeypatch: pytest.MonkeyPatch):
    import numpy as np

    from bot import lexical

    monkeypatch.setattr(lexical, "LEADERS", 64)
    rng = np.random.default_rng(3)
    ids = [f"c{i}" for i in range(2_000)]
    vectors = lexical.Vectors(ids, rng.normal(size=(2_000, 8)).astype(np.float32))
    common = ids[::2]  # half of all chunks: their best are among the leaders
    rare = ids[1::97]  # a few: most of their best are not, and a full pass finds them
    for _ in range(5):
        sims = rng.normal(size=2_000).astype(np.float32)
        for among in (None, common, rare):
            pool = range(2_000) if among is None else [int(c[1:]) for c in among]
            expected = sorted(pool, key=lambda i: -sims[i])[:30]
            assert [c for c, _ in vectors.top(sims, 30, among)] == [ids[i] for i in expected]


OVERVIEW_PAGE = """---
title: Safety Approaches
---

## All Approaches

| Approach | Focus |
|----------|-------|
| Widget Safety | Factory audits and recall orders |
| Gadget Oversight | Monitors, sampling and logs |
"""


def test_the_corpus_opening_page_counts_a_share_of_its_document_score(tmp_path_factory: pytest.TempPathFactory):
    pages = {"index.md": OVERVIEW_PAGE, "widget-safety.md": WIDGETS, "gadget-oversight.md": GADGETS}
    index = Index.open(index_pages(tmp_path_factory.mktemp("opening"), pages), embedder=FAKE)  # type: ignore[arg-type]
    assert index.opening_pages == {"index"}
    question = "Which factory audits and recall orders exist?"
    shared = dict(HybridRetriever(index).documents(question))
    share, ranking.OPENING_PAGE_SHARE = ranking.OPENING_PAGE_SHARE, 1.0
    try:
        full = dict(HybridRetriever(index).documents(question))
    finally:
        ranking.OPENING_PAGE_SHARE = share
    assert shared["index"] == pytest.approx(share * full["index"]) and share < 1.0
    assert shared["widget-safety"] == full["widget-safety"]


def test_a_chunk_first_by_dense_and_lexical_leads_when_the_fusion_buried_it(index: Index):
    from bot.planning import _strongest_first

    a, b, c = rows(index, "widget-safety", "Key Mechanisms")
    retriever = HybridRetriever(index)
    similar = ranking.MIN_SIMILARITY + 0.2
    buried = [  # a is first in the dense and the lexical list; b and c are in more lists
        Ranking("dense", [(a, similar), (b, 0.2), (c, 0.2)]),
        Ranking("lexical", [(a, 9.0), (b, 5.0), (c, 4.0)]),
        Ranking("heading", [(b, 0.9), (c, 0.9)], weight=3.0, tied=True),
    ]
    hits = retriever.fuse(buried, k=2, expand_tables=False)
    assert a not in [h.chunk.chunk_id for h in hits]
    led = _strongest_first(index, buried, hits)
    assert [h.chunk.chunk_id for h in led] == [a, b, c] and led[0].dense == similar

    # hits similar enough to answer from, but much less similar than the buried chunk: it leads all the same
    strong = [Ranking("dense", [(a, ranking.MIN_SIMILARITY + 0.3), (b, ranking.MIN_SIMILARITY + 0.05)]), *buried[1:]]
    found = retriever.fuse(strong, k=2, expand_tables=False)
    assert a not in [h.chunk.chunk_id for h in found] and _strongest_first(index, strong, found)[0].chunk.chunk_id == a
    # hits about as similar: the fusion's order stands
    close = [Ranking("dense", [(a, similar), (b, similar - ranking.BURIED_GAP / 2)]), *buried[1:]]
    near = retriever.fuse(close, k=2, expand_tables=False)
    assert a not in [h.chunk.chunk_id for h in near] and _strongest_first(index, close, near) == near
    # only the dense list's first: not enough on its own
    alone = [buried[0], Ranking("lexical", [(b, 9.0), (c, 5.0), ("x", 4.0)]), buried[2]]
    assert _strongest_first(index, alone, hits) == hits
    # not similar enough to answer from
    faint = [Ranking("dense", [(a, ranking.MIN_SIMILARITY - 0.01)]), *buried[1:]]
    assert _strongest_first(index, faint, hits) == hits
