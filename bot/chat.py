"""Conversations: :class:`ChatSession` and the one-shot :func:`ask`.

A follow-up ("And would it be desirable?") is turned into a standalone query
from the conversation, with no language model: when the question leans on
the previous turn (few words of its own, an opening "and"/"what about", a
pronoun), the previous topic is added to it, unless the question itself
points clearly at another approach (a topic switch).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, replace

from bot import config, messages, ranking
from bot.answer import Answer, Citation, abstain
from bot.embedding import Embedder
from bot.errors import QuestionError
from bot.llm import LLMComposer
from bot.planning import answer_plan, example_questions, example_text
from bot.query import QueryPlan, content_words
from bot.retrieval import Index

__all__ = ["ChatSession", "Turn", "ask", "catalog_answer", "example_questions", "small_talk"]


#: Questions longer than this are cut, with a notice on the answer.
MAX_QUESTION_CHARS = 2000

#: Turns a session keeps (follow-ups need the last few; the export shows these).
MAX_TURNS = 50

CLARIFY = messages.CLARIFY

#: Messages that are small talk, by kind: answered briefly, never searched, never given a topic.
_SMALL_TALK = tuple(
    (kind, re.compile(pattern, re.I))
    for kind, pattern in (
        ("greeting", r"(?:hi|hello|hey|hiya|howdy|greetings|good (?:morning|afternoon|evening|day))(?: there| bot| again)?"),
        ("thanks", r"(?:(?:ok(?:ay)?|great|cool|perfect|nice)[,!. ]+)?(?:thanks?|thank you|thx|ty|cheers)(?: (?:a lot|so much|very much))?(?:[,!. ]+(?:that|this|that's|this is) (?:helps|helped|was (?:helpful|useful|great)|(?:is )?(?:all|everything|what) I (?:needed|wanted|was looking for)))?"),
        ("bye", r"(?:bye|goodbye|see you|see ya|cya|that's all)(?: for now)?"),
        ("identity", r"(?:who|what) are you|what(?:'s| is) your name|are you (?:a bot|an ai|human)"),
        ("wellbeing", r"how are you(?: doing| today)?|how's it going|what's up"),
        ("other", r"(?:tell me|know) (?:a |any )?jokes?|(?:say|tell me) something funny|make me laugh|"
                  r"(?:write|sing) (?:me )?a (?:poem|song|story|haiku)|lol|haha|ok(?:ay)?|cool|nice|great|wow|hmm+"),
    )
)
_SMALL_TALK_END = r"[\s!.?,:)(]*(?:please)?[\s!.?]*"

#: "What can you answer?", "which approaches do you know?": answered from the index's catalog.
_CATALOG = re.compile(
    r"\b(?:what|which) (?:approaches|topics|pages|documents|docs|subjects|areas|things|kinds? of questions)\b.*\b(?:you|the bot)\b.*\b(?:know|cover|have|answer|discuss|handle)|"
    r"\bwhat (?:can|could|do) you (?:answer|cover|help(?: me)? with|tell me about|know(?: about)?)\s*\??\s*$|"
    r"\bwhat(?:'s| is) (?:in )?(?:the|your) (?:documents|index|corpus|knowledge base)\b|"
    r"\b(?:what|which) (?:\w+ ){0,3}(?:approaches|topics|pages|subjects|areas)\b (?:are|is|do|does)\b ?(?:\w+ ){0,2}?"
    r"(?:covered|included|available|in here|here|there|in (?:the|these|your|this) (?:documents|pages|docs|index|corpus|wiki)|"
    r"(?:this|it|the bot) cover)\s*\??\s*$|"
    r"\bwhat (?:do|does) (?:the|these|your|this) (?:documents|pages|docs|index|corpus|wiki|bot) (?:cover|contain|include)\b|"
    r"\bwhat (?:topics|things|questions|subjects) can i ask\b|"
    r"\bwhat(?:'s| is) in (?:here|there)\s*\??\s*$|"
    r"\bwhat are all (?:of )?(?:the )?(?:approaches|topics|pages)\s*\??\s*$|"
    r"\b(?:list|a list of) (?:the |all )?(?:approaches|topics|pages|documents)\b",
    re.I,
)

#: Catalog answers list every page up to this many; above it, a sample from each folder.
CATALOG_ALL_UP_TO = 20


_FOLLOW_UP_START = re.compile(
    r"^\s*(and|but|or|so|then|also|what about|how about|and what about|what of|same for|why|how come|"
    r"is it|are they|does it|do they|would it|could it|can it|should it|will it|isn't it|what if|"
    r"any (?:\w+ ){0,2}?(?:examples?|evidence|numbers|data|details|studies|cases|figures|estimates)|"
    r"examples?|evidence|details?|more (?:on|about|detail)|such as)\b",
    re.I,
)
_PRONOUN = re.compile(r"\b(it|its|it's|this|that|these|those|they|them|their|there|such|the approach|this approach)\b", re.I)
#: Personal pronouns, as subjects, that point back at the last subject (not "it": "is it true
#: that …"; not "their"/"his": "how do OpenAI staff see their role?" is about OpenAI).
_PERSONAL = re.compile(r"\b(?:they|they're|they've|he|he's|she|she's)\b", re.I)


#: Openings that announce a new topic: the question stands on its own.
_NEW_TOPIC = re.compile(
    r"^\W*(?:switch(?:ing)? (?:gears|topics?|subjects?)|chang(?:e|ing) (?:of |the )?(?:subject|topic)|(?:a )?different (?:question|topic)|"
    r"(?:a )?new (?:question|topic)|unrelated(?:ly)?|on (?:another|a different) (?:note|topic)|separately|"
    r"by the way|btw|another question|one more (?:question|thing))\b",
    re.I,
)

#: Words that point back at the subjects of the last answer ("which of the two…?").
_BACK_REFERENCE = re.compile(
    r"\b(?:the two|both|either (?:one|of them)|each of them|which of (?:them|these|those|the two)|"
    r"the (?:former|latter|first one|second one|other one))\b",
    re.I,
)

#: Words that compare with the last question rather than ask one of their own.
_RELATIVE = {"better", "worse", "instead", "too", "same", "similar", "likewise", "either", "else", "differently", "here"}


@dataclass(frozen=True)
class Turn:
    """One exchange of a conversation."""

    question: str
    answer: Answer
    plan: QueryPlan | None = None


def _leans_on_history(plan: QueryPlan, known: Callable[[str], bool]) -> bool:
    """Whether a question needs the conversation to be understood. One whose
    own words are mostly unknown to the corpus stands on its own (off-topic)."""
    words = content_words(plan.residual)
    if _NEW_TOPIC.search(plan.text):
        return False  # "switching gears - …", "unrelated, but …"
    asks_the_corpus = plan.approaches or plan.cues or plan.dimensions or plan.section  # "is that a good idea?"
    if words and sum(not known(w) for w in words) * 2 > len(words) and not asks_the_corpus:
        return False
    return bool(
        _FOLLOW_UP_START.search(plan.text)
        or _PRONOUN.search(plan.residual)
        or _BACK_REFERENCE.search(plan.residual)
        or len(words) <= 1
    )


def small_talk(question: str) -> str | None:
    """The kind of small talk ``question`` is ("greeting", "thanks", …), or None."""
    text = question.strip()
    if len(text.split()) > 8:
        return None
    for kind, pattern in _SMALL_TALK:
        if re.fullmatch(f"[\\s]*(?:{pattern.pattern}){_SMALL_TALK_END}", text, re.I):
            return kind
    return None


def _moves_on(plan: QueryPlan) -> bool:
    """"What about <a subject of its own>…" opens a new topic."""
    match = re.match(r"\s*(?:and |so |ok(?:ay)?,? )?(?:what|how) about\s+(.*)", plan.text, re.I)
    if not match:
        return False
    subject = re.split(r"[,?;:]", match.group(1))[0]
    return not _PRONOUN.search(subject) and len(content_words(subject)) >= 2


def _asks_nothing_new(plan: QueryPlan) -> bool:
    """"And RLHF?" asks the last question again; "and who should work on it?" and
    "what about RLHF, is that safe?" do not."""
    return not _own_clause(plan) and _bare(plan.residual) and not (plan.section or plan.cues or plan.dimensions)


def _own_clause(plan: QueryPlan) -> str:
    """The question of its own after "what about <subject>, …" ("is that safe?")."""
    own = re.match(r"\s*(?:and |so |ok(?:ay)?,? )?(?:what|how) about\s+[^,;:?]*[,;:]\s*(.+)", plan.text, re.I)
    if own is None:
        return ""
    clause = own.group(1)
    return clause if set(content_words(clause)) - _RELATIVE else ""  # "could it do better there?" leans on the last one


def _bare(residual: str) -> bool:
    """A question with (almost) nothing of its own once the approach names are gone."""
    return len(content_words(residual)) <= 1


def clean_question(question: str) -> tuple[str, str]:
    """The question made searchable, and a notice when it was changed.

    Raises:
        QuestionError: nothing is left to search.
    """
    if not isinstance(question, str):
        raise QuestionError("the question must be text")
    text = "".join(ch if ch.isprintable() else " " for ch in question)
    text = re.sub(r"\s+", " ", text).strip()
    if not text:
        raise QuestionError("Please type a question, for example: is US-China cooperation possible?")
    notice = ""
    if len(text) > MAX_QUESTION_CHARS:
        text = text[:MAX_QUESTION_CHARS].rsplit(" ", 1)[0]
        notice = messages.QUESTION_CUT.format(limit=MAX_QUESTION_CHARS)
    if not re.search(r"\w", text):
        raise QuestionError("Please ask a question in words, for example: is a pause on frontier AI feasible?")
    return text, notice


class ChatSession:
    """A conversation over an index; each session has its own history.

    Example:
        >>> session = ChatSession(index_dir="index")
        >>> session.ask("Is a pause on frontier AI feasible?").citations[0].title
        'Pause Advocacy'
        >>> session.ask("And would it even be desirable?").query
        'And would it even be desirable? (Pause Advocacy)'
    """

    def __init__(
        self,
        index_dir: str | os.PathLike[str] | None = None,
        *,
        chroma_url: str | None = None,
        k: int = ranking.ANSWER_HITS,
        doc_ids: Collection[str] | None = None,
        llm: str | None = None,
        embedder: Embedder | None = None,
    ):
        """Args:
            index_dir: the index folder (default ``BOT_INDEX_DIR`` or ``index``).
            chroma_url: a Chroma server (default ``BOT_CHROMA_URL``).
            k: how many fused hits an answer is composed from.
            doc_ids: limit every search to these documents.
            llm: ``provider:model`` to word answers with (default ``BOT_LLM``; none: grounded only).
            embedder: the embedding model the index was built with (default the configured one).
        """
        self.index_dir = index_dir
        self.chroma_url = chroma_url
        self.embedder = embedder
        self.k = k
        self.doc_ids = set(doc_ids) if doc_ids else None
        spec = llm if llm is not None else config.llm()
        self.llm = LLMComposer(spec) if spec else None
        self.history: list[Turn] = []

    @property
    def index(self) -> Index:
        return Index.open(self.index_dir, self.chroma_url, self.embedder)

    def reset(self) -> None:
        """Forget the conversation."""
        self.history.clear()

    def ask(self, question: str, doc_ids: Collection[str] | None = None) -> Answer:
        """Answer ``question`` in the context of this conversation.

        Raises:
            QuestionError: the question is empty.
            IndexMissingError, IndexMismatchError: the index cannot be used.
        """
        final: Answer | None = None
        for _, answer in self.stream(question, doc_ids):
            final = answer or final
        assert final is not None
        return final

    def stream(
        self, question: str, doc_ids: Collection[str] | None = None
    ) -> Iterator[tuple[str, Answer | None]]:
        """Answer step by step: ``(text so far, None)`` while it is written,
        then ``(text, Answer)`` once, last. The turn joins the history at the end."""
        started = time.perf_counter()
        text, notice = clean_question(question)
        if notice:
            question = text  # an over-long question is kept and echoed cut, never whole
        scope = set(doc_ids) if doc_ids else self.doc_ids
        index = self.index
        kind = small_talk(text)
        plan: QueryPlan | None = None
        if kind:
            grounded = abstain(question, text, small_talk_reply(index, kind))
        elif _CATALOG.search(text):
            grounded = catalog_answer(index, question, scope)
        else:
            plan = self._in_scope(self._standalone(index.reader.read(text)), scope)
            if self._needs_topic(plan):
                named = [index.reader.titles.get(d, d) for d in sorted(scope)] if scope else []
                examples = ", ".join(f"“{t}”" for t in named[:6]) or example_text(index)
                grounded = abstain(question, plan.search_text, CLARIFY.format(examples=examples))
            else:
                grounded = answer_plan(index, question, plan, scope, self.k)
        grounded = replace(grounded, notice=notice, citations=_linked(index, grounded.citations))
        final = grounded
        if self.llm is not None and not grounded.abstained:  # a grounded answer is ready at once: no pieces
            for partial, answer in self.llm.stream(grounded):
                if answer is None:
                    yield partial, None
                else:
                    final = answer
        final = replace(final, seconds=time.perf_counter() - started)
        self.history.append(Turn(question, final, plan))
        del self.history[:-MAX_TURNS]  # memory per session stays bounded
        yield final.text, final

    # -- follow-ups ---------------------------------------------------------

    def _in_scope(self, plan: QueryPlan, scope: Collection[str] | None) -> QueryPlan:
        """A question that names no page and leans on context ("who should work on it?",
        "what are the cruxes?"), asked within a filter of one page, is about that page."""
        if plan.approaches or not scope or len(scope) != 1 or not _leans_on_history(plan, self.index.reader.known):
            return plan
        (doc_id,) = scope
        title = self.index.reader.titles.get(doc_id, doc_id)
        return replace(plan, approaches=(doc_id,), query=plan.query or f"{plan.text} ({title})")

    def _needs_topic(self, plan: QueryPlan) -> bool:
        """"Who should work on it?" with nothing before it: which approach is "it"?"""
        has_topic = any(t.answer.citations for t in self.history)
        return (
            not has_topic
            and not plan.approaches
            and not plan.listing
            and bool(_PRONOUN.search(plan.residual))
            and len(content_words(plan.residual)) <= 2
        )

    def _standalone(self, plan: QueryPlan) -> QueryPlan:
        """The plan made standalone with the conversation (no LLM)."""
        previous = next((t for t in reversed(self.history) if t.answer.citations and t.plan), None)
        reader = self.index.reader
        if previous is None or previous.plan is None or not _leans_on_history(plan, reader.known):
            return plan
        before = previous.plan
        topic = previous.answer.citations[0]
        if not plan.approaches and _moves_on(plan):
            return plan  # "What about formal verification, …?" names a new subject in other words
        cited = _cited_documents(previous.answer.citations)
        if not plan.approaches and _BACK_REFERENCE.search(plan.residual) and len(cited) >= 2:
            # "which of the two is more tractable?": every subject of the last answer
            titles = ", ".join(reader.titles.get(d, d) for d in cited)
            return replace(plan, query=f"{plan.text} ({titles})", approaches=tuple(cited))
        if not plan.approaches:
            # Same topic: "And would it be desirable?" is still about the last approach.
            approaches = before.approaches if before.approaches and not before.listing else (topic.doc_id,)
            titles = ", ".join(self.index.reader.titles.get(d, d) for d in approaches)
            return replace(
                plan,
                query=f"{plan.text} ({titles})",
                approaches=approaches,
                listing=plan.listing and not before.approaches,
                dimensions=plan.dimensions or (before.dimensions if _asks_nothing_new(plan) else ()),
            )
        prior = before.approaches if before.approaches and not before.listing else (topic.doc_id,)
        if _PERSONAL.search(plan.residual) and not set(prior) & set(plan.approaches) and not _moves_on(plan):
            # "What do they pursue instead of language models?": "they" are the last subject, and the
            # page named is what is asked about it; "how does she compare with X?" compares the two
            approaches = tuple(dict.fromkeys(prior + plan.approaches)) if plan.contrast else prior
            titles = ", ".join(self.index.reader.titles.get(d, d) for d in prior)
            return replace(plan, query=f"{plan.text} ({titles})", approaches=approaches, weak=())
        if _asks_nothing_new(plan):
            # Topic switch with no question of its own: "What about interpretability?"
            # asks the previous question of the new approach ("who should work on AI
            # control?" has a question of its own: it is searched as asked).
            titles = ", ".join(self.index.reader.titles.get(d, d) for d in plan.approaches)
            return replace(
                plan,
                query=f"{before.residual} ({titles})",
                residual=before.residual,
                dimensions=plan.dimensions or before.dimensions,
                section=plan.section or before.section,
            )
        return plan


def _linked(index: Index, citations: list[Citation]) -> list[Citation]:
    """The citations with their page's address, when the profile gives the site's."""
    if not index.profile.site:
        return citations
    return [replace(c, url=index.profile.url(c.doc_id)) for c in citations]


def _cited_documents(citations: list[Citation], limit: int = 3) -> list[str]:
    """The documents an answer cites, in order of first citation."""
    return list(dict.fromkeys(c.doc_id for c in citations))[:limit]


def corpus_name(index: Index) -> str:
    return index.profile.name or messages.DEFAULT_CORPUS


def small_talk_reply(index: Index, kind: str) -> str:
    """A short reply to small talk, naming what the bot can do."""
    examples = example_questions(index)
    return messages.SMALL_TALK[kind].format(
        corpus=corpus_name(index),
        documents=len(index.catalog.documents),
        example=f"“{examples[0]}”" if examples else "",
    ).strip()


def catalog_answer(index: Index, question: str, scope: Collection[str] | None = None) -> Answer:
    """What the index can answer: its pages (all of a small corpus, a sample of
    each folder of a large one), each cited by its first passage."""
    from bot.answer import Answer as _Answer
    from bot.answer import cite_pages

    docs = sorted(
        (d for d in index.catalog.documents.values() if not scope or d.doc_id in scope), key=lambda d: d.doc_id
    )
    if len(docs) <= CATALOG_ALL_UP_TO:
        groups = {"": docs}
    else:
        groups = {}
        for doc in docs:
            folder = doc.doc_id.rsplit("/", 1)[0] if "/" in doc.doc_id else ""
            groups.setdefault(folder, []).append(doc)
    head = messages.CATALOG.format(count=len(docs), corpus=corpus_name(index))
    text, citations = cite_pages(head, groups, index.catalog, per_group=len(docs) if len(groups) == 1 else 3)
    return _Answer(question=question, text=text, citations=citations, query=question)


def ask(
    question: str,
    index_dir: str | os.PathLike[str] | None = None,
    *,
    chroma_url: str | None = None,
    doc_ids: Collection[str] | None = None,
    llm: str | None = None,
) -> Answer:
    """Answer one question from the index in ``index_dir``.

    Example:
        >>> ask("is US-China cooperation possible?", index_dir="index").citations[0].section
        'Crux 1: Is US-China Cooperation Possible?'
    """
    return ChatSession(index_dir, chroma_url=chroma_url, doc_ids=doc_ids, llm=llm).ask(question)
