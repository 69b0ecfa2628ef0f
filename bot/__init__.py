"""approach-bot: cited answers from the tables of AI-safety approach documents.

    from bot import build_index, ask, ChatSession
    stats = build_index("corpus", "index")
    answer = ask("is US-China cooperation possible?", index_dir="index")

Heavy modules (torch, chromadb, gradio) load only when first used.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from bot.errors import (
    BotError,
    ConfigError,
    CorpusError,
    IndexBusyError,
    IndexCorruptError,
    IndexMismatchError,
    IndexMissingError,
    QuestionError,
)

if TYPE_CHECKING:
    from bot.answer import Answer, Citation
    from bot.chat import ChatSession, ask
    from bot.evaluation import Report, evaluate
    from bot.indexing import IndexStats, build_index
    from bot.profile import Profile, ProfileError, load_profile
    from bot.retrieval import Hit, HybridRetriever, Index, langchain_retriever

__all__ = [
    "Answer",
    "BotError",
    "ChatSession",
    "Citation",
    "ConfigError",
    "CorpusError",
    "Hit",
    "HybridRetriever",
    "Index",
    "IndexBusyError",
    "IndexCorruptError",
    "IndexMismatchError",
    "IndexMissingError",
    "IndexStats",
    "Profile",
    "ProfileError",
    "QuestionError",
    "Report",
    "ask",
    "build_index",
    "evaluate",
    "langchain_retriever",
    "load_profile",
]

_LAZY = {
    "Answer": "bot.answer",
    "Citation": "bot.answer",
    "ChatSession": "bot.chat",
    "ask": "bot.chat",
    "Report": "bot.evaluation",
    "evaluate": "bot.evaluation",
    "IndexStats": "bot.indexing",
    "build_index": "bot.indexing",
    "Hit": "bot.retrieval",
    "HybridRetriever": "bot.retrieval",
    "Index": "bot.retrieval",
    "langchain_retriever": "bot.retrieval",
    "Profile": "bot.profile",
    "ProfileError": "bot.profile",
    "load_profile": "bot.profile",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'bot' has no attribute {name!r}")
    return getattr(import_module(module), name)
