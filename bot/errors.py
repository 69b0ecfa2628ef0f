"""Errors that tell the user what to do next.

Library code raises these; only the edges (CLI, UI, eval) turn them into
messages.
"""

from __future__ import annotations


class BotError(Exception):
    """Base class of every error approach-bot raises on purpose."""


class CorpusError(BotError):
    """The corpus folder is missing, empty or unreadable."""


class IndexMissingError(BotError):
    """There is no index where one was expected."""


class IndexMismatchError(BotError):
    """The index was built with another model or chunker."""


class IndexCorruptError(BotError):
    """The index files exist but cannot be read."""


class QuestionError(BotError):
    """The question cannot be searched (empty, for example)."""


class ConfigError(BotError):
    """A setting (an environment variable or an option) has a value approach-bot cannot use."""


class IndexBusyError(BotError):
    """Another process is writing the index (``bot index`` holds its lock)."""
