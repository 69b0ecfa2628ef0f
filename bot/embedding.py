"""Sentence embeddings from a local sentence-transformers model.

The model is loaded once per process (per model path) and only when first
used, so importing this module is cheap.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot import config
from bot.errors import BotError

log = logging.getLogger(__name__)

_models: dict[str, Any] = {}
_locks: dict[str, threading.Lock] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class Embedder:
    """Embeds texts with one model; vectors are L2-normalized."""

    model: str

    @classmethod
    def default(cls) -> Embedder:
        """The configured model (``BOT_EMBED_MODEL`` or the shipped MiniLM)."""
        return cls(config.embed_model())

    @property
    def name(self) -> str:
        """A short, stable name for the manifest: the model folder's name."""
        path = Path(self.model)
        return path.parent.name if path.name == "model" else path.name

    @property
    def dimension(self) -> int:
        model = self._load()
        get = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(get())

    def embed(self, texts: Sequence[str], progress: bool = False) -> Any:
        """Embed texts: a float32 array with one normalized row per text (kept
        as numpy, not Python lists: 100k vectors as lists would take gigabytes)."""
        if not texts:
            return []
        model = self._load()
        with _locks.setdefault(self.model, threading.Lock()):  # one encode at a time: the tokenizer is not thread-safe
            vectors = model.encode(
                list(texts),
                batch_size=64,
                normalize_embeddings=True,
                show_progress_bar=progress,
                convert_to_numpy=True,
            )
        return vectors.astype("float32", copy=False)

    def embed_query(self, text: str) -> Any:
        """Embed one question."""
        return self.embed([text])[0]

    def preload(self) -> None:
        """Start loading the model in the background (it takes seconds), so the
        caller can do other start-up work meanwhile; the first embed waits for it."""
        if self.model not in _models:
            threading.Thread(target=self._quiet_load, name="load-model", daemon=True).start()

    def _quiet_load(self) -> None:
        try:
            self._load()
        except Exception:  # noqa: BLE001 - the first real embed raises it again, at the right place
            log.debug("background model load failed", exc_info=True)

    def _load(self) -> Any:
        with _lock:
            model = _models.get(self.model)
            if model is None:
                model = _models[self.model] = _load_model(self.model)
            return model


def _load_model(path: str) -> Any:
    if not os.path.isdir(path):
        raise BotError(
            f"embedding model folder not found: {path} — set BOT_EMBED_MODEL to a local "
            "sentence-transformers folder (models are never downloaded)"
        )
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    from sentence_transformers import SentenceTransformer

    log.info("loading embedding model %s", path)
    return SentenceTransformer(path, device="cpu", local_files_only=True)
