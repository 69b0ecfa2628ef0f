"""Query understanding without a language model.

Reads a question against the index's own vocabulary and structure:

* which approaches it names (titles, their parts, doc ids and front-matter
  ``aliases``; stemmed, and forgiving of typos),
* which Evaluation Summary dimension it asks about ("how neglected…"), and
  which rating ("rated low", "most tractable"),
* whether it asks for a listing across approaches ("which approaches…"),
* which standard section it asks for ("who should work on…", "why…"),
* misspelled words, corrected against the corpus vocabulary.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot import ranking
from bot.markdown import PATH_SEP
from bot.profile import Profile

_OVERALL = re.compile(
    r"\b(?:how (?:is|are|does|do) .*\b(?:rated|rate|evaluated|assessed|score|scored)|evaluation summary|"
    r"overall (?:rating|assessment|evaluation)|ratings? (?:of|for)|over-?rated|under-?rated|over-?hyped|worth (?:the|all the) (?:hype|attention))\b",
    re.I,
)
_LISTING = re.compile(
    r"\b(?:which|what|list|name|rank)\b.*\b(?:approaches|ones|areas|agendas|options|strategies)\b|"
    r"\b(?:most|least)\b.*\b(?:approach|approaches)\b|\bacross (?:all )?(?:the )?approaches\b|"
    r"\bwhich (?:approach|one)s?\b",
    re.I,
)
#: "which ones" after "ways of slowing down" asks among those ways, not across approaches
#: (nor for the page's own rating: "which ones are doable?").
_OWN_KINDS = re.compile(
    r"\b(?:ways|kinds|types|forms|sorts|versions|varieties|flavou?rs)\b (?:of|to)\b.*\bwhich (?:ones?|of them)\b"
)
_COMPARE = re.compile(r"\b(?:compare|comparison|versus|vs\.?|or|and|between|differ)\b", re.I)
_RATINGS = {
    "Very low": r"very low",
    "Very high": r"very high",
    "Low": r"\blow(?:est)?\b|\bleast\b|\bpoorly\b|\bweak(?:est)?\b",
    "High": r"\bhigh(?:est|ly)?\b|\bmost\b|\bstrong(?:est)?\b|\bvery (?:important|valuable|tractable|neglected)\b",
    "Medium": r"\bmedium\b|\bmoderate(?:ly)?\b|\bmiddling\b",
}

def _alternation(table: Mapping[str, Sequence[str]]) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """Each key's patterns as one compiled alternation, in table order."""
    return tuple((key, re.compile("|".join(f"(?:{p})" for p in pats), re.I)) for key, pats in table.items())


_GENERIC = set(
    """ai safety safe research approach approaches alignment the and of for on in a an to with via
    ais model models system systems policy""".split()
)


@dataclass(frozen=True)
class Mention:
    doc_id: str
    alias: str
    start: int  # token position in the question


@dataclass(frozen=True)
class QueryPlan:
    """What a question asks for, as far as the index can tell."""

    text: str  # spelling corrected
    approaches: tuple[str, ...] = ()  # doc ids named, in order of mention
    dimensions: tuple[str, ...] = ()
    rating: str | None = None
    overall: bool = False  # asks for the whole evaluation
    listing: bool = False  # asks across approaches ("which approaches…")
    section: str | None = None  # a standard section key, e.g. "who"
    residual: str = ""  # the question without the approach names
    query: str = ""  # the standalone search text, when the conversation changed it
    cues: tuple[str, ...] = ()  # heading patterns the question points at
    fact: bool = False  # asks for a specific fact (a number, a date, a name)
    number: bool = False  # asks for a count or an amount
    quantity: bool = False  # asks how often, how much, how well…: a stated figure leads when one is found, none is required
    date: bool = False  # asks for a date or a year
    since: bool = False  # asks when something began ("when was it founded?")
    names: tuple[str, ...] = ()  # proper names and numbers in the question (not approach names)
    specifics: tuple[str, ...] = ()  # names, numbers and rare words the evidence must hold to answer
    weak: tuple[str, ...] = ()  # approaches named only by an everyday word ("oversight"): trust the search's
    contrast: bool = False  # compares things ("vs", "each", "both", "the two")

    @property
    def search_text(self) -> str:
        return self.query or self.text



class QueryReader:
    """Reads questions against one index's documents and vocabulary."""

    def __init__(self, documents: Iterable[Any], chunks: Iterable[Any], profile: Profile | None = None):
        """``documents`` have ``doc_id``, ``title`` and optionally ``aliases``;
        ``chunks`` have ``doc_id`` and ``body`` (the vocabulary comes from them);
        the ``profile`` says how people ask about dimensions, sections and headings."""
        profile = profile or Profile.defaults()
        self._dimensions = _alternation({str(d["name"]): d.get("asked") or [] for d in profile.rating_dimensions})
        self._sections = _alternation({k: v.get("asked") or [] for k, v in profile.sections.items()})
        self._section_titles = {k: re.compile(str(v.get("heading") or "(?!)"), re.I) for k, v in profile.sections.items()}
        self._last = tuple(k for k, v in profile.sections.items() if v.get("last"))
        self._shown_last: dict[tuple[str, str | None], bool] = {}  # (section, asked) → shown last, as found
        self._cues = tuple((re.compile(str(c["asked"]), re.I), str(c["heading"])) for c in profile.heading_cues)
        self._yielding = {
            str(d["name"]): (tuple(d["yields_to"]), re.compile(str(d.get("explicit") or "(?!)"), re.I))
            for d in profile.rating_dimensions
            if d.get("yields_to")
        }
        self._fuzzy_seen: dict[str, str | None] = {}
        from bot.lexical import stem

        self._stem = stem
        docs = list(documents)
        candidates: dict[str, str] = {}  # single-word alias stem -> doc_id
        surface: dict[str, str] = {}  # single-word stem -> the word, as its page's title has it
        names: list[tuple[tuple[str, ...], str, bool]] = []  # (stems, doc_id, whether the page's full name)
        hubs = opening_pages(d.doc_id for d in docs)
        for doc in docs:
            if doc.doc_id in hubs:
                continue  # a folder's opening page: its title names a category, which no question names
            given = tuple(getattr(doc, "aliases", ()) or ()) + _subject(getattr(doc, "description", "") or "")
            for alias in _aliases(doc.doc_id, doc.title, given):
                key = tuple(stem(w) for w in _words(alias))
                full = alias == doc.title or alias in given
                if len(key) == 1 and not full:
                    candidates[key[0]] = doc.doc_id if candidates.get(key[0], doc.doc_id) == doc.doc_id else ""
                    if alias.lower() in _words(doc.title) and len(alias) > 3:
                        surface.setdefault(key[0], alias.lower())
                elif key:
                    names.append((key, doc.doc_id, full))
        # One pass over the texts: the vocabulary, and where each candidate word is used.
        frequency: Counter[str] = Counter()
        usage: dict[str, dict[str, int]] = {c: {} for c in candidates}
        for chunk in chunks:
            words = set(re.findall(r"[a-z][a-z0-9\-']+", chunk.body.lower()))
            frequency.update(words | set(re.findall(r"[a-z][a-z0-9\-']+", chunk.section.lower())))
            for stemmed in {stem(w) for w in _words(" ".join(words))} & usage.keys():
                usage[stemmed][chunk.doc_id] = usage[stemmed].get(chunk.doc_id, 0) + 1
        for doc in docs:  # titles are the corpus' own words too
            frequency.update(set(re.findall(r"[a-z][a-z0-9\-']+", doc.title.lower())))
        self.vocabulary = {w for w in frequency if len(w) > 2}
        self._frequency = frequency
        self._prefixed: dict[str, list[str]] = {}
        for word in self.vocabulary:
            if len(word) >= 7 and word.isalpha():
                self._prefixed.setdefault(word[:4], []).append(word)
        self._stems = {stem(w) for w in _words(" ".join(self.vocabulary))}
        self._by_length: dict[int, list[str]] = {}
        for word in self.vocabulary:
            self._by_length.setdefault(len(word), []).append(word)
        self.aliases: dict[tuple[str, ...], str] = {}
        # A page's full title (or a given alias) names it even where another page's title
        # holds the same words ("MIRI" beside "The MIRI Era"), but as a contested name that
        # the search must confirm (see ``weak``); two pages whose names are equally the
        # words are ambiguous: the words name neither.
        for full in (True, False):
            claimed: dict[tuple[str, ...], str] = {}
            for key, doc_id, own in names:
                if own == full and key not in self.aliases:
                    claimed[key] = doc_id if claimed.get(key, doc_id) == doc_id else ""
            self.aliases.update(claimed)
        self._contested = {
            key for key, doc_id, own in names if not own and self.aliases.get(key) not in (None, "", doc_id)
        } | {(w,) for w, doc_id in candidates.items() if self.aliases.get((w,)) not in (None, "", doc_id)}
        for word, doc_id in candidates.items():
            # A single title word names its approach only where the texts use it
            # mostly there ("pause"), not where it is everyday vocabulary ("coordination").
            counts = usage.get(word, {})
            total = sum(counts.values())
            share = counts.get(doc_id, 0)
            if doc_id and (total == 0 or (share >= max(counts.values()) and share / total >= ranking.ALIAS_OWN_SHARE)):
                self.aliases.setdefault((word,), doc_id)
            elif doc_id and word in surface and (word,) not in self.aliases and _english().unknown([surface[word]]):
                # a coined name ("DeepMind" of "Google DeepMind") that other pages use a lot
                # still names its page, as a contested name the search must confirm
                self.aliases[(word,)] = doc_id
                self._contested.add((word,))
        self.titles = {d.doc_id: d.title for d in docs}
        self._longest = max((len(key) for key in self.aliases), default=1)
        self._alias_words = {w for key in self.aliases for w in key}
        # candidates for fuzzy name matching, by first and by last letter (a typo rarely changes both)
        self._alias_by_end: dict[str, set[str]] = {}
        for w in self._alias_words:
            if w:
                self._alias_by_end.setdefault("^" + w[0], set()).add(w)
                self._alias_by_end.setdefault(w[-1] + "$", set()).add(w)

    # -- spelling -----------------------------------------------------------

    def correct(self, text: str) -> tuple[str, tuple[tuple[str, str], ...]]:
        """Misspelled words replaced: by a close word of the corpus, else by
        the English dictionary's correction. A word known to either is kept."""
        fixes: list[tuple[str, str]] = []
        english = _english()

        def fix(match: re.Match[str]) -> str:
            word = match.group(0)
            low = word.lower()
            if len(low) < 4 or low in self.vocabulary or low in _COMMON or self._stem(low) in self._stems:
                return word
            if any(ch.isupper() for ch in word[1:]) or (low.rstrip("s"),) in self.aliases:
                return word  # an acronym ("RSPs", "LLMs") or a known name
            start = match.start()
            if word[0].isupper() and start > 0 and not re.search(r"[.?!:]\s*[\"“(]?$", text[:start]):
                return word  # capitalized inside a sentence: a name ("Stargate"), not a misspelling
            if not english.unknown([low]):
                return word  # a real word is never rewritten into another one
            longer = self.expansion(low)
            if longer:  # an abbreviation of the corpus' own term ("interp"): search both
                fixes.append((word, longer))
                return f"{word} {longer}"
            fixed = self._closest(low)
            if not fixed:
                return word
            fixes.append((word, fixed))
            return fixed

        return re.sub(r"[A-Za-z][A-Za-z\-']+", fix, text), tuple(fixes)

    def _yields(self, dimension: str, asked: Sequence[str], question: str) -> bool:
        """A dimension that yields to another one asked ("…if alignment is hard" is not a
        question about tractability unless it says so: the profile's ``yields_to``/``explicit``)."""
        rule = self._yielding.get(dimension)
        return bool(rule and set(rule[0]) & set(asked) and not rule[1].search(question))

    def section_matches(self, key: str, section: str) -> bool:
        """Whether a section heading is the standard section ``key`` ("who")."""
        pattern = self._section_titles.get(key)
        return bool(pattern and pattern.search(section.split(PATH_SEP)[-1]))

    def shown_last(self, section: str, asked: str | None) -> bool:
        """Whether a section (or one it sits in) is a standard section the profile
        puts after all others (``last``: a list of sources) and the question does not ask for it."""
        key = (section, asked)
        shown = self._shown_last.get(key)
        if shown is None:
            shown = self._shown_last[key] = any(
                name != asked and any(self._section_titles[name].search(part) for part in section.split(PATH_SEP))
                for name in self._last
            )
        return shown

    def known(self, word: str) -> bool:
        """Whether the corpus uses ``word`` (or a word of its stem, or one it abbreviates or misspells)."""
        low = word.lower()
        return (
            low in self.vocabulary
            or self._stem(low) in self._stems
            or (low.rstrip("s"),) in self.aliases
            or bool(self.expansion(low) or self._closest(low))
        )

    def expansion(self, prefix: str) -> str | None:
        """The corpus word that ``prefix`` abbreviates: the most used word
        starting with it, when it is used more than any rival."""
        if len(prefix) < 4:
            return None
        longer = [w for w in self._prefixed.get(prefix[:4], ()) if w.startswith(prefix) and len(w) >= len(prefix) + 3]
        if not longer:
            return None
        longer.sort(key=lambda w: (-self._frequency.get(w, 0), w))
        return longer[0]

    def _closest(self, word: str) -> str | None:
        """A corpus word one or two typos away, when exactly one is that close."""
        candidates = [
            w
            for n in range(len(word) - 2, len(word) + 3)
            for w in self._by_length.get(n, ())
            if w[0] == word[0]
        ]
        close = difflib.get_close_matches(word, candidates, n=2, cutoff=ranking.SPELLING_CUTOFF)
        if not close:
            return None
        if len(close) == 2 and difflib.SequenceMatcher(None, word, close[1]).ratio() >= difflib.SequenceMatcher(
            None, word, close[0]
        ).ratio() - ranking.SPELLING_AMBIGUITY_MARGIN:
            return None  # two words as close: not confident
        return close[0]

    # -- reading ------------------------------------------------------------

    def read(self, question: str) -> QueryPlan:
        text, _ = self.correct(question)
        mentions = self.mentions(text)
        approaches = tuple(dict.fromkeys(m.doc_id for m in mentions))
        low = text.lower()
        dimensions = tuple(d for d, pattern in self._dimensions if pattern.search(low))
        dimensions = tuple(d for d in dimensions if not self._yields(d, dimensions, low))
        if _OWN_KINDS.search(low):  # "which ones are doable?" after "ways of …": those ways', not the page's rating
            dimensions = ()
        rating = None
        if dimensions or _LISTING.search(low):
            for name, pattern in _RATINGS.items():
                if re.search(pattern, low):
                    rating = name
                    break
        residual = self.residual(text, mentions)
        weak = self.weak(mentions)
        # a section asked for in the question's own words, not in a page's name ("Misuse Risk Cruxes");
        # a name that is one everyday word ("cruxes") may be those words
        own = self.residual(text, [m for m in mentions if m.doc_id not in weak]).lower()
        section = next((key for key, pattern in self._sections if pattern.search(own)), None)
        cues = tuple(dict.fromkeys(h for q, h in self._cues if q.search(residual)))
        number = bool(_NUMBER_QUESTION.search(low))
        date = bool(_DATE_QUESTION.search(low))
        names = self.names(text, mentions)
        return QueryPlan(
            fact=number or date or bool(_FACT_QUESTION.search(low)),
            number=number,
            quantity=bool(_QUANTITY_QUESTION.search(low)),
            date=date,
            since=date and bool(_SINCE_QUESTION.search(low)),
            names=names,
            specifics=self.specifics(text, mentions, names),
            weak=weak,
            contrast=bool(_CONTRAST.search(low) or (_EACH.search(low) and _JOINED.search(low))),
            text=text,
            approaches=approaches,
            dimensions=dimensions,
            rating=rating,
            overall=bool(_OVERALL.search(low)),
            listing=bool(_LISTING.search(low)) and len(approaches) < 2 and not _OWN_KINDS.search(low),
            section=section,
            residual=residual,
            cues=cues,
        )

    def mentions(self, text: str) -> list[Mention]:
        """Approaches named in ``text``, longest alias first, no overlaps."""
        words = _words(text)
        stems = [self._stem(w) for w in words]
        taken = [False] * len(words)
        found: list[Mention] = []
        for size in range(self._longest, 0, -1):
            for start in range(0, len(words) - size + 1):
                if any(taken[start : start + size]):
                    continue
                key = tuple(stems[start : start + size])
                doc_id = self.aliases.get(key)
                if doc_id is None and size == 1:
                    doc_id = self._fuzzy(words[start])
                if doc_id:
                    found.append(Mention(doc_id, " ".join(words[start : start + size]), start))
                    for i in range(start, start + size):
                        taken[i] = True
        return sorted(found, key=lambda m: m.start)

    def _fuzzy(self, word: str) -> str | None:
        if len(word) < 6 or word in self.vocabulary or not _english().unknown([word]):
            return None  # a real word, or one of the corpus', names no approach by a typo
        if word not in self._fuzzy_seen:
            stem = self._stem(word)
            near = self._alias_by_end.get("^" + stem[:1], set()) | self._alias_by_end.get(stem[-1:] + "$", set())
            # a ratio of 0.85 needs lengths within these bounds: no need to compare the others
            candidates = sorted(w for w in near if 0.74 * len(stem) <= len(w) <= 1.36 * len(stem))
            close = difflib.get_close_matches(stem, candidates, n=1, cutoff=ranking.ALIAS_CUTOFF)
            if len(self._fuzzy_seen) > 4096:
                self._fuzzy_seen.clear()
            self._fuzzy_seen[word] = (self.aliases.get((close[0],)) or None) if close else None
        return self._fuzzy_seen[word]

    def names(self, text: str, mentions: Sequence[Mention]) -> tuple[str, ...]:
        """Proper names, acronyms and numbers in ``text``, other than approach names."""
        named = {w for m in mentions for w in m.alias.lower().split()}
        found = []
        for match in re.finditer(r"\b(?:[A-Z][A-Za-z]*[A-Z][A-Za-z]*|[A-Z][a-z]{2,}|\d{3,})\b", text):
            word = match.group(0)
            start = match.start()
            sentence_start = start == 0 or re.search(r"[.?!]\s*$", text[:start]) is not None
            if word.isalpha() and word[0].isupper() and word[1:].islower() and sentence_start and not self._unheard_of(word):
                continue  # a sentence's first word is capitalized anyway; "Klarna claimed …" is a name all the same
            if word.lower() in named or word.upper() in _COMMON_ACRONYMS or word.lower() in _COMMON:
                continue
            found.append(word)
        for match in re.finditer(r"\b[A-Za-z]+\d+[A-Za-z\d]*\b", text):  # a model or a chip, however typed ("h100s")
            word = match.group(0)
            if len(word) >= 3 and word.lower() not in named and not self.known(word.lower()):
                found.append(word)
        return tuple(dict.fromkeys(found))

    def _unheard_of(self, word: str) -> bool:
        """Neither a dictionary nor the corpus knows ``word`` (nor a word it misspells)."""
        low = word.lower()
        return bool(_english().unknown([low])) and not self.known(low)

    def specifics(self, text: str, mentions: Sequence[Mention], names: Sequence[str]) -> tuple[str, ...]:
        """What the question is specifically about that an answer must mention:
        numbers, acronyms, quoted titles, names of several capitalized words (a
        law, an institute, a paper), and single names no dictionary knows (a
        person). Everyday words, however rare, are not."""
        english = _english()
        named = {w for m in mentions for w in m.alias.lower().split()}
        found = []
        for quoted in re.findall(r"[\"“‘']([A-Z][^\"”’']{3,60})[\"”’']", text):
            words = quoted.split()
            title_case = sum(w[:1].isupper() and not w.isupper() for w in words)
            if title_case * 2 >= len(words) > 0:  # a title ("Stochastic Parrots"), not a sentence or a shout
                found.append(quoted.strip())
        for phrase in _proper_phrases(text):
            if not set(phrase.lower().split()) <= named:
                found.append(phrase)
        for name in names:
            low = name.lower()
            if low in named or any(name in f for f in found):
                continue
            if name[:-1].isupper() and name.endswith("s") and not any(ch.isdigit() for ch in name):
                continue  # a plural acronym: "GPUs" are things, not a name
            if name.isdigit() or name.isupper() and (2 <= len(name) <= 4 or english.unknown([low])):
                found.append(name)  # a number or an acronym
            elif english.unknown([low]):
                found.append(name)  # a name no dictionary knows
        found += re.findall(r"\b\d+(?:\^|e|\*\*)\d+\b", text)  # 10^26
        return tuple(dict.fromkeys(found))

    def weak(self, mentions: Sequence[Mention]) -> tuple[str, ...]:
        """Approaches named only by one everyday English word, or by words
        that other pages' names hold too."""
        english = _english()
        strong = {
            m.doc_id
            for m in mentions
            if (" " in m.alias or english.unknown([m.alias.lower()]))
            and tuple(self._stem(w) for w in _words(m.alias)) not in self._contested
        }
        return tuple(dict.fromkeys(m.doc_id for m in mentions if m.doc_id not in strong))

    def residual(self, text: str, mentions: Sequence[Mention] | None = None) -> str:
        """``text`` without the approach names it contains."""
        mentions = self.mentions(text) if mentions is None else mentions
        out = text
        for m in mentions:
            out = re.sub(r"\b" + r"\W+".join(map(re.escape, m.alias.split())) + r"\b", " ", out, flags=re.I)
        return re.sub(r"\s+", " ", out).strip()


#: Words that carry no topic of their own (question words, pronouns, fillers).
_STOP = set(
    """a an the and or but so then also what about how about is are was were be been would could can should will do
    does did it its it's this that these those they them their there such of to in on for with as at by from
    which who whom whose why when where how i you we me my your our even really actually just more less any
    some much many very there's what's than if not no yes ok okay please tell say think mean approach""".split()
)


def content_words(text: str) -> list[str]:
    """The words of ``text`` that carry its topic, lower-cased."""
    return [w for w in re.findall(r"[a-z0-9][a-z0-9\-']*", text.lower()) if w not in _STOP and len(w) > 1]


_ENGLISH: Any = None

#: Capitalized words that open a question or a clause, not names.
_OPENERS = {"what", "who", "how", "why", "when", "where", "which", "is", "are", "does", "do", "can", "could",
            "should", "would", "will", "the", "a", "an", "in", "on", "under", "according", "and", "but", "so", "ai"}


def _proper_phrases(text: str) -> list[str]:
    """Runs of two or more capitalized words not at a sentence's start ("Ada
    Lovelace Institute", "AI Promotion Act"): the name of something specific.
    A possessive ends a name ("South Korea's AI Basic Act" holds two)."""
    phrases = []
    for match in re.finditer(r"(?:\b[A-Z][\w\-]*(?:'s)?\s+){1,5}[A-Z][\w\-]*", text):
        opening = match.start() == 0 or re.search(r"[.?!:]\s*$", text[: match.start()]) is not None
        for n, part in enumerate(re.split(r"(?<=\w)'s\s+", match.group(0))):
            words = part.split()
            if n == 0 and opening and words and not _english().unknown([words[0].lower()]):
                words = words[1:]  # "Compare RLHF…": a sentence's first word is capitalized anyway
            while words and words[0].lower() in _OPENERS and not words[0].isupper():
                words = words[1:]
            if len(words) >= 2 and sum(w.isalpha() and w[:1].isupper() and w[1:].islower() for w in words) >= 2:
                phrases.append(" ".join(words))
    return phrases


#: Questions after how often, how much, how well …: a figure answers them best, but none is required.
_QUANTITY_QUESTION = re.compile(
    r"\b(?:how (?:often|much|many|far|close|good|well|likely|big|large|fast|accurate|effective)|"
    r"what (?:percentage|share|fraction|rate)|rates?)\b"
)
#: Questions after a count or an amount: answerable only from evidence holding a number.
_NUMBER_QUESTION = re.compile(
    r"\b(?:how many (?:people|researchers|employees|staff|parameters|gpus|chips|dollars|papers|countries|labs|"
    r"signatories|signers)|how much (?:money|funding|did|was|is spent|does it cost)|salary|salaries|earn|budget|"
    r"accuracy|how accurate|percent(?:age)?|what fraction|what share|"
    r"(?:what|which) (?:probability|odds|chance)|what (?:is|are|was|were) the (?:probability|odds))\b"
)
#: Questions after a date or a year: answerable only from evidence holding one.
_DATE_QUESTION = re.compile(
    r"\b(?:(?:in )?(?:what|which) year|when (?:did|was|were|will)|(?:what|which|exact) (?:\w+ )?date(?! ranges?\b))\b|\band when\s*\?|"
    r"\bwhich\b[^?]{0,60}\b(?:came first|(?:was )?founded first|started first|is (?:the )?older|"
    r"(?:has|have) (?:been )?(?:around|existed|going) (?:for )?(?:longer|the longest))\b"
)
#: Questions after when something began.
_SINCE_QUESTION = re.compile(r"\b(?:found|start|begin|began|launch|establish|creat|form|set up|came first|older|been around|existed)\w*")
#: A year told as the time something began ("founded in 2022", "launched in March 2023").
_BEGAN_IN = re.compile(
    r"\b(?:found|establish|start|launch|creat|form|set up|began|begun|incorporat|spun out|spin out)\w*"
    r"\W+(?:\w+\W+){0,4}?(?:19|20)\d\d\b",
    re.I,
)
#: A month's name ("may" only beside a day or a year: otherwise it is the verb).
_MONTHS = (
    r"january|february|march|april|june|july|august|september|october|november|december|"
    r"may(?=\s+(?:\d{1,2}\b|(?:19|20)\d\d))|(?<=\d\s)may|(?<=\bin\s)may(?=\W+(?:19|20)\d\d)"
)
#: Questions after a specific fact the documents would have to state.
_FACT_QUESTION = re.compile(
    r"\b(?:what (?:exact|specific|precise)|word for word|verbatim|which (?:gpu|gpus|chip|chips|company|companies|"
    r"country|person|ceo)|who (?:founded|invented|runs|leads|won|is the ceo))\b"
)
#: Wording that compares things: answered from each of them.
_CONTRAST = re.compile(
    r"\b(?:vs\.?|versus|compar\w*|differ(?:s|ence|ences)?\b|different (?:from|than)\b|"
    r"(?:how|in what way) (?:do|does) \w+(?: \w+)? and \w+)"
)
#: "each", "the two", "either", "which is better/more …": a comparison when the question joins
#: two things ("X and Y", "X or Y"); not "both", which as often joins two aspects of one thing
#: ("both the risks and benefits").
_EACH = re.compile(
    r"\b(?:each|the two|either)\b|"
    r"\bwhich(?: one)? (?:is|are|would be|works|does) (?:\w+ )?(?:better|worse|more|less|safer|stronger|weaker)\b"
)
_JOINED = re.compile(r"\b(?:and|or)\b|\bvs\b")
_COMMON_ACRONYMS = {"AI", "AIS", "AGI", "ASI", "LLM", "LLMS", "ML", "I", "GPU", "CPU", "TPU", "API", "NLP", "RL"}


def _english() -> Any:
    """The English dictionary of pyspellchecker (loaded once)."""
    global _ENGLISH
    if _ENGLISH is None:
        from spellchecker import SpellChecker

        _ENGLISH = SpellChecker(distance=1)
    return _ENGLISH




def is_date_evidence(text: str, began: bool = False) -> bool:
    """Whether ``text`` states a date (a month, a day): a year alone does not answer
    "when", unless (``began``: the question asks when something began) the text
    tells a year as the time something began ("founded in 2022")."""
    if began and tells_beginning(text):
        return True
    return re.search(rf"\b(?:{_MONTHS})\b|\b\d{{1,2}}[/.-]\d{{1,2}}[/.-]\d{{2,4}}\b", text, re.I) is not None


def tells_beginning(text: str) -> bool:
    """Whether ``text`` tells a date or a year as the time something began."""
    return _BEGAN_IN.search(text) is not None


def has_count(text: str, exclude: str = "") -> bool:
    """Whether ``text`` holds a number that is not a year and not one of ``exclude``'s."""
    skip = set(re.findall(r"\d+", exclude))
    for number in re.findall(r"\d[\d,.]*", text):
        digits = number.strip(",.")
        if digits in skip or re.fullmatch(r"(?:19|20)\d\d", digits):
            continue
        return True
    return False


def cue_matches(cues: Sequence[str], section: str) -> bool:
    """Whether a section heading is one the question's cues point at."""
    heading = section.split(PATH_SEP)[-1]
    return any(re.search(c, heading, re.I) for c in cues)


#: The page a folder opens with, by the usual file names.
_FOLDER_PAGES = ("index", "readme", "_index")


def opening_pages(doc_ids: Iterable[str], root: bool = False) -> set[str]:
    """The pages that open a folder holding other pages ("labs/index" beside
    "labs/openai"; with ``root``, the corpus' own "index" beside other pages too):
    they summarize the pages around them, and their titles name a category."""
    ids = list(doc_ids)

    def parts(doc_id: str) -> tuple[str, str]:
        folder, _, name = doc_id.rpartition("/")
        return folder, name.lower()

    folders = {parts(d)[0] for d in ids if parts(d)[1] not in _FOLDER_PAGES}
    folders |= {f.rsplit("/", n)[0] for f in list(folders) for n in range(1, f.count("/") + 1)}
    if folders:
        folders.add("")  # the corpus' root holds every folder
    return {d for d in ids if parts(d)[1] in _FOLDER_PAGES and parts(d)[0] in folders and (root or parts(d)[0])}


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


#: A description that opens by naming its subject: "The Centre for the Governance of AI is …".
_SUBJECT = re.compile(
    r"^(?:The\s+)?([A-Z][\w'’.-]*(?:\s+(?:(?:of|for|the|and|on|in|to|de)\s+)*[A-Z0-9][\w'’.-]*){2,7})"
    r"\s+(?:\([^)]*\)\s+)?(?:is|was|are|were)\b"
)


def _subject(description: str) -> tuple[str, ...]:
    """The full name (three capitalized words or more) a page's description opens with, if any."""
    match = _SUBJECT.match(description)
    return (match.group(1),) if match else ()


def _aliases(doc_id: str, title: str, extra: Iterable[str]) -> list[str]:
    """Names a document goes by: its title, the title's parts, its id, its aliases."""
    names = [title, re.sub(r"\(.*?\)", " ", title), doc_id.split("/")[-1].replace("-", " "), *extra]
    parts: list[str] = []
    for name in names:
        for part in re.split(r"\s*(?:/|&|\band\b|:|,|\(|\))\s*", name):
            part = part.strip()
            if part and not all(w in _GENERIC for w in _words(part)):
                parts.append(part)
    # the initials of a title of three words or more ("RSP" of "Responsible Scaling Policies")
    initials = "".join(w[0] for w in _words(re.sub(r"\(.*?\)", " ", title)))
    if len(initials) >= 3 and "&" not in title and "/" not in title:
        parts += [initials, initials + "s"]
    # a distinctive single word of the title ("Pause" of "Pause Advocacy")
    for word in _words(title) + _words(doc_id.replace("-", " ")):
        if word not in _GENERIC and len(word) > 2:
            parts.append(word)
    return list(dict.fromkeys(names + parts))


_COMMON = set(
    """about above after again against would could should there their these those which while where whose
    actually really think people something anything everything nothing someone anyone everyone""".split()
)

