"""Running a prompt file against an index: each case in a fresh conversation,
earlier turns first, the last one timed and scored; and which table rows no
prompt retrieves."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from bot.answer import Answer
from bot.errors import BotError
from bot.evaluation.prompts import Case, load_cases, require_documents
from bot.evaluation.report import Report, report
from bot.evaluation.scoring import CaseResult, score
from bot.markdown import PATH_SEP

AskFactory = Callable[[], Callable[[str], Answer]]


def evaluate(
    prompts: str | os.PathLike[str],
    *,
    index: str | os.PathLike[str] | None = None,
    corpus: str | os.PathLike[str] | None = None,
    k: int = 3,
    session_factory: AskFactory | None = None,
    progress: bool = False,
    profile: str | os.PathLike[str] | None = None,
) -> Report:
    """Run every case of a prompt file and score it.

    Args:
        prompts: the YAML prompt file.
        index: the index folder (default ``BOT_INDEX_DIR``).
        corpus: index this folder first (incrementally) when given.
        k: the cut-off for recall@k.
        session_factory: makes a new conversation (a callable taking a question,
            returning an Answer) per case; default a fresh ``ChatSession``.
        progress: show a progress bar.
        profile: the corpus profile to index ``corpus`` with.

    Raises:
        PromptFileError: the file is invalid, or expects documents the index does not hold.
    """
    cases = load_cases(prompts)
    if corpus is not None:
        from bot.indexing import build_index

        build_index(corpus, index, progress=progress, profile=profile)
    catalog_texts: dict[str, str] | None = None
    if session_factory is None:
        from bot.chat import ChatSession
        from bot.retrieval import Index

        opened = Index.open(index)
        catalog_texts = {cid: c.text for cid, c in opened.catalog.chunks.items()}
        require_documents(prompts, cases, opened.catalog.documents)

        def session_factory() -> Callable[[str], Answer]:
            return ChatSession(index).ask

    results = [_run_case(case, session_factory, k, catalog_texts) for case in _progress(cases, progress)]
    return report(str(prompts), k, results)


@dataclass(frozen=True)
class Coverage:
    rows: int
    covered: int
    missing: tuple[str, ...]  # "title › section — row" of rows no prompt retrieves


def coverage(
    prompts: str | os.PathLike[str], *, index: str | os.PathLike[str] | None = None, k: int = 3
) -> Coverage:
    """The table rows of an index that no prompt of a file retrieves in its top ``k`` citations."""
    from bot.chat import ChatSession
    from bot.retrieval import Index

    cases = load_cases(prompts)
    opened = Index.open(index)
    seen: set[str] = set()
    for case in cases:
        session = ChatSession(index)
        answer = None
        try:
            for turn in case.turns:
                answer = session.ask(turn)
        except BotError:
            continue
        if answer is not None:
            seen.update(c.chunk_id for c in answer.citations[:k])
    rows = [c for c in opened.catalog.chunks.values() if c.kind == "row"]
    missing = sorted(
        (c for c in rows if c.chunk_id not in seen), key=lambda c: (c.doc_id, c.position)
    )
    return Coverage(
        rows=len(rows),
        covered=len(rows) - len(missing),
        missing=tuple(f"{c.title}{PATH_SEP}{c.section} — {c.body}" for c in missing),
    )


def _progress(cases: Sequence[Case], show: bool) -> Iterable[Case]:
    if not show:
        return cases
    from tqdm import tqdm

    return tqdm(cases, desc="eval", unit="case")


def _run_case(case: Case, factory: AskFactory, k: int, catalog_texts: dict[str, str] | None) -> CaseResult:
    started = time.perf_counter()
    ask = factory()
    answer: Answer | None = None
    error = ""
    try:
        for turn in case.turns[:-1]:
            ask(turn)
        started = time.perf_counter()
        answer = ask(case.turns[-1])
    except BotError as exc:
        error = str(exc)
    seconds = time.perf_counter() - started
    if answer is None:
        answer = Answer(question=case.turns[-1], text="", abstained=False)
    return score(case, answer, k, seconds, error, catalog_texts)
