"""MDX → markdown: unit tests on made-up snippets, and one pass over the real wiki."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.markdown import parse_document
from bot.mdx import ComponentRules, DataFolder, Reference, _find_tag, _parse_props, mdx_to_markdown
from bot.profile import load_profile

WIKI = Path(__file__).resolve().parent.parent.parent / "shared" / "wiki"

#: The wiki's component vocabulary, as its corpus profile gives it (made-up snippets use it).
RULES = ComponentRules.from_mapping(load_profile("", Path(__file__).resolve().parent.parent / "profiles" / "wiki.yaml").components)

#: What must never reach the markdown.
RAW_JSX = re.compile(r"<[A-Z]")
IMPORT_LINE = re.compile(r"^\s*(?:import|export)\s", re.M)
MERMAID = re.compile(r"-->|graph TD|^\s*(?:flowchart|graph)\b", re.M)


def md(body: str, data: DataFolder | None = None, **kwargs: object) -> str:
    """The markdown of a dedented snippet, asserting the universal guarantees."""
    kwargs.setdefault("rules", RULES)
    out, _warnings = mdx_to_markdown(textwrap.dedent(body), data, **kwargs)  # type: ignore[arg-type]
    assert not RAW_JSX.search(out), out
    assert "<R id=" not in out and not IMPORT_LINE.search(out) and not MERMAID.search(out), out
    return out


def rows_of(markdown: str) -> list[str]:
    """The table-row chunks the project's own parser makes of the markdown."""
    doc = parse_document(f"---\ntitle: T\n---\n{markdown}".encode(), doc_id="t")
    return [c.body for c in doc.chunks if c.kind == "row"]


@pytest.fixture
def data(tmp_path: Path) -> DataFolder:
    """A small made-up data folder: two entities, one with page content, and two references."""
    entities = tmp_path / "entities"
    resources = tmp_path / "resources"
    entities.mkdir()
    resources.mkdir()
    (entities / "things.yaml").write_text(
        textwrap.dedent(
            """\
            - id: moon-base
              title: Moon Base
              description: A base on the moon.
              relatedEntries:
                - id: tide-engine
                  relationship: powers
            - id: tide-engine
              title: Tide Engine
              parentFactor: moon-base
              description: >-
                Turns tides into work.
              ratings:
                changeability: 40
              keyDebates:
                - topic: Scale
                  description: Can it grow?
              content:
                intro: <ATMPage entityId="tide-engine" client:load>
                sections:
                  - heading: How It Works
                    body: "Water moves a wheel, see <R id=\\"ref-a\\">the study</R>."
                  - heading: Numbers
                    table:
                      headers: [Year, Output]
                      rows: [["2031", "5 MW"]]
                  - heading: Flow
                    mermaid: "flowchart LR\\n  A[Tide] --> B[Wheel]"
              causeEffectGraph:
                title: What drives output?
                nodes:
                  - id: tide
                    label: Tide Height
                    description: Bigger tides, more work.
                  - id: out
                    label: Output
                edges:
                  - source: tide
                    target: out
            """
        ),
        encoding="utf-8",
    )
    (resources / "papers.yaml").write_text(
        textwrap.dedent(
            """\
            - id: ref-a
              url: https://example.org/a
              title: 'Tides | A "Study"'
            - id: ref-b
              url: https://example.org/b
              title: Paper B
            """
        ),
        encoding="utf-8",
    )
    (resources / "broken.yaml").write_text("- id: [unclosed\n", encoding="utf-8")
    return DataFolder(tmp_path)


# ---------------------------------------------------------------------------
# Scanner and props


def test_scanner_skips_braces_quotes_and_templates_inside_props() -> None:
    text = 'x <Box a="}>" b={{k: "/>", t: `a ${ {n: 1}.n } }`}} c=\'>\'>inner</Box> y'
    tag = _find_tag(text, 2)
    assert tag is not None and tag.name == "Box" and not tag.self_closing
    assert text[tag.open_end : tag.close_start] == "inner"
    assert text[tag.end :] == " y"


def test_scanner_counts_nested_elements_of_the_same_name() -> None:
    text = "<Box>a <Box/> <Box>b</Box> c</Box>tail"
    tag = _find_tag(text, 0)
    assert tag is not None
    assert text[tag.open_end : tag.close_start] == "a <Box/> <Box>b</Box> c"
    assert text[tag.end :] == "tail"


def test_scanner_finds_self_closing_and_unclosed_tags() -> None:
    assert _find_tag("<Dot a={[1, 2]} />", 0).self_closing  # type: ignore[union-attr]
    unclosed = _find_tag("<Open a='1'> no end", 0)
    assert unclosed is not None and unclosed.self_closing  # treated as self-closing
    assert _find_tag("<Broken a={[1, 2 />", 0) is None


def test_props_evaluate_literals_and_template_literals() -> None:
    props = _parse_props('<X s="a &amp; b" n={-2} t={`line ${"one"}\nline two`} on l={[{k: null, b: true}]} />')
    assert props == {"s": "a & b", "n": -2, "t": "line one\nline two", "on": True, "l": [{"k": None, "b": True}]}


# ---------------------------------------------------------------------------
# Noise


def test_imports_exports_comments_and_directives_are_gone() -> None:
    out = md(
        """\
        import {Crux, R} from '../components';
        import {
          Aside,
        } from '@astrojs/starlight/components';
        export const stats = compute({a: 1});

        {/* a maintainer note */}
        Text one. {/* inline note */}

        <Aside type="note" client:load>Kept.</Aside>

        <!-- html comment -->
        Importers matter.
        """
    )
    assert "Text one." in out and "Kept." in out and "Importers matter." in out
    assert "maintainer" not in out and "client" not in out and "compute" not in out and "comment" not in out


def test_literal_expressions_are_text_and_computed_ones_vanish() -> None:
    out = md('A{" "}B and {stats.count} pages.\n')
    assert out.strip() == "A B and  pages."


# ---------------------------------------------------------------------------
# Wrappers


def test_unknown_components_are_unwrapped_with_title_as_lead_in() -> None:
    out = md(
        """\
        <Tabs>
          <TabItem label="First tab">
            | Col | Val |
            |-----|-----|
            | a   | 1   |
          </TabItem>
          <TabItem label="Second tab">
            Second text.
          </TabItem>
        </Tabs>

        <Card title="A card">Card body.</Card>
        """
    )
    assert "**First tab**\n\n| Col | Val |" in out
    assert "**Second tab**: Second text." in out
    assert "**A card**: Card body." in out
    assert "Col: a | Val: 1" in rows_of(out)


def test_aside_and_admonition_titles_become_lead_ins() -> None:
    out = md(
        """\
        <Aside type="caution" title="Watch out">
          The **sky** may fall.
        </Aside>

        :::tip[Good idea]
        Drink water.
        :::

        :::danger
        No title here.
        :::
        """
    )
    assert "**Watch out**: The **sky** may fall." in out
    assert "**Good idea**: Drink water." in out
    assert "No title here." in out and ":::" not in out


def test_nested_components_are_unwrapped_in_order() -> None:
    out = md(
        """\
        <Aside title="Outer">
        Before.

        <Aside title="Inner">Middle.</Aside>

        After.
        </Aside>
        """
    )
    assert re.search(r"\*\*Outer\*\*: Before\.\s+\*\*Inner\*\*: Middle\.\s+After\.", out)


def test_section_titles_are_sibling_headings() -> None:
    out = md(
        """\
        ## Topics

        <Section title="First">
          <EntityCards>
            <EntityCard id="x" title="Card One" description="About one." />
            <EntityCard title="Card Two" subtitle="Sub" probability="20%" description="About two." />
          </EntityCards>
        </Section>
        <Section title="Second">Text.</Section>
        """
    )
    assert "### First" in out and "### Second" in out
    assert "- **Card One**: About one." in out
    assert "- **Card Two** (Sub; 20%): About two." in out


# ---------------------------------------------------------------------------
# Ids resolved through the data folder


def test_reference_with_known_id_becomes_a_titled_link(data: DataFolder) -> None:
    out = md('See <R id="ref-b">the paper</R> and <R id="ref-b"></R>.\n', data)
    assert '[the paper](https://example.org/b "Paper B")' in out
    assert '[Paper B](https://example.org/b "Paper B")' in out


def test_reference_title_is_escaped_inside_a_table_cell(data: DataFolder) -> None:
    out = md(
        """\
        | Claim | Source |
        |-------|--------|
        | Tides work | <R id="ref-a">Smith 2030</R> |
        """,
        data,
    )
    assert r'[Smith 2030](https://example.org/a "Tides \| A \"Study\"")' in out
    assert rows_of(out) == ["Claim: Tides work | Source: Smith 2030"]


def test_reference_with_unknown_id_keeps_its_text(data: DataFolder) -> None:
    out, warnings = mdx_to_markdown('Read <R id="nope">this book</R>.\n', data, RULES)
    assert out.strip() == "Read this book."
    assert warnings == ["unknown reference: 'nope' is not in the data folder; its text is kept"]
    assert mdx_to_markdown('Read <R id="nope">this book</R>.\n', None, RULES)[0].strip() == "Read this book."


def test_entity_link_shows_the_title_or_the_humanized_id(data: DataFolder) -> None:
    out = md('<EntityLink id="moon-base" /> and <EntityLink id="ai-deceptive-alignment" />.\n', data)
    assert out.strip() == "Moon Base and AI deceptive alignment."
    assert md('<EntityLink id="deceptive-alignment" />\n').strip() == "Deceptive alignment"
    assert md('<EntityLink id="moon-base">the base</EntityLink>\n', data).strip() == "the base"


def test_data_folder_loads_lazily_and_skips_broken_files(data: DataFolder) -> None:
    assert data.entity_title("tide-engine") == "Tide Engine"
    assert data.entity("missing") is None
    assert data.reference("ref-b") == Reference("ref-b", "Paper B", "https://example.org/b")
    assert DataFolder(None).reference("ref-b") is None


def test_transition_model_page_renders_the_entity_record(data: DataFolder) -> None:
    out, warnings = mdx_to_markdown('<ATMPage entityId="tide-engine" client:load />\n', data, RULES)
    assert out.startswith("Turns tides into work.")
    assert "**Ratings**: Changeability: 40" in out
    assert "## How It Works\n\nWater moves a wheel, see [the study](https://example.org/a" in out
    assert "| Year | Output |" in out and "| 2031 | 5 MW |" in out
    assert "Diagram: Tide; Wheel." in out
    assert "## Key debates\n\n- **Scale**: Can it grow?" in out
    assert "## What drives output?" in out and "- **Tide Height**: Bigger tides, more work. Leads to: Output." in out
    assert "ATMPage" not in out and warnings == []


def test_page_entity_stands_in_for_a_stub_without_id(data: DataFolder) -> None:
    out = md("<TransitionModelContent client:load />\n", data, page_entity="tide-engine")
    assert "Turns tides into work." in out
    out, warnings = mdx_to_markdown('<ATMPage entityId="gone" />\n', data, RULES)
    assert out.strip() == "" and warnings[0].startswith("entity content missing")


def test_impact_list_and_sub_items_come_from_the_data(data: DataFolder) -> None:
    assert md('<ImpactList nodeId="moon-base" direction="from" />\n', data).strip() == "- **Tide Engine** (powers)"
    assert md('<ImpactList nodeId="tide-engine" direction="to" />\n', data).strip() == "- **Moon Base** (powers)"
    assert md('<FactorSubItemsList factorId="moon-base" />\n', data).strip() == "- **Tide Engine**: Turns tides into work."


# ---------------------------------------------------------------------------
# Components whose text sits in props


CRUX = """\
## Big questions

<Crux
  id="will-it-rain"
  question="Will it rain tomorrow?"
  domain="Weather"
  description="Whether clouds will deliver."
  importance="high"
  resolvability="days"
  currentState="Clouds gathering | wind rising"
  positions={[
    { view: "Yes, heavily", probability: "50-60%", holders: ["Ann", "Bo"], implications: "Bring an umbrella" },
    { view: "Drizzle only", probability: "25%", holders: ["Cy"], implications: "A hat will do" },
    { view: "No rain", probability: "15-25%", implications: "Leave the | umbrella" },
  ]}
  wouldUpdateOn={["A new forecast"]}
  relevantResearch={[{ title: "Cloud paper", url: "https://example.org/clouds" }]}
/>
"""


def test_crux_becomes_heading_description_state_and_position_table() -> None:
    out = md(CRUX)
    assert "### Crux: Will it rain tomorrow?\n\nWhether clouds will deliver." in out
    assert "**Current state**: Clouds gathering | wind rising" in out
    assert "| Position | Probability | Holders | Implications |" in out
    assert "| Yes, heavily | 50-60% | Ann, Bo | Bring an umbrella |" in out
    assert "| Drizzle only | 25% | Cy | A hat will do |" in out
    assert r"| No rain | 15-25% |  | Leave the \| umbrella |" in out
    assert "- A new forecast" in out and "[Cloud paper](https://example.org/clouds)" in out
    doc = parse_document(f"---\ntitle: T\n---\n{out}".encode(), doc_id="t")
    rows = [c for c in doc.chunks if c.kind == "row"]
    assert [c.section for c in rows] == ["Big questions › Crux: Will it rain tomorrow?"] * 3
    assert rows[2].cells[3] == ("Implications", "Leave the | umbrella")


def test_crux_heading_goes_one_deeper_than_the_last_heading_up_to_six() -> None:
    assert md("#### Deep\n\n" + CRUX.split("\n", 2)[2]).count("##### Crux: ") == 1
    assert md("###### Deepest\n\n" + CRUX.split("\n", 2)[2]).count("###### Crux: ") == 1
    assert md(CRUX.split("\n", 2)[2]).startswith("## Crux: ")


def test_key_questions_as_a_list_or_a_table_per_question() -> None:
    out = md(
        """\
        <KeyQuestions questions={["Is it soon?", "Is it safe?"]} />

        <KeyQuestions
          client:load
          questions={[
            { question: "Who pays?", positions: [
              { position: "The state", confidence: "low", reasoning: "Public good", implications: "Taxes" },
              { position: "Firms", confidence: "high", reasoning: "They profit" },
            ]},
          ]}
        />
        """
    )
    assert "**Key questions**\n\n- Is it soon?\n- Is it safe?" in out
    assert "| Question | Position | Confidence | Reasoning | Implications |" in out
    assert "| Who pays? | Firms | high | They profit |  |" in out


def test_disagreement_map_keeps_only_columns_with_data() -> None:
    out = md(
        """\
        <DisagreementMap
          title="When?"
          description="Views on timing"
          positions={[
            { name: "Ann", stance: "soon", confidence: "high", reasoning: "Trends", quote: "Any day now" },
            { name: "Bo", stance: "late", confidence: "low", reasoning: "Friction" },
          ]}
        />
        <DisagreementMap topic="P(x)" positions={[{ actor: "Cy", position: "High", estimate: "90%" }]} />
        """
    )
    assert "**When?** Views on timing" in out  # no colon after a question mark
    assert "| Name | Stance | Confidence | Reasoning | Quote |" in out
    assert "| Bo | late | low | Friction |  |" in out
    assert "| Name | Position | Estimate |\n|---|---|---|\n| Cy | High | 90% |" in out


def test_estimate_info_and_comparison_boxes_become_tables_and_lists() -> None:
    out = md(
        """\
        <EstimateBox variable="Odds of X" description="How likely." unit="%" aggregateRange="10-30%"
          estimates={[{ source: "Ann", value: "20", notes: "Gut" }, { source: "Bo", value: "25" }]} />

        <InfoBox type="crux" title="At a glance" customFields={[{ label: "Question", value: "Will X?" }]} />

        <ComparisonTable title="Options" items={[{ name: "Plan A", attributes: { Cost: "Low", Risk: "High" } }]} />

        <ComparisonTable columns={["Works?"]} rows={[{ name: "Idea", values: { "Works?": { value: "Maybe", badge: "medium" } } }]} />
        """
    )
    assert "**Odds of X**: How likely. Aggregate range: 10-30%." in out
    assert "| Source | Value (%) | Notes |" in out and "| Bo | 25 |  |" in out
    assert "**At a glance**\n\n- **Question**: Will X?" in out
    assert "**Options**\n\n| Name | Cost | Risk |\n|---|---|---|\n| Plan A | Low | High |" in out
    assert "| Name | Works? |\n|---|---|\n| Idea | Maybe |" in out


def test_lists_of_people_cruxes_events_and_sources() -> None:
    out = md(
        """\
        <KeyPeople people={[{ name: "Ann", role: "Chair", background: "Physics" }, { name: "Bo", role: "Staff" }]} />

        <CruxList domain="Weather" cruxes={[{ id: "r", question: "Rain?", importance: "high", summary: "Wet" }]} />

        <TimelineViz title="Milestones" events={[{ year: 2030, label: "First", probability: 0.5 }]} />

        <Sources sources={[{ title: "Book", author: "Ann", date: "2020" }, { title: "Site", url: "https://example.org" }]} />
        """
    )
    assert "| Name | Role | Background |" in out and "| Bo | Staff |  |" in out
    assert "**Cruxes: Weather**\n\n| Question | Importance | Summary | Id |" in out
    assert "**Milestones**\n\n| Label | Year | Probability |\n|---|---|---|\n| First | 2030 | 0.5 |" in out
    assert "- Book (Ann, 2020)\n- [Site](https://example.org)" in out


def test_jsx_table_family_with_literal_rows() -> None:
    out = md(
        """\
        <Table>
          <TableHeader><TableRow><TableHead>Kind</TableHead><TableHead>Count</TableHead></TableRow></TableHeader>
          <TableBody>
            <TableRow><TableCell>Risks</TableCell><TableCell className="text-right">12</TableCell></TableRow>
            {rows.map(r => (<TableRow key={r.id}><TableCell>{r.kind}</TableCell></TableRow>))}
          </TableBody>
        </Table>

        <Table><TableHeader><TableRow><TableHead>Only</TableHead></TableRow></TableHeader></Table>
        """
    )
    assert out.strip() == "| Kind | Count |\n|---|---|\n| Risks | 12 |"


# ---------------------------------------------------------------------------
# Diagrams and generated blocks


def test_mermaid_becomes_one_line_of_labels() -> None:
    out = md(
        """\
        Before.

        <Mermaid client:load chart={`
        flowchart TD
            subgraph Causes["Root causes"]
                A[Cheap chips<br/>everywhere]
            end
            A -->|drives| B("Big models")
            B -.-> C{Safe?}
            C -- "yes, mostly" --> D[[Deploy]]
            style A fill:#fff
        `} />

        After.
        """
    )
    assert "Diagram: Root causes; Cheap chips everywhere; Big models; drives; Safe?; Deploy; yes, mostly." in out
    assert "Before." in out and "After." in out and "style" not in out and "fill" not in out


def test_mermaid_without_labels_and_other_diagram_kinds() -> None:
    assert md("<Mermaid chart={`flowchart LR\n  A --> B`} />\n").strip() == ""
    pie = md('<Mermaid chart={`pie title Shares\n  "Apples" : 3\n  "Pears" : 5`} />\n')
    assert pie.strip() == "Diagram: Shares; Apples: 3; Pears: 5."
    fenced = md("```mermaid\nstateDiagram-v2\n  [*] --> Idle\n  Idle --> Busy: start\n```\n")
    assert fenced.strip() == "Diagram: Idle; Busy; start."


def test_generated_blocks_are_dropped_but_literal_data_boxes_kept() -> None:
    out = md(
        """\
        <DataInfoBox entityId="moon-base" />
        <Backlinks client:load entityId="moon-base" />
        <RecentUpdates limit={5} />
        <DataInfoBox title="Facts" data={{ "Founded": "2031", "Staff": 12 }} />
        Body.
        """
    )
    assert out.strip() == "**Facts**\n\n- **Founded**: 2031\n- **Staff**: 12\n\nBody."


# ---------------------------------------------------------------------------
# Text as a reader sees it


def test_escapes_entities_and_breaks_read_well_after_parsing() -> None:
    out = md(
        """\
        | Item | Price | Notes |
        |------|-------|-------|
        | Chip | \\$40 | &lt;5% of cost<br/>rising fast |
        """
    )
    assert rows_of(out) == ["Item: Chip | Price: $40 | Notes: <5% of cost; rising fast"]


def test_math_code_and_html_are_kept_as_text() -> None:
    out = md(
        """\
        The rate $R_{t} = \\sum_{i<j} x$ holds and `<Crux />` is a component.

        <div class="box">
          <a href="/x/">Link <strong>text</strong></a>
        </div>

        ```bash
        npm run build
        ```

        ```
        A plain sketch: in → out
        ```
        """
    )
    assert "$R_{t} = \\sum_{i<j} x$" in out
    assert "&lt;Crux /> is a component" in out
    assert "[Link **text**](/x/)" in out and "div" not in out
    assert "npm" not in out and "A plain sketch: in → out" in out


# ---------------------------------------------------------------------------
# Problems


def test_malformed_props_warn_and_the_page_goes_on() -> None:
    out, warnings = mdx_to_markdown(
        textwrap.dedent(
            """\
            Start.

            <Crux question="Broken?" positions={[{ view: "a",, }]} />

            <Aside title="Still here">Yes.</Aside>
            """
        ),
        None,
        RULES,
    )
    assert len(warnings) == 1 and warnings[0].startswith("props not parsed: <Crux>")
    assert "Start." in out and "**Still here**: Yes." in out and "positions" not in out


def test_unterminated_tag_and_stray_closing_tag_warn() -> None:
    out, warnings = mdx_to_markdown("<Crux question={[ never closed\n\nNext paragraph. </Aside>\n", None, RULES)
    assert out.strip() == "Next paragraph."
    assert [w.split(":")[0] for w in warnings] == ["unterminated tag", "stray closing tag"]


def test_never_raw_jsx_whatever_the_input() -> None:
    nasty = """\
    <Mystery />
    <Mystery>inner <Nested a={1}>deep</Nested></Mystery>
    Inline `<Code />` and ``<Two />``.
    ```mdx
    <Example />
    ```
    ```
    <Untagged />
    ```
    </Orphan>
    <Bad a={
    """
    out, warnings = mdx_to_markdown(textwrap.dedent(nasty), None, RULES)
    assert not RAW_JSX.search(out), out
    assert "inner deep" in out
    assert any(w.startswith("unknown component") for w in warnings)


FRAGMENTS = [
    "<Box>", "</Box>", "<Box a={[1, 2]} />", '<R id="x">', "</R>", "<EntityLink id='e' />", "{", "}", "`",
    "```", "```text\n", "\n", "\n\n", "Words ", "A", "$", "\\", "<br/>", "| a | b |", "|---|---|", "<!--", "-->",
    ":::note[T]", ":::", "import x from 'y'", "<Mermaid chart={`graph TD\nA[x]-->B`} />", '"', "'", "<", ">", "/>",
    "{/* c */}", "<Crux question=\"q\" positions={[{view: 'v'}]} />", "<div>", "</div>", "  ", "## H",
]  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=30))
def test_any_mix_of_markup_converts_without_raw_tags(parts: list[str]) -> None:
    out, warnings = mdx_to_markdown("".join(parts), None, RULES)
    assert not RAW_JSX.search(out) and "<R id=" not in out
    assert all(": " in w for w in warnings)


def test_rules_are_data() -> None:
    rules = ComponentRules(drop=frozenset({"Aside"}), renderers={"Question": "crux"})
    out = md('<Aside title="x">gone</Aside>\n\n<Question question="Why?" />\n', rules=rules)
    assert out.strip() == "## Crux: Why?"


def test_rules_from_a_profile_merge_over_the_defaults() -> None:
    rules = ComponentRules.from_mapping(
        {"renderers": {"Poll": "key_questions", "Aside": "drop", "EntityLink": "entity_link"}, "acronyms": ["ea"]}
    )
    assert rules.renderers["Mermaid"] == "mermaid" and rules.renderers["Poll"] == "key_questions"
    assert "Crux" not in rules.renderers and not rules.drop and rules.acronyms == frozenset({"ea"})
    assert RULES.renderers["Crux"] == "crux" and "Backlinks" in RULES.drop  # the wiki's profile names them
    out = md('<Poll questions={["Why?"]} />\n\n<Aside>gone</Aside>\n\n<EntityLink id="ea-forum" />\n', rules=rules)
    assert out.strip() == "**Key questions**\n\n- Why?\n\nEA forum"
    with pytest.raises(ValueError, match="unknown renderer kind"):
        ComponentRules.from_mapping({"renderers": {"X": "sparkles"}})
    with pytest.raises(ValueError, match="unknown component rule"):
        ComponentRules.from_mapping({"dorp": []})


# ---------------------------------------------------------------------------
# The real wiki


def _body(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    match = re.match(r"\A---\s*\n.*?\n---\s*(?:\n|\Z)", text, re.S)
    return text[match.end() :] if match else text


@pytest.mark.skipif(not (WIKI / "docs").is_dir(), reason="../shared/wiki is absent (the real corpus sits beside the repo)")
def test_every_wiki_page_converts_clean() -> None:
    data = DataFolder(WIKI / "data")
    pages = sorted(p for p in (WIKI / "docs").rglob("*") if p.suffix in (".md", ".mdx"))
    assert len(pages) >= 400
    problems = []
    cruxes = headings = tables = 0
    for page in pages:
        rel = page.relative_to(WIKI / "docs").as_posix()
        body = _body(page)
        out, _warnings = mdx_to_markdown(body, data, RULES)
        maintainer = rel.startswith("internal/") or page.name.startswith("_")
        checks = {
            "<R id=": "<R id=" in out,
            "import line": bool(IMPORT_LINE.search(out)),
            "mermaid": bool(MERMAID.search(out)) or (not maintainer and bool(re.search(r"graph TD|flowchart", out))),
            "raw JSX": bool(RAW_JSX.search(out)),
        }
        problems += [f"{rel}: {what}" for what, bad in checks.items() if bad]
        if rel.startswith("knowledge-base/cruxes/"):
            cruxes += len(re.findall(r"<Crux\b", body))
            headings += len(re.findall(r"^#{2,6} Crux: \S", out, re.M))
            tables += out.count("| Position | Probability | Holders | Implications |")
    assert problems == []
    assert cruxes == headings == tables == 43
