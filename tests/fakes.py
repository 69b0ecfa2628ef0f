"""Deterministic test doubles for the fast tier: no model, no download, no thread."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class FakeEmbedder:
    """Embeds a text as its bag of word stems hashed into a few hundred
    dimensions, L2-normalized: texts sharing words are similar, others are
    not. It stands in for the real model where a test is about the logic
    around retrieval (the integration tier keeps the real model)."""

    model: str = "fake-bag-of-words"
    backend: str = "fake"
    size: int = 256

    @property
    def name(self) -> str:
        return self.model

    @property
    def identity(self) -> str:
        return "fake-0"

    @property
    def dimension(self) -> int:
        return self.size

    def embed(self, texts: Sequence[str], progress: bool = False) -> Any:
        import numpy as np

        out = np.zeros((len(texts), self.size), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"[a-z0-9]+", text.lower()):
                stem = word[:6]
                slot = int(hashlib.md5(stem.encode()).hexdigest()[:8], 16) % self.size
                out[row, slot] += 1.0
            norm = float(np.linalg.norm(out[row]))
            out[row] = out[row] / norm if norm else out[row]
        return out

    def embed_query(self, text: str) -> Any:
        return self.embed([text])[0]

    def preload(self) -> None:
        """Nothing to load."""

    def settle(self) -> None:
        """Nothing loading."""


def index_pages(root: Path, pages: Mapping[str, str]) -> Path:
    """Made-up pages (file name → text) written under ``root/corpus`` and indexed
    with the fake embedder into ``root/index``, which is returned."""
    from bot import build_index

    corpus = root / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    for name, text in pages.items():
        (corpus / name).write_text(text)
    build_index(corpus, root / "index", embedder=FakeEmbedder())  # type: ignore[arg-type]
    return root / "index"


def run_in_threads(target: Callable[[int], None], count: int, timeout: float) -> float:
    """``target(0)`` … ``target(count - 1)`` run in threads at once; the seconds they took."""
    import threading
    import time

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return time.perf_counter() - started
