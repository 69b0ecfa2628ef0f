"""Synthetic approach documents for benchmarks at ~1k, 10k and 100k chunks.

Each generated file follows the real corpus format (YAML front matter, a
``**The approach**:`` paragraph, an ``## Evaluation Summary`` table, two
explanatory tables, a bullet list with bold lead-ins, three ``## Crux N``
tables, ``**Key uncertainty**``, ``## Who Should Work on This?``), with text
composed from AI-safety vocabulary so embeddings and BM25 see real diversity.

The chunk count is counted while generating, the way ``bot.markdown`` chunks:
one chunk per table body row, plus one per prose block (the overview with the
description, each prose/list section, each bold lead-in group). A document
yields about :data:`CHUNKS_PER_DOCUMENT` chunks.

    python bench/synthetic.py /tmp/synth-10k --chunks 10000 [--seed 0]

prints ``N documents, M chunks``. Write into an empty folder: files already
there are left in place and would be indexed too. Pure stdlib.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from collections.abc import Sequence
from pathlib import Path

#: Files per subfolder (``batch-000``, ``batch-001``, …).
BATCH_SIZE = 100

#: Mean chunks per generated document (see the layout in :func:`_document`):
#: prose 1 overview + 1 how + 1 why + 1 research list + 3.5 lead-ins
#: + 1 key uncertainty + 2 who; rows 4 assessment + 5 + 5 explanatory
#: + 3 x 3.5 crux.
CHUNKS_PER_DOCUMENT = 35.0

# ---------------------------------------------------------------------------
# Vocabulary

ADJ = """adaptive adversarial agentic automated behavioral binding calibrated causal
cooperative corrigible covert deceptive decentralized distributed emergent empirical
external federated formal frontier gradual hidden honest incremental independent
internal interpretable iterative latent layered long-horizon mechanistic misaligned
modular multi-agent narrow open-weight opaque persistent probabilistic provable
recursive robust scalable secure situational sparse strategic superhuman supervised
systemic transparent trusted untrusted verifiable voluntary weak-to-strong
international national shared public pre-deployment post-deployment autonomous
compositional counterfactual quantitative red-teamed sandboxed tamper-evident
cryptographic statistical""".split()

# Evaluative adjectives for short notes.
EVAL = """immature costly untested promising contested fragile expensive underfunded
crowded neglected partial unclear uncertain early slow well-funded brittle hard
cheap tractable speculative unproven limited nascent""".split()

NOUN = """agent assistant audit auditor backdoor benchmark capability checkpoint circuit
classifier coalition consortium constraint critique dataset debate deployment
detector disclosure evaluator feature forecast framework gradient guardrail incentive
incident inspection institution judge lab leaderboard license log mandate monitor
neuron norm objective optimizer pipeline policy precedent preference probe protocol
regulator reward rubric sandbox safeguard simulator specification standard supervisor
threshold tournament trace transcript treaty trigger tripwire verifier watermark
workflow world-model goal value representation subagent proof certificate registry
disclosure-regime kill-switch chip cluster datacenter scaffold prompt jailbreak
exploit honeypot attestation commitment wager bounty""".split()

MASS = """alignment oversight autonomy provenance scheming sandbagging fine-tuning steering
interpretability drift control elicitation compute hardware evidence deception
misuse sycophancy reward-hacking power-seeking robustness accountability
transparency verification governance coordination liability enforcement
monitoring attribution generalization collusion deployment""".split()

VERB = """audit bound calibrate catch certify constrain coordinate decompose detect
disclose elicit enforce evaluate expose flag forecast generalize harden incentivize
inspect isolate limit localize measure monitor probe quantify reduce reveal scale
shape steer stress-test supervise surface track train verify weaken withstand
prevent predict reward document standardize license benchmark trace attribute
red-team amplify distill patch contain interrupt penalize simulate""".split()

ACTORS = """labs|regulators|researchers|auditors|governments|developers|evaluators|red teams|
policymakers|insurers|standards bodies|cloud providers|chip makers|safety teams|academics|
funders|courts|deployers""".replace("\n", "").split("|")

ORGS = """frontier labs|academic groups|nonprofit institutes|government safety institutes|
independent evaluators|standards bodies|open-source communities|industry consortia|
university labs|policy think tanks""".replace("\n", "").split("|")

TITLE_ADJ = """Adaptive Recursive Verifiable Distributed Cooperative Scalable Formal Empirical
Robust Transparent Incremental Federated Layered Provable Decentralized Mechanistic
Automated Calibrated Adversarial Collective Hardware-Backed Structured Debate-Based
Interpretable Tamper-Evident Staged Audited Bounded Corrigible""".split()

TITLE_NOUN = """Oversight Interpretability Governance Auditing Control Alignment Evaluation
Monitoring Verification Red-Teaming Containment Coordination Provenance Accountability
Steering Elicitation Forecasting Licensing Attestation Sandboxing Deliberation
Supervision Disclosure Certification""".split()

TITLE_SUFFIX = """Protocols Frameworks Methods Agenda Programs Standards Research Regimes
Toolkits Pipelines Commitments Mechanisms Practices Strategies""".split()

CRUX_SIDES = [
    ("Holds", "Breaks down"),
    ("Scales", "Doesn't scale"),
    ("Optimistic view", "Pessimistic view"),
    ("Yes", "No"),
    ("Works in time", "Arrives too late"),
    ("Transfers", "Doesn't transfer"),
    ("Labs adopt it", "Pressure erodes it"),
    ("Can be fixed", "Fundamental limitation"),
    ("Signal is real", "Signal is an artifact"),
    ("Cooperation wins", "Competition wins"),
]

EXPLAIN_TABLES: list[tuple[str, tuple[str, ...]]] = [
    ("Key Techniques", ("Technique", "What it does", "Limitation")),
    ("Core Methods", ("Method", "Mechanism", "Weakness")),
    ("Main Components", ("Component", "Role", "Open issue")),
    ("Toolkit", ("Tool", "Use", "Caveat")),
]

SECOND_TABLES: list[tuple[str, tuple[str, ...]]] = [
    ("Key Risks", ("Risk", "Description")),
    ("Key Research Areas", ("Area", "Question")),
    ("Failure Modes", ("Failure mode", "Why it matters", "Mitigation")),
    ("Milestones", ("Milestone", "Status", "Who")),
]

STATUS = ["Demonstrated", "In progress", "Proposed", "Early prototype", "Not started", "Partially deployed"]

LEAD_INS = [
    "Tension",
    "Open question",
    "Evidence so far",
    "Main bottleneck",
    "Counterpoint",
    "Track record",
    "Theory of change",
    "Failure story",
]

WHY_HEADINGS = ["Why {core} Matters", "The Problem It Addresses", "Motivation", "Why Now"]
HOW_HEADINGS = ["How It Works", "The Mechanism", "In Practice"]
RESEARCH_HEADINGS = ["Current Research", "Research Directions", "Active Projects", "Key Work So Far"]
OPEN_HEADINGS = ["Open Problems", "Tensions and Open Questions", "Limitations"]

# Sentence templates. Slots: {A} adjective, {E} evaluative adjective, {N}
# count noun, {Ns} plural count noun, {M} mass noun, {V} verb, {Vs} verb
# (third person), {X} actors, {O} organisations, {T} the document's topic.
NOTES = [
    "{Vs} {A} {M}",
    "{A} {Ns} {V} {Ns}",
    "{A} {M} remains {E}",
    "Depends on {A} {Ns}",
    "Needs {A} {Ns} and {Ns}",
    "Works for {A} {Ns}, not {Ns}",
    "Cheap insurance against {A} {M}",
    "Useful even without {A} {Ns}",
    "Major focus at {A} labs",
    "Little attention outside {X}",
    "{E} but {E} so far",
    "Few {A} {Ns} exist yet",
    "{X} rarely {V} {M}",
    "Builds on {A} {N} work",
    "Still {E} for {A} {Ns}",
]

CLAIMS = [
    "{A} {Ns} {V} {M} before deployment",
    "{X} can {V} {A} {Ns} at scale",
    "{M} improves alongside {A} {Ns}",
    "Catching one {A} {N} is strong evidence",
    "{A} {M} is cheap relative to {M}",
    "Only needs to cover {A} {Ns}",
    "{A} {Ns} keep pace with {A} {Ns}",
    "{X} have clear incentives to {V} {M}",
    "Existing {Ns} already {V} most {Ns}",
    "{A} {Ns} evade {A} {Ns}",
    "{M} outpaces every {A} {N}",
    "{X} quietly cut {M} budgets",
    "Test settings differ from {A} {M}",
    "{A} {Ns} hide {A} {M}",
    "The {N} gap keeps widening",
    "Competition erodes {A} {Ns}",
]

SENTENCES = [
    "{X} {V} {A} {Ns} so that {A} {M} becomes harder to exploit.",
    "A {A} {N} is paired with a {A} {N} and a small budget for {M}.",
    "Each {N} is scored by a {A} {N}, and the most suspicious ones go to {X}.",
    "The goal is to {V} {A} {M} before {A} {Ns} reach deployment.",
    "In a {A} {N}, {X} play the model as an attacker while the {N} tries to {V} it.",
    "{T} treats {M} as a {A} property that {X} can {V} directly.",
    "Progress is measured with {A} {Ns} that {V} {M} under {A} conditions.",
    "Results so far suggest {A} {Ns} {V} {M} better than {A} {Ns}.",
    "Without {A} {Ns}, {X} have little ability to {V} {A} {M}.",
    "The bet is that {A} {M} buys time for {A} {M} to mature.",
    "{X} and {X} share {A} {Ns} through a common {N}.",
    "Critics argue that {A} {Ns} only {V} the {A} cases.",
]

QUESTIONS = [
    "Will {A} {M} hold for {A} {Ns}",
    "Can {X} {V} the model's {A} {Ns}",
    "Does {A} {M} transfer to {A} {Ns}",
    "Is {A} {M} the real bottleneck",
    "Will {X} pay the {M} tax",
    "Can {A} {Ns} keep up with {M}",
    "Do {A} {Ns} reveal {A} {M}",
    "Will {A} {Ns} arrive in time",
    "Is {M} worth the cost for {X}",
    "Would {A} {Ns} survive {A} pressure",
]

BELIEFS = [
    "{A} {M} may not be solved before {A} {Ns} arrive",
    "{X} will {V} {A} {Ns} if given clear {Ns}",
    "{A} {M} is tractable with engineering",
    "Near-term, empirically testable work on {M} matters",
    "{A} {Ns} are the main source of risk",
    "{X} respond to {A} {Ns}",
    "{M} can be measured well enough to {V}",
    "Security mindset and {A} {Ns} appeal to you",
    "{A} {Ns} will quickly outpace any {N}",
    "{A} {M} will be solved well enough by default",
    "{X} will ignore {A} {Ns}",
    "{M} is fundamentally unmeasurable",
    "The bottleneck is {A} {M}, not {M}",
]


def _plural(noun: str) -> str:
    head, sep, tail = noun.rpartition("-")
    word = tail
    if word.endswith(("s", "sh", "ch", "x", "z")):
        word += "es"
    elif word.endswith("y") and word[-2:-1] not in "aeiou":
        word = word[:-1] + "ies"
    else:
        word += "s"
    return head + sep + word


def _third(verb: str) -> str:
    """Third person singular: ``verify`` → ``verifies``, ``stress-test`` → ``stress-tests``."""
    return _plural(verb)


#: Word pools behind each template slot; ``T`` is the document's topic.
_POOLS: dict[str, list[str]] = {
    "A": ADJ,
    "E": EVAL,
    "N": NOUN,
    "Ns": [_plural(n) for n in NOUN],
    "M": MASS,
    "V": VERB,
    "Vs": [_third(v) for v in VERB],
    "X": ACTORS,
    "O": ORGS,
}
_SLOT = re.compile(r"\{(A|E|N|Ns|M|V|Vs|X|O|T)\}")
_AN = re.compile(r"\b([Aa]) (?=[aeiouAEIOU])")

#: A template split once: literal text alternating with word pools (``None``
#: for the topic), plus whether an "a" before a slot may need to become "an".
_Compiled = tuple[tuple[str, ...], tuple[list[str] | None, ...], bool]
_COMPILED: dict[str, _Compiled] = {}


def _compile(template: str) -> _Compiled:
    compiled = _COMPILED.get(template)
    if compiled is None:
        parts = _SLOT.split(template)
        pools = tuple(None if k == "T" else _POOLS[k] for k in parts[1::2])
        compiled = (tuple(parts[0::2]), pools, bool(re.search(r"\b[Aa] \{", template)))
        _COMPILED[template] = compiled
    return compiled


class _Writer:
    """Composes phrases for one document from its own random stream."""

    def __init__(self, rng: random.Random, topic: str):
        self.rng = rng
        self.topic = topic

    def fill(self, template: str) -> str:
        texts, pools, needs_an = _compile(template)
        rand = self.rng.random
        out = [texts[0]]
        for pool, text in zip(pools, texts[1:]):
            out.append(self.topic if pool is None else pool[int(rand() * len(pool))])
            out.append(text)
        joined = "".join(out)
        if needs_an:
            joined = _AN.sub(r"\1n ", joined)
        return joined[0].upper() + joined[1:]

    def note(self) -> str:
        return self.fill(self.rng.choice(NOTES))

    def claim(self) -> str:
        return self.fill(self.rng.choice(CLAIMS))

    def sentence(self) -> str:
        return self.fill(self.rng.choice(SENTENCES))

    def sentences(self, lo: int, hi: int) -> str:
        return " ".join(self.sentence() for _ in range(self.rng.randint(lo, hi)))

    def question(self) -> str:
        return self.fill(self.rng.choice(QUESTIONS)) + "?"

    def beliefs(self, k: int) -> list[str]:
        return [self.fill(t) for t in self.rng.sample(BELIEFS, k)]

    def name(self) -> str:
        return self.fill("{A} {M}" if self.rng.random() < 0.5 else "{A} {N}")

    def bolden(self, text: str) -> str:
        """Bold one inner word, as the real documents do; never the first."""
        words = text.split(" ")
        candidates = [i for i in range(1, len(words) - 1) if words[i].isalpha() and words[i].islower()]
        if candidates and self.rng.random() < 0.6:
            i = self.rng.choice(candidates)
            words[i] = f"**{words[i]}**"
        return " ".join(words)


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("-" * (len(h) + 2) for h in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _document(index: int, seed: int) -> tuple[str, int]:
    """One document's markdown and the number of chunks it will produce."""
    rng = random.Random(f"synthetic-{seed}-{index}")
    core = f"{rng.choice(TITLE_ADJ)} {rng.choice(TITLE_NOUN)}"
    title = f"{core} {rng.choice(TITLE_SUFFIX)} {index}"
    w = _Writer(rng, core)
    prose = 0
    rows = 0
    out: list[str] = []

    description = w.fill(rng.choice([
        "{V} {A} {Ns} so that {A} {M} stays safe as capabilities grow.",
        "Using {A} {Ns} to {V} {M} in {A} systems.",
        "Making {A} {M} verifiable before {A} {Ns} are deployed.",
        "Building {A} {Ns} that {V} {M} even under {A} pressure.",
    ]))
    out += ["---", f"title: {title}", f"description: {description}", "---", ""]
    out += [f"**The approach**: {w.sentences(1, 2)}", ""]
    prose += 1  # description + approach paragraph

    ratings = ("Low", "Medium", "High")
    out += ["## Evaluation Summary", ""]
    out += _table(
        ("Dimension", "Assessment", "Notes"),
        [
            (dim, rng.choice(ratings), w.note())
            for dim in ("Tractability", "If alignment hard", "If alignment easy", "Neglectedness")
        ],
    )
    out.append("")
    rows += 4

    heading = rng.choice(WHY_HEADINGS).format(core=core)
    out += [f"## {heading}", "", w.sentence() + " In practice this involves:", ""]
    out += [f"- {w.claim()}" for _ in range(rng.randint(3, 5))]
    out.append("")
    prose += 1

    out += [f"## {rng.choice(HOW_HEADINGS)}", "", w.bolden(w.sentences(2, 3)), ""]
    prose += 1

    section, headers = rng.choice(EXPLAIN_TABLES)
    n = rng.randint(4, 6)
    out += [f"## {section}", ""]
    out += _table(headers, [(w.name(), w.claim(), w.note()) for _ in range(n)])
    out.append("")
    rows += n

    section, headers = rng.choice(SECOND_TABLES)
    n = rng.randint(4, 6)
    body: list[tuple[str, ...]] = []
    for _ in range(n):
        name = w.name()
        if section == "Key Risks":
            body.append((f"**{name}**", w.claim()))
        elif section == "Key Research Areas":
            body.append((f"**{name}**", w.question()))
        elif section == "Failure Modes":
            body.append((name, w.claim(), w.note()))
        else:
            body.append((name, rng.choice(STATUS), rng.choice(ORGS).capitalize()))
    out += [f"## {section}", ""]
    out += _table(headers, body)
    out.append("")
    rows += n

    uncertain = rng.randint(1, 3)
    for crux in (1, 2, 3):
        left, right = rng.choice(CRUX_SIDES)
        n = rng.randint(3, 4)
        out += [f"## Crux {crux}: {w.question()}", ""]
        out += _table((left, right), [(w.claim(), w.claim()) for _ in range(n)])
        out.append("")
        rows += n
        if crux == uncertain:
            out += [f"**Key uncertainty**: {w.sentence()}", ""]
            prose += 1

    out += [f"## {rng.choice(RESEARCH_HEADINGS)}", ""]
    out += [f"- **{w.name()}** ({rng.choice(ORGS)}): {w.claim()}" for _ in range(rng.randint(3, 5))]
    out.append("")
    prose += 1

    out += [f"## {rng.choice(OPEN_HEADINGS)}", ""]
    for lead in rng.sample(LEAD_INS, rng.randint(3, 4)):
        out += [f"**{lead}**: {w.sentences(1, 2)}", ""]
        prose += 1

    out += ["## Who Should Work on This?", "", "**Good fit if you believe**:"]
    out += [f"- {b}" for b in w.beliefs(rng.randint(3, 4))]
    out += ["", "**Less relevant if you believe**:"]
    out += [f"- {b}" for b in w.beliefs(3)]
    out.append("")
    prose += 2

    return "\n".join(out), prose + rows


def document_path(folder: Path, index: int) -> Path:
    """Where document ``index`` goes: ``folder/batch-000/approach-00042.md``."""
    return Path(folder) / f"batch-{index // BATCH_SIZE:03d}" / f"approach-{index:05d}.md"


def generate(folder: Path, documents: int, seed: int = 0) -> int:
    """Write ``documents`` synthetic approach documents under ``folder``.

    Document ``i`` depends only on ``(seed, i)``, so a smaller corpus is a
    prefix of a larger one. Returns the number of chunks they will produce.
    """
    folder = Path(folder)
    total = 0
    made: set[Path] = set()
    for i in range(documents):
        path = document_path(folder, i)
        if path.parent not in made:
            path.parent.mkdir(parents=True, exist_ok=True)
            made.add(path.parent)
        text, chunks = _document(i, seed)
        path.write_text(text, encoding="utf-8")
        total += chunks
    return total


def documents_for(chunks: int) -> int:
    """How many documents give about ``chunks`` chunks (at least one)."""
    return max(1, round(chunks / CHUNKS_PER_DOCUMENT))


# ---------------------------------------------------------------------------
# Small edits, for re-index benchmarks

_SEPARATOR = re.compile(r"^\|[\s:|-]+\|$")


def edit_one(folder: Path, seed: int = 1) -> Path:
    """Rewrite one document under ``folder`` in place with a small change.

    The last cell of two table body rows and the text of one bullet get new
    wording; the number of chunks stays the same. Returns the file's path.

    Raises:
        FileNotFoundError: no markdown file under ``folder``.
        ValueError: the chosen file has fewer than two table rows or no bullet.
    """
    files = sorted(Path(folder).rglob("*.md"))
    if not files:
        raise FileNotFoundError(f"no markdown documents under {folder}")
    rng = random.Random(f"edit-{seed}")
    path = rng.choice(files)
    lines = path.read_text(encoding="utf-8").split("\n")
    w = _Writer(rng, path.stem)

    body_rows: list[int] = []
    bullets: list[int] = []
    run = 0  # position within the current run of table lines
    for n, line in enumerate(lines):
        if line.startswith("|"):
            run += 1
            if run > 2 and not _SEPARATOR.match(line.strip()):
                body_rows.append(n)
        else:
            run = 0
            if line.startswith("- "):
                bullets.append(n)
    if len(body_rows) < 2 or not bullets:
        raise ValueError(f"{path}: needs two table rows and a bullet to edit")

    for n in rng.sample(body_rows, 2):
        cells = [c.strip() for c in lines[n].strip().strip("|").split("|")]
        old = cells[-1]
        while cells[-1] == old:
            cells[-1] = w.note()
        lines[n] = "| " + " | ".join(cells) + " |"

    n = rng.choice(bullets)
    match = re.match(r"(- \*\*[^*]+\*\*[^:]*: )(.*)$", lines[n])
    prefix, old = (match.group(1), match.group(2)) if match else ("- ", lines[n][2:])
    new = old
    while new == old:
        new = w.claim()
    lines[n] = prefix + new

    path.write_text("\n".join(lines), encoding="utf-8")
    return path


# ---------------------------------------------------------------------------
# CLI


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate a synthetic corpus of approach documents.")
    parser.add_argument("out_dir", type=Path, help="folder to write into (best empty)")
    parser.add_argument("--chunks", type=int, default=10000, help="about how many chunks (default 10000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    args = parser.parse_args(argv)
    if args.chunks < 1:
        parser.error("--chunks must be positive")
    documents = documents_for(args.chunks)
    chunks = generate(args.out_dir, documents, seed=args.seed)
    print(f"{documents} documents, {chunks} chunks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
