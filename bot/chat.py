"""Conversations: :class:`ChatSession` and the one-shot :func:`ask`.

A follow-up ("And would it be desirable?") is turned into a standalone query
from the conversation, with no language model: when the question leans on
the previous turn (few words of its own, an opening "and"/"what about", a
pronoun), the previous topic is added to it, unless the question itself
points clearly at another approach (a topic switch).
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Collection, Iterator
from dataclasses import dataclass, replace

from bot.answer import Answer, abstain
from bot.errors import QuestionError
from bot.llm import LLMComposer
from bot.llm import configured as llm_setting
from bot.planning import answer_plan
from bot.query import QueryPlan
from bot.retrieval import Index

log = logging.getLogger(__name__)

#: Questions longer than this are cut, with a notice on the answer.
MAX_QUESTION_CHARS = 2000

#: Turns a session keeps (follow-ups need the last few; the export shows these).
MAX_TURNS = 50

CLARIFY = "Which approach do you mean? Name one in your question, for example: {examples}."

#: How many fused hits an answer is composed from.
K = 8

_FOLLOW_UP_START = re.compile(
    r"^\s*(and|but|or|so|then|also|what about|how about|and what about|what of|same for|why|how come|"
    r"is it|are they|does it|do they|would it|could it|can it|should it|will it|isn't it|what if)\b",
    re.I,
)
_PRONOUN = re.compile(r"\b(it|its|it's|this|that|these|those|they|them|their|there|such|the approach|this approach)\b", re.I)
_STOP = set(
    """a an the and or but so then also what about how about is are was were be been would could can should will do
    does did it its it's this that these those they them their there such of to in on for with as at by from
    which who whom whose why when where how i you we me my your our even really actually just more less any
    some much many very there's what's than if not no yes ok okay please tell say think mean approach""".split()
)


#: Words that compare with the last question rather than ask one of their own.
_RELATIVE = {"better", "worse", "instead", "too", "same", "similar", "likewise", "either", "else", "differently", "here"}


@dataclass(frozen=True)
class Turn:
    """One exchange of a conversation."""

    question: str
    answer: Answer
    plan: QueryPlan | None = None


def _leans_on_history(plan: QueryPlan) -> bool:
    """Whether a question needs the conversation to be understood."""
    return bool(
        _FOLLOW_UP_START.search(plan.text)
        or _PRONOUN.search(plan.residual)
        or len(content_words(plan.residual)) <= 2
    )


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
    words = set(content_words(own.group(1))) if own else set()
    return own.group(1) if words - _RELATIVE else ""  # "could it do better there?" still leans on the last question


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
        notice = f"Your question was longer than {MAX_QUESTION_CHARS} characters; only its beginning was searched."
    if not re.search(r"\w", text):
        raise QuestionError("Please ask a question in words, for example: is a pause on frontier AI feasible?")
    return text, notice


def content_words(text: str) -> list[str]:
    return [w for w in re.findall(r"[a-z0-9][a-z0-9\-']*", text.lower()) if w not in _STOP and len(w) > 1]


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
        k: int = K,
        doc_ids: Collection[str] | None = None,
        llm: str | None = None,
    ):
        """Args:
            index_dir: the index folder (default ``BOT_INDEX_DIR`` or ``index``).
            chroma_url: a Chroma server (default ``BOT_CHROMA_URL``).
            k: how many fused hits an answer is composed from.
            doc_ids: limit every search to these documents.
            llm: ``provider:model`` to word answers with (default ``BOT_LLM``; none: grounded only).
        """
        self.index_dir = index_dir
        self.chroma_url = chroma_url
        self.k = k
        self.doc_ids = set(doc_ids) if doc_ids else None
        spec = llm if llm is not None else llm_setting()
        self.llm = LLMComposer(spec) if spec else None
        self.history: list[Turn] = []

    @property
    def index(self) -> Index:
        return Index.open(self.index_dir, self.chroma_url)

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
        plan = self._standalone(index.reader.read(text))
        if self._needs_topic(plan):
            grounded = abstain(question, plan.search_text, CLARIFY.format(examples=self._examples(index)))
        else:
            grounded = answer_plan(index, question, plan, scope, self.k)
        grounded = replace(grounded, notice=notice)
        final = grounded
        if self.llm is None or grounded.abstained:
            words = grounded.text.split(" ")
            for end in range(8, len(words), 8):
                yield " ".join(words[:end]), None
        else:
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

    @staticmethod
    def _examples(index: Index) -> str:
        titles = sorted(d.title for d in index.catalog.documents.values())
        return ", ".join(titles[:4])

    def _standalone(self, plan: QueryPlan) -> QueryPlan:
        """The plan made standalone with the conversation (no LLM)."""
        previous = next((t for t in reversed(self.history) if t.answer.citations and t.plan), None)
        if previous is None or previous.plan is None or not _leans_on_history(plan):
            return plan
        before = previous.plan
        topic = previous.answer.citations[0]
        if not plan.approaches and _moves_on(plan):
            return plan  # "What about formal verification, …?" names a new subject in other words
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
        if _bare(plan.residual) and not _own_clause(plan):
            # Topic switch with no question of its own: "What about interpretability?"
            # asks the previous question of the new approach.
            titles = ", ".join(self.index.reader.titles.get(d, d) for d in plan.approaches)
            return replace(
                plan,
                query=f"{before.residual} ({titles})",
                residual=before.residual,
                dimensions=plan.dimensions or (before.dimensions if _asks_nothing_new(plan) else ()),
                section=plan.section or (before.section if _asks_nothing_new(plan) else None),
            )
        return plan


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
