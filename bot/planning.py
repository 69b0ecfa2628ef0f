"""From a read question (:class:`~bot.query.QueryPlan`) to a grounded answer.

Chooses the evidence: the evaluation matrix for questions across approaches,
one search per approach for comparisons, and otherwise hybrid retrieval
steered towards the approaches a question names, with the rows of an asked-for
dimension or section pinned first. Then hands it to the composer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import replace

from bot import messages, ranking
from bot.answer import Answer, abstain, compose, compose_groups, compose_listing, evidence_is_weak
from bot.markdown import OVERVIEW, PATH_SEP, Chunk, crux_question
from bot.matrix import Cell, rating_level
from bot.query import QueryPlan, cue_matches, has_count, is_date_evidence, tells_beginning
from bot.retrieval import Hit, HybridRetriever, Index, Ranking

_INTRO = re.compile(r"\b(?:what is|what's|what are|explain|describe|tell me about|overview|summar\w*|introduc\w*)\b", re.I)


def answer_plan(index: Index, question: str, plan: QueryPlan, scope: Collection[str] | None, k: int) -> Answer:
    """The answer to ``question`` as ``plan`` reads it, limited to ``scope`` documents."""
    retriever = HybridRetriever(index)
    query = plan.search_text
    retriever.prepare([query])
    documents = _Documents(retriever, query, scope)
    approaches = _named(plan, scope, documents)

    if plan.listing and plan.dimensions and not approaches:
        cells = _listing(index, plan, scope)
        if cells:
            return compose_listing(question, query, cells, plan.dimensions, plan.rating)

    quoted = _quoted_heading(index, plan, approaches, documents, scope)
    if quoted:  # the question quotes a heading: that section, on its own page, is what it asks for
        approaches = [quoted[0].doc_id]
    elif len(approaches) < 2 and plan.contrast:
        approaches = _compared(approaches, documents())
    if len(approaches) >= 2:
        groups = [g for g in (_evidence_for(index, retriever, plan, d, k) for d in approaches) if g]
        missing = _not_covered(plan, [h for g in groups for h in g])
        if missing:  # a subject the compared pages never name may be on another page: that page joins
            found = _naming(index, retriever, plan, missing, approaches)
            if found:
                groups.append(found)
                missing = _not_covered(plan, [h for g in groups for h in g])
        if missing or all(_fact_not_covered(plan, g) for g in groups):  # declined when no side states the fact
            return _decline(index, question, query, missing, documents())
        return compose_groups(question, query, groups)

    if approaches:
        # A named approach is searched within its own chunks only. The global lists would rank
        # those chunks once more, so the local dense and lexical lists count twice; the question
        # without the approach's name adds its own BM25 list and counts the question's vector
        # (dense and headings) once more.
        targets = approaches
        residual = _residual_text(plan, query)
        extra = {"dense": 2 + bool(residual), "lexical": 2, "heading": 1 + bool(residual)}
        rankings = [replace(r, weight=extra[r.kind] * r.weight) for r in retriever.ranked(query, targets, headings=True)]
        if residual:
            rankings += retriever.ranked(residual, approaches, dense=False)
    else:
        rankings = retriever.ranked(query, scope)
        targets = [d for d, _ in documents()[:2]]
        rankings += retriever.ranked(query, targets, headings=True)
        rankings.append(_document_ranking(index, documents()[:2]))
    if plan.cues:
        # on the pages searched: the best two when none is named (a heading the wording names
        # can tell the second page from the first)
        rankings.append(_cue_ranking(index, plan, targets, rankings))
    hits = retriever.fuse(rankings, k)
    if not hits:
        return _decline(index, question, query, (), documents())
    target = approaches[0] if approaches else documents()[0][0] if documents() else hits[0].chunk.doc_id
    pinned = quoted or _pinned(index, plan, target)
    structured = bool(pinned) and bool(approaches or plan.dimensions or plan.section)
    cued = any(
        cue_matches(plan.cues, h.chunk.section) or bool(plan.section and index.reader.section_matches(plan.section, h.chunk.section))
        for h in hits[: ranking.CUED_WITHIN]
    )  # the wording names a heading the best hits are under ("where would I fit?" and a who-should-work section)
    own_name = bool(approaches) and not plan.query  # named in the question's own words, not inherited from the last turn
    hits = _strongest_first(index, rankings, hits)
    weak = evidence_is_weak(hits, cued=cued, named=own_name)
    missing = _not_covered(plan, hits)
    if missing and not weak:
        # the search missed a passage naming the question's specific subject: look for it by name
        only = [c.chunk_id for d in targets for c in index.catalog.document_chunks(d)] or None
        rankings += [
            Ranking("specific", index.lexical.search(term, retriever.depth, only), weight=ranking.SPECIFIC_WEIGHT) for term in missing
        ]
        hits = retriever.fuse(rankings, k)
        missing = _not_covered(plan, hits)
    led_by_fact = False
    if plan.fact and not missing and not structured and not weak and _fact_not_covered(plan, hits[:1], strict=True):
        hits = _lead_with_fact(retriever, rankings, plan, hits, approaches)  # the fact leads, even from the introduction
        led_by_fact = not _fact_not_covered(plan, hits[:1])
    if missing or weak or (not structured and _fact_not_covered(plan, hits)):
        return _decline(index, question, query, () if weak else missing, documents())
    if plan.quantity and not plan.fact and not structured:
        hits = _lead_with_figure(retriever, rankings, plan, hits, approaches)
    hits = _pin(retriever, hits, pinned)
    if not led_by_fact and (not _INTRO.search(plan.residual or plan.text) or plan.dimensions or plan.section):
        hits = _demote_overview(hits)
    hits = _demote_reading_lists(index, plan, hits)
    also: list[Hit] = []  # a page the ranking cannot tell from the answer's: named in the lead by its best section
    rival = None if approaches or structured or led_by_fact else _rival(documents(), hits[0].chunk.doc_id)
    if rival:
        evidence = _evidence_for(index, retriever, plan, rival, k)
        also = [] if evidence_is_weak(evidence) else evidence
    return compose(question, _with_crux_prose(index, _with_crux(index, _with_counts(index, plan, hits))), query=query, judged=True, also=also)


def _strongest_first(index: Index, rankings: Sequence[Ranking], hits: list[Hit]) -> list[Hit]:
    """The hits led by the chunk a dense ranking puts first, when a lexical
    ranking also puts it near the top, the fusion left it out and it is clearly
    more similar than every hit: a chunk first in the dense and lexical lists
    can lose to chunks that more lists hold (a heading, a page), and the answer
    then quoted, or declined for, weaker evidence than the search found."""
    firsts = [listing.items[0] for listing in rankings if listing.kind == "dense" and listing.items]
    if not firsts:
        return hits
    chunk_id, similarity = max(firsts, key=lambda item: item[1])
    lexical = {cid for listing in rankings if listing.kind == "lexical" for cid, _ in listing.items[: ranking.CONSENSUS_WITHIN]}
    best = max((h.dense for h in hits if h.dense is not None), default=0.0)
    if similarity < max(ranking.MIN_SIMILARITY, best + ranking.BURIED_GAP) or chunk_id not in lexical:
        return hits
    return _first([Hit(index.catalog.chunks[chunk_id], 0.0, similarity, None)], hits)


def _rival(documents: Sequence[tuple[str, float]], main: str) -> str | None:
    """The page the document ranking cannot tell from the answer's own page
    (``main``): the other of its two best when they score within
    :data:`ranking.RIVAL_SHARE`, or its best when the answer's page is not it."""
    top = documents[:2]
    if not top:
        return None
    if top[0][0] != main:
        return top[0][0]
    if len(top) == 2 and top[1][1] >= ranking.RIVAL_SHARE * top[0][1]:
        return top[1][0]
    return None


def _quoted_heading(
    index: Index,
    plan: QueryPlan,
    approaches: Sequence[str],
    documents: _Documents,
    scope: Collection[str] | None,
) -> list[Chunk]:
    """The chunks of the section whose heading (of several words) the question
    quotes, in the best-ranked document that has it; none when it quotes none."""
    text = _plain(plan.text)
    words = text.split()
    starts = {" ".join(words[i : i + ranking.QUOTED_HEADING_WORDS]) for i in range(len(words) - ranking.QUOTED_HEADING_WORDS + 1)}
    found = [
        (len(heading), rank, doc_id, section)
        for start in starts
        for heading, places in index.headings_by_start(ranking.QUOTED_HEADING_WORDS).get(start, ())
        if heading in text
        for doc_id, section in places
        if (not approaches or doc_id in approaches) and (not scope or doc_id in scope)
        for rank in [next((i for i, (d, _) in enumerate(documents()) if d == doc_id), len(documents()))]
    ]
    if not found:
        return []
    _, _, doc_id, section = min(found, key=lambda f: (-f[0], f[1]))
    return list(index.catalog.sections(doc_id).get(section, ()))


def _plain(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


class _Documents:
    """A question's document ranking, made when first asked for: a question
    naming its page is searched within that page and seldom needs it (nor the
    scan of every chunk it costs)."""

    def __init__(self, retriever: HybridRetriever, query: str, scope: Collection[str] | None):
        self._retriever, self._query, self._scope = retriever, query, scope
        self._ranked: list[tuple[str, float]] | None = None

    def __call__(self) -> list[tuple[str, float]]:
        if self._ranked is None:
            self._ranked = self._retriever.documents(self._query, self._scope)
        return self._ranked


def _named(plan: QueryPlan, scope: Collection[str] | None, documents: _Documents) -> list[str]:
    """The approaches the question names, within scope. One named only by an
    everyday word ("oversight") counts when the search ranks it high too."""
    named = [d for d in plan.approaches if not scope or d in scope]
    if not any(d in plan.weak for d in named):
        return named
    near = {d for d, _ in documents()[:ranking.NAMED_BY_WORD_WITHIN]}
    return [d for d in named if d not in plan.weak or d in near]


def _compared(approaches: list[str], documents: Sequence[tuple[str, float]]) -> list[str]:
    """A comparison that names fewer than two approaches: the best-ranked
    documents close to the first one fill in the rest."""
    if not documents:
        return approaches
    top = documents[0][1]
    close = [d for d, score in documents[:3] if score >= ranking.COMPARED_WITHIN * top]
    chosen = list(dict.fromkeys(approaches + close))[:2]
    return chosen if len(chosen) >= 2 else approaches


def _naming(index: Index, retriever: HybridRetriever, plan: QueryPlan, terms: Sequence[str], searched: Sequence[str]) -> list[Hit]:
    """Hits from one page outside ``searched`` whose passages name every one of
    ``terms`` (the question's specific subjects): the page of the best BM25 match."""
    lists = [index.lexical.search(term, retriever.depth) for term in terms]
    ids = [cid for found in lists for cid, _ in found if index.catalog.chunks[cid].doc_id not in searched]
    naming = [
        Hit(index.catalog.chunks[cid], 0.0, None, None)
        for cid in dict.fromkeys(ids)
        if all(_mentions(index.catalog.chunks[cid].text, term) for term in terms)
    ]
    if not naming:
        return []
    doc_id = naming[0].chunk.doc_id
    return [h for h in naming if h.chunk.doc_id == doc_id][:4]


def _not_covered(plan: QueryPlan, hits: Sequence[Hit]) -> tuple[str, ...]:
    """The question's specific subjects (names, numbers, rare words) that no
    passage of the evidence mentions."""
    if not plan.specifics:
        return ()
    evidence = " ".join(h.chunk.text for h in hits)
    return tuple(t for t in plan.specifics if not _mentions(evidence, t))


def _mentions(text: str, term: str) -> bool:
    """Whether ``text`` mentions ``term`` (case aside, not inside another word's end)."""
    return re.search(rf"(?<!\w){re.escape(term.lower())}", text.lower()) is not None


def _decline(
    index: Index, question: str, query: str, missing: Sequence[str], documents: Sequence[tuple[str, float]]
) -> Answer:
    """An abstention that says what is not covered and, then, which pages come closest."""
    if not missing:
        examples = example_text(index)
        return abstain(question, query, messages.NOT_FOUND + (" " + messages.TRY.format(examples=examples) if examples else ""))
    terms = ", ".join(f"“{t}”" for t in missing)
    text = messages.NOT_COVERED.format(terms=terms)
    titles = [index.catalog.documents[d].title for d, _ in documents[:2] if d in index.catalog.documents]
    if titles:
        text += " " + messages.CLOSEST.format(titles=", ".join(titles))
    return abstain(question, query, text)


#: A heading that says "this" or "it" needs its page to make sense: no example.
_DEICTIC = re.compile(r"\b(?:this|that|it|its|they|them|these|those|here)\b", re.I)


def example_text(index: Index) -> str:
    """A few example questions for a message, quoted."""
    return "; ".join(f"“{q}”" for q in example_questions(index)[:2])


def example_questions(index: Index, limit: int = 6) -> list[str]:
    """Questions this index answers: the profile's examples, else made from
    the corpus (question-shaped headings, then page titles)."""
    if index.profile.examples:
        return list(index.profile.examples)[:limit]
    asked: list[str] = []
    for doc_id in sorted(index.catalog.documents):
        for section in index.catalog.sections(doc_id):
            last = section.split(PATH_SEP)[-1]
            question = crux_question(last)
            if question.endswith("?") and len(question.split()) >= 3 and not _DEICTIC.search(question):
                asked.append(question)
                break
    titles = [f"What is {info.title}?" for _, info in sorted(index.catalog.documents.items())]
    picked = asked[:: max(1, len(asked) // max(1, limit - 2))][: limit - 2] if asked else []
    return (picked + titles[:: max(1, len(titles) // 2)])[:limit]


def _residual_text(plan: QueryPlan, query: str) -> str:
    """The question without the approach names, when that is a different search."""
    if plan.residual and plan.residual != query and re.search(r"\w{3}", plan.residual):
        return plan.residual
    return ""


def _fact_not_covered(plan: QueryPlan, hits: Sequence[Hit], strict: bool = False) -> bool:
    """A question after a specific fact whose names or numbers the evidence lacks
    (``strict``: for a question after when something began, a date of another
    event will not do)."""
    if not plan.fact:
        return False
    evidence = " ".join(h.chunk.text for h in hits[:3])
    if any(name.lower() not in evidence.lower() for name in plan.names):
        return True
    if plan.date and not is_date_evidence(evidence, began=plan.since):
        return True
    if strict and plan.since and not tells_beginning(" ".join(h.chunk.body for h in hits[:3])):
        return True  # told by the passage itself: a heading "Founding and Early Years (2010-2014)" tells no beginning
    return plan.number and not has_count(evidence, exclude=plan.text)


def _lead_with_fact(
    retriever: HybridRetriever, rankings: Sequence[Ranking], plan: QueryPlan, hits: list[Hit], named: Sequence[str]
) -> list[Hit]:
    """The hits led by the best-fused chunk that states the fact the question is
    after (a date, a number, the names it asks about), when the best hit lacks
    it but a chunk a little further down the same ranking, as similar to the
    question as an answer must be, has it. On a page the question names, less
    similarity will do, and the page's opening passages (where a page says
    what its subject is, when it began, where it is) are looked at last, then,
    for when it began, any chunk of the page telling a beginning."""
    deeper = retriever.fuse(rankings, ranking.FACT_DEPTH, expand_tables=False)
    if named:
        deeper += _openings(retriever, plan, named, {h.chunk.chunk_id for h in deeper})
    least = ranking.MIN_SIMILARITY_NAMED if named else ranking.MIN_SIMILARITY
    similar = [h for h in deeper if (h.dense or 0.0) >= least]
    if named and plan.since:  # when a named page's subject began: where the page tells a beginning, first one first
        seen = {h.chunk.chunk_id for h in similar}
        similar += [Hit(c, 0.0, None, None) for d in named for c in retriever.index.catalog.document_chunks(d)
                    if c.kind != "window" and c.chunk_id not in seen and tells_beginning(c.text)]
    found = next((h for h in similar if not _fact_not_covered(plan, [h], strict=True)), None)
    found = found or next((h for h in similar if not _fact_not_covered(plan, [h])), None)
    if found is None:
        return hits
    return _first([found], hits)


def _lead_with_figure(
    retriever: HybridRetriever, rankings: Sequence[Ranking], plan: QueryPlan, hits: list[Hit], named: Sequence[str]
) -> list[Hit]:
    """For "how often / how much / how well …": the hits led by a chunk stating a
    figure when the best one states none and the search found one; never a decline."""
    counted = replace(plan, fact=True, number=True)
    return _lead_with_fact(retriever, rankings, counted, hits, named) if _fact_not_covered(counted, hits[:1]) else hits


def _openings(retriever: HybridRetriever, plan: QueryPlan, doc_ids: Sequence[str], seen: set[str]) -> list[Hit]:
    """The passages of each page's first section (not in ``seen``), as hits with their similarity."""
    catalog = retriever.index.catalog
    out: list[Hit] = []
    for doc_id in doc_ids:
        chunks = catalog.document_chunks(doc_id)
        first = chunks[0].section if chunks else None
        ids = [c.chunk_id for c in chunks if c.section == first and c.kind == "passage" and c.chunk_id not in seen]
        for chunk_id, similarity in retriever.index.vectors.search(retriever.vector(plan.search_text), ids, len(ids)):
            out.append(Hit(catalog.chunks[chunk_id], 0.0, similarity, None))
    return out


def _document_ranking(index: Index, documents: Sequence[tuple[str, float]]) -> Ranking:
    """The chunks of the best-ranked documents, tied within a document."""
    items = [
        (chunk.chunk_id, score)
        for doc_id, score in documents
        for members in index.catalog.sections(doc_id).values()
        for chunk in members
    ]
    return Ranking("document", items, weight=ranking.DOCUMENT_WEIGHT, tied=True)


def _cue_ranking(index: Index, plan: QueryPlan, doc_ids: Sequence[str], support: Sequence[Ranking] = ()) -> Ranking:
    """The chunks of sections whose heading the question's wording points at,
    among the sections the search itself found (a cue word alone, such as
    "risk", does not pull in a section nothing else points to)."""
    found = {cid for listing in support for cid, _ in listing.items}
    sections = {(c.doc_id, c.section) for cid in found if (c := index.catalog.chunks.get(cid))}
    items = [
        (chunk.chunk_id, 1.0)
        for doc_id in doc_ids
        for section, chunks in index.catalog.sections(doc_id).items()
        if cue_matches(plan.cues, section) and (not support or (doc_id, section) in sections)
        for chunk in chunks
    ]
    return Ranking("cue", items, weight=ranking.CUE_WEIGHT, tied=True)


def _listing(index: Index, plan: QueryPlan, scope: Collection[str] | None) -> list[list[Cell]]:
    """Per approach, its cells on the asked dimensions, filtered by the asked rating."""
    matrix = index.matrix
    rows = []
    for doc_id, _ in matrix.approaches:
        if scope and doc_id not in scope:
            continue
        cells = [matrix.get(doc_id, d) for d in plan.dimensions]
        if any(c is None for c in cells):
            continue
        real = [c for c in cells if c is not None]
        if plan.rating and not all(_rated(c, plan.rating) for c in real):
            continue
        rows.append(real)
    if not plan.rating:
        rows.sort(key=lambda cells: -sum(rating_level(c.rating) for c in cells))
    return rows


def _rated(cell: Cell, rating: str) -> bool:
    have, want = cell.rating.lower(), rating.lower()
    return have == want or have == f"very {want}"


#: A sentence that only says what to compare ("Compare the X page with the Y page."):
#: it names the sides, and asks nothing a side's evidence should match.
_COMPARE_ONLY = re.compile(r"^\s*(?:please\s+)?(?:compare|contrast)\b", re.I)


def _evidence_for(index: Index, retriever: HybridRetriever, plan: QueryPlan, doc_id: str, k: int) -> list[Hit]:
    """The best evidence one approach offers for the question. A name the
    page never mentions is another side's ("Berkeley's CHAI" beside GovAI):
    this side's evidence need not state it."""
    if plan.names:
        page = " ".join(c.text for c in index.catalog.document_chunks(doc_id)).lower()
        plan = replace(plan, names=tuple(n for n in plan.names if n.lower() in page))
    pinned = _pinned(index, plan, doc_id)
    text = plan.residual if re.search(r"\w{3}", plan.residual) else plan.search_text
    asked = " ".join(p for p in re.split(r"(?<=[?.!])\s+", text) if not _COMPARE_ONLY.match(p))
    text = asked if re.search(r"\w{3}", asked) else text
    retriever.prepare([text, plan.search_text])
    rankings = retriever.ranked(text, {doc_id}, headings=True) + retriever.ranked(plan.search_text, {doc_id})
    if plan.cues:
        rankings.append(_cue_ranking(index, plan, [doc_id], rankings))
    hits = retriever.fuse(rankings, 4)
    if pinned:  # asked for by structure: those sections, the one the search ranks best first
        return [replace(h, score=1.0) for h in _pin(retriever, hits, pinned) if h.pinned]
    if plan.fact:  # each side's fact leads, even from its opening
        led = _lead_with_fact(retriever, rankings, plan, hits, [doc_id]) if _fact_not_covered(plan, hits[:1], strict=True) else hits
        if not _fact_not_covered(plan, led[:1]):
            return led
    elif plan.quantity:
        hits = _lead_with_figure(retriever, rankings, plan, hits, [doc_id])
    return _with_crux(index, _demote_overview(hits))


def _pinned(index: Index, plan: QueryPlan, doc_id: str | None) -> list[Chunk]:
    """Chunks a question asks for by structure: dimension rows, a standard section."""
    if doc_id is None:
        return []
    chunks: list[Chunk] = []
    dims = plan.dimensions or (index.matrix.dimensions if plan.overall else ())
    for dim in dims:
        cell = index.matrix.get(doc_id, dim)
        if cell is not None and cell.chunk.doc_id == doc_id:
            chunks.append(cell.chunk)
    if plan.section:
        for section, members in index.catalog.sections(doc_id).items():
            if index.reader.section_matches(plan.section, section):
                chunks.extend(members)
    return chunks


def _pin(retriever: HybridRetriever, hits: list[Hit], pinned: Sequence[Chunk]) -> list[Hit]:
    """The pinned chunks first: their sections in the order the search ranks them
    (the crux a question is about before the page's other cruxes), then the rest."""
    if not pinned:
        return hits
    place: dict[str, int] = {}
    for rank, hit in enumerate(hits):
        place.setdefault(hit.chunk.section, rank)
    pinned = sorted(pinned, key=lambda c: place.get(c.section, len(hits)))  # stable: page order within
    by_id = {h.chunk.chunk_id: h for h in hits}
    first = [Hit(c, 0.0, by_id[c.chunk_id].dense if c.chunk_id in by_id else None, None, pinned=True) for c in pinned]
    return _first(first, hits)


def _first(leading: Sequence[Hit], hits: list[Hit]) -> list[Hit]:
    """``leading`` ahead of the rest of ``hits``, scored just above the best of them."""
    top = max((h.score for h in hits), default=0.0) + 1e-3
    ids = {h.chunk.chunk_id for h in leading}
    return [replace(h, score=top) for h in leading] + [h for h in hits if h.chunk.chunk_id not in ids]


def _with_crux_prose(index: Index, hits: list[Hit]) -> list[Hit]:
    """The main crux with what its section says besides the table ("Observed
    problems: …", "Key question: …"), when the search found only the table."""
    main = hits[0].chunk if hits else None
    if main is None or main.table is None or not main.table.crux:
        return hits
    have = {h.chunk.chunk_id for h in hits}
    prose = [Hit(c, 0.0, None, None, expanded=True) for c in index.catalog.sections(main.doc_id).get(main.section, ())
             if c.kind == "passage" and c.table is None and c.chunk_id not in have]
    return hits[:1] + prose + hits[1:] if prose else hits


def _with_crux(index: Index, hits: list[Hit]) -> list[Hit]:
    """The crux table of the answer's main section, whole, when the search found
    only the section's prose ("Key question: …"): a crux is answered with its sides."""
    extra = _unfound_tables(index, hits, lambda rows: rows[0].table is not None and rows[0].table.crux)
    return hits[:1] + extra + hits[1:] if extra else hits


def _with_counts(index: Index, plan: QueryPlan, hits: list[Hit]) -> list[Hit]:
    """For a question after a number: the small tables of the answer's main
    section, whole, when none of their rows was retrieved (the counts a
    section's prose only comments on sit in its table)."""
    if not plan.number:
        return hits
    return _unfound_tables(index, hits, lambda rows: any(has_count(r.body) for r in rows)) + hits


def _unfound_tables(index: Index, hits: list[Hit], wanted: Callable[[list[Chunk]], bool]) -> list[Hit]:
    """The rows, as expanded hits, of each small table of the main section (the
    first hit's) of which the hits hold no row and whose rows ``wanted`` accepts."""
    if not hits:
        return []
    main = hits[0].chunk
    have = {h.chunk.chunk_id for h in hits}
    tables = {c.table.table_id for c in index.catalog.sections(main.doc_id).get(main.section, ()) if c.table is not None}
    extra: list[Hit] = []
    for table_id in sorted(tables):
        rows = index.catalog.table_rows(table_id)
        if len(rows) <= ranking.MAX_EXPANDED_ROWS and not any(r.chunk_id in have for r in rows) and wanted(rows):
            extra += [Hit(r, hits[0].score, None, None, expanded=True) for r in rows]
    return extra


def _demote_reading_lists(index: Index, plan: QueryPlan, hits: list[Hit]) -> list[Hit]:
    """A passage that is mostly a list of works cited, or a section the profile
    shows last unless asked for ("Sources", "Further reading", as prose or as a
    table of titles), points elsewhere; it answers little itself: put it last."""

    def listing(hit: Hit) -> bool:
        chunk = hit.chunk
        if index.reader.shown_last(chunk.section, plan.section):
            return True
        linked = sum(len(title) for title, _ in chunk.refs)
        return chunk.table is None and len(chunk.refs) >= ranking.READING_LIST_REFS and linked >= ranking.READING_LIST_SHARE * len(chunk.body)

    flags = [listing(h) for h in hits]
    lists = [h for h, last in zip(hits, flags) if last]
    rest = [h for h, last in zip(hits, flags) if not last]
    return rest + lists if rest else hits


def _demote_overview(hits: list[Hit]) -> list[Hit]:
    """The introduction is a poor answer to a specific question: put it last."""
    intro = [h for h in hits if h.chunk.section == OVERVIEW]
    rest = [h for h in hits if h.chunk.section != OVERVIEW]
    return rest + intro if rest else hits
