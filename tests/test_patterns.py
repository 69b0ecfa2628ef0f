"""The failure patterns of answers on unseen wording, one test each, on made-up
documents and a deterministic fake embedder (fast tier: no model is loaded)."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from bot.chat import ChatSession
from bot.query import QueryReader
from bot.retrieval import HybridRetriever, Index
from tests.fakes import FakeEmbedder, index_pages

FAKE = FakeEmbedder()

WIDGETS = """---
title: Widget Safety
description: Making widgets safe before they ship.
---

## Evaluation Summary

| Dimension | Assessment | Notes |
|-----------|------------|-------|
| Tractability | Medium | Standards exist but adoption is slow |
| Neglectedness | High | Few teams work on widget audits |

## Key Mechanisms

| Mechanism | Status | Notes |
|-----------|--------|-------|
| Factory audits | Already happening | Inspectors visit plants yearly |
| Recall orders | Already happening | Regulators pull faulty batches |
| Licensing | Proposed | Would need new legislation |

## Crux 1: Is Widget Safety Feasible?

| Feasible | Not feasible |
|----------|--------------|
| Few manufacturers | Supply chains are opaque |
| Cheap inspections | Counterfeits evade audits |
| Insurers demand it | Margins are thin |

## Who Should Work on This?

- Engineers with quality-control experience
- People who enjoy fieldwork
"""

GADGETS = """---
title: Gadget Oversight
description: Watching gadgets once they are deployed.
---

## Evaluation Summary

| Dimension | Assessment | Notes |
|-----------|------------|-------|
| Tractability | Low | Gadgets change faster than monitors |
| Neglectedness | Medium | Some labs monitor gadgets |

## Crux 1: Does Gadget Oversight Scale?

| Scales | Does not scale |
|--------|----------------|
| Monitors get cheaper | Gadgets outnumber monitors |
| Sampling works | Rare failures slip through |
| Logs are automatic | Logs can be forged |
"""

LENSES = """---
title: Interpretability Tools
description: Looking inside gadgets to see how they decide.
---

## Techniques

| Technique | What it finds |
|-----------|---------------|
| Probing | Which features a gadget represents |
| Circuit tracing | How a decision is computed |
"""


@pytest.fixture(scope="module")
def made_up(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three made-up approach pages indexed with the fake embedder."""
    pages = {"widget-safety.md": WIDGETS, "gadget-oversight.md": GADGETS, "interpretability-tools.md": LENSES}
    return index_pages(tmp_path_factory.mktemp("made-up"), pages)


def session(index: Path) -> ChatSession:
    return ChatSession(index, embedder=FAKE)  # type: ignore[arg-type]


def index_of(made_up: Path) -> Index:
    return Index.open(made_up, embedder=FAKE)  # type: ignore[arg-type]


# 1. Query "correction" never destroys words


def test_an_abbreviation_of_a_corpus_term_is_kept_and_expanded(made_up: Path):
    text, fixes = index_of(made_up).reader.correct("how far along is interp research?")
    assert "interp " in text and "interpretability" in text
    assert fixes == (("interp", "interpretability"),)


def test_real_words_and_corpus_words_are_never_rewritten(made_up: Path):
    reader = index_of(made_up).reader
    for question in ("is the intern programme any good?", "are recall orders happening?", "what about gadgets?"):
        assert reader.correct(question) == (question, ())
    assert reader.mentions("an intern asked about gizmos and gadgetry") == []  # no name made out of real words


def test_a_misspelling_is_corrected_towards_the_corpus_only_when_close(made_up: Path):
    reader = index_of(made_up).reader
    assert reader.correct("are factory audtis common?")[0] == "are factory audits common?"
    assert reader.correct("what about qwzx?") == ("what about qwzx?", ())


# 2. Paraphrases: a window of the page finds a table when no single row holds the words


def test_a_question_matching_a_table_but_no_single_row_finds_that_table(made_up: Path):
    retriever = HybridRetriever(index_of(made_up))
    hits = retriever.search("inspectors regulators legislation", k=6, expand_tables=False)
    assert {h.chunk.doc_id for h in hits} == {"widget-safety"}
    rows = {h.chunk.cells[0][1] for h in hits if h.chunk.section == "Key Mechanisms"}
    assert rows == {"Factory audits", "Recall orders", "Licensing"}  # the whole table, through its window


# 3. Right page, right table


def test_which_mechanisms_are_already_happening_gets_the_mechanisms_table(made_up: Path):
    answer = session(made_up).ask("Which widget safety mechanisms are already happening?")
    assert answer.citations[0].section == "Key Mechanisms"
    assert "Factory audits" in answer.text and "Recall orders" in answer.text


# 4. No padding; whole crux tables


def test_asking_whether_an_approach_is_overrated_asks_for_its_ratings(made_up: Path):
    reader = QueryReader([Page("widget-safety", "Widget Safety")], [Text("widget-safety", "Widget Safety is discussed here.")])
    assert reader.read("is widget safety overrated?").overall and reader.read("Is widget safety under-rated?").overall
    assert not reader.read("is widget safety rated by inspectors?").overall
    answer = session(made_up).ask("is widget safety overrated? everyone seems to do it")
    assert {c.section for c in answer.citations} == {"Evaluation Summary"} and "**Medium**" in answer.text


def test_a_rating_question_gets_the_rating_and_nothing_appended(made_up: Path):
    answer = session(made_up).ask("How tractable is widget safety?")
    assert "**Medium**" in answer.text and "adoption is slow" in answer.text
    assert {c.section for c in answer.citations} == {"Evaluation Summary"}
    assert "fieldwork" not in answer.text and "Crux" not in answer.text


def test_a_crux_is_given_whole_with_a_lead_sentence(made_up: Path):
    answer = session(made_up).ask("Does gadget oversight scale?")
    first = answer.text.splitlines()[0]
    assert "open question" in first and "[1]" in first
    for side in ("Gadgets outnumber monitors", "Rare failures slip through", "Logs can be forged", "Sampling works"):
        assert side in answer.text


SPROCKETS = """---
title: Sprocket Audits
description: Checking sprockets in the field.
---

## Crux 1: Do Sprocket Audits Work?

Observed problems:
- Inspectors miss hairline cracks
- Audits are announced in advance

| Audits work | Audits fail |
|-------------|-------------|
| Checklists catch most faults | Faults hide inside housings |
| Spot checks deter shortcuts | Sampling misses rare batches |
"""


def test_a_crux_found_by_its_table_comes_with_what_its_section_says_after_the_lead(tmp_path: Path):
    index = index_pages(tmp_path, {"sprocket-audits.md": SPROCKETS, "widget-safety.md": WIDGETS})
    answer = session(index).ask("Do sprocket audits work?")
    text = answer.text
    assert "open question" in text.splitlines()[0]
    assert "Faults hide inside housings" in text and "Inspectors miss hairline cracks" in text
    assert text.index("Faults hide inside housings") < text.index("Inspectors miss hairline cracks")
    numbers = [int(n) for n in re.findall(r"\[(\d+)\]", text)]
    assert list(dict.fromkeys(numbers)) == sorted(set(numbers))  # each source numbered where it is first cited


GEARBOXES = """---
title: Gearbox Inspection
description: How gearboxes are inspected.
---

## Overview

Gearbox inspection is the practice of checking gearboxes in service for wear before they fail. It grew out of
railway maintenance and now covers wind turbines, ships and factory lines. Inspectors work from a checklist
that the operator keeps, and the results go into a logbook that regulators may read. Most checks are visual,
and a few use vibration sensors clamped to the housing for a short run. The field has its own trade journals,
training courses and a small number of certification bodies that set the syllabus for new inspectors.
Turbine operators found that vibration sensors caught cracked teeth in gearboxes months before any visual check did.
"""


def test_a_long_passage_is_quoted_from_the_sentence_the_question_is_about(tmp_path: Path):
    index = index_pages(tmp_path, {"gearbox-inspection.md": GEARBOXES})
    answer = session(index).ask("Did vibration sensors catch cracked teeth in turbine gearboxes before visual checks?")
    assert "caught cracked teeth" in answer.text  # past the quote's length from the passage's start …
    assert "\n… " in answer.text and "railway maintenance" not in answer.text  # … quoted from a later sentence
    opening = session(index).ask("What is gearbox inspection and where did it grow out of?")
    assert "Gearbox inspection is the practice" in opening.text  # the opening holds as much of it: quoted from there


# 5. Near-topic questions are declined, naming what is not covered


def test_a_specific_subject_the_pages_never_mention_is_declined_by_name(made_up: Path):
    answer = session(made_up).ask("What does the Zorblax Act say about widget safety?")
    assert answer.abstained and answer.citations == []
    assert "Zorblax" in answer.text and "do not mention" in answer.text


def test_a_name_opening_the_question_is_still_a_name_when_no_dictionary_or_page_knows_it(
    made_up: Path, monkeypatch: pytest.MonkeyPatch
):
    from bot import ranking

    monkeypatch.setattr(ranking, "MIN_SIMILARITY", 0.0)  # declined for the name, not for weak evidence
    answer = session(made_up).ask("Zorblax claimed its factory audits replaced how many inspectors?")
    assert answer.abstained and "Zorblax" in answer.text
    reader = QueryReader([Page("widget-safety", "Widget Safety")], [Text("widget-safety", "Factory audits are discussed here.")])
    assert reader.read("Factory audits: who runs them?").names == ()  # an everyday word opening it is not
    assert reader.read("Facotry audits: who runs them?").names == ()  # nor a misspelling of the pages' words
    # a model or a chip, however typed, is a name the evidence must hold, unless the pages use it
    assert reader.read("how many z900s do the audits need?").specifics == ("z900s",)
    assert reader.read("How many Z900s do the audits need?").specifics == ("Z900s",)
    known = QueryReader([Page("widget-safety", "Widget Safety")], [Text("widget-safety", "Audits run on the Z900.")])
    assert known.read("how many z900s do the audits need?").specifics == ()
    # an everyday acronym of the trade is a thing, not a subject the pages must name; an organisation's is
    assert reader.read("Won't smarter algorithms make the GPU export rules pointless?").specifics == ()
    assert reader.read("Won't smarter algorithms make the WSRB export rules pointless?").specifics == ("WSRB",)


def test_a_number_the_evidence_lacks_is_declined(made_up: Path):
    answer = session(made_up).ask("Did widget audits start in 1987?")
    assert answer.abstained and "1987" in answer.text


# 6. Follow-ups that stand on their own do not inherit the topic


@pytest.mark.parametrize(
    "follow_up",
    ["hello", "thanks!", "Great, thanks, that's all I needed!", "tell me a joke", "what's the weather in Paris?", "is it going to rain there tomorrow?"],
)
def test_small_talk_and_off_topic_follow_ups_get_no_topic_and_no_citations(made_up: Path, follow_up: str):
    chat = session(made_up)
    assert not chat.ask("Is widget safety feasible?").abstained
    answer = chat.ask(follow_up)
    assert answer.abstained and answer.citations == []
    assert "Widget Safety" not in answer.query


def test_a_real_follow_up_still_inherits_the_topic(made_up: Path):
    chat = session(made_up)
    chat.ask("Is widget safety feasible?")
    answer = chat.ask("and how neglected is it?")
    assert answer.citations and answer.citations[0].doc_id == "widget-safety"
    assert "Few teams work on widget audits" in answer.text


def test_a_follow_up_in_words_the_pages_never_use_still_inherits_the_topic_when_it_asks_what_headings_answer(made_up: Path):
    chat = session(made_up)
    chat.ask("Is widget safety feasible?")
    answer = chat.ask("is that even a good idea? feels like it could go wrong")  # "idea", "feels", "wrong": not the pages' words
    assert "Widget Safety" in answer.query


# 7. Comparisons keep every subject


def test_a_comparison_answers_from_each_page(made_up: Path):
    answer = session(made_up).ask("Compare widget safety and gadget oversight on tractability")
    assert {c.doc_id for c in answer.citations[:2]} == {"widget-safety", "gadget-oversight"}
    assert "adoption is slow" in answer.text and "faster than monitors" in answer.text


def test_which_of_the_two_keeps_both_subjects(made_up: Path):
    chat = session(made_up)
    chat.ask("Compare widget safety and gadget oversight")
    answer = chat.ask("which of the two is more neglected?")
    assert {c.doc_id for c in answer.citations} == {"widget-safety", "gadget-oversight"}
    assert "Few teams work on widget audits" in answer.text and "Some labs monitor gadgets" in answer.text


# 8. It can describe itself


def test_what_do_you_know_about_lists_the_pages_from_the_catalog(made_up: Path):
    answer = session(made_up).ask("what approaches do you know about?")
    for title in ("Widget Safety", "Gadget Oversight", "Interpretability Tools"):
        assert title in answer.text
    assert len({c.doc_id for c in answer.citations}) == 3
    assert "Widget Safety — Making widgets safe before they ship." in answer.text  # each page with what it is about


@pytest.mark.parametrize(
    "question",
    ["Which approaches are covered here?", "What do the documents cover?", "What topics can I ask about?", "What is in here?",
     "What are all the approaches?", "Which safety approaches does this cover?"],
)
def test_asking_what_the_documents_cover_in_other_words_gets_the_catalog(made_up: Path, question: str):
    answer = session(made_up).ask(question)
    assert {c.doc_id for c in answer.citations} == {"widget-safety", "gadget-oversight", "interpretability-tools"}


def test_a_question_about_approaches_to_something_is_no_catalog_question():
    from bot.chat import _CATALOG

    for question in ("What approaches are there for catching faults?", "Which areas are covered by widget audits?"):
        assert not _CATALOG.search(question)


GIZMO_LAW = """---
title: Gizmo Law
---

## Overview

The Gizmo Law entered into force on March 3, 2021, after two years of hearings.

## Enforcement in Practice

When did inspectors first enter gizmo shops? The law says inspectors enter shops to enforce it in force.

## Who Enforces the Law

The law is enforced by regional boards; when the boards enforce it, the law did force sellers to register.

## Crux: Will Gizmo Registries Spread Abroad?

| Position | Probability | Holders | Implications |
|----------|-------------|---------|--------------|
| Registries spread widely | 40% | Trade bodies | Exporters register once |
| Registries stay national | 45% | Customs officials | Exporters register everywhere |
| Registries are abandoned | 15% | Sceptical economists | Sellers go unregistered |

## Crux: Will Fines Deter Sellers?

| Position | Probability | Holders | Implications |
|----------|-------------|---------|--------------|
| Fines deter most sellers | 55% | Regional boards | Keep fines as they are |
| Fines are priced in | 45% | Consumer groups | Add licence suspensions |

## Penalties

| Breach | Fine |
|--------|------|
| Selling unregistered gizmos | Up to 5,000 credits |
| Faking test results | Up to 20,000 credits |
"""


@pytest.fixture(scope="module")
def gizmo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return index_pages(tmp_path_factory.mktemp("gizmo"), {"gizmo-law.md": GIZMO_LAW, "widget-safety.md": WIDGETS})


def first_block(index: Path, question: str) -> str:
    """The first block of the answer to ``question``, which must not be declined."""
    answer = session(index).ask(question)
    assert not answer.abstained
    return answer.text.split("\n\n")[0]


def test_a_date_stated_a_little_further_down_the_ranking_leads_the_answer(gizmo: Path):
    assert "March 3, 2021" in first_block(gizmo, "When did the Gizmo Law enter into force?")


def test_a_number_only_dissimilar_passages_state_is_still_declined(gizmo: Path):
    answer = session(gizmo).ask("What salary do engineers with quality-control experience earn?")
    assert answer.abstained and answer.citations == []


def test_every_position_of_a_crux_is_given_in_a_comparison(gizmo: Path):
    answer = session(gizmo).ask("Compare Gizmo Law and Widget Safety: will registries spread abroad or stay national?")
    assert {c.doc_id for c in answer.citations} >= {"gizmo-law", "widget-safety"}
    for position in ("Registries spread widely", "Registries stay national", "Registries are abandoned"):
        assert position in answer.text


def Page(doc_id: str, title: str) -> SimpleNamespace:  # noqa: N802 - a made-up document, as QueryReader reads one
    return SimpleNamespace(doc_id=doc_id, title=title)


def Text(doc_id: str, body: str) -> SimpleNamespace:  # noqa: N802 - a made-up chunk of it
    return SimpleNamespace(doc_id=doc_id, body=body, section="Overview")


def test_a_pages_full_title_names_it_beside_pages_whose_titles_hold_it_but_the_search_must_agree():
    pages = [
        Page("orgs/miri", "MIRI"),
        Page("history/miri-era", "The MIRI Era (2000-2015)"),
        Page("risks/goal-drift", "Goal Drift"),
        Page("reports/goal-drift", "Goal Drift: Research Report"),
    ]
    reader = QueryReader(pages, [Text(p.doc_id, f"{p.title} is discussed here.") for p in pages])
    for question, page in (("What is MIRI?", "orgs/miri"), ("What is goal drift?", "risks/goal-drift")):
        plan = reader.read(question)
        assert plan.approaches == (page,)
        assert page in plan.weak  # contested words: named when the search ranks the page high too
    assert reader.read("What happened in the MIRI era?").approaches == ("history/miri-era",)


def test_a_section_word_inside_a_pages_name_asks_for_no_section():
    pages = [Page("misuse-cruxes", "Misuse Cruxes"), Page("widget-safety", "Widget Safety")]
    reader = QueryReader(pages, [Text(p.doc_id, f"{p.title} is discussed here.") for p in pages])
    assert reader.read("On the misuse cruxes, is widget misuse likely?").section is None
    assert reader.read("What are the cruxes of widget safety?").section == "cruxes"


def test_the_cruxes_asked_for_by_structure_come_in_the_order_the_search_ranks_them(gizmo: Path):
    answer = session(gizmo).ask("What are the cruxes of the Gizmo Law about whether fines deter sellers?")
    assert "Fines deter most sellers" in answer.text and "Registries spread widely" in answer.text
    assert answer.text.index("Fines deter most sellers") < answer.text.index("Registries spread widely")


def test_a_question_after_a_probability_needs_a_number_and_how_likely_does_not():
    pages = [Page("widget-safety", "Widget Safety")]
    reader = QueryReader(pages, [Text("widget-safety", "Widget Safety is discussed here.")])
    assert reader.read("What probability did the inspectors put on a widget recall?").number
    assert reader.read("What are the odds of a widget recall?").number
    assert not reader.read("How likely is a widget recall?").number


def test_a_comparison_gives_each_pages_passage_as_fully_as_a_lone_answer():
    from bot.answer import compose_groups
    from bot.markdown import parse_document
    from bot.retrieval import Hit

    long = "Audits catch faults early because inspectors sample every batch, " * 5
    pages = {"widgets": f"---\ntitle: Widgets\n---\n\n## Audits\n\n{long.strip()}\n",
             "gadgets": f"---\ntitle: Gadgets\n---\n\n## Audits\n\n{long.strip().replace('Audits', 'Monitors')}\n"}  # fmt: skip
    evidence = [[Hit(c, 1.0, 0.8, None) for c in parse_document(text.encode(), doc_id).chunks] for doc_id, text in pages.items()]
    answer = compose_groups("How do widget and gadget audits differ?", "", evidence)
    assert long.strip()[:300] in answer.text and long.strip().replace("Audits", "Monitors")[:300] in answer.text


def test_a_capitalized_name_inside_a_sentence_is_never_corrected(made_up: Path):
    reader = index_of(made_up).reader
    plan = reader.read("How much does the Inspectra project cost?")
    assert "Inspectra" in plan.text and "Inspectra" in plan.specifics
    assert reader.read("widgte safety tractability").text != "widgte safety tractability"  # typos still are


def test_a_long_full_name_a_coined_title_word_and_a_descriptions_subject_name_their_pages():
    pages = [
        Page("orgs/chai", "CHAI (Center for Human-Compatible Widgets)"),
        Page("labs/deepmind", "Google DeepMind"),
        SimpleNamespace(
            doc_id="orgs/wgov", title="WidGov", description="The Centre for the Governance of Widgets is a policy institute."
        ),
        Page("labs/acme", "Acme Labs"),
    ]
    # the coined word is everywhere, so it names its page only as a contested name the search confirms
    texts = [Text(p.doc_id, f"{p.title} is discussed here; DeepMind is mentioned.") for p in pages]
    reader = QueryReader(pages, texts * 3)
    assert reader.read("What does Berkeley's Center for Human-Compatible Widgets do?").approaches == ("orgs/chai",)
    plan = reader.read("When was DeepMind started?")
    assert plan.approaches == ("labs/deepmind",) and "labs/deepmind" in plan.weak
    assert reader.read("Who funds the Centre for the Governance of Widgets?").approaches == ("orgs/wgov",)
    assert reader.read("Does the question about making gadgets name any page?").approaches == ()


ACME = """---
title: Acme Labs
---

## Overview

Acme Labs is a widget organization in Lisbon, founded in 2019 by former inspectors.

""" + "".join(
    f"## Site {n}\n\nWhere it is based, Acme Labs is known for testing what did start at site {n}.\n\n" for n in range(30)
) + """## Publications

Acme Labs published its first widget audit report in 2021.
"""


@pytest.fixture(scope="module")
def acme(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return index_pages(tmp_path_factory.mktemp("acme"), {"acme-labs.md": ACME, "widget-safety.md": WIDGETS})


def test_when_a_named_page_began_is_answered_from_its_opening(acme: Path):
    assert "founded in 2019" in first_block(acme, "Where is Acme Labs based, when did it start, and what is it known for testing?")


def test_a_year_answers_only_when_something_began(acme: Path):
    # a year of something else is not a date the question asks for
    assert session(acme).ask("When did Acme Labs publish its first widget audit report?").abstained


def test_a_fact_about_a_named_page_is_looked_for_in_its_opening_when_the_ranking_lacks_it(acme: Path):
    from bot.planning import _lead_with_fact
    from bot.retrieval import Ranking

    index = index_of(acme)
    question = "When did Acme Labs start?"
    plan = index.reader.read(question)
    retriever = HybridRetriever(index)
    sites = [c for c in index.catalog.document_chunks("acme-labs") if c.section.startswith("Site")]
    hits = retriever.fuse([Ranking("dense", [(c.chunk_id, 0.9) for c in sites])], 8)  # the opening is in no list
    led = _lead_with_fact(retriever, [Ranking("dense", [(c.chunk_id, 0.9) for c in sites])], plan, hits, ["acme-labs"])
    assert "founded in 2019" in led[0].chunk.text
    assert _lead_with_fact(retriever, [Ranking("dense", [(c.chunk_id, 0.9) for c in sites])], plan, hits, []) == hits


def test_a_folders_opening_page_is_not_named_by_its_category_title():
    pages = [
        Page("orgs/labs/index", "AI Labs"),
        Page("orgs/labs/acme", "Acme"),
        Page("skills/index", "Capabilities"),
        Page("skills/reasoning/chains", "Reasoning Chains"),
        Page("index", "Widget Wiki"),  # a corpus' own opening page, beside no folder of its own
    ]
    reader = QueryReader(pages, [Text(p.doc_id, f"{p.title} is discussed here.") for p in pages])
    assert reader.read("Which AI labs have capabilities like Acme's?").approaches == ("orgs/labs/acme",)
    assert reader.read("What does the Widget Wiki cover?").approaches == ("index",)


def test_each_or_both_joining_two_things_asks_for_a_comparison(made_up: Path):
    reader = index_of(made_up).reader
    assert reader.read("How could recall orders and monitor sampling each fail?").contrast
    assert reader.read("Of the two, inspections or monitors, which is cheaper?").contrast
    assert not reader.read("What are both the risks and benefits of inspections?").contrast
    assert not reader.read("What does each crux say?").contrast
    answer = session(made_up).ask("How could recall orders and monitor sampling each fail?")
    assert {c.doc_id for c in answer.citations} >= {"widget-safety", "gadget-oversight"}


SOURCED = """---
title: Widget Audits
---

## How Audits Work

Inspectors sample each widget batch and test it against the standard.

## Key Sources and References

| Source | Description |
|--------|-------------|
| How Inspectors Sample Each Widget Batch | How do inspectors sample each widget batch: the standard |
| Sampling Each Widget Batch | How inspectors sample each widget batch, a handbook |
"""


def test_a_table_of_sources_comes_after_the_answer_unless_asked_for(tmp_path: Path):
    index = index_pages(tmp_path, {"widget-audits.md": SOURCED})
    answer = session(index).ask("How do inspectors sample each widget batch?")
    assert answer.text.index("How Audits Work") < answer.text.find("Key Sources") or "Key Sources" not in answer.text
    asked = session(index).ask("What sources on widget audits should I read?")
    assert asked.text.startswith("**Widget Audits › Key Sources and References**")


COUNTED = """---
title: Acme Registry
---

## Staffing

| Region | Staff |
|--------|-------|
| North | 120 |
| South | 85 |

Observers say the number of people who inspect widgets is hard to pin down, as 3 in 4 work part time.

""" + "".join(f"## Practice {c}\n\nWidget inspectors there, observers say, follow practice {c}.\n\n" for c in "ABCDEFGHIJKL")


def test_a_question_after_a_number_gets_the_small_table_of_its_answers_section(tmp_path: Path):
    from bot.planning import _with_counts
    from bot.retrieval import Hit

    index = Index.open(index_pages(tmp_path, {"acme-registry.md": COUNTED}), embedder=FAKE)  # type: ignore[arg-type]
    prose = next(c for c in index.catalog.sections("acme-registry")["Staffing"] if c.kind == "passage")
    hits = [Hit(prose, 1.0, 0.5, None)]  # the section's prose was retrieved, its table was not
    asked = _with_counts(index, index.reader.read("How many people inspect widgets?"), hits)
    assert len(asked) == 3 and "120" in asked[0].chunk.text + asked[1].chunk.text and "85" in asked[1].chunk.text
    assert all(h.expanded for h in asked if h.chunk is not prose)
    assert _with_counts(index, index.reader.read("Why is the number of inspectors hard to pin down?"), hits) == hits


def test_they_in_a_follow_up_is_the_last_subject_even_beside_another_pages_name(acme: Path):
    chat = session(acme)
    chat.ask("What is Acme Labs?")
    answer = chat.ask("Where are they based, if not in widget safety?")
    assert {c.doc_id for c in answer.citations} == {"acme-labs"}
    chat = session(acme)
    chat.ask("What is Acme Labs?")
    compared = chat.ask("How do they compare with Widget Safety?")
    assert {c.doc_id for c in compared.citations} == {"acme-labs", "widget-safety"}
    # a possessive refers to the subject the question names itself
    chat = session(acme)
    chat.ask("What is Acme Labs?")
    assert "(Acme Labs)" not in chat.ask("How do Widget Safety engineers see their audits?").query


def test_may_the_verb_is_no_date_and_and_when_asks_for_one():
    from bot.query import is_date_evidence

    assert not is_date_evidence("Models may be strategically deceptive.")
    assert is_date_evidence("The pause letter came out on May 5, 2023.") and is_date_evidence("signed in May 2024")
    reader = QueryReader([Page("labs/acme", "Acme Labs")], [Text("labs/acme", "Acme Labs is discussed here.")])
    assert reader.read("Who started it, and when?").date
    assert not reader.read("Who started it?").date
    assert reader.read("What date did the audits start?").date
    assert not reader.read("What date range do the forecasts point to?").date  # a range of years answers it


def test_which_came_first_needs_each_sides_beginning_and_is_declined_only_when_no_side_tells_it(tmp_path: Path):
    from bot.query import is_date_evidence, tells_beginning

    assert is_date_evidence("Founded in 2010 by three researchers", began=True)
    assert not tells_beginning("The April 2023 merger ended its independence")
    assert is_date_evidence("It entered into force on 1 August 2024", began=True)  # a full date still answers
    index = index_pages(tmp_path, {"acme-labs.md": ACME, "gizmo-law.md": GIZMO_LAW})
    plan = index_of(index).reader.read("Which came first, Acme Labs or the Gizmo Law?")
    assert plan.date and plan.since and len(plan.approaches) == 2
    around = index_of(index).reader.read("Which has been around longer, Acme Labs or the Gizmo Law?")
    assert around.date and around.since
    from bot.planning import _fact_not_covered
    from bot.retrieval import Hit

    row = SimpleNamespace(  # a heading that names a founding period tells no beginning; the passage must
        text="Acme Labs › History › Founding and Early Years (2010-2014) — Founder: Ada | Role: research lead",
        body="Founder: Ada | Role: research lead",
    )
    told = SimpleNamespace(text="Acme Labs › Overview — Acme Labs was founded in 2010.", body="Acme Labs was founded in 2010.")
    assert _fact_not_covered(plan, [Hit(row, 0.0, None, None)], strict=True)  # type: ignore[arg-type]
    assert not _fact_not_covered(plan, [Hit(told, 0.0, None, None)], strict=True)  # type: ignore[arg-type]
    answer = session(index).ask("Which came first, Acme Labs or the Gizmo Law? When was each founded?")
    assert not answer.abstained and "founded in 2019" in answer.text
    # a page telling when it began leads over one telling only another event's date
    assert "founded in 2019" in first_block(index, "When did Acme Labs start?")


def test_an_elliptical_follow_up_asking_for_examples_keeps_the_topic(made_up: Path):
    chat = session(made_up)
    chat.ask("What are the key mechanisms of widget safety?")
    answer = chat.ask("any examples already happening?")
    assert answer.citations and {c.doc_id for c in answer.citations} == {"widget-safety"}
    assert "(Widget Safety)" in answer.query
    # "any" opening a question of its own is a new question, not a follow-up
    assert "(Widget Safety)" not in chat.ask("Any work on monitor sampling?").query


def test_everyday_words_for_kinds_and_for_the_case_for_point_at_those_headings():
    reader = QueryReader([Page("widget-safety", "Widget Safety")], [Text("widget-safety", "Widget Safety is discussed here.")])
    assert "^types|form of" in reader.read("Which versions of widget safety are most realistic?").cues
    assert "case for|arguments for|^why" in reader.read("What's good about widget safety?").cues



def test_how_it_would_work_or_what_it_covers_points_at_the_section_saying_what_it_does():
    reader = QueryReader([Page("widget-safety", "Widget Safety")], [Text("widget-safety", "Widget Safety is discussed here.")])
    asked = [
        "How does checking every widget against the customer's complaints make the factory safer?",
        "What would that look like in practice?",
        "When people talk about safer widgets, what kinds of things does that cover?",
    ]
    for question in asked:
        cues = reader.read(question).cues
        assert any(re.search(cue, "What This Approach Does", re.I) for cue in cues), question
    assert not any(re.search(c, "What This Approach Does", re.I) for c in reader.read("Is widget safety tractable?").cues)


RATINGS = """---
title: Industry Scorecards
---

## Published Scores

The Inspectra rating gives widget safety programmes 3 of 5 and gadget oversight 2 of 5.
"""


def test_a_comparison_whose_subject_only_another_page_names_brings_that_page_in(tmp_path: Path):
    pages = {"widget-safety.md": WIDGETS, "gadget-oversight.md": GADGETS, "industry-scorecards.md": RATINGS}
    index = index_pages(tmp_path, pages)
    answer = session(index).ask("How do Widget Safety and Gadget Oversight compare on the Inspectra rating?")
    assert not answer.abstained
    assert {"widget-safety", "gadget-oversight", "industry-scorecards"} <= {c.doc_id for c in answer.citations}
    assert "3 of 5" in answer.text
    # a subject no page names is still declined by name
    assert session(index).ask("How do Widget Safety and Gadget Oversight compare on the Zorbex rating?").abstained


def test_everyday_words_ask_for_who_should_work_on_it_and_for_neglectedness():
    reader = QueryReader([Page("widget-safety", "Widget Safety")], [Text("widget-safety", "Widget Safety is discussed here.")])
    assert reader.read("I know factories well. Would widget safety be a sensible fit for me?").section == "who"
    assert reader.read("Is widget safety right for me, or a poor use of my time?").section == "who"
    assert reader.read("Who should think about taking a job at a widget factory?").section == "who"
    assert reader.read("Not technical, but I'm good with people: where would I fit?").section == "who"
    assert "Neglectedness" in reader.read("Are a lot of people working on widget safety, or is it a lonely field?").dimensions
    assert "If alignment hard" in reader.read("If it turns out that making AI behave is really hard, how much does widget safety matter?").dimensions


def test_which_is_better_x_or_y_asks_for_a_comparison():
    reader = QueryReader([Page("widget-safety", "Widget Safety")], [Text("widget-safety", "Widget Safety is discussed here.")])
    assert reader.read("Which is better at catching faults: factory audits or recall orders?").contrast
    assert not reader.read("Which audits are better?").contrast


def test_a_question_worded_like_a_found_sections_heading_is_answered_from_less_similar_evidence(
    made_up: Path, monkeypatch: pytest.MonkeyPatch
):
    from bot import ranking

    monkeypatch.setattr(ranking, "MIN_SIMILARITY", 1.01)  # no unnamed question is similar enough …
    monkeypatch.setattr(ranking, "MIN_SIMILARITY_CUED", 0.0)  # … but one naming a found section's heading is
    cued = session(made_up).ask("Could inspectors realistically pull off auditing every factory?")
    assert not cued.abstained and "Feasible" in cued.citations[0].section
    assert session(made_up).ask("Do inspectors audit every factory yearly?").abstained
    # asking for a standard section whose heading the best hits are under is cued as well
    fit = session(made_up).ask("I enjoy fieldwork and quality control: where would I fit?")
    assert not fit.abstained and fit.citations[0].section == "Who Should Work on This?"


def test_a_page_named_in_the_question_lowers_the_floor_but_a_follow_up_inheriting_its_name_does_not(
    made_up: Path, monkeypatch: pytest.MonkeyPatch
):
    from bot import ranking

    monkeypatch.setattr(ranking, "MIN_SIMILARITY", 1.01)  # no question is similar enough …
    monkeypatch.setattr(ranking, "MIN_SIMILARITY_NAMED", 0.0)  # (only for a fact to lead, never to answer at all)
    monkeypatch.setattr(ranking, "MIN_SIMILARITY_OWN_NAME", 1.01)
    assert session(made_up).ask("How tractable is widget safety?").abstained
    monkeypatch.setattr(ranking, "MIN_SIMILARITY_OWN_NAME", 0.0)  # … but one naming its page in its own words
    chat = session(made_up)
    assert not chat.ask("How tractable is widget safety?").abstained
    assert chat.ask("And what about its weather?").abstained  # the name inherited from the last turn lowers nothing


KEYED = """---
title: Sprocket Testing
description: Testing sprockets before sale.
---

## Crux 2: Hidden Faults

| Tests catch it | Faults slip through |
|----------------|---------------------|
| Faults leave traces | Some faults stay dormant |
| Testers are thorough | Budgets are small |

**Key question**: If a sprocket concealed its defect on purpose, would inspection still reveal it?

## Inspection Steps

| Step | Purpose |
|------|---------|
{steps}

## Who Should Work on This?

- Quality engineers
""".format(steps="\n".join(f"| Sprocket inspection step {i} | Reveals a concealed defect of kind {i} |" for i in range(1, 13)))


def test_a_crux_found_by_its_key_question_is_given_with_its_sides(tmp_path: Path):
    index = index_pages(tmp_path, {"sprocket-testing.md": KEYED})
    answer = session(index).ask("If a sprocket concealed its defect on purpose, would inspection reveal it?")
    assert not answer.abstained
    for argument in ("Faults leave traces", "Some faults stay dormant", "Budgets are small"):
        assert argument in answer.text


RECALLS = """---
title: Gizmo Recalls
description: When gizmos are pulled from shops.
---

## Background

Gizmo recalls happen often, and how often they happen worries regulators.

## Recall Figures

| Period | Gizmo recalls |
|--------|---------------|
| Last year | 41 recalls, most of them voluntary |
| The year before | 17 recalls |

## Who Should Work on This?

- Regulators
"""


def test_how_often_is_led_by_a_stated_figure_from_another_section(tmp_path: Path):
    index = index_pages(tmp_path, {"gizmo-recalls.md": RECALLS})
    answer = session(index).ask("How often do gizmo recalls happen?")
    assert not answer.abstained
    assert answer.citations[0].section == "Recall Figures" and "41" in answer.text.split("\n\n")[0]


def test_a_question_naming_its_page_is_answered_without_ranking_every_document(made_up: Path, monkeypatch: pytest.MonkeyPatch):
    calls: list[str] = []
    ranked = HybridRetriever.documents

    def counted(self: HybridRetriever, query: str, doc_ids=None):  # type: ignore[no-untyped-def]
        calls.append(query)
        return ranked(self, query, doc_ids)

    monkeypatch.setattr(HybridRetriever, "documents", counted)
    named = session(made_up).ask("How tractable is widget safety?")
    assert "Medium" in named.text and calls == []
    unnamed = session(made_up).ask("Factory audits: do inspectors visit plants yearly?")
    assert not unnamed.abstained and len(calls) == 1


def test_how_often_in_a_comparison_is_led_by_each_sides_figure(tmp_path: Path):
    sprockets = RECALLS.replace("Gizmo", "Sprocket").replace("gizmo", "sprocket").replace("41 recalls", "9 recalls")
    index = index_pages(tmp_path, {"gizmo-recalls.md": RECALLS, "sprocket-recalls.md": sprockets})
    answer = session(index).ask("How often do recalls happen: gizmo recalls versus sprocket recalls?")
    assert not answer.abstained
    led = [c for c in answer.citations if c.section == "Recall Figures"]
    assert {c.doc_id for c in led} == {"gizmo-recalls", "sprocket-recalls"}
    assert "41 recalls" in answer.text and "9 recalls" in answer.text


def test_which_ones_after_ways_of_something_asks_among_those_not_across_approaches_nor_for_a_rating():
    reader = QueryReader([Page("widget-safety", "Widget Safety")], [Text("widget-safety", "Widget Safety is discussed here.")])
    ways = reader.read("What different ways of slowing widgets down are there, and which ones are doable?")
    assert not ways.listing and not ways.dimensions  # doable among the ways: not the page's tractability rating
    assert reader.read("Is slowing widgets down doable?").dimensions == ("Tractability",)
    assert reader.read("Which ones are the most tractable?").listing
    assert reader.read("Which approaches are the most neglected?").listing


def test_progress_on_hold_asks_for_no_tractability_rating():
    reader = QueryReader([Page("widget-safety", "Widget Safety")], [Text("widget-safety", "Widget Safety is discussed here.")])
    assert "Tractability" not in reader.read("Would putting widget progress on hold be a good idea?").dimensions
    assert "Tractability" in reader.read("Is there progress on widget safety?").dimensions


POLICY = """---
title: Widget Policy
description: Rules for the companies making widgets.
---

## Rules

Companies making widgets must keep widgets safe, and regulators trust companies that report widget faults.

## Enforcement

Regulators fine companies making unsafe widgets.
"""

SELF_RULE = """---
title: Widget Workshops
description: How workshops handle safety on the inside.
---

## Crux 1: Can Workshops Self-Regulate?

| Yes | No |
|-----|----|
| Owners care about their name | Margins come first |
| Peers watch each other | Nobody checks |

## Hiring

Workshops hire inspectors.
"""


def test_a_heading_the_wording_names_on_the_second_best_page_is_found(tmp_path: Path):
    index = index_pages(tmp_path, {"widget-policy.md": POLICY, "widget-workshops.md": SELF_RULE})
    question = "Can we trust the companies making widgets to keep widgets safe voluntarily?"
    ranked = HybridRetriever(Index.open(index, embedder=FAKE)).documents(question)  # type: ignore[arg-type]
    assert [d for d, _ in ranked][:2] == ["widget-policy", "widget-workshops"]
    answer = session(index).ask(question)
    assert not answer.abstained and "Self-Regulate" in answer.citations[0].section


def test_will_it_keep_working_points_at_a_heading_on_durability():
    reader = QueryReader([Page("widget-safety", "Widget Safety")], [Text("widget-safety", "Widget Safety is discussed here.")])
    for question in ("Does inspecting factories stop working once widgets get cheaper?", "Will recall orders keep working?"):
        assert any(re.search(c, "Crux 2: Is Widget Control Durable?", re.I) for c in reader.read(question).cues), question


def test_the_wiki_profile_hears_what_are_the_positions_as_asking_for_its_cruxes():
    from bot.profile import load_profile

    profile = load_profile("", Path(__file__).resolve().parent.parent / "profiles" / "wiki.yaml")
    reader = QueryReader([Page("widget-recalls", "Widget Recalls")], [Text("widget-recalls", "Widget recalls are discussed here.")], profile)
    assert reader.read("What are the positions on whether widget recalls work, and how likely is each?").section == "cruxes"
    assert reader.read("What views does the widget recalls page lay out?").section == "cruxes"
    assert reader.read("How many widget recalls were there?").section is None


LAMPS = """---
title: Household Fixes
description: Mending things at home.
---

## Fixing Flickers

Old lamps flicker when loose wiring in worn sockets loses contact.

## Replacing Shades

Lamp shades are swapped by unscrewing the finial on top of the harp.
"""

SOCKETS = """---
title: Electrical Codes
description: Rules for electricians.
---

## Worn Sockets

Worn sockets with loose wiring spark, and lights on them flicker.

## Certification

Sockets are certified by a testing laboratory before sale.
"""


def test_a_question_two_pages_answer_about_equally_well_is_answered_from_both(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from bot import ranking

    index = index_pages(tmp_path, {"household-fixes.md": LAMPS, "electrical-codes.md": SOCKETS})
    question = "Why does loose wiring in worn sockets flicker?"
    ranked = HybridRetriever(Index.open(index, embedder=FAKE)).documents(question)  # type: ignore[arg-type]
    assert ranked[1][1] >= ranking.RIVAL_SHARE * ranked[0][1]  # the ranking cannot tell the two apart
    answer = session(index).ask(question)
    assert {c.doc_id for c in answer.citations[:2]} == {"household-fixes", "electrical-codes"}
    assert "Household Fixes" in answer.text.split("\n\n")[0] and "Electrical Codes" in answer.text.split("\n\n")[0]
    for passage in ("Worn sockets with loose wiring spark", "Old lamps flicker when loose wiring"):
        assert answer.text.count(passage) == 1  # each page's section quoted, once
    monkeypatch.setattr(ranking, "MAX_RELATED", 0)  # the first page's related sections aside, the second is quoted too
    alone = session(index).ask(question).text
    assert "Worn sockets with loose wiring spark" in alone and "Old lamps flicker when loose wiring" in alone
    monkeypatch.undo()
    clear = session(index).ask("How are lamp shades swapped by unscrewing the finial?")
    assert {c.doc_id for c in clear.citations} == {"household-fixes"}  # one page is clearly ahead: that page alone
    monkeypatch.setattr(ranking, "RIVAL_SHARE", 1.01)
    lead = session(index).ask(question).text.split("\n\n")[0]
    assert not ("Household Fixes" in lead and "Electrical Codes" in lead)  # no page named beside the first


def test_an_unsure_answer_quotes_one_row_of_the_second_page_in_the_place_of_a_related_section(
    made_up: Path, monkeypatch: pytest.MonkeyPatch
):
    from bot import ranking
    from bot.answer import compose
    from bot.retrieval import Hit

    catalog = index_of(made_up).catalog
    widgets = catalog.sections("widget-safety")
    main, related = widgets["Crux 1: Is Widget Safety Feasible?"], widgets["Key Mechanisms"]
    second = [c for c in catalog.sections("gadget-oversight")["Evaluation Summary"] if c.kind == "row"]
    hits = [Hit(c, 1.0, 0.60, None) for c in main] + [Hit(c, 0.95, 0.60, None) for c in related]
    answer = compose("q", hits, judged=True, also=[Hit(c, 0.9, 0.60, None) for c in second])
    assert "Gadget Oversight" in answer.text.split("\n\n")[0]  # both pages named first …
    assert "Gadgets change faster than monitors" in answer.text  # … the second quoted by its first row …
    assert "Some labs monitor gadgets" not in answer.text  # … and by that row alone
    monkeypatch.setattr(ranking, "MAX_RELATED", 1)
    assert "Factory audits" in compose("q", hits, judged=True).text  # one related section, shown when alone …
    answer = compose("q", hits, judged=True, also=[Hit(c, 0.9, 0.60, None) for c in second])
    assert "Factory audits" not in answer.text and "Gadgets change faster" in answer.text  # … the second page in its place


def test_different_from_asks_for_a_comparison():
    reader = QueryReader([Page("widget-safety", "Widget Safety")], [Text("widget-safety", "Widget Safety is discussed here.")])
    assert reader.read("How is factory auditing different from recall orders?").contrast
    assert not reader.read("Is it a different kind of audit?").contrast


SOCKET_CRUX = """---
title: Electrical Codes
description: Rules for electricians.
---

## Crux 1: Do Worn Sockets Cause Flicker?

| Loose wiring flickers | Worn sockets are fine |
|-----------------------|-----------------------|
| Worn sockets loosen wiring | Codes require sound sockets |
| Flicker follows loose wiring | Inspections catch worn sockets |
"""


def test_an_unsure_answer_never_names_the_other_page_by_one_side_of_a_crux(tmp_path: Path):
    from bot.evaluation.scoring import crux_balance

    index = index_pages(tmp_path, {"household-fixes.md": LAMPS, "electrical-codes.md": SOCKET_CRUX})
    answer = session(index).ask("Do old lamps flicker from loose wiring?")
    lead = answer.text.split("\n\n")[0]
    assert "Household Fixes" in lead and "Electrical Codes" in lead  # unsure: both pages named …
    assert crux_balance(answer) is None  # … the second not by one side of its crux


def test_everyday_words_for_headway_and_for_attention_ask_for_those_ratings():
    reader = QueryReader([Page("widget-safety", "Widget Safety")], [Text("widget-safety", "Widget Safety is discussed here.")])
    plan = reader.read("Can anyone make real headway on widget audits, and is it already a big focus?")
    assert plan.dimensions == ("Tractability", "Neglectedness")
    assert reader.read("Is widget safety something people can act on today? Is anyone actually talking about it?").dimensions == (
        "Tractability",
        "Neglectedness",
    )
    hard = reader.read("If making AI behave turns out to be really, really hard, does widget safety matter?")
    assert hard.dimensions == ("If alignment hard",)


def test_arguments_for_and_against_ask_for_no_case_for_one_side():
    from bot.query import cue_matches

    reader = QueryReader([Page("widget-safety", "Widget Safety")], [Text("widget-safety", "Widget Safety is discussed here.")])
    both = reader.read("Is widget safety something we want? What are the arguments for and against?").cues
    assert not cue_matches(both, "Why Widget Safety Matters")  # the case for one side is half the answer
    assert not cue_matches(reader.read("What are the pros and cons of widget audits?").cues, "Why Widget Safety Matters")
    assert cue_matches(reader.read("What are the arguments for widget audits?").cues, "Why Widget Safety Matters")


def test_what_was_achieved_asks_for_results_so_far_and_achievable_for_feasibility():
    from bot.query import cue_matches

    reader = QueryReader([Page("widget-safety", "Widget Safety")], [Text("widget-safety", "Widget Safety is discussed here.")])
    results = reader.read("Have the widget summits actually achieved much?").cues
    assert cue_matches(results, "Current Efforts") and not cue_matches(results, "Crux 1: Is Widget Safety Feasible?")
    assert cue_matches(reader.read("Is a widget treaty achievable?").cues, "Crux 1: Is Widget Safety Feasible?")


def test_where_we_are_heading_asks_for_the_default_future():
    from bot.query import cue_matches

    reader = QueryReader([Page("widget-safety", "Widget Safety")], [Text("widget-safety", "Widget Safety is discussed here.")])
    for question in ("Are we heading for one giant AI or lots of competing AIs?", "Where is AI heading: a single all-powerful system?"):
        assert cue_matches(reader.read(question).cues, "Crux 1: Is Multi-Agent the Default Future?")
    assert not cue_matches(reader.read("What is widget safety?").cues, "Crux 1: Is Multi-Agent the Default Future?")


ZENITH = """---
title: Zenith Institute
---

## Overview

Zenith Institute is a widget research group in Springfield, founded in 2015.

## Research

Zenith Institute studies widget failures.
"""

ORBIT = """---
title: Orbit Group
---

## Overview

Orbit Group studies how gadgets fail in the field.

""" + "".join(f"## Project {n}\n\nOrbit Group ran gadget field study number {n}.\n\n" for n in range(25)) + """## Organization Profile

| Attribute | Details |
|-----------|---------|
| Founded | 2012 (as part of a university) |
| Staff | 14 |
"""


def test_which_is_older_finds_each_sides_beginning_anywhere_on_its_page_and_needs_no_other_sides_name(tmp_path: Path):
    index = index_pages(tmp_path, {"zenith-institute.md": ZENITH, "orbit-group.md": ORBIT})
    question = "Which is older, Orbit Group or Springfield's Zenith Institute?"
    plan = index_of(index).reader.read(question)
    assert plan.since and "Springfield" in plan.names and len(plan.approaches) == 2
    answer = session(index).ask(question)
    assert not answer.abstained
    assert "2012 (as part of a university)" in answer.text and "founded in 2015" in answer.text


METERS = """---
title: Meter Oversight
---

## Costs

Meter monitors cost forty dollars each and run for a decade.

## Other Pages Compared

Compare this page with the pages on other oversight topics: the pages differ in scope.
"""

DIALS = """---
title: Dial Safety
---

## Costs

Dial monitors cost twelve dollars each.

## Other Pages Compared

Compare this page with the pages on other safety topics: the pages differ in scope.
"""


def test_a_sentence_saying_what_to_compare_is_not_searched_on_each_side(tmp_path: Path):
    index = index_pages(tmp_path, {"meter-oversight.md": METERS, "dial-safety.md": DIALS})
    answer = session(index).ask("What do monitors cost? Compare the Meter Oversight page with the Dial Safety page.")
    assert not answer.abstained and {c.section for c in answer.citations} == {"Costs"}
    assert "forty dollars" in answer.text and "twelve dollars" in answer.text
